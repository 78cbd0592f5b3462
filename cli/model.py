"""``spikec info``, ``simulate`` and ``compile``: a model as it is, and a model compiled for a chip."""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from .. import api
from .common import Command, clean, model_args, option_args, options, print_accuracy, progress, row, synapses_text


def _shape(s: tuple[int, ...] | None) -> str:
    return "-" if s is None else "x".join(map(str, s))


def print_info(summary: api.ModelSummary, console: Console, title: str) -> None:
    table = Table(title=clean(title, one_line=True), title_justify="left")
    for col, justify in (("node", "left"), ("type", "left"), ("in", "right"), ("out", "right"),
                         ("neurons", "right"), ("connections", "right"), ("params", "right")):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for r in summary.rows:
        row(table, r.name, r.kind, _shape(r.in_shape), _shape(r.out_shape), f"{r.neurons:,}" if r.neurons else "",
             f"{r.synapses:,}" if r.synapses else "", f"{r.parameters:,}")
    console.print(table)
    recurrent = ", ".join(f"{a}->{b}" for a, b in summary.recurrent) or "none"
    console.print(
        f"dt = {summary.dt:g} s   neurons = {summary.neurons:,}   connections = {summary.synapses:,}   "
        f"weights = {summary.weights:,}   "
        f"parameters = {summary.parameters:,}   recurrent edges: {recurrent}"
    )


def _info(args: argparse.Namespace, console: Console) -> int:
    graph = api.load(args.model, dt=args.dt, source=args.source)
    print_info(api.describe(graph), console, f"{args.model}")
    return 0


def _simulate_args(p: argparse.ArgumentParser) -> None:
    model_args(p)
    p.add_argument("--input", required=False, help="npz with 'spikes' (batch, time, *shape) and optional 'labels'")
    p.add_argument("--steps", type=int, default=None, help="time steps (default: the input's length)")
    p.add_argument("--samples", type=int, default=None, help="use only the first N samples")
    p.add_argument("--mode", choices=("float", "fixed"), default=None, help="arithmetic (default: from the graph)")
    p.add_argument("--float64", action="store_true", help="simulate in float64 instead of float32")
    p.add_argument("--save", default=None, help="write output spikes, rates and predictions to this .npz "
                                                "(exactly this name; checked before the simulation)")


def run_simulation(graph: Any, data: api.Dataset, args: argparse.Namespace, console: Console) -> int:
    steps = args.steps if args.steps is not None else data.steps
    t0 = time.perf_counter()
    with progress(console, steps, "simulating") as tick:
        ev = api.evaluate(graph, data, steps=args.steps, mode=args.mode,
                          dtype=np.float64 if args.float64 else np.float32, on_step=tick)
    elapsed = time.perf_counter() - t0
    table = Table(title=f"reference simulation: {data.samples} samples x {steps} steps ({ev.result.mode})",
                  title_justify="left")
    table.add_column("population")
    table.add_column("neurons", justify="right")
    table.add_column("spikes/neuron/step", justify="right")
    for name, rate in ev.rates.items():
        row(table, name, f"{int(np.prod(ev.result.recorded[name].shape[2:])):,}", f"{rate:.4f}")
    console.print(table)
    for name, out in ev.result.outputs.items():
        counts = out.reshape(out.shape[0], out.shape[1], -1).sum(axis=1)
        console.print(f"output '{name}': mean total per unit over time = "
                      + " ".join(f"{c:.2f}" for c in counts.mean(axis=0)[:16])
                      + (" ..." if counts.shape[1] > 16 else ""))
    if ev.accuracy is not None:
        print_accuracy(ev.accuracy, data.samples, console)
    console.print(f"wall time: {elapsed:.2f} s")
    if args.save:
        console.print(f"saved to {api.save_evaluation(ev, args.save)}")
    return 0


def _simulate(args: argparse.Namespace, console: Console) -> int:
    if args.save:
        api.check_output(args.save, "--save")
    graph = api.load(args.model, dt=args.dt, source=args.source)
    data = api.resolve_data(args.input, args.model, graph, args.samples)
    return run_simulation(graph, data, args, console)


def _compile_args(p: argparse.ArgumentParser) -> None:
    model_args(p)
    p.add_argument("--target", choices=api.target_names(), default="loihi1", help="chip to compile for")
    p.add_argument("--input", default=None, help="calibration spikes (.npz) for the quantization report")
    p.add_argument("--samples", type=int, default=None, help="use only the first N calibration samples")
    p.add_argument("--explain", action="store_true", help="print what every pass did")
    p.add_argument("--output", default=None, help="write the compiled program (.npz; `spikec run` runs it)")
    option_args(p)


def _compile(args: argparse.Namespace, console: Console) -> int:
    if args.passes == "list":
        table = Table(title="passes (the default list runs them in this order)", title_justify="left")
        table.add_column("pass")
        table.add_column("what it does", overflow="fold")
        for name, what in api.list_passes().items():
            row(table, name, what)
        console.print(table)
        return 0
    if args.output:
        api.check_output(args.output, "--output")
    graph = api.load(args.model, dt=args.dt, source=args.source)
    calibration = None
    if args.input is not None or args.model == api.DEFAULT_MODEL:
        calibration = api.resolve_data(args.input, args.model, graph, args.samples)
    t0 = time.perf_counter()
    compiled = api.compile(graph, args.target, options=options(args), calibration=calibration)
    elapsed = time.perf_counter() - t0
    if args.explain:
        console.print(compiled.explain())
    p = compiled.program
    console.print(f"compiled for {api.get_target(args.target).title} ({p.arithmetic}): {len(p.populations)} "
                  f"populations, {p.neuron_count():,} neurons, {synapses_text(p)}, {p.n_cores} cores "
                  f"in {elapsed:.2f} s")
    if args.output:
        api.save_program(p, args.output)
        console.print(f"program saved to {args.output}")
    return 0


COMMANDS: dict[str, Command] = {
    "info": ("show a model's nodes, shapes, neurons, connections, weights and parameters", model_args, _info),
    "simulate": ("run a model in the reference simulator (spikes, rates, accuracy)", _simulate_args, _simulate),
    "compile": ("compile a model for a chip (fold batch-norm, map delays, quantize, lower); --explain says how",
                _compile_args, _compile),
}
