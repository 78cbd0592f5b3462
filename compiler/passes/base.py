"""What every pass shares: its result (the new graph and a record of what it changed).

A pass is a pure function ``pass_(graph, spec, **options) -> PassResult``: it never mutates
its input (IR nodes are frozen), and its record says, node by node, what it did, so that
``spikec compile --explain`` can print it and tests can check it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from ...ir.graph import Graph

__all__ = ["Change", "PassRecord", "PassResult", "format_figure"]


def format_figure(value: Any, *, nested: bool = False) -> str:
    """A figure as ``--explain`` prints it.  Floats get 6 significant digits: readable, and
    the same text on every machine (a last-bit difference of a sum's order cannot show);
    lists, tuples and dicts element by element; strings inside them quoted."""
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.6g}"
    if isinstance(value, np.integer):
        return str(int(value))
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k!r}: {format_figure(v, nested=True)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        inner = ", ".join(format_figure(v, nested=True) for v in value)
        return f"[{inner}]" if isinstance(value, list) else f"({inner}{',' if len(value) == 1 else ''})"
    return repr(value) if nested and isinstance(value, str) else str(value)


@dataclass(frozen=True)
class Change:
    """One thing a pass did to one node (``node`` as named in the input graph)."""

    node: str
    what: str
    figures: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PassRecord:
    """The changes of one pass and its summary figures (e.g. max error, saturated count)."""

    name: str
    changes: tuple[Change, ...] = ()
    figures: Mapping[str, Any] = field(default_factory=dict)

    def explain(self) -> str:
        """Human-readable lines, one per change (``spikec compile --explain``)."""
        head = f"{self.name}: " + ("no change" if not self.changes else f"{len(self.changes)} change(s)")
        lines = [head]
        lines += [f"  {c.node}: {c.what}" for c in self.changes]
        lines += [f"  {k} = {format_figure(v)}" for k, v in self.figures.items()]
        return "\n".join(lines)


@dataclass(frozen=True)
class PassResult:
    """The graph a pass produced and its record."""

    graph: Graph
    record: PassRecord
