"""Reading NIR into flat node specs: files and ``nir`` objects, nested subgraphs, and the
fix-ups nir's own type inference would make (see :mod:`spikec.compiler.frontends.nir_io`).

A *spec* is a NIR node's type name and raw fields (:class:`NodeSpec`); nothing here builds
spikec nodes.  Subgraphs are flattened into dotted names, their Input/Output nodes (and NIR
``Identity`` nodes) dropped with the edges through them joined.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from typing import Any, Union

import numpy as np

from ...errors import GraphValidationError, ModelImportError, ShapeError, SpikecError, UnsupportedError
from ...ir.limits import ENV_VAR, check_size
from .nir_nodes import PASS_THROUGH, NodeSpec, declared_input_shape

__all__ = ["GraphSpec", "MAX_NESTING", "load", "flatten", "add_missing_io", "fit_input_shapes", "plain"]

#: Deepest nesting of subgraphs read (a NIRGraph inside a NIRGraph ... this many levels).  The
#: readers and the flattening recurse once per level, so a stated bound keeps a hostile file
#: from ending in a RecursionError.
MAX_NESTING = 100
# HDF5 groups per level of subgraph: the graph, its 'nodes', the node; plus metadata dicts.
_MAX_GROUP_DEPTH = 2 * MAX_NESTING + 8


@dataclass
class GraphSpec:
    """A (sub)graph as read: node specs or nested graphs by local name, and edges as written."""

    nodes: dict[str, Union[NodeSpec, "GraphSpec"]]
    edges: list[tuple[str, str]]
    metadata: dict[str, Any] = field(default_factory=dict)


def plain(value: Any) -> Any:
    """HDF5 hands back numpy scalars, arrays and bytes; metadata users expect plain Python."""
    if isinstance(value, bytes):
        return value.decode("utf8")
    if isinstance(value, (np.generic, np.ndarray)):
        return value.tolist()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


# --- loading ------------------------------------------------------------------------------


def load(source: Any) -> GraphSpec:
    """The spec tree of a ``.nir`` path, a ``nir.NIRGraph``, or a lone ``nir`` node."""
    if isinstance(source, (str, os.PathLike)):
        return _from_dict(_read_file(os.fspath(source)), "")
    import nir

    if isinstance(source, nir.NIRGraph):
        return _from_object(source, "")
    if isinstance(source, nir.NIRNode):  # a lone node: wrap it like nir.NIRGraph.from_list
        return GraphSpec({"node": _spec_of(source, "node")}, [], {})
    raise ModelImportError(
        f"cannot import a {type(source).__name__} as NIR", fix="pass a path to a .nir file or a nir.NIRGraph"
    )


def _read_file(path: str) -> dict[str, Any]:
    import h5py

    if not os.path.isfile(path):
        raise ModelImportError(f"NIR file {path!r} does not exist", fix="check the path")
    try:
        with h5py.File(path, "r") as f:
            node = f.get("node")
            if not isinstance(node, h5py.Group):
                raise ModelImportError(
                    f"{path!r} is an HDF5 file without a 'node' group, so not a NIR file",
                    fix="write it with nir.write() or an exporter's to_nir",
                )
            return _read_group(node, path)
    except SpikecError:
        raise
    except (OSError, RuntimeError, KeyError, ValueError, TypeError) as exc:
        # h5py reports a damaged file's internals (heaps, B-trees, headers) with any of these.
        raise ModelImportError(f"cannot read {path!r} as a NIR (HDF5) file: {type(exc).__name__}: {exc}",
                               fix="is it a .nir file, written completely? (a damaged or truncated file)") from None


def _read_group(root: Any, path: str) -> dict[str, Any]:
    """The HDF5 group ``root`` as nested dicts, like ``nir.serialization.hdf2dict``, but safe:
    iterative (no recursion limit), bounded in depth (:data:`MAX_NESTING`), refusing soft and
    external links and groups reached twice (cycles), and checking each dataset's declared size,
    and their sum, against :func:`spikec.ir.limits.limit_bytes` *before* reading it."""
    import h5py

    out: dict[str, Any] = {}
    stack: list[tuple[Any, dict[str, Any], int]] = [(root, out, 0)]
    seen = {root.id}
    total = 0
    while stack:
        group, into, depth = stack.pop()
        if depth > _MAX_GROUP_DEPTH:
            raise _too_deep(_node_of(group.name + "/")[0])
        for key in group.keys():
            where = f"{group.name}/{key}"
            link = group.get(key, getlink=True)
            if not isinstance(link, h5py.HardLink):
                raise ModelImportError(
                    f"{path!r}: {where} is a {type(link).__name__}; a NIR file holds its data itself",
                    node=where, fix="write the file with nir.write(), which makes no links",
                )
            item = group[key]
            if isinstance(item, h5py.Group):
                if item.id in seen:
                    raise ModelImportError(f"{path!r}: group {where} is reached twice (the file's groups form a "
                                           "cycle)", node=where, fix="write the file with nir.write()")
                seen.add(item.id)
                into[_str(key)] = child = {}
                stack.append((item, child, depth + 1))
            elif isinstance(item, h5py.Dataset):
                nbytes = _dataset_bytes(item)
                total += nbytes
                node, field = _node_of(where)
                check_size(f"{path!r}: dataset {where} {item.shape} of {item.dtype}", nbytes, node=node,
                           parameter=field, fix=f"is the file damaged or hostile? if not, set {ENV_VAR} to allow more")
                check_size(f"{path!r}: the datasets read so far", total,
                           fix=f"is the file damaged or hostile? if not, set {ENV_VAR} to allow more")
                into[_str(key)] = _str_or(item[()])
    return out


def _node_of(where: str) -> tuple[str | None, str | None]:
    """The dotted NIR node name and field of an HDF5 path ('/node/nodes/a/nodes/b/weight' is
    node 'a.b', field 'weight'), shortened when a hostile file nests it absurdly deep."""
    parts = where.split("/")[2:]  # drop '' and 'node'
    names = [b for a, b in zip(parts[:-1], parts[1:-1] + [""]) if a == "nodes" and b]
    node = ".".join(names) or None
    if node is not None and len(node) > 80:
        node = f"{node[:36]} ... {node[-36:]} ({len(names)} levels)"
    return node, (parts[-1] or None) if parts else None


def _dataset_bytes(item: Any) -> int:
    """The bytes an HDF5 dataset declares (shape x item size), without reading it."""
    count = 1
    for n in item.shape or ():
        count *= int(n)
    return count * max(int(item.dtype.itemsize), 1)


def _str_or(value: Any) -> Any:
    return value.decode("utf8") if isinstance(value, bytes) else value


def _too_deep(where: str | None) -> ModelImportError:
    if where is not None and len(where) > 80:
        where = f"{where[:36]} ... {where[-36:]}"
    return ModelImportError(
        f"subgraphs are nested more than {MAX_NESTING} deep", node=where, limit=MAX_NESTING,
        fix="flatten the model's inner subgraphs before export; no real network nests this deep",
    )


def _str(value: Any) -> str:
    return value.decode("utf8") if isinstance(value, bytes) else str(value)


def _edges(raw: Any, where: str | None) -> list[tuple[str, str]]:
    arr = np.asarray(raw, dtype=object) if raw is not None else np.empty((0, 2), dtype=object)
    if arr.size == 0:
        return []
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ModelImportError(
            f"edges must be a list of (source, target) pairs, got shape {arr.shape}", node=where, parameter="edges"
        )
    return [(_str(a), _str(b)) for a, b in arr]


def _from_dict(data: Any, prefix: str, depth: int = 0) -> GraphSpec:
    where = prefix.rstrip(".") or None
    if depth > MAX_NESTING:
        raise _too_deep(where)
    if not isinstance(data, dict) or "type" not in data:
        raise ModelImportError("malformed NIR entry without a 'type'", node=where, parameter="type")
    kind = _str(data["type"])
    if kind != "NIRGraph":
        return GraphSpec({"node": _spec_from_dict("node", data)}, [], {})
    if not isinstance(data.get("nodes"), dict):
        raise ModelImportError("NIR graph has no 'nodes'", node=where, fix="the file is truncated or not NIR")
    nodes: dict[str, NodeSpec | GraphSpec] = {}
    for key, value in data["nodes"].items():
        if isinstance(value, dict) and _str(value.get("type", "")) == "NIRGraph":
            nodes[key] = _from_dict(value, f"{prefix}{key}.", depth + 1)
        else:
            nodes[key] = _spec_from_dict(prefix + key, value)
    metadata = data.get("metadata")
    return GraphSpec(nodes, _edges(data.get("edges"), where), dict(metadata) if isinstance(metadata, dict) else {})


def _spec_from_dict(name: str, data: Any) -> NodeSpec:
    if not isinstance(data, dict) or "type" not in data:
        raise ModelImportError("malformed NIR node without a 'type'", node=name, parameter="type")
    params = {k: v for k, v in data.items() if k not in ("type", "metadata")}
    return NodeSpec(name, _str(data["type"]), params)


def _from_object(graph: Any, prefix: str, depth: int = 0) -> GraphSpec:
    import nir

    if depth > MAX_NESTING:
        raise _too_deep(prefix.rstrip(".") or None)
    nodes: dict[str, NodeSpec | GraphSpec] = {}
    for key, node in graph.nodes.items():
        if isinstance(node, nir.NIRGraph):
            nodes[key] = _from_object(node, f"{prefix}{key}.", depth + 1)
        else:
            nodes[key] = _spec_of(node, prefix + key)
    metadata = graph.metadata if isinstance(graph.metadata, dict) else {}
    return GraphSpec(nodes, _edges(list(graph.edges), prefix.rstrip(".") or None), dict(metadata))


def _spec_of(node: Any, name: str) -> NodeSpec:
    """The raw fields of an in-memory nir node (types hold shapes for Input/Output/Flatten)."""
    kind = _nir_kind(node)
    skip = {"input_type", "output_type", "metadata"}
    params = {f.name: getattr(node, f.name) for f in dataclasses.fields(node) if f.name not in skip}
    types = {"Input": ("shape", "input_type"), "Identity": ("shape", "input_type"),
             "Output": ("shape", "output_type"), "Flatten": ("input_type", "input_type")}
    if kind in types:
        key, attr = types[kind]
        value = getattr(node, attr, None)
        params[key] = next(iter(value.values()), None) if isinstance(value, dict) else value
    return NodeSpec(name, kind, params)


def _nir_kind(node: Any) -> str:
    """The NIR type of ``node``: its class's name, or for a user's subclass of a ``nir`` node
    (``class MyLIF(nir.LIF)``) the name of the nir class it extends."""
    for cls in type(node).__mro__:
        if cls.__module__.split(".")[0] == "nir" and cls.__name__ != "NIRNode":
            return cls.__name__
    return type(node).__name__


# --- flattening subgraphs -----------------------------------------------------------------


def flatten(spec: GraphSpec, prefix: str = "") -> tuple[dict[str, NodeSpec], list[tuple[str, str]]]:
    """Flat nodes with dotted names, and edges between them; then drop the pass-through nodes."""
    nodes, edges, through = _collect(spec, prefix)
    return nodes, _join_through(nodes, edges, through)


def _collect(spec: GraphSpec, prefix: str) -> tuple[dict[str, NodeSpec], list[tuple[str, str]], list[str]]:
    nodes: dict[str, NodeSpec] = {}
    edges: list[tuple[str, str]] = []
    through: list[str] = []
    for key, node in spec.nodes.items():
        if isinstance(node, GraphSpec):
            sub_nodes, sub_edges, sub_through = _collect(node, f"{prefix}{key}.")
        else:
            sub_nodes, sub_edges = {prefix + key: node}, []
            inner_io = prefix and node.kind in ("Input", "Output")
            sub_through = [prefix + key] if inner_io or node.kind in PASS_THROUGH else []
        for name in sub_nodes:
            if name in nodes:
                raise ModelImportError(
                    "two nodes get this name when subgraphs are flattened", node=name,
                    fix="rename the node whose key contains a '.'",
                )
        nodes.update(sub_nodes)
        edges += sub_edges
        through += sub_through
    for a, b in spec.edges:
        edges.append((prefix + _resolve(spec, a, "source", prefix), prefix + _resolve(spec, b, "target", prefix)))
    return nodes, edges, through


def _resolve(spec: GraphSpec, ref: str, role: str, prefix: str) -> str:
    """The path of the (non-graph) node that edge endpoint ``ref`` means, relative to ``spec``."""
    node = spec.nodes.get(ref)
    if isinstance(node, NodeSpec):
        return ref
    if isinstance(node, GraphSpec):
        port = "Input" if role == "target" else "Output"
        ports = [k for k, v in node.nodes.items() if isinstance(v, NodeSpec) and v.kind == port]
        if len(ports) != 1:
            raise ModelImportError(
                f"an edge uses subgraph '{prefix}{ref}' as {role}, but it has {len(ports)} {port} nodes",
                node=prefix + ref,
                fix=f"address one of them with a dotted name, e.g. '{ref}.{ports[0] if ports else port.lower()}'",
            )
        return f"{ref}.{ports[0]}"
    parts = ref.split(".")
    for i in range(1, len(parts)):
        head = ".".join(parts[:i])
        sub = spec.nodes.get(head)
        if isinstance(sub, GraphSpec):
            return f"{head}.{_resolve(sub, '.'.join(parts[i:]), role, f'{prefix}{head}.')}"
    raise GraphValidationError(
        f"an edge has {role} '{prefix}{ref}', which is not a node of the graph",
        node=prefix + ref,
        fix=f"known nodes: {sorted(spec.nodes)[:20]}",
    )


def _join_through(nodes: dict[str, NodeSpec], edges: list[tuple[str, str]],
                  through: list[str]) -> list[tuple[str, str]]:
    """Remove each pass-through node, connecting every source into it to every target after it."""
    for p in through:
        sources = [a for a, b in edges if b == p and a != p]
        new: list[tuple[str, str]] = []
        for a, b in edges:
            if b == p:
                continue
            if a == p:
                new += [(s, b) for s in sources]
            else:
                new.append((a, b))
        seen: set[tuple[str, str]] = set()
        for e in new:
            if e in seen:
                raise UnsupportedError(
                    f"joining the edges through '{p}' connects '{e[0]}' to '{e[1]}' twice; spikec graphs "
                    "hold one edge per pair of nodes",
                    node=e[1],
                    fix="put a Scale node on one of the two paths",
                )
            seen.add(e)
        edges = new
        del nodes[p]
    return edges


def add_missing_io(nodes: dict[str, NodeSpec], edges: list[tuple[str, str]]) -> None:
    """As nir's type inference does: a root that is not an Input gets one, a leaf an Output."""
    has_in = {b for _, b in edges}
    has_out = {a for a, _ in edges}
    for name, spec in list(nodes.items()):
        if name not in has_in and spec.kind != "Input":
            shape = declared_input_shape(spec)
            if shape is None:
                raise ModelImportError(
                    "has no incoming edge and states no input shape, so the graph's input is unknown",
                    node=name,
                    fix="add an Input node with the input's shape and an edge from it",
                )
            nodes[f"input_{name}"] = NodeSpec(f"input_{name}", "Input", {"shape": np.array(shape)})
            edges.append((f"input_{name}", name))
        if name not in has_out and spec.kind != "Output":
            nodes[f"output_{name}"] = NodeSpec(f"output_{name}", "Output", {})
            edges.append((name, f"output_{name}"))


def fit_input_shapes(nodes: dict[str, NodeSpec], edges: list[tuple[str, str]]) -> list[str]:
    """Drop leading axes of length 1 (a batch axis, as Rockpool writes) from an Input's shape
    when the layers it feeds state the per-sample shape; name the Input when it carries other
    extra leading axes (batch or time, as some writers do)."""
    dropped = []
    for name, spec in nodes.items():
        shape = declared_input_shape(spec) if spec.kind == "Input" else None
        wanted = {
            declared_input_shape(nodes[b])
            for a, b in edges
            if a == name and nodes[b].kind in ("Linear", "Affine", "Conv1d", "Conv2d")
        } - {None}
        if shape is None or len(wanted) != 1:
            continue
        target = wanted.pop()
        k = len(shape) - len(target)
        if k <= 0 or shape[k:] != target:
            continue
        if set(shape[:k]) != {1}:
            raise ShapeError(
                f"declares shape {shape}, but the layers it feeds expect {target}: the extra leading axes "
                f"{shape[:k]} look like batch or time axes",
                node=name,
                parameter="shape",
                fix="an Input's shape is per sample and per time step; re-export without batch or time axes",
            )
        nodes[name] = NodeSpec(name, "Input", {"shape": np.array(target)})
        dropped.append(name)
    return dropped
