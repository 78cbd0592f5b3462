"""The spiking graph: named nodes, directed edges, a time step, and what follows from them.

Timing rule (the one every simulator and target follows): at each step the nodes run in
:attr:`Graph.order`.  A node's input is the sum of the outputs of all its predecessors; an
edge that closes a cycle (a *back edge*) delivers its source's output from the **previous**
step (zero at step 0), every other edge the current step's.

Which edges of a cycle are back edges depends on the graph (its nodes, their names and its
edges), never on the order nodes or edges are listed in (a NIR round trip reorders both): they
are the edges that a depth-first walk finds pointing back into the walk, starting from the
Input nodes in name order and following each node's successors in name order.  For a
recurrent layer ``lif -> rec -> lif`` that is ``rec -> lif``, whatever the names; names decide
only where a cycle is entered from two places at once (two Inputs feeding a two-node loop).
A NIR file written by spikec records the back edges it was simulated with
(``metadata["spikec.back_edges"]``), and reading it back checks they are the same.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Iterable, Mapping

import numpy as np

from ..errors import GraphValidationError, ShapeError
from .io import Input, Output
from .linear import Projection
from .neurons import Neuron
from .node import Node, Shape

__all__ = ["Graph", "schedule"]


@dataclass(frozen=True, eq=False)
class Graph:
    """An immutable, validated spiking graph.  Build a changed copy with :meth:`replace`."""

    nodes: Mapping[str, Node]
    edges: tuple[tuple[str, str], ...]
    dt: float = 1e-3
    metadata: Mapping[str, Any] = field(default_factory=dict)

    order: tuple[str, ...] = field(init=False, repr=False)
    back_edges: frozenset[tuple[str, str]] = field(init=False, repr=False)
    shapes: Mapping[str, tuple[Shape | None, Shape]] = field(init=False, repr=False)
    _preds: Mapping[str, tuple[str, ...]] = field(init=False, repr=False)
    _succs: Mapping[str, tuple[str, ...]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        nodes = dict(self.nodes)
        try:
            edges = tuple((str(a), str(b)) for a, b in self.edges)
        except (TypeError, ValueError):  # an edge that is not a pair would unpack into a bare ValueError
            raise GraphValidationError(
                "edges must be (source, destination) pairs of node names", parameter="edges"
            ) from None
        object.__setattr__(self, "nodes", MappingProxyType(nodes))
        object.__setattr__(self, "edges", edges)
        object.__setattr__(self, "metadata", MappingProxyType(dict(self.metadata)))
        try:
            object.__setattr__(self, "dt", float(self.dt))
        except (TypeError, ValueError):
            raise GraphValidationError(f"dt={self.dt!r} must be a positive number of seconds", parameter="dt") from None
        self._check_structure()
        preds: dict[str, list[str]] = {n: [] for n in nodes}
        succs: dict[str, list[str]] = {n: [] for n in nodes}
        for a, b in edges:
            preds[b].append(a)
            succs[a].append(b)
        object.__setattr__(self, "_preds", {n: tuple(v) for n, v in preds.items()})
        object.__setattr__(self, "_succs", {n: tuple(v) for n, v in succs.items()})
        for name, node in nodes.items():
            node.check(name, self.dt)
        order, back = schedule(nodes, edges)
        object.__setattr__(self, "order", order)
        object.__setattr__(self, "back_edges", back)
        object.__setattr__(self, "shapes", MappingProxyType(self._infer_shapes()))

    # --- validation -------------------------------------------------------------------

    def _check_structure(self) -> None:
        if not (math.isfinite(self.dt) and self.dt > 0):
            raise GraphValidationError(f"dt={self.dt!r} must be a positive number of seconds", parameter="dt")
        for name, node in self.nodes.items():
            if not isinstance(name, str) or not name:
                raise GraphValidationError(f"node name {name!r} must be a non-empty string")
            if not isinstance(node, Node):
                raise GraphValidationError(
                    f"is a {type(node).__name__}, not a spikec IR node", node=name,
                    fix="import models with spikec.compiler.frontends (from_nir, from_torch)",
                )
        seen: set[tuple[str, str]] = set()
        for a, b in self.edges:
            for end in (a, b):
                if end not in self.nodes:
                    raise GraphValidationError(
                        f"edge {a!r} -> {b!r} refers to a node that does not exist", node=end,
                        fix=f"known nodes: {sorted(self.nodes)[:20]}",
                    )
            if (a, b) in seen:
                raise GraphValidationError(f"edge {a!r} -> {b!r} appears twice", node=b)
            seen.add((a, b))
            if isinstance(self.nodes[b], Input):
                raise GraphValidationError("an Input node cannot receive edges", node=b)
            if isinstance(self.nodes[a], Output):
                raise GraphValidationError("an Output node cannot send edges", node=a)
        if not self.inputs:
            raise GraphValidationError("the graph has no Input node", fix="add an Input node")
        if not self.outputs:
            raise GraphValidationError("the graph has no Output node", fix="add an Output node")
        has_pred = {b for _, b in self.edges}
        for name, node in self.nodes.items():
            if not isinstance(node, Input) and name not in has_pred:
                raise GraphValidationError(
                    "has no incoming edge", node=name, fix="connect it or remove it"
                )

    def _infer_shapes(self) -> dict[str, tuple[Shape | None, Shape]]:
        shapes: dict[str, tuple[Shape | None, Shape]] = {}
        for name in self.order:
            node = self.nodes[name]
            incoming = [a for a in self._preds[name] if (a, name) not in self.back_edges]
            in_shape: Shape | None = None
            for src in incoming:
                s = shapes[src][1]
                if in_shape is not None and s != in_shape:
                    raise ShapeError(
                        f"inputs disagree: '{incoming[0]}' gives {in_shape}, '{src}' gives {s}",
                        node=name, fix="inputs to one node are summed and must have equal shapes",
                    )
                in_shape = s
            shapes[name] = (in_shape, tuple(int(d) for d in node.infer_shape(name, in_shape)))
        for a, b in self.back_edges:
            if shapes[a][1] != shapes[b][0]:
                raise ShapeError(
                    f"recurrent edge from '{a}' carries shape {shapes[a][1]}, but the node receives {shapes[b][0]}",
                    node=b,
                )
        return shapes

    # --- queries ----------------------------------------------------------------------

    @property
    def inputs(self) -> list[str]:
        return [n for n, v in self.nodes.items() if isinstance(v, Input)]

    @property
    def outputs(self) -> list[str]:
        return [n for n, v in self.nodes.items() if isinstance(v, Output)]

    def predecessors(self, name: str) -> list[str]:
        return list(self._preds[name])

    def successors(self, name: str) -> list[str]:
        return list(self._succs[name])

    def in_shape(self, name: str) -> Shape | None:
        return self.shapes[name][0]

    def out_shape(self, name: str) -> Shape:
        return self.shapes[name][1]

    def neurons(self) -> dict[str, Neuron]:
        return {n: v for n, v in self.nodes.items() if isinstance(v, Neuron)}

    def projections(self) -> dict[str, Projection]:
        return {n: v for n, v in self.nodes.items() if isinstance(v, Projection)}

    def neuron_count(self) -> int:
        return sum(v.size for v in self.neurons().values())

    def synapses_of(self, name: str) -> int:
        """Non-zero synapses of one node; a convolution counts each weight once per output position."""
        node = self.nodes[name]
        if not isinstance(node, Projection):
            return 0
        if getattr(node, "kernel_size", None) is not None:
            positions = int(np.prod(self.out_shape(name)[1:], dtype=np.int64))
            return node.synapse_count() * positions
        return node.synapse_count()

    def synapse_count(self) -> int:
        return sum(self.synapses_of(n) for n in self.projections())

    def parameter_count(self) -> int:
        return sum(v.parameter_count() for v in self.nodes.values())

    # --- building changed copies -------------------------------------------------------

    def replace(
        self,
        nodes: Mapping[str, Node] | None = None,
        edges: Iterable[tuple[str, str]] | None = None,
        dt: float | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> "Graph":
        """A new, re-validated graph with the given parts swapped in."""
        return Graph(
            nodes=dict(self.nodes) if nodes is None else nodes,
            edges=self.edges if edges is None else tuple(edges),
            dt=self.dt if dt is None else dt,
            metadata=self.metadata if metadata is None else metadata,
        )

    def with_node(self, name: str, node: Node) -> "Graph":
        """A copy with the node ``name`` replaced (same edges)."""
        if name not in self.nodes:
            raise GraphValidationError("no such node", node=name)
        nodes = dict(self.nodes)
        nodes[name] = node
        return self.replace(nodes=nodes)

    def to_networkx(self) -> Any:
        """A ``networkx.DiGraph`` view (nodes carry ``node``, edges ``back``)."""
        import networkx as nx

        g = nx.DiGraph()
        for name, node in self.nodes.items():
            g.add_node(name, node=node)
        for a, b in self.edges:
            g.add_edge(a, b, back=(a, b) in self.back_edges)
        return g

    def __repr__(self) -> str:
        return f"Graph({len(self.nodes)} nodes, {len(self.edges)} edges, dt={self.dt:g})"


def schedule(nodes: Mapping[str, Node], edges: tuple[tuple[str, str], ...]) -> tuple[tuple[str, ...], frozenset]:
    """Execution order and back edges of a graph given as ``nodes`` and ``edges``.

    Back edges follow the module docstring's rule (a walk in name order, so no listing order
    matters); the order is a topological sort of the rest, ties broken by node order (which
    changes no output).  :class:`Graph` uses it, and so can a frontend that must order nodes
    before it can build them.
    """
    succ: dict[str, list[str]] = {n: [] for n in nodes}
    for a, b in edges:
        succ[a].append(b)
    back = _back_edges(nodes, {n: sorted(set(v)) for n, v in succ.items()})
    # Kahn's algorithm on the graph without back edges, ties broken by node order.
    rank = {n: i for i, n in enumerate(nodes)}
    indeg = {n: 0 for n in nodes}
    for a, b in edges:
        if (a, b) not in back:
            indeg[b] += 1
    ready = [(rank[n], n) for n, d in indeg.items() if d == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        _, n = heapq.heappop(ready)
        order.append(n)
        for m in succ[n]:
            if (n, m) in back:
                continue
            indeg[m] -= 1
            if indeg[m] == 0:
                heapq.heappush(ready, (rank[m], m))
    assert len(order) == len(nodes), "back edges must break every cycle"
    return tuple(order), frozenset(back)


def _back_edges(nodes: Mapping[str, Node], succ: Mapping[str, list[str]]) -> set[tuple[str, str]]:
    """Edges a depth-first walk from the Inputs (in name order, successors in name order) finds
    pointing into the walk; iterative, so deep graphs do not hit Python's recursion limit."""
    state: dict[str, int] = {}  # 1 = on the walk's stack, 2 = finished
    back: set[tuple[str, str]] = set()
    for root in sorted(n for n, v in nodes.items() if isinstance(v, Input)):
        if root in state:
            continue
        state[root] = 1
        stack = [(root, iter(succ[root]))]
        while stack:
            name, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                state[name] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                back.add((name, nxt))
            elif nxt not in state:
                state[nxt] = 1
                stack.append((nxt, iter(succ[nxt])))
    unreachable = [n for n in nodes if n not in state]
    if unreachable:
        raise GraphValidationError(
            f"{len(unreachable)} node(s) cannot be reached from any Input", node=unreachable[0],
            fix="every node must be driven, directly or indirectly, by an Input",
        )
    return back
