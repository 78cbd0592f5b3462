"""The ``spikec`` command line: parse, call one API function (:mod:`spikec.api`), print.

Every command registers itself in ``COMMANDS``: a function that adds its arguments and one
that runs.  The flags of the targets' co-design knobs are generated from their options
dataclasses, so a new target's knobs appear here without an edit.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from contextlib import contextmanager
from typing import Any, Callable, Iterator, NoReturn, Sequence

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from . import __version__, api
from .errors import SpikecError, UnsupportedError

Handler = Callable[[argparse.Namespace, Console], int]

# Characters that move the cursor, recolour or retitle the terminal, or reorder text (C0 and C1
# controls, DEL, bidi overrides): a node name, path or message from a user's file may hold them.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_UNSAFE_IN_A_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def clean(text: object, *, one_line: bool = False) -> str:
    """``text`` with every terminal control character shown as its escape (``\\x1b``); with
    ``one_line``, newlines and tabs too (table cells, names)."""
    pattern = _UNSAFE_IN_A_LINE if one_line else _UNSAFE
    return pattern.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), str(text))


class SafeConsole(Console):
    """A rich Console for text from users' files: markup and highlighting off ('[/x]' in a node
    name is no style tag), and control characters in printed strings shown escaped."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(markup=False, highlight=False, **kwargs)

    def print(self, *objects: Any, **kwargs: Any) -> None:  # type: ignore[override]
        super().print(*(clean(o) if isinstance(o, str) else o for o in objects), **kwargs)


def _row(table: Table, *cells: str) -> None:
    table.add_row(*(clean(c, one_line=True) for c in cells))


def _error(console: Console, message: object) -> None:
    console.print(Text.assemble(("error:", "bold red"), " " + clean(message)))


class _Parser(argparse.ArgumentParser):
    """argparse without abbreviations (``--save`` must never mean ``--save-program``), whose
    error messages (they quote what was typed) are cleaned of control characters."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["allow_abbrev"] = False
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:  # type: ignore[override]
        super().error(clean(message))


def _model_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", help="a .nir file or a spikec graph (.npz); 'default' for the bundled digits model")
    p.add_argument("--dt", type=float, default=None, help="time step in seconds (needed for NIR files that store none)")
    p.add_argument("--source", default=None, metavar="FRAMEWORK",
                   help="the framework that wrote the NIR file (snntorch, rockpool, spyx, nir): read it as that "
                        "framework computes it (its dt, reset and discretization)")


# --- target options, generated from every target's Options dataclass ---------------------------


def _option_args(p: argparse.ArgumentParser) -> None:
    """One flag per knob any target declares (``spikec targets`` lists them per target)."""
    infos: dict[str, tuple[Any, list[str]]] = {}
    for target in api.list_targets(errors=[]):  # a broken plug-in must not take every command down
        for info in target.options.describe():
            infos.setdefault(info.name, (info, []))[1].append(target.name)
    g = p.add_argument_group("target options (`spikec targets` lists each target's, with ranges and sources)")
    for name, (info, owners) in infos.items():
        help_text = f"{info.help} [{', '.join(owners)}]"
        if info.type == "bool":
            g.add_argument(info.flag, dest=name, action=argparse.BooleanOptionalAction, default=None, help=help_text)
        else:
            g.add_argument(info.flag, dest=name, default=None, metavar=info.type.upper() if info.choices is None
                           else "{" + ",".join(map(str, info.choices)) + "}", help=help_text)


def _options(args: argparse.Namespace) -> dict[str, Any]:
    names = {i.name for t in api.list_targets(errors=[]) for i in t.options.describe()}
    return {n: getattr(args, n) for n in names if getattr(args, n, None) is not None}


# --- info -----------------------------------------------------------------------------------


def _shape(s: tuple[int, ...] | None) -> str:
    return "-" if s is None else "x".join(map(str, s))


def print_info(summary: api.ModelSummary, console: Console, title: str) -> None:
    table = Table(title=clean(title, one_line=True), title_justify="left")
    for col, justify in (("node", "left"), ("type", "left"), ("in", "right"), ("out", "right"),
                         ("neurons", "right"), ("connections", "right"), ("params", "right")):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for r in summary.rows:
        _row(table, r.name, r.kind, _shape(r.in_shape), _shape(r.out_shape), f"{r.neurons:,}" if r.neurons else "",
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


# --- simulate --------------------------------------------------------------------------------


def _simulate_args(p: argparse.ArgumentParser) -> None:
    _model_args(p)
    p.add_argument("--input", required=False, help="npz with 'spikes' (batch, time, *shape) and optional 'labels'")
    p.add_argument("--steps", type=int, default=None, help="time steps (default: the input's length)")
    p.add_argument("--samples", type=int, default=None, help="use only the first N samples")
    p.add_argument("--mode", choices=("float", "fixed"), default=None, help="arithmetic (default: from the graph)")
    p.add_argument("--float64", action="store_true", help="simulate in float64 instead of float32")
    p.add_argument("--save", default=None, help="write output spikes, rates and predictions to this .npz "
                                                "(exactly this name; checked before the simulation)")


@contextmanager
def _progress(console: Console, total: int, label: str) -> Iterator[Callable[[int], None]]:
    with Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=console, transient=True, disable=not console.is_terminal) as bar:
        task = bar.add_task(label, total=total)
        yield lambda _t: bar.advance(task)


def run_simulation(graph: Any, data: api.Dataset, args: argparse.Namespace, console: Console) -> int:
    steps = args.steps if args.steps is not None else data.steps
    t0 = time.perf_counter()
    with _progress(console, steps, "simulating") as tick:
        ev = api.evaluate(graph, data, steps=args.steps, mode=args.mode,
                          dtype=np.float64 if args.float64 else np.float32, on_step=tick)
    elapsed = time.perf_counter() - t0
    table = Table(title=f"reference simulation: {data.samples} samples x {steps} steps ({ev.result.mode})",
                  title_justify="left")
    table.add_column("population")
    table.add_column("neurons", justify="right")
    table.add_column("spikes/neuron/step", justify="right")
    for name, rate in ev.rates.items():
        _row(table, name, f"{int(np.prod(ev.result.recorded[name].shape[2:])):,}", f"{rate:.4f}")
    console.print(table)
    for name, out in ev.result.outputs.items():
        counts = out.reshape(out.shape[0], out.shape[1], -1).sum(axis=1)
        console.print(f"output '{name}': mean total per unit over time = "
                      + " ".join(f"{c:.2f}" for c in counts.mean(axis=0)[:16])
                      + (" ..." if counts.shape[1] > 16 else ""))
    if ev.accuracy is not None:
        _print_accuracy(ev.accuracy, data.samples, console)
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


# --- run -------------------------------------------------------------------------------------------


def _run_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", help="a .nir file, a spikec graph (.npz), a compiled program (.npz, see --save-program), "
                                 "or 'default' for the bundled digits model")
    p.add_argument("--dt", type=float, default=None, help="time step in seconds (needed for NIR files that store none)")
    p.add_argument("--source", default=None, metavar="FRAMEWORK",
                   help="the framework that wrote the NIR file (snntorch, rockpool, spyx, nir): read it as that "
                        "framework computes it (its dt, reset and discretization)")
    p.add_argument("--input", required=False, help="npz with 'spikes' (batch, time, *shape) and optional 'labels'")
    p.add_argument("--steps", type=int, default=None,
                   help="time steps (default: the input's length, plus the chip's pipeline depth for a target; "
                        "with --rate, the synthetic input's length, default 100)")
    p.add_argument("--samples", type=int, default=None, help="use only the first N samples")
    _rate_args(p)
    p.add_argument("--target", choices=api.target_names(), default=None,
                   help="compile for this chip first (default: lower the model as it is, an ideal chip)")
    backends = sorted({b for t in api.list_targets(errors=[]) for b in t.backends})
    p.add_argument("--backend", choices=backends, default="emulator",
                   help="emulator: the C engine (counters, energy); others as the target provides "
                        "(lava: Lava's bit-accurate Loihi 2 models)")
    p.add_argument("--cost", choices=api.target_names(), default=None,
                   help="cost table for the energy estimate (default: the target's, else loihi1)")
    p.add_argument("--save-program", default=None, help="write the lowered program (.npz) for later runs")
    p.add_argument("--save", default=None, help="write what the chip output (outputs, rates, predictions, counter "
                                                "totals per population) to this .npz, as simulate --save does")
    p.add_argument("--record", default=None, metavar="POP[,POP]",
                   help="also save these populations' spikes (emulator; names as in the run's table)")
    p.add_argument("--threads", type=int, default=None, help="threads over samples (default: all cores)")
    _option_args(p)


def _rate_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--rate", type=float, default=None, metavar="R",
                   help="instead of --input: synthetic Poisson input, R spikes per input neuron per step (0 < R <= 1), "
                        "--steps long (default 100), --samples of it (default 16)")
    p.add_argument("--seed", type=int, default=0, help="seed of the synthetic input (--rate)")


def print_run(report: api.RunReport, console: Console) -> None:
    res, program, data = report.result, report.program, report.data
    per = max(1, data.samples)
    if res.counters is not None:
        table = Table(title=clean(f"{res.title}: {data.samples} samples x {res.steps} steps, {program.n_cores} cores",
                                  one_line=True), title_justify="left")
        # Per sample and time step where it says so; short headers keep the table in 80 columns.
        for col in ("population", "kernel", "neurons", "spikes/n/step", "synops", "messages"):
            table.add_column(col, justify="left" if col in ("population", "kernel") else "right")
        totals = res.counters.by_population()
        for pop in program.populations:
            c = totals[pop.name]
            rate = res.rates.get(pop.name)
            _row(table, pop.name, pop.kernel, f"{pop.size:,}", "" if rate is None else f"{rate:.4f}",
                          f"{c['synops'] / per:,.0f}", f"{(c['msg_local'] + c['msg_remote']) / per:,.0f}")
    else:
        table = Table(title=clean(f"{res.title}: {data.samples} samples x {res.steps} steps", one_line=True),
                      title_justify="left")
        for col in ("population", "neurons", "spikes/n/step"):
            table.add_column(col, justify="left" if col == "population" else "right")
        sizes = {p.name: p.size for p in program.populations}
        for name, rate in res.rates.items():
            _row(table, name, f"{sizes.get(name, 0):,}", f"{rate:.4f}")
    console.print(table)
    if report.accuracy is not None:
        _print_accuracy(report.accuracy, data.samples, console)
    wall = f"{res.wall:.3f} s" if res.counters is not None else f"{res.wall:.2f} s"
    console.print(f"wall time: {wall}" + (f" ({res.detail})" if res.detail else ""))
    if report.estimate is not None:
        console.print(report.estimate.summary())
    for line in report.notes:
        console.print(line)


def _run(args: argparse.Namespace, console: Console) -> int:
    _check_outputs(("--save", args.save), ("--save-program", args.save_program))
    report = api.run(args.model, args.input, target=args.target, backend=args.backend, options=_options(args),
                     steps=args.steps, samples=args.samples, threads=args.threads, cost=args.cost, dt=args.dt,
                     source=args.source, record=_record(args.record), rate=args.rate, seed=args.seed)
    if args.target is not None:
        console.print(f"compiled for {args.target}: {report.program.n_cores} cores, pipeline depth "
                      f"{report.program.metadata.get('pipeline_depth', 0)} steps")
    if args.rate is not None:
        console.print(f"input: {report.data.source}")
    if args.save_program:
        api.save_program(report.program, args.save_program)
        console.print(f"program saved to {args.save_program}")
    print_run(report, console)
    if args.save:
        console.print(f"saved to {api.save_run(report, args.save)}")
    return 0


def _check_outputs(*flags: tuple[str, str | None]) -> None:
    """Every output path can be written, and no two flags name one file: before any work."""
    seen: dict[str, str] = {}
    for flag, path in flags:
        if path is None:
            continue
        real = str(api.check_output(path, flag).resolve())
        if real in seen:
            raise UnsupportedError(f"{seen[real]} and {flag} both name {path!r}", parameter=flag,
                                   fix="give each output its own file")
        seen[real] = flag


def _record(text: str | None) -> list[str]:
    if text is None:
        return []
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise UnsupportedError(f"--record {text!r} names no population", parameter="--record",
                               fix="give population names, comma-separated (spikec run prints them)")
    return names


def _synapses(program: api.Program) -> str:
    """Connections and stored weights, named: they differ for convolutions (a weight reaches
    many output positions)."""
    connections, weights = program.connection_count(), program.synapse_count()
    if connections == weights:
        return f"{weights:,} synapses"
    return f"{connections:,} connections ({weights:,} stored weights)"


def _print_accuracy(accuracy: float, samples: int, console: Console) -> None:
    console.print(f"accuracy: {accuracy * 100:.2f}% ({int(round(accuracy * samples))}/{samples})")


# --- estimate -----------------------------------------------------------------------------------


def _estimate_args(p: argparse.ArgumentParser) -> None:
    _model_args(p)
    p.add_argument("--target", choices=api.target_names(), default="loihi2", help="chip to compile for and price")
    p.add_argument("--input", default=None, help="npz with 'spikes' (batch, time, *shape) the activity comes from")
    p.add_argument("--samples", type=int, default=None, help="use only the first N samples")
    p.add_argument("--steps", type=int, default=None, help="time steps (default: input length + pipeline depth; "
                                                          "with --rate, the synthetic input's length, default 100)")
    _rate_args(p)
    p.add_argument("--threads", type=int, default=None, help="threads over samples (default: all cores)")
    _option_args(p)


def _estimate(args: argparse.Namespace, console: Console) -> int:
    rep = api.estimate(args.model, args.target, args.input, options=_options(args), steps=args.steps,
                       samples=args.samples, threads=args.threads, dt=args.dt, source=args.source, rate=args.rate,
                       seed=args.seed)
    program = rep.program
    if args.rate is not None:
        console.print(f"input: {rep.data.source}")
    console.print(f"{rep.target.title}: {program.neuron_count():,} neurons, {_synapses(program)} "
                  f"on {program.n_cores} cores; {rep.data.samples} samples x {rep.steps} steps")
    console.print("activity per sample: " + ", ".join(f"{k} {v:,.0f}" for k, v in rep.activity.items()))
    console.print(rep.estimate.summary())
    for line in rep.notes:
        console.print(line)
    table = Table(title="constants", title_justify="left")
    for col in ("constant", "value", "source"):
        table.add_column(col, overflow="fold")
    for name, constant in rep.constants.items():
        if constant.value is not None:
            _row(table, name, f"{constant.value:.4g}", constant.source)
    console.print(table)
    if rep.accuracy is not None:
        _print_accuracy(rep.accuracy, rep.data.samples, console)
    return 0


# --- compare ------------------------------------------------------------------------------------


def _compare_args(p: argparse.ArgumentParser) -> None:
    _model_args(p)
    p.add_argument("--targets", default="all", help="comma-separated target names, or 'all'")
    p.add_argument("--input", default=None, help="npz with 'spikes' (batch, time, *shape) and optional 'labels'")
    p.add_argument("--samples", type=int, default=None, help="use only the first N samples")
    p.add_argument("--threads", type=int, default=None, help="threads over samples (default: all cores)")


def compare_table(rows: Sequence[api.Comparison]) -> Table:
    """The ``spikec compare`` table: one row per target, per sample."""
    table = Table(title="targets side by side (per sample)", title_justify="left")
    for col in ("target", "energy uJ", "latency ms", "cores", "chips", "accuracy", "unpriced terms"):
        table.add_column(col, justify="left" if col == "target" else "right")
    for r in rows:
        acc = "" if r.accuracy is None else f"{r.accuracy * 100:.2f} %"
        _row(table, r.title, f"{r.energy * 1e6:.4g}", f"{r.latency * 1e3:.4g}", f"{r.cores}", f"{r.chips}", acc,
                      f"{len(r.missing)}")
    return table


def _compare(args: argparse.Namespace, console: Console) -> int:
    rows = api.compare(args.model, args.input, args.targets, samples=args.samples, threads=args.threads, dt=args.dt,
                       source=args.source)
    console.print(compare_table(rows))
    return 0


# --- compile --------------------------------------------------------------------------------------

def _compile_args(p: argparse.ArgumentParser) -> None:
    _model_args(p)
    p.add_argument("--target", choices=api.target_names(), default="loihi1", help="chip to compile for")
    p.add_argument("--input", default=None, help="calibration spikes (.npz) for the quantization report")
    p.add_argument("--samples", type=int, default=None, help="use only the first N calibration samples")
    p.add_argument("--explain", action="store_true", help="print what every pass did")
    p.add_argument("--output", default=None, help="write the compiled program (.npz; `spikec run` runs it)")
    _option_args(p)


def _compile(args: argparse.Namespace, console: Console) -> int:
    if args.passes == "list":
        table = Table(title="passes (the default list runs them in this order)", title_justify="left")
        table.add_column("pass")
        table.add_column("what it does", overflow="fold")
        for name, what in api.list_passes().items():
            _row(table, name, what)
        console.print(table)
        return 0
    if args.output:
        api.check_output(args.output, "--output")
    graph = api.load(args.model, dt=args.dt, source=args.source)
    calibration = None
    if args.input is not None or args.model == api.DEFAULT_MODEL:
        calibration = api.resolve_data(args.input, args.model, graph, args.samples)
    t0 = time.perf_counter()
    compiled = api.compile(graph, args.target, options=_options(args), calibration=calibration)
    elapsed = time.perf_counter() - t0
    if args.explain:
        console.print(compiled.explain())
    p = compiled.program
    console.print(f"compiled for {api.get_target(args.target).title} ({p.arithmetic}): {len(p.populations)} "
                  f"populations, {p.neuron_count():,} neurons, {_synapses(p)}, {p.n_cores} cores "
                  f"in {elapsed:.2f} s")
    if args.output:
        api.save_program(p, args.output)
        console.print(f"program saved to {args.output}")
    return 0


# --- targets ------------------------------------------------------------------------------------


def _targets_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", nargs="?", default=None, help="show one target's limits too")


def _targets(args: argparse.Namespace, console: Console) -> int:
    broken: list[SpikecError] = []
    chosen = [api.get_target(args.name)] if args.name else api.list_targets(errors=broken)
    for t in chosen:
        console.print(Text(f"{t.name}: {t.title}", style="bold"))
        if t.summary:
            console.print(f"  {t.summary}")
        console.print(f"  backends: {', '.join(t.backends)}; timing: {t.timing.steps_per_hop} step(s) per synaptic "
                      f"hop ({t.timing.source})")
        table = Table(title_justify="left", show_edge=False)
        for col in ("option", "default", "allowed", "source"):
            table.add_column(col, overflow="fold")
        for info in t.options.describe():
            default = info.none_means if info.default is None else str(info.default)
            _row(table, info.flag, default, info.allowed(), info.source)
        console.print(table)
        if args.name:
            limits = Table(title="limits", title_justify="left", show_edge=False)
            for col in ("limit", "value", "source"):
                limits.add_column(col, overflow="fold")
            for key, source in t.spec.sources().items():
                value = t.spec.value(key)
                _row(limits, key, "-" if value is None else f"{value:,}", source)
            console.print(limits)
    for exc in broken:
        _error(SafeConsole(stderr=True), exc)
    return 2 if broken else 0


# --- demo --------------------------------------------------------------------------------------


def _demo_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--samples", type=int, default=None, help="use only the first N test samples")


def _demo(args: argparse.Namespace, console: Console) -> int:
    path = api.bundled_model()
    console.print(Text.assemble((f"spikec {__version__} demo", "bold"), f": the bundled digits SNN ({path.name})\n"))
    graph = api.load(api.DEFAULT_MODEL)
    print_info(api.describe(graph), console, "model")
    data = api.resolve_data(None, api.DEFAULT_MODEL, graph, args.samples)
    ns = argparse.Namespace(steps=None, mode=None, float64=False, save=None)
    run_simulation(graph, data, ns, console)
    console.print()
    print_run(api.run(graph, data, cost="loihi1"), console)
    console.print()
    console.print(compare_table(api.compare(graph, data)))
    return 0


COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Handler]] = {
    "info": ("show a model's nodes, shapes, neurons, connections, weights and parameters", _model_args, _info),
    "simulate": ("run a model in the reference simulator (spikes, rates, accuracy)", _simulate_args, _simulate),
    "compile": ("compile a model for a chip (fold batch-norm, map delays, quantize, lower); --explain says how",
                _compile_args, _compile),
    "run": ("run a model (or compile it for --target first) on the C engine or another backend", _run_args, _run),
    "estimate": ("compile for a chip, run on its emulator, print energy and latency with their sources",
                 _estimate_args, _estimate),
    "compare": ("compile for several chips and print energy, latency, cores and accuracy side by side",
                _compare_args, _compare),
    "targets": ("list the targets, their options (defaults, ranges, sources) and backends", _targets_args, _targets),
    "demo": ("the bundled model: info, reference simulation, C-engine run, and every target side by side",
             _demo_args, _demo),
}


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="spikec", description="A co-design compiler for neuromorphic chips.")
    parser.add_argument("--version", action="version", version=f"spikec {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (help_text, add_args, _) in COMMANDS.items():
        add_args(sub.add_parser(name, help=help_text, description=help_text))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # Node names, file names and error texts come from users' files: printed as they are, but
    # for control characters (SafeConsole).
    console = SafeConsole()
    try:
        args = build_parser().parse_args(argv)
        return COMMANDS[args.command][2](args, console)
    except SpikecError as exc:
        _error(SafeConsole(stderr=True), exc)
        return 2
    except KeyboardInterrupt:
        # Files are written atomically, so an interrupt leaves none half-written.
        _error(SafeConsole(stderr=True), "interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
