"""Whole-pipeline compile time and memory against network size (issue 4's scale goal).

    .venv/bin/python bench/compile_scale.py [--sizes 10000,100000,1000000] [--target loihi1]

Each size runs in a child process of its own, so that its peak resident memory is its own.
The network is built in the IR, as a user's would be: an Input of 1000, one input synapse per
neuron, n LIF neurons and 100 recurrent synapses per neuron drawn within +-512 indices
(local, so a good mapping exists); then the target's whole compile runs: fold_batchnorm,
map_delays, quantize, lower, partition/place/route, chip timing.  Printed per size: synapses,
cores, compile seconds (and the mapping's share), seconds per million synapses, peak RSS (the
graph itself included).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time


def one(n: int, target: str) -> dict:
    import numpy as np
    import spikec.ir as ir
    from spikec.targets import get_target

    k = 100
    rng = np.random.default_rng(0)
    t = np.repeat(np.arange(n, dtype=np.int64), k)
    s = (t + rng.integers(-512, 513, t.size)) % n
    w = rng.normal(0, 0.1, t.size)
    nodes = {"in": ir.Input((1000,)),
             "w_in": ir.SparseLinear((n, 1000), np.arange(n), rng.integers(0, 1000, n), np.ones(n)),
             "h": ir.make_population(ir.LIF, n, tau=1e-2, v_threshold=0.5),
             "w_rec": ir.SparseLinear((n, n), t, s, w), "out": ir.Output()}
    graph = ir.Graph(nodes, [("in", "w_in"), ("w_in", "h"), ("h", "w_rec"), ("w_rec", "h"), ("h", "out")], dt=1e-3)
    del t, s, w, nodes
    t0 = time.perf_counter()
    compiled = get_target(target).compile(graph)
    seconds = time.perf_counter() - t0
    mapped = next(r for r in compiled.records if r.name == "map")
    return {"neurons": n, "synapses": graph.synapse_count(), "cores": compiled.program.n_cores, "seconds": seconds,
            "map_seconds": float(mapped.figures.get("seconds", float("nan"))),
            "peak_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--target", default="loihi1")
    ap.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child is not None:
        print(json.dumps(one(args.child, args.target)))
        return 0
    print(f"whole compile for {args.target} (goal: 1,000,000 neurons / 100,000,000 synapses in 120 s and 12 GB)")
    print(f"{'neurons':>10} {'synapses':>12} {'cores':>6} {'compile s':>10} {'map s':>7} "
          f"{'s per 1M syn':>13} {'peak GB':>8}")
    for n in (int(x) for x in args.sizes.split(",")):
        out = subprocess.run([sys.executable, __file__, "--child", str(n), "--target", args.target],
                             capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{r['neurons']:>10,} {r['synapses']:>12,} {r['cores']:>6} {r['seconds']:>10.1f} "
              f"{r['map_seconds']:>7.1f} {r['seconds'] / r['synapses'] * 1e6:>13.3f} {r['peak_gb']:>8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
