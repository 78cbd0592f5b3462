"""Exploration throughput: trials per minute of one study in this process, on a local process
pool, and as Ray tasks on a local Ray cluster (a head and worker nodes started here with
``ray start``), with a check that every runner found the same Pareto front (same seed).

    .venv/bin/python bench/explore.py [--trials 24] [--batch 8] [--workers 2] [--samples 100]

The study: the bundled digits model on loihi2 (weight_bits) and spinnaker2 (weight_bits,
neurons_per_pe, tick_us), objectives accuracy, energy and latency; each trial compiles,
runs ``--samples`` test digits on the emulator and prices them.  Trials per minute count only
the study (asking, running, telling), not the start of the pool or of the cluster, which are
printed apart.  On a 2-core machine the pool and Ray cannot beat one process by much: the
figure that matters is the overhead each adds per trial, and that the front is the same.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from spikec.explore import InProcess, LocalPool, RayRunner, explore, parse_space
from spikec.explore.cluster import local_ray_cluster


def space(trials: int, batch: int, samples: int):
    return parse_space({
        "study": {"name": "bench", "trials": trials, "batch": batch, "seed": 0},
        "data": {"samples": samples, "calibration": 20},
        "targets": {"loihi2": {"weight_bits": {"low": 2, "high": 8}},
                    "spinnaker2": {"weight_bits": {"low": 3, "high": 16},
                                   "neurons_per_pe": {"low": 16, "high": 256, "log": True},
                                   "tick_us": {"low": 10.0, "high": 1000.0, "log": True}}}})


def timed(name: str, make, sp, folder: Path, startup: float = 0.0) -> tuple[str, float, float, list]:
    t0 = time.perf_counter()
    runner = make()
    startup += time.perf_counter() - t0
    try:
        result = explore("default", sp, runner, journal=folder / f"{name}.journal")
    finally:
        runner.close()
    rate = result.ran / result.seconds * 60
    print(f"{name:<28} {result.ran:4d} trials  {result.seconds:7.1f} s  {rate:7.1f} trials/min  "
          f"(start-up {startup:.1f} s)  front: {len(result.front())} trials", flush=True)
    return name, rate, startup, result.front_key()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--trials", type=int, default=24, help="trials per target")
    ap.add_argument("--batch", type=int, default=8, help="trials per generation")
    ap.add_argument("--workers", type=int, default=2, help="pool processes, and Ray nodes (1 CPU each)")
    ap.add_argument("--samples", type=int, default=100, help="test digits each trial runs")
    args = ap.parse_args()
    sp = space(args.trials, args.batch, args.samples)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        rows.append(timed("this process", InProcess, sp, folder))
        rows.append(timed(f"local pool ({args.workers} processes)", lambda: LocalPool(args.workers), sp, folder))
        t0 = time.perf_counter()
        with local_ray_cluster(workers=args.workers, cpus=1) as address:
            up = time.perf_counter() - t0
            rows.append(timed(f"Ray ({args.workers} nodes x 1 CPU)", lambda: RayRunner(address), sp, folder, up))
    same = all(r[3] == rows[0][3] for r in rows)
    print(f"same Pareto front on every runner: {same}")
    base = rows[0][1]
    for name, rate, _, _ in rows[1:]:
        print(f"{name}: {rate / base:.2f}x the trials per minute of one process")
    if not same:
        raise SystemExit("the runners disagree on the front")


if __name__ == "__main__":
    main()
