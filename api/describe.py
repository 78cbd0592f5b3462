"""What ``spikec info`` shows of a model: one row per node, and the graph's totals."""

from __future__ import annotations

from dataclasses import dataclass

from ..ir import Graph, Neuron

__all__ = ["NodeRow", "ModelSummary", "describe"]


@dataclass(frozen=True)
class NodeRow:
    name: str
    kind: str                          # e.g. "LIF (value reset)", "MembraneBatchNorm(LIF)"
    in_shape: tuple[int, ...] | None
    out_shape: tuple[int, ...] | None
    neurons: int
    synapses: int
    parameters: int


@dataclass(frozen=True)
class ModelSummary:
    rows: tuple[NodeRow, ...]
    dt: float
    neurons: int
    synapses: int              # connections: a conv weight counts once per output position it reaches
    weights: int               # stored synaptic weights (non-zero): a conv weight counts once
    parameters: int
    recurrent: tuple[tuple[str, str], ...]   # back edges, as the IR delays them


def describe(graph: Graph) -> ModelSummary:
    """Nodes in execution order with their shapes and sizes, and the graph's totals."""
    rows = []
    for name in graph.order:
        node = graph.nodes[name]
        kind = node.kind + (f"({node.neuron.kind})" if hasattr(node, "neuron") else "")
        if getattr(node, "spiking", False) and hasattr(node, "reset"):
            kind += f" ({node.reset.value} reset)"
        rows.append(NodeRow(name, kind, graph.in_shape(name), graph.out_shape(name),
                            node.size if isinstance(node, Neuron) else 0, graph.synapses_of(name),
                            node.parameter_count()))
    weights = sum(graph.nodes[n].synapse_count() for n in graph.projections())
    return ModelSummary(tuple(rows), graph.dt, graph.neuron_count(), graph.synapse_count(), weights,
                        graph.parameter_count(), tuple(sorted(graph.back_edges)))
