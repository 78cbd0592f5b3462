"""What every pass shares: its result (the new graph and a record of what it changed).

A pass is a pure function ``pass_(graph, spec, **options) -> PassResult``: it never mutates
its input (IR nodes are frozen), and its record says, node by node, what it did, so that
``spikec compile --explain`` can print it and tests can check it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from ...ir.graph import Graph

__all__ = ["Change", "PassRecord", "PassResult"]


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
        lines += [f"  {k} = {v}" for k, v in self.figures.items()]
        return "\n".join(lines)


@dataclass(frozen=True)
class PassResult:
    """The graph a pass produced and its record."""

    graph: Graph
    record: PassRecord
