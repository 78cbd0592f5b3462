"""``spikec lsm``: build a liquid state machine, tune it to the edge of chaos, train its readout and
evaluate it on a chip (:func:`spikec.lsm.run_lsm`)."""

from __future__ import annotations

import argparse
import time

from rich.console import Console
from rich.table import Table

from .. import api, lsm
from .common import Command, check_outputs, option_args, options, print_accuracy, row


def _lsm_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", default="digits",
                   help="'digits' (scikit-learn digits as N-MNIST-style saccade events), 'audio' (formant-sequence "
                        "cochleagram events), an SHD .h5 file, or an N-MNIST .bin file or folder (default: digits)")
    p.add_argument("--samples", type=int, default=None, help="use only the first N samples (default: all)")
    p.add_argument("--steps", type=int, default=30, help="time steps per sample (default 30)")
    p.add_argument("--neurons", type=int, default=300, help="reservoir neurons (default 300)")
    p.add_argument("--topology", choices=("grid", "random"), default="grid",
                   help="recurrence: Maass 2002 distance-dependent on a 3-D grid, or uniform random (default grid)")
    p.add_argument("--weights", choices=("gaussian", "uniform", "device"), default="gaussian",
                   help="weight distribution; 'device': the --target chip's own (e.g. reram)")
    p.add_argument("--target", choices=api.target_names(), default=None,
                   help="chip to run the reservoir on (default: the C engine as an ideal chip)")
    p.add_argument("--backend", default="emulator",
                   help="the target's backend, or 'reference' (the reference simulator, no target) (default emulator)")
    p.add_argument("--readout", choices=lsm.READOUTS, default="logistic", help="readout (default logistic)")
    p.add_argument("--branching", type=float, default=1.0, help="target branching factor (default 1.0)")
    p.add_argument("--tolerance", type=float, default=0.1, help="accepted distance from it (default 0.1)")
    p.add_argument("--input-scale", type=float, default=0.5, help="input weight scale, in thresholds (default 0.5)")
    p.add_argument("--bins", type=int, default=3, help="time bins of the state features (default 3)")
    p.add_argument("--features", choices=("counts", "trace"), default="counts",
                   help="spike counts per bin or filtered traces (default counts)")
    p.add_argument("--test-fraction", type=float, default=0.3, help="held-out share of the samples (default 0.3)")
    p.add_argument("--reservoir-seed", type=int, default=0, help="seed of the data split, reservoir and readout")
    p.add_argument("--save-graph", default=None, help="write the tuned reservoir as a spikec graph (.npz)")
    option_args(p)


def _lsm(args: argparse.Namespace, console: Console) -> int:
    check_outputs(("--save-graph", args.save_graph))
    t0 = time.perf_counter()
    result = lsm.run_lsm(args.data, n_neurons=args.neurons, topology=args.topology, weights=args.weights,
                         target=args.target, options=options(args) or None, backend=args.backend,
                         readout=args.readout, branching=args.branching, tolerance=args.tolerance,
                         samples=args.samples, steps=args.steps, bins=args.bins, kind=args.features,
                         test_fraction=args.test_fraction, input_scale=args.input_scale, seed=args.reservoir_seed)
    elapsed = time.perf_counter() - t0
    print_result(result, console)
    console.print(f"wall time: {elapsed:.2f} s")
    if args.save_graph:
        console.print(f"reservoir graph saved to {lsm.save_reservoir(result.reservoir, args.save_graph)} "
                      "(spikec info / compile / run take it)")
    return 0


def print_result(result: lsm.LSMResult, console: Console) -> None:
    res = result.reservoir
    table = Table(title=f"LSM on {result.backend}: {result.data}", title_justify="left")
    table.add_column("measure")
    table.add_column("value", justify="right")
    graph = res.graph
    row(table, "reservoir", f"{res.n_neurons} LIF ({int(res.excitatory.sum())} excitatory), {res.topology}, "
                            f"{graph.synapse_count():,} synapses")
    row(table, "branching factor (tuned / test)", f"{result.branching:.3f} / {result.test_branching:.3f}")
    row(table, "recurrent weight scale", f"{res.scale:.4g}")
    row(table, "firing rate (spikes/neuron/step)", f"{result.firing_rate:.4f}")
    row(table, "train / test samples", f"{result.train_samples} / {result.test_samples}")
    row(table, "train accuracy", f"{result.train_accuracy * 100:.2f}%")
    if result.energy is not None and result.latency is not None:
        row(table, f"energy per sample ({result.priced_by})", f"{result.energy * 1e6:.4g} uJ")
        row(table, f"latency per sample ({result.priced_by})", f"{result.latency * 1e3:.4g} ms")
    console.print(table)
    print_accuracy(result.accuracy, result.test_samples, console)


COMMANDS: dict[str, Command] = {
    "lsm": ("build a liquid state machine, tune it to a branching factor, train its readout and evaluate it on a "
            "chip (accuracy, branching, energy, latency)", _lsm_args, _lsm),
}
