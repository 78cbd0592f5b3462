"""``spikec run``, ``estimate`` and ``compare``: a model on a chip's emulator (or another backend),
priced, and several chips side by side."""

from __future__ import annotations

import argparse
from typing import Sequence

from rich.console import Console
from rich.table import Table

from .. import api
from .common import (
    Command,
    check_outputs,
    clean,
    model_args,
    option_args,
    options,
    print_accuracy,
    rate_args,
    record,
    row,
    source_arg,
    synapses_text,
)


def _run_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", help="a .nir file, a spikec graph (.npz), a compiled program (.npz, see --save-program), "
                                 "or 'default' for the bundled digits model")
    p.add_argument("--dt", type=float, default=None, help="time step in seconds (needed for NIR files that store none)")
    source_arg(p)
    p.add_argument("--input", required=False, help="npz with 'spikes' (batch, time, *shape) and optional 'labels'")
    p.add_argument("--steps", type=int, default=None,
                   help="time steps (default: the input's length, plus the chip's pipeline depth for a target; "
                        "with --rate, the synthetic input's length, default 100)")
    p.add_argument("--samples", type=int, default=None, help="use only the first N samples")
    rate_args(p)
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
    option_args(p)


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
            row(table, pop.name, pop.kernel, f"{pop.size:,}", "" if rate is None else f"{rate:.4f}",
                          f"{c['synops'] / per:,.0f}", f"{(c['msg_local'] + c['msg_remote']) / per:,.0f}")
    else:
        table = Table(title=clean(f"{res.title}: {data.samples} samples x {res.steps} steps", one_line=True),
                      title_justify="left")
        for col in ("population", "neurons", "spikes/n/step"):
            table.add_column(col, justify="left" if col == "population" else "right")
        sizes = {p.name: p.size for p in program.populations}
        for name, rate in res.rates.items():
            row(table, name, f"{sizes.get(name, 0):,}", f"{rate:.4f}")
    console.print(table)
    if report.accuracy is not None:
        print_accuracy(report.accuracy, data.samples, console)
    wall = f"{res.wall:.3f} s" if res.counters is not None else f"{res.wall:.2f} s"
    console.print(f"wall time: {wall}" + (f" ({res.detail})" if res.detail else ""))
    if report.estimate is not None:
        console.print(report.estimate.summary())
    for line in report.notes:
        console.print(line)


def _run(args: argparse.Namespace, console: Console) -> int:
    check_outputs(("--save", args.save), ("--save-program", args.save_program))
    report = api.run(args.model, args.input, target=args.target, backend=args.backend, options=options(args),
                     steps=args.steps, samples=args.samples, threads=args.threads, cost=args.cost, dt=args.dt,
                     source=args.source, record=record(args.record), rate=args.rate, seed=args.seed)
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


def _estimate_args(p: argparse.ArgumentParser) -> None:
    model_args(p)
    p.add_argument("--target", choices=api.target_names(), default="loihi2", help="chip to compile for and price")
    p.add_argument("--input", default=None, help="npz with 'spikes' (batch, time, *shape) the activity comes from")
    p.add_argument("--samples", type=int, default=None, help="use only the first N samples")
    p.add_argument("--steps", type=int, default=None, help="time steps (default: input length + pipeline depth; "
                                                          "with --rate, the synthetic input's length, default 100)")
    rate_args(p)
    p.add_argument("--threads", type=int, default=None, help="threads over samples (default: all cores)")
    option_args(p)


def _estimate(args: argparse.Namespace, console: Console) -> int:
    rep = api.estimate(args.model, args.target, args.input, options=options(args), steps=args.steps,
                       samples=args.samples, threads=args.threads, dt=args.dt, source=args.source, rate=args.rate,
                       seed=args.seed)
    program = rep.program
    if args.rate is not None:
        console.print(f"input: {rep.data.source}")
    console.print(f"{rep.target.title}: {program.neuron_count():,} neurons, {synapses_text(program)} "
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
            row(table, name, f"{constant.value:.4g}", constant.source)
    console.print(table)
    if rep.accuracy is not None:
        print_accuracy(rep.accuracy, rep.data.samples, console)
    return 0


def _compare_args(p: argparse.ArgumentParser) -> None:
    model_args(p)
    p.add_argument("--targets", default="all", help="comma-separated target names, or 'all'")
    p.add_argument("--input", default=None, help="npz with 'spikes' (batch, time, *shape) and optional 'labels'")
    p.add_argument("--samples", type=int, default=None, help="use only the first N samples")
    p.add_argument("--threads", type=int, default=None, help="threads over samples (default: all cores)")


def compare_table(rows: Sequence[api.Comparison]) -> Table:
    """The ``spikec compare`` table: one row per target, per sample; a chip that refused the model
    says so in the last column (the reason follows the table)."""
    table = Table(title="targets side by side (per sample)", title_justify="left")
    for col in ("target", "energy uJ", "latency ms", "cores", "chips", "accuracy", "unpriced terms"):
        table.add_column(col, justify="left" if col == "target" else "right")
    for r in rows:
        if r.refused is not None:
            row(table, r.title, "-", "-", "-", "-", "-", "does not fit")
            continue
        acc = "" if r.accuracy is None else f"{r.accuracy * 100:.2f} %"
        row(table, r.title, f"{r.energy * 1e6:.4g}", f"{r.latency * 1e3:.4g}", f"{r.cores}", f"{r.chips}", acc,
            f"{len(r.missing)}")
    return table


def print_compare(rows: Sequence[api.Comparison], console: Console) -> None:
    console.print(compare_table(rows))
    for r in rows:
        if r.refused is not None:
            console.print(f"{r.target} does not take this model: {r.refused}")


def _compare(args: argparse.Namespace, console: Console) -> int:
    rows = api.compare(args.model, args.input, args.targets, samples=args.samples, threads=args.threads, dt=args.dt,
                       source=args.source)
    print_compare(rows, console)
    return 0


COMMANDS: dict[str, Command] = {
    "run": ("run a model (or compile it for --target first) on the C engine or another backend", _run_args, _run),
    "estimate": ("compile for a chip, run on its emulator, print energy and latency with their sources",
                 _estimate_args, _estimate),
    "compare": ("compile for several chips and print energy, latency, cores and accuracy side by side",
                _compare_args, _compare),
}
