"""Build and run the Lava process network of a :class:`~.encode.LavaNetwork` (Python 3.10 with
lava-nc only; the main environment reaches it through :mod:`.backend`).

``build`` returns the processes; a user with Loihi 2 hardware runs the same objects with
``Loihi2HwCfg`` instead of ``Loihi2SimCfg(select_tag="fixed_pt")`` (see the README).  A batch of
``B`` samples is laid side by side in space: every population becomes ``B`` copies in one
process (index ``b * size + i``) and every connection a block-diagonal matrix, so one Lava run
of ``steps`` steps computes the whole batch (Lava's per-step cost is mostly process
synchronisation, not arithmetic).  Unbatched dense projections become ``Dense``/``DelayDense``,
everything else ``Sparse``/``DelaySparse``.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from .encode import Connection, LavaNetwork

__all__ = ["LavaProcesses", "build", "run"]


@dataclass
class LavaProcesses:
    """The built network: processes by population name, connection processes, spike sinks."""

    populations: dict[str, Any]
    connections: dict[str, Any]
    sinks: dict[str, Any]
    batch: int
    steps: int


def _matrix(c: Connection, values: np.ndarray, batch: int) -> Any:
    from scipy.sparse import csr_matrix

    b = np.repeat(np.arange(batch, dtype=np.int64), c.src.size)
    rows = np.tile(c.dst, batch) + b * c.n_dst
    cols = np.tile(c.src, batch) + b * c.n_src
    return csr_matrix((np.tile(values, batch), (rows, cols)), shape=(batch * c.n_dst, batch * c.n_src))


def _connection(c: Connection, batch: int) -> Any:
    from lava.proc.dense.process import DelayDense, Dense
    from lava.proc.sparse.process import DelaySparse, Sparse
    from lava.utils.weightutils import SignMode

    kwargs = {"weight_exp": c.weight_exp, "num_weight_bits": 8, "sign_mode": SignMode[c.sign_mode.upper()],
              # 0/1 spikes give the same sums either way; for a batch the graded path (a sparse
              # matrix-vector product) is much faster than Sparse's column slicing by spike mask.
              "num_message_bits": 24 if c.graded or batch > 1 else 0, "name": c.name}
    w = _matrix(c, c.weight.astype(np.int64), batch)
    dense = batch == 1 and c.dense
    if c.delay is None:
        return Dense(weights=w.toarray(), **kwargs) if dense else Sparse(weights=w, **kwargs)
    d = _matrix(c, c.delay.astype(np.int64), batch)
    if dense:
        return DelayDense(weights=w.toarray(), delays=d.toarray().astype(int), **kwargs)
    return DelaySparse(weights=w, delays=d.astype(int), **kwargs)


def build(net: LavaNetwork, inputs: Mapping[str, np.ndarray], steps: int, log_dir: str | None = None) -> LavaProcesses:
    """Processes for ``net`` fed with ``inputs`` (port -> ``(batch, time, size)`` integers); with
    ``log_dir`` every population's spikes go to ``log_dir/<index>.npy`` (:class:`SpikeLog`),
    otherwise to Lava ``RingBuffer`` sinks."""
    from lava.proc.io.sink import RingBuffer as Sink
    from lava.proc.io.source import RingBuffer as Source
    from lava.proc.lif.process import LIF

    batch = int(next(iter(inputs.values())).shape[0]) if inputs else 1
    pops: dict[str, Any] = {}
    for pop, port, size in net.inputs:
        x = np.asarray(inputs[port]).reshape(batch, -1, size)[:, :steps]
        data = np.zeros((batch, steps, size), np.int32)
        data[:, : x.shape[1]] = x
        pops[pop] = Source(data=data.transpose(0, 2, 1).reshape(batch * size, steps))
    sinks: dict[str, Any] = {}
    for lif in net.lifs:
        pops[lif.name] = LIF(
            shape=(batch * lif.size,), du=lif.du, dv=lif.dv, vth=lif.vth,
            bias_mant=np.tile(lif.bias_mant, batch), bias_exp=np.tile(lif.bias_exp, batch),
            u=np.tile(lif.u_init, batch), v=np.tile(lif.v_init, batch), name=lif.name,
        )
        if log_dir is None:
            sinks[lif.name] = Sink(shape=(batch * lif.size,), buffer=steps)
        else:
            from .lava_procs import SpikeLog

            path = os.path.join(log_dir, f"{len(sinks)}.npy")
            sinks[lif.name] = SpikeLog(shape=(batch * lif.size,), steps=steps, path=path)
        pops[lif.name].s_out.connect(sinks[lif.name].a_in)
    conns: dict[str, Any] = {}
    for c in net.connections:
        proc = _connection(c, batch)
        pops[c.source].s_out.connect(proc.s_in)
        proc.a_out.connect(pops[c.target].a_in)
        conns[c.name] = proc
    return LavaProcesses(pops, conns, sinks, batch, steps)


def run(net: LavaNetwork, inputs: Mapping[str, np.ndarray], steps: int) -> dict[str, np.ndarray]:
    """Run ``net`` under ``Loihi2SimCfg(select_tag="fixed_pt")`` for ``steps`` steps; the spikes of
    every population, ``(batch, steps, size)`` int8."""
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2SimCfg

    if steps < 1 or not net.lifs:
        batch = int(next(iter(inputs.values())).shape[0]) if inputs else 1
        return {lif.name: np.zeros((batch, max(steps, 0), lif.size), np.int8) for lif in net.lifs}
    with tempfile.TemporaryDirectory(prefix="spikec-lava-log-") as log_dir:
        procs = build(net, inputs, steps, log_dir)
        first = next(iter(procs.sinks.values()))
        first.run(condition=RunSteps(num_steps=steps), run_cfg=Loihi2SimCfg(select_tag="fixed_pt"))
        first.stop()
        out = {}
        for k, lif in enumerate(net.lifs):
            data = np.load(os.path.join(log_dir, f"{k}.npy"))
            out[lif.name] = data.reshape(procs.batch, lif.size, steps).transpose(0, 2, 1).copy()
        return out
