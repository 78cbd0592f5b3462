"""The C engine's own speed (issue 17): set-up, event delivery and the bundled digits model.

    .venv/bin/python bench/engine_speed.py [--sizes 100000,1000000] [--steps 100] [--repeats 3] [--files]

Printed, all in one run (single thread):

* per random recurrent net (n cuba_float neurons, 100 random targets each, driven to fire
  about 9 % of the neurons per step): building the ``Program`` (its validation), the engine's
  set-up before the first step (fan-out tables and synapse layout, ``run``'s first call), with
  ``--files`` saving and loading the program and a loaded program's first step, then the run
  phase (best of ``--repeats``) and the synaptic events per second;
* the bundled digits model (``spikec.load("default")``, its bundled data): the C engine (one
  thread and all threads, each with counters per step and over the run) against
  the NumPy reference ``spikec.ir.simulate`` in float32, best of ``--digits-repeats``, and the
  ratios engine / NumPy (the goal is <= 1).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))

from spikec.runtime import Population, Program, Projection, load_program, save_program  # noqa: E402
from spikec.runtime import run as run_program  # noqa: E402

FAN_OUT = 100


def random_net(n: int, seed: int = 0) -> Program:
    """n LIF neurons (CubaLIF with unit gains), each driving FAN_OUT random targets one step later."""
    rng = np.random.default_rng(seed)
    pre = np.repeat(np.arange(n, dtype=np.int64), FAN_OUT)
    post = rng.integers(0, n, pre.size)
    weight = rng.normal(-0.005, 0.05, pre.size)  # slightly inhibitory: about 9 % fire per step
    ones = np.ones(n)
    pop = Population("h", "cuba_float", (n,), params={
        "alpha_syn": ones * 0.8, "gain_syn": ones, "alpha": ones * 0.9, "gain": ones, "bias": ones * 0.12,
        "v_threshold": ones, "v_reset": np.zeros(n), "v_init": rng.uniform(0, 1, n)},
        spiking=True, reset="value")
    proj = Projection("rec", "h", "h", "sparse", weight, delay_base=1, target_index=post, source_index=pre)
    cores = max(1, n // 1024)
    core_of = (np.arange(n) * cores // n).astype(np.int64)
    core_xy = np.stack([np.arange(cores) % 16, np.arange(cores) // 16], axis=1)
    return Program(dt=1e-3, arithmetic="float", populations=(pop,), projections=(proj,), inputs={}, outputs={},
                   core_of=core_of, core_xy=core_xy)


def bench_net(n: int, steps: int, files: bool, repeats: int) -> None:
    t0 = time.perf_counter()
    prog = random_net(n)
    t_build = time.perf_counter() - t0
    t0 = time.perf_counter()
    run_program(prog, {}, 1, threads=1, counters="total")
    t_setup = time.perf_counter() - t0
    t_run = float("inf")
    for _ in range(repeats):  # best of: the machine is shared
        t0 = time.perf_counter()
        res = run_program(prog, {}, steps, threads=1, counters="total", count="h")
        t_run = min(t_run, time.perf_counter() - t0)
    saved = ""
    if files:
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "net.npz")
            t0 = time.perf_counter()
            save_program(prog, path)
            t_save = time.perf_counter() - t0
            t0 = time.perf_counter()
            loaded = load_program(path)
            t_load = time.perf_counter() - t0
            t0 = time.perf_counter()
            run_program(loaded, {}, 1, threads=1, counters="total")
            t_first = time.perf_counter() - t0
        saved = f", save {t_save:5.2f} s, load {t_load:5.2f} s + first step {t_first:5.2f} s"
    synops = int(res.counters.total("synops"))
    spikes = int(res.event_counts["h"].sum())
    print(f"{n:>9,} neurons {n * FAN_OUT:>12,} synapses: build {t_build:6.2f} s, set-up {t_setup:6.2f} s{saved}")
    print(f"{'':>9}   run {steps} steps (best of {repeats}) {t_run:6.2f} s, firing {spikes / steps / n:5.1%}/step, "
          f"{synops / t_run:9.3g} synaptic events/s")


def bench_digits(repeats: int) -> None:
    import spikec
    from spikec.api import resolve_data
    from spikec.compiler.lower import lower
    from spikec.ir import simulate

    graph = spikec.load("default")
    data = resolve_data(None, "default", graph)
    inputs = dict(data.inputs)
    program = lower(graph)
    run_program(program, inputs, threads=1)  # set-up cached on the program, as a sweep would
    simulate(graph, inputs, dtype=np.float32)

    def best(fn: object) -> float:
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn()  # type: ignore[operator]
            times.append(time.perf_counter() - t0)
        return min(times)

    t_step = best(lambda: run_program(program, inputs, threads=1))
    t_total = best(lambda: run_program(program, inputs, threads=1, counters="total"))
    t_threads = best(lambda: run_program(program, inputs))
    t_threads_total = best(lambda: run_program(program, inputs, counters="total"))
    t_np = best(lambda: simulate(graph, inputs, dtype=np.float32))
    shape = next(iter(inputs.values())).shape
    print(f"digits {shape[0]} samples x {shape[1]} steps: NumPy float32 {t_np * 1e3:6.1f} ms; engine, one thread, "
          f"counters per step {t_step * 1e3:6.1f} ms ({t_step / t_np:4.2f}x NumPy), over the run "
          f"{t_total * 1e3:6.1f} ms ({t_total / t_np:4.2f}x); all threads, per step {t_threads * 1e3:6.1f} ms "
          f"({t_threads / t_np:4.2f}x), over the run {t_threads_total * 1e3:6.1f} ms ({t_threads_total / t_np:4.2f}x)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="100000,1000000")
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--digits-repeats", type=int, default=9)
    ap.add_argument("--repeats", type=int, default=3, help="runs of each random net (the best is shown)")
    ap.add_argument("--files", action="store_true", help="also time save_program, load_program and a loaded "
                    "program's first step (compressed .npz: minutes at 10^6 neurons)")
    args = ap.parse_args()
    bench_digits(args.digits_repeats)
    for n in (int(x) for x in args.sizes.split(",") if x):
        bench_net(n, args.steps, args.files, args.repeats)
    return 0


if __name__ == "__main__":
    sys.exit(main())
