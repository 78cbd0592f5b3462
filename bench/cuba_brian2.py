"""Brian2 C++ standalone half of ``bench/cuba.py`` (run in the Python 3.13 venv, .venv313).

Brian2 2.11 needs Python >= 3.13, so ``cuba.py`` runs this file as a subprocess::

    .venv313/bin/python bench/cuba_brian2.py --net net.npz --steps 100000 [--record spikes.npz]

and reads the one JSON line it prints.  :func:`run` can also be called in-process.

Model (Brian2's CUBA example with one synaptic time constant, voltages shifted by V_r)::

    dv/dt = (g - v + E_L)/tau_m ;  dg/dt = -g/tau_s ;  v > theta -> v = 0 ;  on_pre: g += w

integrated with ``method='euler'``.  Why this is the canonical update of ``cuba_net``: Brian2's
default schedule per step is groups (state update), thresholds, synapses, resets.  Write g_t
for g after step t's synapses slot.  Step t's Euler update uses the *old* values, so
``v_t = v_{t-1} + dt/tau_m (g_{t-1} - v_{t-1} + E_L) = a_v v_{t-1} + (dt/tau_m) g_{t-1} + b``;
then the threshold tests v_t, the synapses slot adds w for the spikes of step t (delay 0) to
``g`` after its decay, ``g_t = a_I g_{t-1} + sum w s_t``, and the reset zeroes v.  With
I_t := (dt/tau_m) g_{t-1} this is I_t = a_I I_{t-1} + sum (dt/tau_m) w s_{t-1} and
v_t = a_v v_{t-1} + I_t + b: a spike of step t-1 reaches v at step t, W = w dt/tau_m.  Only the
rounding differs (Brian works in volts, evaluates dt*(E_L + g - v)/tau_m, and compiles with
its default ``-ffast-math``).
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


def run(net: cuba_net.CubaNet, steps: int, record: bool = False,
        build_dir: str | None = None, keep_build: bool = False,
        repeats: int = 1) -> dict[str, Any]:
    """Build, compile and run the network with Brian2 ``cpp_standalone`` on one thread.

    Returns the common result dict (``wall_s`` = the C++ run phase alone, Brian2's
    ``device._last_run_time``, best of ``repeats`` executions of the compiled binary) plus
    ``wall_total_s`` (network construction, code generation, compilation, the first run and
    reading its results back), ``wall_compile_s`` (the ``make`` step), ``wall_binary_s`` (the
    whole first ``main`` process), ``run_times_s`` (every repeat), ``brian2_version`` and, with
    ``record``, ``spike_steps``/``spike_ids``.
    """
    import brian2 as b2

    t_total = time.perf_counter()
    own_dir = build_dir is None
    directory = tempfile.mkdtemp(prefix="cuba_brian2_") if own_dir else build_dir
    try:
        b2.set_device("cpp_standalone", directory=directory, build_on_run=True)
        # One thread, as in the anchors (A.1): no OpenMP.
        b2.prefs.devices.cpp_standalone.openmp_threads = 0
        b2.defaultclock.dt = net.dt_ms * b2.ms

        taum = net.tau_m_ms * b2.ms
        taus = net.tau_syn_ms * b2.ms
        EL = net.el_minus_vr_mv * b2.mV
        theta = net.theta_mv * b2.mV
        eqs = """
        dv/dt = (g - v + EL)/taum : volt
        dg/dt = -g/taus : volt
        """
        P = b2.NeuronGroup(net.n, eqs, threshold="v > theta", reset="v = 0*volt",
                           method="euler", name="cuba")
        P.v = net.v_init * b2.mV
        P.g = 0 * b2.mV
        S = b2.Synapses(P, P, "w : volt", on_pre="g += w", name="rec")
        S.connect(i=np.asarray(net.pre, dtype=np.int32), j=np.asarray(net.post, dtype=np.int32))
        # Brian's jump of g is the example's we/wi; the canonical W is that times dt/tau_m.
        S.w = np.where(np.asarray(net.pre) < net.n_exc, net.we_mv, net.wi_mv) * b2.mV
        mon = b2.SpikeMonitor(P, record=record)
        b2.run(steps * b2.defaultclock.dt, namespace={"EL": EL, "taum": taum, "taus": taus,
                                                      "theta": theta})
        device = b2.get_device()
        counts = np.asarray(mon.count[:], dtype=np.int64)
        wall_total = time.perf_counter() - t_total
        wall_binary = float(device.timers.get("run_binary") or 0.0)
        run_times = [float(device._last_run_time)]
        # Re-running the compiled binary (no new code generation or compile) gives the
        # best-of-N run phase; the results are deterministic, so the counts stay valid.
        for _ in range(max(0, repeats - 1)):
            device.run(with_output=False)
            run_times.append(float(device._last_run_time))
        out = cuba_net.summarize(net, steps, counts, min(run_times))
        out["run_times_s"] = run_times
        if record:
            dt_s = net.dt_ms * 1e-3
            out["spike_steps"] = np.rint(np.asarray(mon.t[:] / b2.second) / dt_s).astype(np.int64)
            out["spike_ids"] = np.asarray(mon.i[:], dtype=np.int64)
        compile_t = device.timers.get("compile", {})
        out["wall_compile_s"] = float(sum(v for v in compile_t.values() if v is not None))
        out["wall_binary_s"] = wall_binary
        out["completed_fraction"] = float(device._last_run_completed_fraction)
        out["brian2_version"] = b2.__version__
        out["wall_total_s"] = wall_total
        return out
    finally:
        if own_dir and not keep_build:
            shutil.rmtree(directory, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    """Command line: run one network file, print one JSON line, optionally save the raster."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--net", required=True, help=".npz written by CubaNet.save")
    ap.add_argument("--steps", type=int, required=True)
    ap.add_argument("--record", metavar="NPZ", help="write spike_steps/spike_ids/spike_counts here")
    ap.add_argument("--build-dir", help="keep the generated C++ project here")
    ap.add_argument("--repeats", type=int, default=1,
                    help="run the compiled binary this many times, report the fastest")
    args = ap.parse_args(argv)
    net = cuba_net.CubaNet.load(args.net)
    res = run(net, args.steps, record=bool(args.record), build_dir=args.build_dir,
              repeats=args.repeats)
    if args.record:
        np.savez(args.record, spike_steps=res.pop("spike_steps"), spike_ids=res.pop("spike_ids"),
                 spike_counts=res["spike_counts"])
    res["spike_counts"] = res["spike_counts"].tolist()
    print(json.dumps(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
