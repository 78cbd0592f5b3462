"""The ``spikec`` command line: parse, call one API function (:mod:`spikec.api`), print.

One module per family of commands; each holds a ``COMMANDS`` table (help line, argument adder,
handler) that :func:`build_parser` merges in the order of ``_MODULES``.  The flags of the targets'
co-design knobs are generated from their options dataclasses, so a new target's knobs appear
without an edit here.
"""

from __future__ import annotations

from typing import Sequence

from .. import __version__
from ..errors import SpikecError
from . import chip, explore, lsm, model, report, targets
from .common import Command, Parser, SafeConsole, clean, error

__all__ = ["build_parser", "clean", "commands", "main"]

_MODULES = (model, chip, targets, lsm, explore, report)


def commands() -> dict[str, Command]:
    """Every command, by name, in the order ``spikec --help`` lists them."""
    merged: dict[str, Command] = {}
    for module in _MODULES:
        merged.update(module.COMMANDS)
    return merged


def build_parser() -> Parser:
    parser = Parser(prog="spikec", description="A co-design compiler for neuromorphic chips.")
    parser.add_argument("--version", action="version", version=f"spikec {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (help_text, add_args, _) in commands().items():
        add_args(sub.add_parser(name, help=help_text, description=help_text))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # Node names, file names and error texts come from users' files: printed as they are, but
    # for control characters (SafeConsole).
    console = SafeConsole()
    try:
        args = build_parser().parse_args(argv)
        return commands()[args.command][2](args, console)
    except SpikecError as exc:
        error(SafeConsole(stderr=True), exc)
        return 2
    except KeyboardInterrupt:
        # Files are written atomically, so an interrupt leaves none half-written.
        error(SafeConsole(stderr=True), "interrupted")
        return 130
