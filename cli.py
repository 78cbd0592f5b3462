"""The ``spikec`` command line: parse, call one API function, print.

Later commands (compile, estimate, run, compare) register themselves the same way as
``info`` and ``simulate``: a function that adds its arguments and one that runs.
"""

from __future__ import annotations

import argparse
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, Sequence

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from . import __version__
from .api import Dataset, bundled_data, bundled_model, evaluate, load, load_dataset
from .errors import SpikecError
from .ir import Graph, Neuron

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
    return run_simulation(graph, data, ns, console)


COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Handler]] = {
    "info": ("show a model's nodes, shapes, neurons, synapses and parameters", _info_args, _info),
    "simulate": ("run a model in the reference simulator (spikes, rates, accuracy)", _simulate_args, _simulate),
    "demo": ("info + simulate on the bundled digits model", _demo_args, _demo),
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
