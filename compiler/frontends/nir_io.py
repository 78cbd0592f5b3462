"""Reading and writing NIR (the Neuromorphic Intermediate Representation, nir 1.0.8).

``from_nir`` turns a NIR graph (a ``.nir`` file or a ``nir.NIRGraph``) into a validated
:class:`spikec.ir.Graph`; ``to_nir`` / ``write_nir`` go the other way.

- **Time.**  NIR holds continuous-time parameters (time constants and delays in seconds);
  spikec discretizes them with one time step ``dt`` (see :mod:`spikec.ir.neurons`).  ``dt``
  comes from the argument, else from the graph's ``metadata["dt"]``, else import fails: a
  guessed ``dt`` would silently change every decay.  Exporters' conventions differ
  (:data:`DT_CONVENTIONS`).
- **Subgraphs** are flattened into dotted names (``"outer.inner"``); their Input and Output
  nodes, and NIR ``Identity`` nodes, are dropped and the edges through them joined.  An edge
  may address a subgraph by its name (meaning its only Input or Output) or a node inside it
  by a dotted path (``"rnn.input"``), as nirtorch writes.
- **Shapes** come from the graph: the edge into a node fixes its population shape, a
  convolution without ``input_shape`` takes it from there, and parameters given as scalars
  or ``(C, 1, 1)`` arrays are broadcast only where that is unambiguous.
- **Timing** follows spikec's rule (:mod:`spikec.ir.graph`): edges closing a cycle deliver the
  previous step's value, all others the current step's.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from ... import ir
from ...errors import GraphValidationError, ShapeError, UnsupportedError
from ...ir.graph import schedule  # the same walk decides back edges here and in Graph
from ...ir.node import Shape
from .nir_dt import DT_CONVENTIONS, resolve_dt
from .nir_nodes import NodeSpec, export_node, import_node
from .nir_read import add_missing_io, fit_input_shapes, flatten, load, plain

__all__ = ["from_nir", "to_nir", "read_nir", "write_nir", "DT_CONVENTIONS"]


# --- public API ---------------------------------------------------------------------------


def from_nir(source: Any, *, dt: float | None = None) -> ir.Graph:
    """Import a NIR graph (path to a ``.nir`` file, or a ``nir.NIRGraph``) as a spikec graph.

    ``dt`` (seconds) discretizes NIR's continuous time; it defaults to ``metadata["dt"]`` of
    the graph when the writer stored one.  Raises :class:`ModelImportError` (or another
    :class:`SpikecError`) naming the node and parameter for anything unreadable.
    """
    spec = load(source)
    nodes, edges = flatten(spec)
    step, dt_source = resolve_dt(dt, spec.metadata, nodes.values())
    add_missing_io(nodes, edges)
    # the file's own metadata (a training script's accuracy, say) rides along; dt is graph.dt
    metadata = {k: plain(v) for k, v in spec.metadata.items() if k != "dt"}
    metadata.update(frontend="nir", dt_source=dt_source)
    dropped = fit_input_shapes(nodes, edges)
    if dropped:
        metadata["dropped_leading_axes"] = dropped
    return _build(nodes, edges, step, metadata)


def read_nir(path: str | os.PathLike, dt: float | None = None) -> ir.Graph:
    """``from_nir`` for a file path."""
    return from_nir(os.fspath(path), dt=dt)


def to_nir(graph: ir.Graph) -> Any:
    """The ``nir.NIRGraph`` of ``graph``, with ``metadata`` holding ``dt``, ``producer="spikec"``
    and the graph's own scalar and string metadata (what HDF5 stores as is).

    Raises :class:`UnsupportedError` naming the node and parameter for what NIR 1.0.8 cannot
    express (reset modes other than ``value``, fixed-point neurons, batch-norm, asymmetric
    padding, per-synapse delays that are neither per source nor per target neuron)."""
    import nir

    nodes: dict[str, Any] = {}
    edges: list[tuple[str, str]] = []
    enter: dict[str, str] = {}  # where edges into a spikec node land in the NIR graph
    leave: dict[str, str] = {}  # where edges out of it start
    for name, node in graph.nodes.items():
        in_shape, out_shape = graph.shapes[name]
        before, node, after = _split_delays(name, node, graph)
        enter[name] = leave[name] = name
        nodes[name] = export_node(name, node, in_shape, out_shape, graph.dt)
        if before is not None or after is not None:
            extra = _free_name(f"{name}.delay", graph.nodes, nodes)
            nodes[extra] = nir.Delay(delay=(before if before is not None else after) * graph.dt)
            if before is not None:
                enter[name] = extra
                edges.append((extra, name))
            else:
                leave[name] = extra
                edges.append((name, extra))
    edges += [(leave[a], enter[b]) for a, b in graph.edges]
    try:
        return nir.NIRGraph(nodes, edges, metadata=_export_metadata(graph), type_check=True)
    except (ValueError, AssertionError, TypeError) as exc:  # a bug here, not the user's: say so plainly
        raise UnsupportedError(f"nir rejected the exported graph: {exc}",
                               fix="please report this as a spikec bug") from None


_IMPORT_KEYS = ("frontend", "dt_source", "dropped_leading_axes")  # about one import, not the model


def _export_metadata(graph: ir.Graph) -> dict[str, Any]:
    kept = {
        k: v.item() if isinstance(v, np.generic) else v
        for k, v in graph.metadata.items()
        if k not in _IMPORT_KEYS and isinstance(v, (str, bool, int, float, np.generic))
    }
    return {**kept, "dt": float(graph.dt), "producer": "spikec"}


def _free_name(base: str, *taken: Any) -> str:
    name, i = base, 0
    while any(name in t for t in taken):
        i += 1
        name = f"{base}_{i}"
    return name


def write_nir(graph: ir.Graph, path: str | os.PathLike) -> None:
    """Write ``graph`` to a NIR (HDF5) file at ``path``."""
    import nir

    for name in graph.nodes:
        if "/" in name:
            raise UnsupportedError("node names become HDF5 groups in a NIR file and cannot hold '/'", node=name)
    nir.write(os.fspath(path), to_nir(graph))


# --- building the spikec graph -------------------------------------------------------------


def _build(nodes: dict[str, NodeSpec], edges: list[tuple[str, str]], dt: float, metadata: dict[str, Any]) -> ir.Graph:
    for a, b in edges:
        if nodes[b].kind == "Input":
            raise GraphValidationError(f"edge '{a}' -> '{b}' goes into an Input node", node=b)
    placeholders = {n: ir.Input((1,)) if s.kind == "Input" else ir.Output() for n, s in nodes.items()}
    order, back = schedule(placeholders, tuple(edges))
    shapes: dict[str, Shape] = {}
    built: dict[str, ir.Node] = {}
    preds: dict[str, list[str]] = {n: [] for n in nodes}
    for a, b in edges:
        if (a, b) not in back:
            preds[b].append(a)
    for name in order:
        in_shapes = {shapes[p] for p in preds[name]}
        if len(in_shapes) > 1:
            raise ShapeError(
                f"inputs disagree in shape: {sorted(in_shapes)}", node=name,
                fix="inputs to one node are summed and must have equal shapes",
            )
        built[name], shapes[name] = import_node(nodes[name], in_shapes.pop() if in_shapes else None, dt)
    return ir.Graph({n: built[n] for n in nodes}, edges, dt=dt, metadata=metadata)


# --- per-synapse delays on export ---------------------------------------------------------


def _split_delays(name: str, node: ir.Node, graph: ir.Graph) -> tuple[np.ndarray | None, ir.Node, np.ndarray | None]:
    """Per-synapse delays NIR can hold: the same delay for every synapse of a source neuron
    (a Delay before the projection) or, without a bias, of a target neuron (a Delay after)."""
    delay = getattr(node, "delay", None) if isinstance(node, ir.Projection) else None
    if delay is None or not delay.any():
        return None, node, None
    if isinstance(node, ir.SparseLinear):
        tgt, src, w, d = node.target, node.source, node.weight, delay
        n_out, n_in = node.shape
    else:
        tgt, src = np.nonzero(np.ones_like(node.weight, dtype=bool))
        w, d = node.weight[tgt, src], delay[tgt, src]
        n_out, n_in = node.weight.shape
    live = w != 0  # a zero weight's delay changes nothing
    undelayed = node.replace(delay=None)
    for index, size, where in ((src, n_in, "before"), (tgt, n_out, "after")):
        if where == "after" and isinstance(node, ir.Affine):
            continue  # delaying the output would delay the bias too
        per = np.zeros(size, np.int64)
        per[index[live]] = d[live]
        if np.array_equal(per[index[live]], d[live]):
            return (per, undelayed, None) if where == "before" else (None, undelayed, per)
    raise UnsupportedError(
        "per-synapse delays cannot be written to NIR, which has only per-neuron Delay nodes; these differ "
        "between synapses of the same source and of the same target neuron",
        node=name,
        parameter="delay",
        fix="save with spikec.ir.save_graph (lossless), or run map_delays to turn them into delay neurons",
    )
