"""Mapping benchmark: partition + placement (METIS + Hilbert seed + swap refinement + unit
moves) against the sequential-fill baseline (cores filled in layer order, placed row by row),
on a convolutional net, a recurrent net and a random sparse net, on a small-core chip (256
neurons per core, 8 x 8 mesh, chips tiled as needed); then compile-time scaling on Loihi 1.

    .venv/bin/python bench/mapping.py [--scale 10000,100000,1000000] [--budget 10] [--uniform]

Traffic figures are per time step with one event per unit (uniform rates): inter-core
messages (one per source unit and destination core, multicast) and hop-weighted traffic
(messages x X-Y hops), exactly what the engine's msg_remote and hops_x + hops_y count.

The scaling runs map :func:`mapping_nets.window_net` (n neurons x 100 synapses drawn within
512 indices, 1 % anywhere) onto ``LOIHI1_SPEC`` (1024 neurons, 4096 input axons, 4096
routing entries and 131,072 synapses per core; 16 x 8 cores per chip; chips=None: as many
chips as needed, tiled along x), each size in a child process of its own, so that its peak
resident memory (``ru_maxrss``: the program, its construction and the mapping) is its own.
``--uniform`` runs the worst case instead: targets uniformly random (every synapse its own
message), on Loihi 1 without its fan-in limit (see :func:`scale_spec`).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from mapping_nets import conv_net, random_net, recurrent_net, window_net  # noqa: E402
from spikec.compiler.mapping import map_program  # noqa: E402
from spikec.hardware import HardwareSpec, Sourced  # noqa: E402
from spikec.hardware.loihi import LOIHI1_SPEC  # noqa: E402
from spikec.runtime import Program  # noqa: E402

SPEC = HardwareSpec("small-core", neurons_per_core=Sourced(256, "bench"), mesh_x=Sourced(8, "bench"),
                    mesh_y=Sourced(8, "bench"))


def compare(name: str, program: Program, budget: float) -> None:
    rows = {}
    for method in ("sequential", "metis"):
        t0 = time.perf_counter()
        f = map_program(program, SPEC, method=method, budget_s=budget).record.figures
        rows[method] = (f, time.perf_counter() - t0)
    base, ours = rows["sequential"][0], rows["metis"][0]
    print(f"\n{name}: {int(program.offsets[-1]):,} units, {program_synapses(program):,} synapses")
    print(f"  {'method':<11}{'cores':>7}{'chips':>6}{'messages/step':>15}{'hops/step':>13}{'max link':>10}"
          f"{'seconds':>9}")
    for method, (f, s) in rows.items():
        print(f"  {method:<11}{f['cores']:>7}{f['chips']:>6}{f['messages']:>15,.0f}{f['hops']:>13,.0f}"
              f"{f['max_link_load']:>10,.0f}{s:>9.2f}")
    red = lambda a, b: 100.0 * (1 - a / b) if b else 0.0  # noqa: E731
    print(f"  metis: partition from the {ours['partition']} candidate, {ours.get('units_moved', 0)} units moved; "
          f"reduction: messages {red(ours['messages'], base['messages']):.1f} %, "
          f"hop-weighted traffic {red(ours['hops'], base['hops']):.1f} %")


def program_synapses(program: Program) -> int:
    from spikec.runtime.fanout import synapse_coo
    total = 0
    for j in program.projections:
        n_s, n_t = program.population(j.source).size, program.population(j.target).size
        total += int(synapse_coo(j, n_s, n_t)[2].sum())
    return total


def scale_spec(uniform: bool) -> HardwareSpec:
    """Loihi 1; for uniform nets without its 4096 input axons per core, which a core of 1024
    neurons with 100 uniformly random inputs each (~100,000 distinct sources) cannot meet
    (it would take ~25,000 cores of ~40 neurons)."""
    if not uniform:
        return LOIHI1_SPEC
    return dataclasses.replace(LOIHI1_SPEC, name="Loihi 1 without the fan-in limit",
                               fan_in_per_core=Sourced(None, "dropped for the uniform stress run"))


def scale_one(n: int, per_neuron: int, budget: float, uniform: bool) -> dict:
    """Build the window net of ``n`` neurons (``uniform``: targets anywhere) and map it onto
    Loihi 1 (run in a child process)."""
    t0 = time.perf_counter()
    program = window_net(n, per_neuron, window=n // 2, far=0.0) if uniform else window_net(n, per_neuron)
    build_s = time.perf_counter() - t0
    rss_program = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    f = map_program(program, scale_spec(uniform), method="metis", budget_s=budget).record.figures
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6   # kB -> GB
    return {"n": n, "synapses": n * per_neuron, "build_s": build_s, "rss_after_build_gb": rss_program,
            "peak_rss_gb": peak,
            **{k: f[k] for k in ("cores", "chips", "partition", "partition_s", "place_s", "route_s", "seconds",
                                 "messages", "hops", "max_fan_in_per_core", "max_fan_out_per_core", "refine_s")}}


def scaling(sizes: list[int], per_neuron: int, budget: float, uniform: bool) -> None:
    net = "uniformly random targets" if uniform else "within +-512 indices, 1 % anywhere"
    print(f"\ncompile-time scaling: {per_neuron} synapses/neuron, {net}, on {scale_spec(uniform).name} "
          f"(map_program, METIS + sequential candidates, budget {budget:g} s):")
    print("  (stage seconds summed over both candidates; 'w/o moves': map s less the budgeted unit moves, which run\n"
          "   only while synapse pairs x cores <= 6e7, i.e. here at 10^4 neurons only)")
    print(f"  {'neurons':>10}{'synapses':>13}{'cores':>7}{'chips':>6}{'won by':>11}{'partition s':>12}"
          f"{'place s':>9}{'moves s':>9}{'route s':>8}{'map s':>8}{'w/o moves':>10}{'us/syn':>8}"
          f"{'RSS build GB':>13}{'peak RSS GB':>12}")
    for n in sizes:
        out = subprocess.run([sys.executable, os.path.abspath(__file__), "--one", str(n),
                              "--per-neuron", str(per_neuron), "--budget", str(budget)]
                             + (["--uniform"] if uniform else []), capture_output=True, text=True)
        if out.returncode:
            print(f"  {n:>10,}  failed: {out.stderr.strip().splitlines()[-1:]}")
            continue
        f = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"  {n:>10,}{f['synapses']:>13,}{f['cores']:>7}{f['chips']:>6}{f['partition']:>11}"
              f"{f['partition_s']:>12.1f}{f['place_s']:>9.1f}{f['refine_s']:>9.1f}{f['route_s']:>8.1f}{f['seconds']:>8.1f}"
              f"{f['seconds'] - f['refine_s']:>10.1f}{1e6 * (f['seconds'] - f['refine_s']) / f['synapses']:>8.2f}"
              f"{f['rss_after_build_gb']:>13.2f}{f['peak_rss_gb']:>12.2f}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", default="10000,100000,1000000",
                    help="comma-separated neuron counts for the scaling runs ('' skips)")
    ap.add_argument("--per-neuron", type=int, default=100, help="synapses per neuron in the scaling runs")
    ap.add_argument("--budget", type=float, default=10.0,
                    help="seconds for the placement's swaps and again for the unit moves")
    ap.add_argument("--uniform", action="store_true",
                    help="scaling runs on uniformly random nets (stress case; Loihi 1 without its fan-in limit), "
                         "nets skipped")
    ap.add_argument("--one", type=int, default=0, help=argparse.SUPPRESS)   # child process: one scaling run, JSON out
    args = ap.parse_args()
    if args.one:
        print(json.dumps(scale_one(args.one, args.per_neuron, args.budget, args.uniform)))
        return
    if args.uniform:
        scaling([int(s) for s in args.scale.split(",") if s], args.per_neuron, args.budget, True)
        return
    print(f"spec: {SPEC.value('neurons_per_core')} neurons/core, mesh {SPEC.value('mesh_x')} x {SPEC.value('mesh_y')} "
          "per chip, chips tiled along x as needed; uniform rates (1 event per unit per step)")
    compare("conv net (3 conv layers)", conv_net(), args.budget)
    compare("recurrent net (64 x 64 local sheet + readout)", recurrent_net(), args.budget)
    compare("random sparse net (4,000 neurons, 100 synapses each)", random_net(4000, 100), args.budget)
    sizes = [int(s) for s in args.scale.split(",") if s]
    if sizes:
        scaling(sizes, args.per_neuron, args.budget, False)


if __name__ == "__main__":
    main()
