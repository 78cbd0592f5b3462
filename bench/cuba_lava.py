"""Lava (lava-nc 0.10, CPU, floating point) half of ``bench/cuba.py``; runs in .venv310.

Lava supports only Python 3.10 with numpy<2, so ``cuba.py`` runs this file as a subprocess::

    .venv310/bin/python bench/cuba_lava.py --net net.npz --steps 2000 [--record spikes.npz]

and reads the one JSON line it prints.

Mapping onto Lava's ``LIF`` float model (lava/proc/lif/models.py, ``PyLifModelFloat``), whose
``run_spk`` does ``u = u*(1-du) + a_in; v = v*(1-dv) + u + bias_mant; s = v > vth; v[s] = 0``
(``bias_exp`` is ignored by the float model): ``du = dt/tau_syn``, ``dv = dt/tau_m`` (so
``1-du``/``1-dv`` are the very doubles a_I/a_v of ``cuba_net``), ``bias_mant = b``,
``bias_exp = 0``, ``vth = theta``, ``v = v_init``, ``u = 0``.  The recurrent weights go into a
``Dense`` process (lava/proc/dense/models.py) holding W[post, pre].  Its ``run_spk`` first
*sends* the buffer computed in the previous step and only then receives this step's spikes
(``a_buff = W[:, s].sum(axis=1)``), so the LIF sees ``a_in[t] = W s[t-1]``: the one-step lag
of the canonical equations.  ``Sparse`` (lava/proc/sparse) does the same with a CSR matrix, but
its column slicing made it 2.6x slower per step here at 2 % connectivity (2.7 vs 1.0 ms), so
Dense is the default and ``--conn sparse`` selects Sparse.

Spike counts come from a small ``SpikeSink`` process on ``s_out`` (one more Lava process, as a
stock ``Monitor`` would be), which with ``--record`` also keeps the raster for the agreement
check.  It is part of the timed run, as Brian2's SpikeMonitor is of Brian2's.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from typing import Any

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cuba_net  # noqa: E402
from lava.magma.core.decorator import implements, requires, tag  # noqa: E402
from lava.magma.core.model.py.model import PyLoihiProcessModel  # noqa: E402
from lava.magma.core.model.py.ports import PyInPort  # noqa: E402
from lava.magma.core.model.py.type import LavaPyType  # noqa: E402
from lava.magma.core.process.ports.ports import InPort  # noqa: E402
from lava.magma.core.process.process import AbstractProcess  # noqa: E402
from lava.magma.core.resources import CPU  # noqa: E402
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol  # noqa: E402


class SpikeSink(AbstractProcess):
    """Counts (and optionally records) the spikes arriving on ``s_in``.

    After the step numbered ``steps`` its model writes ``spike_counts`` (and with ``record``,
    ``spike_steps``/``spike_ids``) to the ``.npz`` at ``out_path``.  A file, because reading a
    Var back from Lava's runtime moves one element per channel message: a stock ``Monitor``'s
    300 x 4000 raster took 90 s to read here, the run itself 0.7 s.
    """

    def __init__(self, shape: tuple[int, ...], out_path: str, steps: int,
                 record: bool = False) -> None:
        super().__init__(shape=shape, out_path=out_path, steps=steps, record=record)
        self.s_in = InPort(shape=shape)


@implements(proc=SpikeSink, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt")
class PySpikeSinkModel(PyLoihiProcessModel):
    """CPU model of :class:`SpikeSink`."""

    s_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)

    def __init__(self, proc_params: Any) -> None:
        super().__init__(proc_params)
        self._shape = tuple(proc_params["shape"])
        self._count = np.zeros(self._shape, dtype=np.int64)
        self._steps_total = int(proc_params["steps"])
        self._out_path = str(proc_params["out_path"])
        self._record = bool(proc_params["record"])
        self._rec_steps: list[np.ndarray] = []
        self._rec_ids: list[np.ndarray] = []

    def run_spk(self) -> None:
        """Count this step's spikes; write the file after the last step."""
        fired = np.flatnonzero(self.s_in.recv())
        self._count[fired] += 1
        if self._record and fired.size:
            # Lava's time_step is 1 in the first step; the canonical step index starts at 0
            self._rec_steps.append(np.full(fired.size, self.time_step - 1, dtype=np.int64))
            self._rec_ids.append(fired.astype(np.int64))
        if self.time_step == self._steps_total:
            empty = np.zeros(0, dtype=np.int64)
            np.savez(self._out_path, spike_counts=self._count,
                     spike_steps=np.concatenate(self._rec_steps) if self._rec_steps else empty,
                     spike_ids=np.concatenate(self._rec_ids) if self._rec_ids else empty)


def run(net: cuba_net.CubaNet, steps: int, record: bool = False,
        conn: str = "dense") -> dict[str, Any]:
    """Run the network on Lava's CPU backend (``Loihi2SimCfg``, floating point).

    Returns the common result dict (``wall_s`` = the ``run`` call alone) plus
    ``wall_total_s`` (process construction, compilation, runtime start, run, reading the
    final state back and stopping), ``wall_setup_s`` (construction + compilation + runtime start), the
    final ``v``/``u`` and, with ``record``, ``spike_steps``/``spike_ids``.
    """
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2SimCfg
    from lava.proc.dense.process import Dense
    from lava.proc.lif.process import LIF
    from lava.proc.sparse.process import Sparse
    from scipy.sparse import csr_matrix

    t_total = time.perf_counter()
    n = net.n
    lif = LIF(shape=(n,), u=0.0, v=np.asarray(net.v_init, dtype=np.float64).copy(),
              du=net.dt_ms / net.tau_syn_ms, dv=net.dt_ms / net.tau_m_ms,
              bias_mant=net.b, bias_exp=0, vth=net.theta_mv, name="cuba_lif")
    # Lava's weight matrices are (out, in) = W[post, pre].
    w = csr_matrix((np.asarray(net.weight, dtype=np.float64),
                    (np.asarray(net.post), np.asarray(net.pre))), shape=(n, n))
    if conn == "sparse":
        syn = Sparse(weights=w, name="cuba_syn")
    elif conn == "dense":
        syn = Dense(weights=w.toarray(), name="cuba_syn")
    else:
        raise ValueError(f"conn must be 'sparse' or 'dense', not {conn!r}")
    lif.s_out.connect(syn.s_in)
    syn.a_out.connect(lif.a_in)
    tmpdir = tempfile.mkdtemp(prefix="cuba_lava_")
    sink_path = os.path.join(tmpdir, "spikes.npz")
    sink = SpikeSink(shape=(n,), out_path=sink_path, steps=steps, record=record)
    lif.s_out.connect(sink.s_in)

    cfg = Loihi2SimCfg(select_tag="floating_pt")
    lif.create_runtime(run_cfg=cfg)
    t_run = time.perf_counter()
    lif.run(condition=RunSteps(num_steps=steps))
    wall_run = time.perf_counter() - t_run
    try:
        # 2 x n messages, about a second: outside the timed run, inside wall_total_s
        v_final = np.asarray(lif.v.get(), dtype=np.float64)
        u_final = np.asarray(lif.u.get(), dtype=np.float64)
    finally:
        lif.stop()
    try:
        with np.load(sink_path) as z:
            counts = z["spike_counts"].copy()
            spike_steps, spike_ids = z["spike_steps"].copy(), z["spike_ids"].copy()
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    out = cuba_net.summarize(net, steps, counts, wall_run)
    out["wall_total_s"] = time.perf_counter() - t_total
    out["wall_setup_s"] = t_run - t_total
    out["conn"] = conn
    out["v"] = v_final
    out["I"] = u_final
    if record:
        out["spike_steps"] = spike_steps
        out["spike_ids"] = spike_ids
    return out


def main(argv: list[str] | None = None) -> int:
    """Command line: run one network file, print one JSON line, optionally save the raster."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--net", required=True, help=".npz written by CubaNet.save")
    ap.add_argument("--steps", type=int, required=True)
    ap.add_argument("--conn", choices=("sparse", "dense"), default="dense")
    ap.add_argument("--record", metavar="NPZ",
                    help="write spike_steps/spike_ids and the final v/I here")
    args = ap.parse_args(argv)
    net = cuba_net.CubaNet.load(args.net)
    res = run(net, args.steps, record=bool(args.record), conn=args.conn)
    v, cur = res.pop("v"), res.pop("I")
    if args.record:
        np.savez(args.record, spike_steps=res.pop("spike_steps"),
                 spike_ids=res.pop("spike_ids"), v=v, I=cur)
    res["spike_counts"] = res["spike_counts"].tolist()
    from importlib.metadata import version
    res["lava_version"] = version("lava-nc")
    print(json.dumps(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
