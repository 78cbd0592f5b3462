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

import json
import os
from typing import Any

import numpy as np

from ... import ir
from ...errors import GraphValidationError, ModelImportError, ShapeError, SpikecError, UnsupportedError
from ...ir.graph import schedule  # the same walk decides back edges here and in Graph
from ...ir.node import Shape
from .nir_dt import DT_CONVENTIONS, resolve_dt
from .nir_nodes import NodeSpec, check_fields, check_import_size, export_node, import_node
from .nir_read import add_missing_io, fit_input_shapes, flatten, load, plain
from .nir_sources import apply_convention, convention

__all__ = ["from_nir", "to_nir", "read_nir", "write_nir", "DT_CONVENTIONS"]


# --- public API ---------------------------------------------------------------------------


def from_nir(source: Any, *, dt: float | None = None, framework: str | None = None) -> ir.Graph:
    """Import a NIR graph (path to a ``.nir`` file, or a ``nir.NIRGraph``) as a spikec graph.

    ``dt`` (seconds) discretizes NIR's continuous time; it defaults to ``metadata["dt"]`` of
    the graph when the writer stored one, else to the time step of ``framework``'s exporter.
    ``framework`` (``"snntorch"``, ``"rockpool"``, ``"spyx"``, ``"nir"``; :mod:`.nir_sources`)
    reads the file as that framework computes it (reset, discretization, latency) instead of
    literally.  Raises :class:`ModelImportError` (or another :class:`SpikecError`) naming the
    node and parameter for anything unreadable.
    """
    conv = convention(framework) if framework is not None else None  # an unknown name fails before any work
    spec = load(source)
    nodes, edges = flatten(spec)
    if dt is None and spec.metadata.get("dt") is None and conv is not None:
        dt = conv.dt
    step, dt_source = resolve_dt(dt, spec.metadata, nodes.values(), trial=lambda d: _trial(nodes, edges, d))
    add_missing_io(nodes, edges)
    # the file's own metadata (a training script's accuracy, say) rides along; dt is graph.dt
    metadata = {k: plain(v) for k, v in spec.metadata.items() if k != "dt"}
    metadata.update(frontend="nir", dt_source=dt_source)
    dropped = fit_input_shapes(nodes, edges)
    if dropped:
        metadata["dropped_leading_axes"] = dropped
    recorded = metadata.pop(_BACK_EDGES, None)
    graph = _build(nodes, edges, step, metadata)
    _check_back_edges(graph, recorded)
    return graph if conv is None else apply_convention(graph, conv.name)


# Which edges of a cycle a file was simulated with (delayed one step), as a JSON list of pairs:
# the rule is spikec's (ir/graph.py), so a reader without it can still see the choice.
_BACK_EDGES = "spikec_back_edges"


def _check_back_edges(graph: ir.Graph, recorded: Any) -> None:
    if recorded is None:
        return
    try:
        pairs = {(str(a), str(b)) for a, b in json.loads(str(recorded))}
    except (ValueError, TypeError):
        raise ModelImportError(f"metadata '{_BACK_EDGES}' is not a JSON list of [source, target] pairs",
                               parameter=_BACK_EDGES, fix="remove the entry, or write the file with spikec") from None
    for a, b in sorted(pairs ^ set(graph.back_edges)):
        was = "recurrent (delayed one step)" if (a, b) in pairs else "instantaneous"
        raise ModelImportError(
            f"the file records edge '{a}' -> '{b}' as {was}, but spikec's rule (README, Timing) makes it the "
            "other; the outputs would differ from the writer's", parameter=_BACK_EDGES,
            fix="rename nodes so the walk in name order finds the recorded back edges, or remove the entry")


def _trial(nodes: dict[str, NodeSpec], edges: list[tuple[str, str]], dt: float) -> str | None:
    """Why importing with ``dt`` fails (None if it works): a ``dt`` an error suggests is tried first."""
    nodes, edges = dict(nodes), list(edges)  # the specs are frozen; only the containers change
    try:
        add_missing_io(nodes, edges)
        fit_input_shapes(nodes, edges)
        _build(nodes, edges, dt, {})
    except SpikecError as exc:
        return str(exc)
    return None


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
    metadata = {**_export_metadata(graph),
                _BACK_EDGES: json.dumps(sorted([leave[a], enter[b]] for a, b in graph.back_edges))}
    try:
        return nir.NIRGraph(nodes, edges, metadata=metadata, type_check=True)
    except (ValueError, AssertionError, TypeError) as exc:  # a bug here, not the user's: say so plainly
        raise UnsupportedError(f"nir rejected the exported graph: {exc}",
                               fix="please report this as a spikec bug") from None


_IMPORT_KEYS = ("frontend", "dt_source", "dropped_leading_axes", _BACK_EDGES)  # about one import, not the model


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
    allocated = 0  # bytes the declared shapes make the import allocate, checked before each node
    for name in order:
        in_shapes = {shapes[p] for p in preds[name]}
        if len(in_shapes) > 1:
            raise ShapeError(
                f"inputs disagree in shape: {sorted(in_shapes)}", node=name,
                fix="inputs to one node are summed and must have equal shapes",
            )
        in_shape = in_shapes.pop() if in_shapes else None
        check_fields(nodes[name])
        allocated = check_import_size(nodes[name], in_shape, allocated)
        built[name], shapes[name] = import_node(nodes[name], in_shape, dt)
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
