"""map_delays: per-synapse delays onto the target's native delay range.

A chip stores at most ``D = spec.max_delay.value`` steps of delay per synapse (``0``: none,
``None``: unlimited).  A projection (Linear, Affine, SparseLinear) whose delays exceed ``D``
is split by how much *extra* delay its synapses need: bucket ``e`` carries the synapses with
``e <= d <= e + D``, reads its input through an axonal :class:`~spikec.ir.Delay` of ``e``
steps, and keeps the residual ``d - e`` (in ``[0, D]``) as its per-synapse delay.  Since

    y_j[t] = sum_i W_ji x_i[t - d_ji] = sum_e sum_{(j,i) in e} W_ji (x_i[t - e])[t - (d_ji - e)]

and a node sums all its incoming edges, the buckets together compute exactly the original
projection.  The Delay nodes form one chain (``e1``, then ``e2 - e1`` more, ...), so relays
are shared: a target without delays lowers a chain of ``e_max`` steps, not one per bucket.
Buckets are chosen greedily over the sorted distinct delays, which gives the fewest
intervals of width ``D`` that cover them (hence the fewest added nodes).

Existing Delay nodes are left alone: they are axonal delays that a target lowers itself.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...errors import GraphValidationError
from ...hardware import HardwareSpec, Sourced
from ...ir.delay import Delay
from ...ir.graph import Graph
from ...ir.linear import Affine, Linear, SparseLinear
from ...ir.node import Node
from .base import Change, PassRecord, PassResult

__all__ = ["map_delays"]

_NAME = "map_delays"
_DELAYED = (Linear, Affine, SparseLinear)


def map_delays(graph: Graph, spec: HardwareSpec) -> PassResult:
    """Rewrite every projection whose per-synapse delays exceed ``spec.max_delay`` so that
    each resulting projection's delays fit in ``[0, spec.max_delay.value]``; the longer part
    goes through a chain of axonal Delay nodes on the source side.

    The result computes the same outputs, step for step, as ``graph`` (exactly so in the
    reference simulator).  ``graph`` is not modified.  Raises :class:`GraphValidationError`
    when ``spec.max_delay`` is not a valid limit.
    """
    native = _native_max_delay(spec)
    axonal = sorted(n for n, v in graph.nodes.items() if isinstance(v, Delay))
    over = [
        n for n, v in graph.nodes.items()
        if isinstance(v, _DELAYED) and v.delay is not None and native is not None and v.max_delay() > native
    ]
    figures: dict[str, Any] = {"native_max_delay": native, "max_delay_before": _max_delay(graph)}
    if axonal:
        figures["axonal_delay_nodes_left_to_target"] = axonal
    if not over:
        figures["note"] = "fits natively"
        return PassResult(graph, PassRecord(_NAME, (), figures))

    nodes: dict[str, Node] = {}
    taken = set(graph.nodes)
    plans: dict[str, _Plan] = {}
    for name, node in graph.nodes.items():
        if name in over:
            plan = _plan(graph, name, node, native, taken)
            plans[name] = plan
            nodes.update(plan.nodes)  # in the old node's place: keeps the schedule's tie order
        else:
            nodes[name] = node

    edges: list[tuple[str, str]] = []
    expected_back: dict[tuple[str, str], bool] = {}
    for a, b in graph.edges:
        back = (a, b) in graph.back_edges
        # Replacing an edge in place with its copies keeps every node's successor order, so
        # the depth-first walk that finds back edges takes the same path through the rest.
        srcs = plans[a].tails if a in plans else [a]
        dsts = plans[b].heads if b in plans else [b]
        for s in srcs:
            for d in dsts:
                edges.append((s, d))
                expected_back[(s, d)] = back
    for plan in plans.values():
        for e in plan.internal:
            edges.append(e)
            expected_back[e] = False
    new = graph.replace(nodes=nodes, edges=edges)
    wrong = [e for e, back in expected_back.items() if ((e in new.back_edges) != back)]
    if wrong:  # would shift spike times by a step; never silently
        raise GraphValidationError(
            f"splitting delays would change which edges are recurrent: {wrong[:3]}",
            node=wrong[0][1], parameter="delay", fix="report this graph as a bug in map_delays",
        )

    changes = tuple(
        Change(
            name,
            f"delays up to {p.max_delay} > native {native}: {len(p.extras)} group(s), "
            f"extra delay {p.extras} via a Delay chain of {p.extras[-1]} step(s)",
            {"groups": len(p.extras), "extra_delays": p.extras, "synapses_moved": p.moved,
             "nodes_added": len(p.nodes) - 1, "new_nodes": [n for n in p.nodes if n != name]},
        )
        for name, p in plans.items()
    )
    figures.update(
        projections_rewritten=len(plans),
        synapses_moved=sum(p.moved for p in plans.values()),
        nodes_added=sum(len(p.nodes) - 1 for p in plans.values()),
        max_delay_after=_max_delay(new),
    )
    return PassResult(new, PassRecord(_NAME, changes, figures))


# --- helpers ----------------------------------------------------------------------------------


class _Plan:
    """How one projection is replaced: new nodes (in order), the nodes that take its inputs
    (``heads``), those that give its output (``tails``) and the edges among them."""

    def __init__(self) -> None:
        self.nodes: dict[str, Node] = {}
        self.heads: list[str] = []
        self.tails: list[str] = []
        self.internal: list[tuple[str, str]] = []
        self.extras: list[int] = []
        self.moved = 0
        self.max_delay = 0


def _native_max_delay(spec: HardwareSpec) -> int | None:
    limit = getattr(spec, "max_delay", None)
    value = limit.value if isinstance(limit, Sourced) else limit
    if isinstance(limit, Sourced) and value is None:
        return None
    if (not isinstance(limit, Sourced) or isinstance(value, (bool, np.bool_))
            or not isinstance(value, (int, np.integer)) or value < 0):
        raise GraphValidationError(
            f"is {limit!r} in spec {getattr(spec, 'name', spec)!r}; it must be a Sourced holding a whole "
            "number of steps >= 0 (0: no native delays) or None (unlimited)",
            parameter="max_delay", fix="e.g. HardwareSpec(name, max_delay=Sourced(15, source))",
        )
    return int(value)


def _max_delay(graph: Graph) -> int:
    return max((v.max_delay() for v in graph.nodes.values() if isinstance(v, _DELAYED)), default=0)


def _fresh(base: str, taken: set[str]) -> str:
    name, k = base, 1
    while name in taken:
        name, k = f"{base}_{k}", k + 1
    taken.add(name)
    return name


def _buckets(delays: np.ndarray, native: int) -> list[int]:
    """Extra delays ``e`` (ascending) such that every delay lies in some ``[e, e + native]``:
    greedy from the smallest uncovered delay, optimal for covering points by intervals."""
    extras: list[int] = []
    for d in np.unique(delays).tolist():
        if extras and d <= extras[-1] + native:
            continue
        extras.append(0 if d <= native else int(d))
    return extras or [0]


def _plan(graph: Graph, name: str, node: Node, native: int, taken: set[str]) -> _Plan:
    plan = _Plan()
    delay = np.asarray(node.delay)
    # Zero-weight synapses carry nothing: their delay must not cost a relay group.
    live = np.asarray(node.weight) != 0
    extras = _buckets(delay[live], native)
    plan.extras, plan.max_delay = extras, int(delay.max())
    # Bucket of each synapse: the largest extra <= its delay (dead synapses: none, -1).
    which = np.where(live, np.searchsorted(np.asarray(extras), delay, side="right") - 1, -1)
    plan.moved = int(np.count_nonzero(live & (np.asarray(extras)[np.maximum(which, 0)] > 0)))

    in_shape = graph.in_shape(name)
    incoming_back = any((p, name) in graph.back_edges for p in graph.predecessors(name))
    heads_needed = (1 if extras[0] == 0 else 0) + (1 if extras[-1] > 0 else 0)
    # With several entry nodes, a recurrent edge *into* this projection could be classified
    # differently by the depth-first walk; one identity entry node keeps it a single edge.
    entry = None
    if incoming_back and heads_needed > 1:
        entry = _fresh(f"{name}.in", taken)
        plan.nodes[entry] = Delay(np.zeros(in_shape, dtype=np.int64))
        plan.heads.append(entry)

    prev_delay, prev_extra = entry, 0
    for k, e in enumerate(extras):
        src = prev_delay
        if e > 0:
            dname = _fresh(f"{name}.delay{e}", taken)
            plan.nodes[dname] = Delay(np.full(in_shape, e - prev_extra, dtype=np.int64))
            if src is None:
                plan.heads.append(dname)
            else:
                plan.internal.append((src, dname))
            prev_delay, prev_extra, src = dname, e, dname
        pname = name if k == 0 else _fresh(f"{name}.d{e}", taken)
        plan.nodes[pname] = _bucket_projection(node, which == k, delay - e, with_bias=k == 0)
        if src is None:
            plan.heads.append(pname)
        else:
            plan.internal.append((src, pname))
        plan.tails.append(pname)
    return plan


def _bucket_projection(node: Node, mask: np.ndarray, residual: np.ndarray, *, with_bias: bool) -> Node:
    """``node`` restricted to the synapses in ``mask``, with delays ``residual`` (None if all 0)."""
    weight = np.where(mask, node.weight, np.zeros((), node.weight.dtype))
    res = np.where(mask, residual, 0).astype(np.int64)
    delay = res if res.any() else None
    if isinstance(node, SparseLinear):
        # Keep only this bucket's synapses: fewer stored synapses, same sums.
        return SparseLinear(node.shape, node.target[mask], node.source[mask], node.weight[mask],
                            None if delay is None else res[mask])
    if isinstance(node, Affine):
        # The bias is a constant current: it must be added once, by one bucket.
        bias = node.bias if with_bias else np.zeros_like(node.bias)
        return Affine(weight, bias, delay)
    return Linear(weight, delay)
