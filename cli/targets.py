"""``spikec targets`` and ``spikec demo``: what chips there are, and the bundled model on all of them."""

from __future__ import annotations

import argparse

from rich.console import Console
from rich.table import Table
from rich.text import Text

from .. import __version__, api
from ..errors import SpikecError
from .chip import print_compare, print_run
from .common import Command, SafeConsole, error, row
from .model import print_info, run_simulation


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
            row(table, info.flag, default, info.allowed(), info.source)
        console.print(table)
        if args.name:
            limits = Table(title="limits", title_justify="left", show_edge=False)
            for col in ("limit", "value", "source"):
                limits.add_column(col, overflow="fold")
            for key, source in t.spec.sources().items():
                value = t.spec.value(key)
                row(limits, key, "-" if value is None else f"{value:,}", source)
            console.print(limits)
    for exc in broken:
        error(SafeConsole(stderr=True), exc)
    return 2 if broken else 0


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
    print_compare(api.compare(graph, data), console)
    return 0


COMMANDS: dict[str, Command] = {
    "targets": ("list the targets, their options (defaults, ranges, sources) and backends", _targets_args, _targets),
    "demo": ("the bundled model: info, reference simulation, C-engine run, and every target side by side",
             _demo_args, _demo),
}
