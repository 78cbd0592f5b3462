"""The ``spikec`` command line: parse, call one API function, print.

Every command registers itself in ``COMMANDS``: a function that adds its arguments and one
that runs.
"""

from __future__ import annotations

import argparse
import sys
import time
from contextlib import contextmanager
from typing import Any, Callable, Iterator, Sequence

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from . import __version__
from .api import Dataset, bundled_data, bundled_model, decode_rate, evaluate, load, load_dataset
from .compiler.lower import lower
from .compiler.passes.mapping import chips_needed
from .errors import SpikecError
from .ir import Graph, Neuron
from .runtime import Program, load_program, run, save_program
from .runtime.program import is_program_file

Handler = Callable[[argparse.Namespace, Console], int]


def _model_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", help="a .nir file or a spikec graph (.npz); 'default' for the bundled digits model")
    p.add_argument("--dt", type=float, default=None, help="time step in seconds (needed for NIR files that store none)")


def _load_model(args: argparse.Namespace) -> Graph:
    source = bundled_model() if args.model == "default" else args.model
    return load(source, dt=args.dt)


# --- info -----------------------------------------------------------------------------------


def _info_args(p: argparse.ArgumentParser) -> None:
    _model_args(p)


def _shape(s: tuple[int, ...] | None) -> str:
    return "-" if s is None else "x".join(map(str, s))


def print_info(graph: Graph, console: Console, title: str) -> None:
    table = Table(title=title, title_justify="left")
    for col, justify in (("node", "left"), ("type", "left"), ("in", "right"), ("out", "right"),
                         ("neurons", "right"), ("synapses", "right"), ("params", "right")):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for name in graph.order:
        node = graph.nodes[name]
        neurons = node.size if isinstance(node, Neuron) else 0
        synapses = graph.synapses_of(name)
        kind = node.kind + (f"({node.neuron.kind})" if hasattr(node, "neuron") else "")
        extra = f" ({node.reset.value} reset)" if getattr(node, "spiking", False) and hasattr(node, "reset") else ""
        table.add_row(name, kind + extra, _shape(graph.in_shape(name)), _shape(graph.out_shape(name)),
                      f"{neurons:,}" if neurons else "", f"{synapses:,}" if synapses else "",
                      f"{node.parameter_count():,}")
    console.print(table)
    recurrent = ", ".join(f"{a}->{b}" for a, b in sorted(graph.back_edges)) or "none"
    console.print(
        f"dt = {graph.dt:g} s   neurons = {graph.neuron_count():,}   synapses = {graph.synapse_count():,}   "
        f"parameters = {graph.parameter_count():,}   recurrent edges: {recurrent}"
    )


def _info(args: argparse.Namespace, console: Console) -> int:
    graph = _load_model(args)
    print_info(graph, console, f"{args.model}")
    return 0


# --- simulate --------------------------------------------------------------------------------


def _simulate_args(p: argparse.ArgumentParser) -> None:
    _model_args(p)
    p.add_argument("--input", required=False, help="npz with 'spikes' (batch, time, *shape) and optional 'labels'")
    p.add_argument("--steps", type=int, default=None, help="time steps (default: the input's length)")
    p.add_argument("--samples", type=int, default=None, help="use only the first N samples")
    p.add_argument("--mode", choices=("float", "fixed"), default=None, help="arithmetic (default: from the graph)")
    p.add_argument("--float64", action="store_true", help="simulate in float64 instead of float32")
    p.add_argument("--save", default=None, help="write output spikes, rates and predictions to this .npz")


@contextmanager
def _progress(console: Console, total: int, label: str) -> Iterator[Callable[[int], None]]:
    with Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=console, transient=True, disable=not console.is_terminal) as bar:
        task = bar.add_task(label, total=total)
        yield lambda _t: bar.advance(task)


def run_simulation(graph: Graph, data: Dataset, args: argparse.Namespace, console: Console) -> int:
    steps = args.steps if args.steps is not None else data.steps
    t0 = time.perf_counter()
    with _progress(console, steps, "simulating") as tick:
        ev = evaluate(graph, data, steps=args.steps, mode=args.mode,
                      dtype=np.float64 if args.float64 else np.float32, on_step=tick)
    elapsed = time.perf_counter() - t0
    table = Table(title=f"reference simulation: {data.samples} samples x {steps} steps ({ev.result.mode})",
                  title_justify="left")
    table.add_column("population")
    table.add_column("neurons", justify="right")
    table.add_column("spikes/neuron/step", justify="right")
    for name, rate in ev.rates.items():
        table.add_row(name, f"{graph.nodes[name].size:,}", f"{rate:.4f}")
    console.print(table)
    for name, out in ev.result.outputs.items():
        counts = out.reshape(out.shape[0], out.shape[1], -1).sum(axis=1)
        console.print(f"output '{name}': mean total per unit over time = "
                      + " ".join(f"{c:.2f}" for c in counts.mean(axis=0)[:16])
                      + (" ..." if counts.shape[1] > 16 else ""))
    if ev.accuracy is not None:
        console.print(f"accuracy: {ev.accuracy * 100:.2f}% ({int(round(ev.accuracy * data.samples))}/{data.samples})")
    console.print(f"wall time: {elapsed:.2f} s")
    if args.save:
        payload = {f"output:{k}": v for k, v in ev.result.outputs.items()}
        payload.update({f"rate:{k}": np.float64(v) for k, v in ev.rates.items()})
        if ev.predictions is not None:
            payload["predictions"] = ev.predictions
        np.savez_compressed(args.save, **payload)
        console.print(f"saved to {args.save}")
    return 0


def _simulate(args: argparse.Namespace, console: Console) -> int:
    graph = _load_model(args)
    if args.input is None:
        if args.model != "default":
            raise SpikecError("no input data given", parameter="--input", fix="pass --input data.npz")
        args.input = bundled_data()
    data = load_dataset(args.input, graph).take(args.samples)
    return run_simulation(graph, data, args, console)


# --- run (C engine) ------------------------------------------------------------------------------

def _what_if_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("co-design what-ifs (spinnaker2)")
    g.add_argument("--chips", type=int, default=None, help="chips available")
    g.add_argument("--pes-per-chip", type=int, default=None, help="processing elements per chip")
    g.add_argument("--neurons-per-pe", type=int, default=None, help="most neurons one PE runs")


def _what_if(args: argparse.Namespace) -> dict[str, Any]:
    return {"chips": getattr(args, "chips", None), "pes_per_chip": getattr(args, "pes_per_chip", None),
            "neurons_per_pe": getattr(args, "neurons_per_pe", None)}


def _target(name: str) -> Any:
    from .targets.target import get_target

    return get_target(name)


def _target_names() -> list[str]:
    from .targets.target import TARGETS

    return sorted(TARGETS)


def _run_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", help="a .nir file, a spikec graph (.npz), a compiled program (.npz, see --save-program), "
                                 "or 'default' for the bundled digits model")
    p.add_argument("--dt", type=float, default=None, help="time step in seconds (needed for NIR files that store none)")
    p.add_argument("--input", required=False, help="npz with 'spikes' (batch, time, *shape) and optional 'labels'")
    p.add_argument("--steps", type=int, default=None,
                   help="time steps (default: the input's length, plus the chip's pipeline depth for a target)")
    p.add_argument("--samples", type=int, default=None, help="use only the first N samples")
    p.add_argument("--target", choices=_target_names(), default=None,
                   help="compile for this chip first (default: lower the model as it is, an ideal chip)")
    p.add_argument("--backend", choices=("emulator", "lava"), default="emulator",
                   help="emulator: the C engine (counters, energy); lava: Lava's bit-accurate Loihi 2 models")
    p.add_argument("--arithmetic", choices=("float", "fixed"), default=None, help="without --target: default from the graph")
    p.add_argument("--cost", choices=_target_names(), default=None,
                   help="cost table for the energy estimate (default: the target's, else loihi1)")
    p.add_argument("--save-program", default=None, help="write the lowered program (.npz) for later runs")
    p.add_argument("--threads", type=int, default=None, help="threads over samples (default: all cores)")
    _what_if_args(p)


def _steps(program: Program, data: Dataset, steps: int | None) -> int:
    return steps if steps is not None else data.steps + int(program.metadata.get("pipeline_depth", 0))


def run_engine(program: Program, data: Dataset, args: argparse.Namespace, console: Console) -> int:
    t0 = time.perf_counter()
    result = run(program, dict(data.inputs), _steps(program, data, args.steps), threads=args.threads)
    elapsed = time.perf_counter() - t0
    steps = result.steps
    table = Table(title=f"C engine ({program.arithmetic}): {data.samples} samples x {steps} steps, "
                        f"{program.n_cores} cores", title_justify="left")
    # Per sample and time step where it says so; short headers keep the table in 80 columns.
    for col in ("population", "kernel", "neurons", "spikes/n/step", "synops", "messages"):
        table.add_column(col, justify="left" if col in ("population", "kernel") else "right")
    totals = result.counters.by_population()
    per = max(1, data.samples)
    for pop in program.populations:
        c = totals[pop.name]
        rate = c["spikes"] / (pop.size * steps * per) if pop.spiking and steps else float("nan")
        table.add_row(pop.name, pop.kernel, f"{pop.size:,}", "" if rate != rate else f"{rate:.4f}",
                      f"{c['synops'] / per:,.0f}", f"{(c['msg_local'] + c['msg_remote']) / per:,.0f}")
    console.print(table)
    if len(result.outputs) == 1 and data.labels is not None:
        _accuracy(result.output, data, console)
    console.print(f"wall time: {elapsed:.3f} s")
    if data.samples and steps:
        priced = _target(args.cost or "loihi1")
        console.print(priced.price(result.counters, program).summary(), highlight=False)
        for line in priced.notes(result.counters, program):
            console.print(line, highlight=False)
    return 0


def _accuracy(output: np.ndarray, data: Dataset, console: Console) -> float:
    accuracy = float(np.mean(decode_rate(output) == data.labels))
    console.print(f"accuracy: {accuracy * 100:.2f}% ({int(round(accuracy * data.samples))}/{data.samples})")
    return accuracy


def run_on_lava(program: Program, data: Dataset, args: argparse.Namespace, console: Console) -> int:
    from .targets.loihi2 import run_lava

    steps = _steps(program, data, args.steps)
    t0 = time.perf_counter()
    lava = run_lava(program, dict(data.inputs), steps)
    elapsed = time.perf_counter() - t0
    table = Table(title=f"Lava (Loihi2SimCfg fixed_pt): {data.samples} samples x {steps} steps",
                  title_justify="left")
    for col in ("population", "neurons", "spikes/n/step"):
        table.add_column(col, justify="left" if col == "population" else "right")
    for name, spikes in lava.spikes.items():
        table.add_row(name, f"{spikes.shape[2]:,}", f"{spikes.mean():.4f}")
    console.print(table)
    if len(program.outputs) == 1 and data.labels is not None:
        _accuracy(lava.spikes[next(iter(program.outputs.values()))], data, console)
    console.print(f"wall time: {elapsed:.2f} s (Lava run {lava.wall:.2f} s)")
    return 0


def _program_for(args: argparse.Namespace, console: Console) -> tuple[Program, Graph | None]:
    """The program ``run``/``estimate`` execute: a saved one, one compiled for --target, or the
    model lowered as it is."""
    if args.model != "default" and is_program_file(args.model):
        return load_program(args.model), None
    graph = _load_model(args)
    if args.target is None:
        return lower(graph, arithmetic=args.arithmetic), graph
    compiled = _target(args.target).compile_with(graph, _what_if(args))
    console.print(f"compiled for {compiled.program.metadata.get('target', args.target)}: "
                  f"{compiled.program.n_cores} cores, pipeline depth "
                  f"{compiled.program.metadata.get('pipeline_depth', 0)} steps")
    return compiled.program, graph


def _dataset(args: argparse.Namespace, program: Program, graph: Graph | None) -> Dataset:
    if args.input is None:
        if args.model != "default":
            raise SpikecError("no input data given", parameter="--input", fix="pass --input data.npz")
        args.input = bundled_data()
    return load_dataset(args.input, graph if graph is not None else program).take(args.samples)


def _run(args: argparse.Namespace, console: Console) -> int:
    program, graph = _program_for(args, console)
    if args.save_program:
        save_program(program, args.save_program)
        console.print(f"program saved to {args.save_program}")
    data = _dataset(args, program, graph)
    if args.target is not None and args.backend not in _target(args.target).backends:
        raise SpikecError(f"target {args.target} has no {args.backend} backend", parameter="--backend",
                          fix=f"use one of {list(_target(args.target).backends)}")
    if args.backend == "lava":
        return run_on_lava(program, data, args, console)
    if args.cost is None:
        args.cost = args.target or "loihi1"
    return run_engine(program, data, args, console)


# --- estimate -----------------------------------------------------------------------------------


def _estimate_args(p: argparse.ArgumentParser) -> None:
    _model_args(p)
    p.add_argument("--target", choices=_target_names(), default="loihi2", help="chip to compile for and price")
    p.add_argument("--input", default=None, help="npz with 'spikes' (batch, time, *shape) the activity comes from")
    p.add_argument("--samples", type=int, default=None, help="use only the first N samples")
    p.add_argument("--steps", type=int, default=None, help="time steps (default: input length + pipeline depth)")
    p.add_argument("--threads", type=int, default=None, help="threads over samples (default: all cores)")
    _what_if_args(p)


def _estimate(args: argparse.Namespace, console: Console) -> int:
    target = _target(args.target)
    graph = _load_model(args)
    compiled = target.compile_with(graph, _what_if(args))
    program = compiled.program
    data = _dataset(args, program, graph)
    result = run(program, dict(data.inputs), _steps(program, data, args.steps), threads=args.threads)
    est = target.price(result.counters, program)
    totals = result.counters.by_population()
    per = max(1, data.samples)
    activity = {k: sum(c[k] for c in totals.values()) / per for k in ("synops", "nu_active", "nu_idle", "spikes",
                                                                          "msg_local", "msg_remote", "hops_x", "hops_y")}
    console.print(f"{target.spec.name}: {program.neuron_count():,} neurons, {program.synapse_count():,} synapses "
                  f"on {program.n_cores} cores; {data.samples} samples x {result.steps} steps")
    console.print("activity per sample: " + ", ".join(f"{k} {v:,.0f}" for k, v in activity.items()), highlight=False)
    console.print(est.summary(), highlight=False)
    for line in target.notes(result.counters, program):
        console.print(line, highlight=False)
    table = Table(title="constants", title_justify="left")
    for col in ("constant", "value", "source"):
        table.add_column(col, overflow="fold")
    for name, constant in target.constants().items():
        if constant.value is not None:
            table.add_row(name, f"{constant.value:.4g}", constant.source)
    console.print(table)
    if data.labels is not None and len(result.outputs) == 1:
        _accuracy(result.output, data, console)
    return 0


# --- compare ------------------------------------------------------------------------------------


def _compare_args(p: argparse.ArgumentParser) -> None:
    _model_args(p)
    p.add_argument("--targets", default="all", help="comma-separated target names, or 'all'")
    p.add_argument("--input", default=None, help="npz with 'spikes' (batch, time, *shape) and optional 'labels'")
    p.add_argument("--samples", type=int, default=None, help="use only the first N samples")
    p.add_argument("--threads", type=int, default=None, help="threads over samples (default: all cores)")


def compare_targets(graph: Graph, data: Dataset, names: Sequence[str], threads: int | None = None) -> Table:
    """Compile ``graph`` for every target, run each on its emulator, and tabulate energy,
    latency, cores and accuracy per sample."""
    table = Table(title="targets side by side (per sample)", title_justify="left")
    for col in ("target", "energy uJ", "latency ms", "cores", "chips", "accuracy", "unpriced terms"):
        table.add_column(col, justify="left" if col == "target" else "right")
    for name in names:
        target = _target(name)
        program = target.compile(graph).program
        result = run(program, dict(data.inputs), _steps(program, data, None), threads=threads)
        est = target.price(result.counters, program)
        acc = "" if data.labels is None or len(result.outputs) != 1 else \
            f"{np.mean(decode_rate(result.output) == data.labels) * 100:.2f} %"
        chips = chips_needed(program.n_cores, target.spec)
        table.add_row(target.spec.name, f"{est.energy * 1e6:.4g}", f"{est.latency * 1e3:.4g}", f"{est.active_cores}",
                      f"{chips}", acc, f"{len(est.missing)}")
    return table


def _compare(args: argparse.Namespace, console: Console) -> int:
    graph = _load_model(args)
    names = _target_names() if args.targets == "all" else [t.strip() for t in args.targets.split(",") if t.strip()]
    if args.input is None:
        if args.model != "default":
            raise SpikecError("no input data given", parameter="--input", fix="pass --input data.npz")
        args.input = bundled_data()
    data = load_dataset(args.input, graph).take(args.samples)
    console.print(compare_targets(graph, data, names, args.threads))
    return 0


# --- compile --------------------------------------------------------------------------------------

def _compile_args(p: argparse.ArgumentParser) -> None:
    _model_args(p)
    p.add_argument("--target", choices=_target_names(), default="loihi1", help="chip to compile for")
    p.add_argument("--arithmetic", choices=("fixed", "float"), default="fixed",
                   help="fixed: quantize to the chip's widths (default); float: keep float neurons")
    p.add_argument("--weight-bits", type=int, default=None, help="override the spec's weight width")
    p.add_argument("--per-channel", action="store_true", help="one quantization scale per neuron/channel")
    p.add_argument("--input", default=None, help="calibration spikes (.npz) for the quantization report")
    p.add_argument("--samples", type=int, default=None, help="use only the first N calibration samples")
    p.add_argument("--explain", action="store_true", help="print what every pass did")
    p.add_argument("--output", default=None, help="write the compiled program (.npz; `spikec run` runs it)")
    _what_if_args(p)


def _compile(args: argparse.Namespace, console: Console) -> int:
    graph = _load_model(args)
    target = _target(args.target)
    spec = target.spec
    if args.input is None and args.model == "default":
        args.input = bundled_data()
    calibration = None
    if args.input is not None:
        calibration = dict(load_dataset(args.input, graph).take(args.samples).inputs)
    t0 = time.perf_counter()
    compiled = target.compile_with(graph, _what_if(args), arithmetic=args.arithmetic, weight_bits=args.weight_bits,
                                   per_channel=args.per_channel, calibration=calibration)
    elapsed = time.perf_counter() - t0
    if args.explain:
        console.print(compiled.explain(), highlight=False)
    p = compiled.program
    console.print(f"compiled for {spec.name} ({p.arithmetic}): {len(p.populations)} populations, "
                  f"{p.neuron_count():,} neurons, {p.synapse_count():,} synapses, {p.n_cores} cores in {elapsed:.2f} s")
    if args.output:
        save_program(p, args.output)
        console.print(f"program saved to {args.output}")
    return 0


# --- demo --------------------------------------------------------------------------------------


def _demo_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--samples", type=int, default=None, help="use only the first N test samples")


def _demo(args: argparse.Namespace, console: Console) -> int:
    path = bundled_model()
    console.print(f"[bold]spikec {__version__} demo[/bold]: the bundled digits SNN ({path.name})\n")
    graph = load(path)
    print_info(graph, console, "model")
    data = load_dataset(bundled_data(), graph).take(args.samples)
    ns = argparse.Namespace(steps=None, mode=None, float64=False, save=None)
    run_simulation(graph, data, ns, console)
    console.print()
    ns = argparse.Namespace(steps=None, threads=None, cost="loihi1")
    run_engine(lower(graph), data, ns, console)
    console.print()
    console.print(compare_targets(graph, data, _target_names()))
    return 0


COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Handler]] = {
    "info": ("show a model's nodes, shapes, neurons, synapses and parameters", _info_args, _info),
    "simulate": ("run a model in the reference simulator (spikes, rates, accuracy)", _simulate_args, _simulate),
    "compile": ("compile a model for a chip (fold batch-norm, map delays, quantize, lower); --explain says how",
                _compile_args, _compile),
    "run": ("run a model (or compile it for --target first) on the C engine or on Lava", _run_args, _run),
    "estimate": ("compile for a chip, run on its emulator, print energy and latency with their sources",
                 _estimate_args, _estimate),
    "compare": ("compile for several chips and print energy, latency, cores and accuracy side by side",
                _compare_args, _compare),
    "demo": ("the bundled model: info, reference simulation, C-engine run, and every target side by side",
             _demo_args, _demo),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="spikec", description="A co-design compiler for neuromorphic chips.")
    parser.add_argument("--version", action="version", version=f"spikec {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (help_text, add_args, _) in COMMANDS.items():
        add_args(sub.add_parser(name, help=help_text, description=help_text))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    console = Console()
    try:
        return COMMANDS[args.command][2](args, console)
    except SpikecError as exc:
        Console(stderr=True).print(f"[bold red]error:[/bold red] {exc}", highlight=False)
        return 2


if __name__ == "__main__":
    sys.exit(main())
