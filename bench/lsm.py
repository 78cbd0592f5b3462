"""LSM figures: accuracy and branching factor on the digits events per topology and readout, and
the weight-distribution comparison (Gaussian vs uniform, and vs a target's device distribution,
e.g. ReRAM) over several seeds, on all 1,797 digits (30 % held out).

    .venv/bin/python bench/lsm.py [--seeds 5] [--neurons 300] [--device reram] [--quick]

Lin et al. (Nature Computational Science 2025) report 89.66 % (ReRAM weights) vs 89.11 %
(Gaussian) on N-MNIST; the comparison here is the same experiment on the bundled digits events.
"""

from __future__ import annotations

import argparse
import time

from spikec import api
from spikec.lsm import compare_weights, digits_events, run_lsm, weight_distribution


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--neurons", type=int, default=300)
    parser.add_argument("--device", default="reram", help="target whose device weight distribution to compare")
    parser.add_argument("--quick", action="store_true", help="600 digits instead of 1,797")
    args = parser.parse_args()
    data = digits_events(600 if args.quick else None)
    print(f"data: {data.source}, {data.samples} samples, {data.events.shape[2]} channels")
    for topology in ("grid", "random"):
        for readout in ("logistic", "ridge"):
            t0 = time.perf_counter()
            r = run_lsm(data, n_neurons=args.neurons, topology=topology, readout=readout)
            print(f"{topology:>6} {readout:>8}: accuracy {r.accuracy * 100:6.2f} %  branching {r.branching:.3f} "
                  f"(test {r.test_branching:.3f})  rate {r.firing_rate:.3f}  {time.perf_counter() - t0:5.1f} s")
    seeds = tuple(range(args.seeds))
    rivals: list[tuple[str, object]] = [("uniform", "uniform")]
    if args.device in api.target_names() and api.get_target(args.device).weight_sampler is not None:
        rivals.append((f"device ({args.device})", weight_distribution("device", args.device)))
    for name, weights in rivals:
        c = compare_weights(weights, "gaussian", seeds=seeds, data=data, samples=None, n_neurons=args.neurons)
        print(f"{name} vs gaussian over seeds {seeds}: {c.mean_a * 100:.2f} % vs {c.mean_b * 100:.2f} % "
              f"(gap {c.gap_points:.2f} points); per seed {[round(a * 100, 2) for a in c.a]} vs "
              f"{[round(b * 100, 2) for b in c.b]}")


if __name__ == "__main__":
    main()
