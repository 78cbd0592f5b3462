"""What every command shares: a console safe for text from users' files, the parser, and the
flags and helpers several commands use (model, target options, synthetic input, output checks)."""

from __future__ import annotations

import argparse
import re
from contextlib import contextmanager
from typing import Any, Callable, Iterator, NoReturn

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from .. import api
from ..errors import UnsupportedError

Handler = Callable[[argparse.Namespace, Console], int]
# A command: its help line, the function that adds its arguments, and the one that runs it.
Command = tuple[str, Callable[[argparse.ArgumentParser], None], Handler]

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


def row(table: Table, *cells: str) -> None:
    table.add_row(*(clean(c, one_line=True) for c in cells))


def error(console: Console, message: object) -> None:
    console.print(Text.assemble(("error:", "bold red"), " " + clean(message)))


class Parser(argparse.ArgumentParser):
    """argparse without abbreviations (``--save`` must never mean ``--save-program``), whose
    error messages (they quote what was typed) are cleaned of control characters."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["allow_abbrev"] = False
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:  # type: ignore[override]
        super().error(clean(message))


def source_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--source", default=None, metavar="FRAMEWORK",
                   help=f"the framework that wrote the NIR file ({', '.join(api.source_names())}): read it as that "
                        "framework computes it (its dt, reset and discretization)")


def model_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", help="a .nir file or a spikec graph (.npz); 'default' for the bundled digits model")
    p.add_argument("--dt", type=float, default=None, help="time step in seconds (needed for NIR files that store none)")
    source_arg(p)


def option_args(p: argparse.ArgumentParser) -> None:
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


def options(args: argparse.Namespace) -> dict[str, Any]:
    names = {i.name for t in api.list_targets(errors=[]) for i in t.options.describe()}
    return {n: getattr(args, n) for n in names if getattr(args, n, None) is not None}


@contextmanager
def progress(console: Console, total: int, label: str) -> Iterator[Callable[[int], None]]:
    with Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=console, transient=True, disable=not console.is_terminal) as bar:
        task = bar.add_task(label, total=total)
        yield lambda _t: bar.advance(task)


def rate_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--rate", type=float, default=None, metavar="R",
                   help="instead of --input: synthetic Poisson input, R spikes per input neuron per step (0 < R <= 1), "
                        "--steps long (default 100), --samples of it (default 16)")
    p.add_argument("--seed", type=int, default=0, help="seed of the synthetic input (--rate)")


def check_outputs(*flags: tuple[str, str | None]) -> None:
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


def record(text: str | None) -> list[str]:
    if text is None:
        return []
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise UnsupportedError(f"--record {text!r} names no population", parameter="--record",
                               fix="give population names, comma-separated (spikec run prints them)")
    return names


def synapses_text(program: api.Program) -> str:
    """Connections and stored weights, named: they differ for convolutions (a weight reaches
    many output positions)."""
    connections, weights = program.connection_count(), program.synapse_count()
    if connections == weights:
        return f"{weights:,} synapses"
    return f"{connections:,} connections ({weights:,} stored weights)"


def print_accuracy(accuracy: float, samples: int, console: Console) -> None:
    console.print(f"accuracy: {accuracy * 100:.2f}% ({int(round(accuracy * samples))}/{samples})")
