"""Mapping benchmark: partition + placement (METIS + Hilbert seed + swap refinement) against
the sequential-fill baseline (cores filled in layer order, placed row by row), on a
convolutional net, a recurrent net and a random sparse net, on a small-core chip (256 neurons
per core, 8 x 8 mesh, chips tiled as needed); then compile-time scaling on growing random nets.

    .venv/bin/python bench/mapping.py [--scale 10000,100000] [--budget 10]

Traffic figures are per time step with one event per unit (uniform rates): inter-core
messages (one per source unit and destination core, multicast) and hop-weighted traffic
(messages x X-Y hops), exactly what the engine's msg_remote and hops_x + hops_y count.
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np


from spikec import ir
from spikec.compiler.lower import lower
from spikec.compiler.passes.mapping import map_program
from spikec.runtime import Population, Program, Projection
from spikec.targets.spec import HardwareSpec, Limit

SPEC = HardwareSpec("small-core", neurons_per_core=Limit(256, "bench"), mesh_x=Limit(8, "bench"),
                    mesh_y=Limit(8, "bench"))


def conv_net(seed: int = 0) -> Program:
    """2 x 32 x 32 input -> conv3x3 8 ch -> conv3x3/2 16 ch -> conv3x3/2 16 ch (LIF): 15,360 units."""
    rng = np.random.default_rng(seed)
    chans, hw = (2, 8, 16, 16), 32
    nodes, edges, prev, h = {"x": ir.Input((chans[0], hw, hw))}, [], "x", hw
    for i in range(1, len(chans)):
        stride = 1 if i == 1 else 2
        nodes[f"conv{i}"] = ir.Conv2d(rng.normal(size=(chans[i], chans[i - 1], 3, 3)), stride=stride, padding=1)
        h = (h - 1) // stride + 1
        nodes[f"lif{i}"] = ir.make_population(ir.LIF, (chans[i], h, h), tau=3.0, v_threshold=1.0)
        edges += [(prev, f"conv{i}"), (f"conv{i}", f"lif{i}")]
        prev = f"lif{i}"
    nodes["out"] = ir.Output()
    edges.append((prev, "out"))
    return lower(ir.Graph(nodes, edges, dt=1.0))


def recurrent_net(seed: int = 0, side: int = 64, k: int = 50, n_in: int = 64, n_out: int = 10) -> Program:
    """A 64 x 64 recurrent LIF sheet (4,096 neurons, row-major), each neuron driving ``k`` targets
    within 3 steps on a torus and one in ten anywhere; topographic input; a 10-unit readout."""
    rng = np.random.default_rng(seed)
    n = side * side
    src = np.repeat(np.arange(n), k)
    dy, dx = rng.integers(-3, 4, src.size), rng.integers(-3, 4, src.size)
    dst = ((src // side + dy) % side) * side + (src % side + dx) % side
    far = rng.random(src.size) < 0.1
    dst[far] = rng.integers(0, n, int(far.sum()))
    w_in = np.zeros((n, n_in))
    w_in[np.arange(n), np.arange(n) * n_in // n] = rng.normal(size=n)
    nodes = {
        "x": ir.Input((n_in,)), "w_in": ir.Linear(w_in),
        "sheet": ir.make_population(ir.LIF, n, tau=10.0, v_threshold=1.0),
        "rec": ir.SparseLinear((n, n), target=dst, source=src, weight=rng.normal(size=src.size) * 0.1),
        "w_out": ir.Linear(rng.normal(size=(n_out, n)) * (rng.random((n_out, n)) < 0.05)),
        "readout": ir.make_population(ir.LIF, n_out, tau=10.0, v_threshold=1.0), "o": ir.Output(),
    }
    edges = [("x", "w_in"), ("w_in", "sheet"), ("sheet", "rec"), ("rec", "sheet"), ("sheet", "w_out"),
             ("w_out", "readout"), ("readout", "o")]
    return lower(ir.Graph(nodes, edges, dt=1.0))


def random_net(n: int, per_neuron: int, seed: int = 0, layers: int = 1) -> Program:
    """Input (n/10 units) -> ``layers`` populations of n neurons with ``per_neuron`` random
    synapses each (recurrent when ``layers`` is 1): no structure a partitioner can exploit."""
    rng = np.random.default_rng(seed)
    ones = np.ones(n)
    n_in = max(1, n // 10)
    params = {"alpha": ones * 0.9, "gain": ones, "bias": ones * 0.0, "v_threshold": ones, "v_reset": ones * 0.0}
    pops = [Population("in", "input", (n_in,))] + [
        Population(f"p{i}", "cuba_float", (n,), params, spiking=True, reset="value") for i in range(layers)]
    projs = [Projection("w_in", "in", "p0", "sparse", np.ones(n), target_index=np.arange(n),
                        source_index=rng.integers(0, n_in, n))]
    for i in range(layers):
        src_pop = f"p{i - 1}" if i else "p0"
        m = n * per_neuron
        projs.append(Projection(f"w{i}", src_pop, f"p{i}", "sparse", np.ones(m, np.float32) * 0.01,
                                target_index=rng.integers(0, n, m).astype(np.int32),
                                source_index=rng.integers(0, n, m).astype(np.int32), delay_base=1 if not i else 0))
    return Program(1.0, "float", tuple(pops), tuple(projs), {"in": "in"}, {})


def compare(name: str, program: Program, budget: float) -> None:
    rows = {}
    for method in ("sequential", "metis"):
        t0 = time.perf_counter()
        f = map_program(program, SPEC, method=method, budget_s=budget).record.figures
        rows[method] = (f, time.perf_counter() - t0)
    base, ours = rows["sequential"][0], rows["metis"][0]
    print(f"\n{name}: {int(program.offsets[-1]):,} units, {program_synapses(program):,} synapses")
    print(f"  {'method':<11}{'cores':>7}{'chips':>6}{'messages/step':>15}{'hops/step':>13}{'max link':>10}{'seconds':>9}")
    for method, (f, s) in rows.items():
        print(f"  {method:<11}{f['cores']:>7}{f['chips']:>6}{f['messages']:>15,.0f}{f['hops']:>13,.0f}"
              f"{f['max_link_load']:>10,.0f}{s:>9.2f}")
    red = lambda a, b: 100.0 * (1 - a / b) if b else 0.0  # noqa: E731
    print(f"  reduction: messages {red(ours['messages'], base['messages']):.1f} %, "
          f"hop-weighted traffic {red(ours['hops'], base['hops']):.1f} %")


def program_synapses(program: Program) -> int:
    from spikec.runtime.fanout import synapse_coo
    total = 0
    for j in program.projections:
        n_s, n_t = program.population(j.source).size, program.population(j.target).size
        total += int(synapse_coo(j, n_s, n_t)[2].sum())
    return total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", default="10000,100000", help="comma-separated neuron counts for the scaling runs ('' skips)")
    ap.add_argument("--per-neuron", type=int, default=100, help="synapses per neuron in the scaling runs")
    ap.add_argument("--budget", type=float, default=10.0, help="seconds for the placement's swap refinement")
    args = ap.parse_args()
    print(f"spec: {SPEC.value('neurons_per_core')} neurons/core, mesh {SPEC.value('mesh_x')} x {SPEC.value('mesh_y')} "
          "per chip, chips tiled along x as needed; uniform rates (1 event per unit per step)")
    compare("conv net (3 conv layers)", conv_net(), args.budget)
    compare("recurrent net (64 x 64 local sheet + readout)", recurrent_net(), args.budget)
    compare("random sparse net (4,000 neurons, 100 synapses each)", random_net(4000, 100), args.budget)
    sizes = [int(s) for s in args.scale.split(",") if s]
    if sizes:
        print(f"\ncompile-time scaling (random recurrent nets, {args.per_neuron} synapses/neuron, METIS):")
        print(f"  {'neurons':>10}{'synapses':>14}{'cores':>7}{'partition s':>13}{'place s':>9}{'route s':>9}"
              f"{'total s':>9}{'peak RSS GB':>13}")
    for n in sizes:
        program = random_net(n, args.per_neuron)
        f = map_program(program, SPEC, method="metis", budget_s=args.budget).record.figures
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
        print(f"  {n:>10,}{n * args.per_neuron:>14,}{f['cores']:>7}{f['partition_s']:>13.1f}{f['place_s']:>9.1f}"
              f"{f['route_s']:>9.1f}{f['seconds']:>9.1f}{rss:>13.2f}", flush=True)


if __name__ == "__main__":
    main()
