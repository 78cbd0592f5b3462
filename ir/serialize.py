"""Saving and loading graphs losslessly, as one ``.npz`` file.

NIR cannot hold everything spikec's IR can (fixed-point neurons, per-synapse delays, reset
modes, membrane batch-norm), so spikec has its own format: the arrays of every node as npz
entries, plus one JSON header that names each node's type and its non-array fields (the
file format of :mod:`spikec.ir.npzfile`).  Loading
rebuilds the nodes through their constructors, so a loaded graph is validated like any other.
"""

from __future__ import annotations

import dataclasses
import os
from enum import Enum
from typing import Any

import numpy as np

from ..errors import GraphValidationError, ModelImportError
from . import npzfile
from .graph import Graph
from .node import Node

__all__ = ["save_graph", "load_graph", "is_graph_file", "FORMAT"]

FORMAT = "spikec-graph/1"
_HEADER = "__spikec_graph__"


def _node_types() -> dict[str, type[Node]]:
    from . import conv, delay, fixed, io, linear, neurons, norm, reshape

    found: dict[str, type[Node]] = {}
    for module in (conv, delay, fixed, io, linear, neurons, norm, reshape):
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, Node) and not value.__name__.startswith("_"):
                found[value.__name__] = value
    # A base (Node, Neuron, Projection, ConvNd) is no node kind of its own: a file naming one is refused.
    return {name: cls for name, cls in found.items()
            if not any(c is not cls and issubclass(c, cls) for c in found.values())}


def _encode(node: Node, key: str, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for f in dataclasses.fields(node):
        value = getattr(node, f.name)
        if isinstance(value, np.ndarray):
            arrays[f"{key}.{f.name}"] = value
            fields[f.name] = {"array": f"{key}.{f.name}"}
        elif isinstance(value, Node):
            fields[f.name] = {"node": _encode(value, f"{key}.{f.name}", arrays)}
        elif isinstance(value, Enum):
            fields[f.name] = value.value
        else:
            fields[f.name] = value
    return {"type": node.kind, "fields": fields}


# Nodes nest (a MembraneBatchNorm holds its neuron) one level deep; a file nesting more is hostile.
_MAX_NODE_DEPTH = 8


def _decode(spec: Any, arrays: Any, types: dict[str, type[Node]], name: str, depth: int = 0) -> Node:
    """One node from its header entry, every field type-checked and named on failure."""
    if depth > _MAX_NODE_DEPTH:
        raise _malformed(f"nests nodes more than {_MAX_NODE_DEPTH} deep", name, "fields")
    if not isinstance(spec, dict):
        raise _malformed(f"entry is a JSON {_json_type(spec)}, expected an object with 'type' and 'fields'", name,
                         None)
    kind = spec.get("type")
    cls = types.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise ModelImportError(f"unknown node type {kind!r}", node=name, parameter="type",
                               fix="was it saved by a newer spikec?")
    fields = spec.get("fields")
    if not isinstance(fields, dict):
        raise _malformed(f"'fields' is a JSON {_json_type(fields)}, expected an object", name, "fields")
    known = {f.name for f in dataclasses.fields(cls)}
    kwargs: dict[str, Any] = {}
    for field_name, value in fields.items():
        if field_name not in known:
            raise _malformed(f"a {kind} node has no field {field_name!r}", name, field_name)
        kwargs[field_name] = _field(value, arrays, types, name, field_name, depth)
    try:
        return cls(**kwargs)
    except GraphValidationError as exc:  # a constructor knows the parameter, not the node's name
        raise exc if exc.node is not None else type(exc)(exc.detail, node=name, parameter=exc.parameter,
                                                         limit=exc.limit, fix=exc.fix) from None
    except (TypeError, ValueError) as exc:  # a missing field, a string where a number belongs
        raise _malformed(f"a {kind} node cannot be built from its fields ({exc})", name, None) from None


def _field(value: Any, arrays: Any, types: dict[str, type[Node]], name: str, field_name: str, depth: int) -> Any:
    """A field's value: an array entry, a nested node, or the JSON value itself."""
    if isinstance(value, dict) and set(value) == {"array"}:
        key = value["array"]
        if not isinstance(key, str):
            raise _malformed(f"names array {key!r}, which is not a string", name, field_name)
        try:
            return arrays[key]
        except KeyError:
            raise _malformed(f"names array {key!r}, which the file does not hold", name, field_name) from None
    if isinstance(value, dict) and set(value) == {"node"}:
        return _decode(value["node"], arrays, types, name, depth + 1)
    if isinstance(value, (dict, list)) and not _plain_json(value):
        raise _malformed(f"is a JSON {_json_type(value)} that is no array entry, node or list of numbers", name,
                         field_name)
    return value


def _plain_json(value: Any) -> bool:
    """Lists (nested) of numbers and strings: what tuples of ints (stride, padding) are written as."""
    if isinstance(value, list):
        return all(_plain_json(v) for v in value) and len(value) < 1_000
    return isinstance(value, (int, float, str, bool)) or value is None


def _json_type(value: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}.get(
        type(value), "number")


def _malformed(detail: str, node: str | None, parameter: str | None) -> ModelImportError:
    return ModelImportError(detail, node=node, parameter=parameter,
                            fix="the file is damaged or was not written by spikec.ir.save_graph; save it again")


def save_graph(graph: Graph, path: str | os.PathLike) -> None:
    """Write ``graph`` to ``path`` (an ``.npz`` file)."""
    arrays: dict[str, np.ndarray] = {}
    nodes = {name: _encode(node, f"n{i}", arrays) for i, (name, node) in enumerate(graph.nodes.items())}
    header = {
        "format": FORMAT,
        "dt": graph.dt,
        "metadata": dict(graph.metadata),
        "nodes": nodes,
        "edges": [list(e) for e in graph.edges],
    }
    npzfile.write(path, _HEADER, header, arrays, default=str)


def is_graph_file(path: str | os.PathLike) -> bool:
    """Whether ``path`` is an ``.npz`` written by :func:`save_graph` (and not, say, a program).

    A missing file or a foreign one (a ``.nir``, text) is not; a file that cannot be read at all
    (permission denied, a directory, empty, a truncated or damaged zip) raises
    :class:`ModelImportError` saying which, since "not a graph" would hide the cause."""
    return npzfile.is_file(path, _HEADER, ModelImportError)


def load_graph(path: str | os.PathLike) -> Graph:
    """Read a graph written by :func:`save_graph` (validated on load).  The header is
    type-checked field by field, so a damaged one is a :class:`ModelImportError` naming the
    node and field, never a Python traceback."""
    with npzfile.read(path, _HEADER, version=FORMAT, what="graph", error=ModelImportError,
                      fix="save it with save_graph()") as (header, arrays):
        types = _node_types()
        nodes_spec = header.get("nodes")
        if not isinstance(nodes_spec, dict):
            raise _malformed(f"{os.fspath(path)!r}: 'nodes' is a JSON {_json_type(nodes_spec)}, expected an object "
                             "of node entries by name", None, "nodes")
        nodes = {name: _decode(spec, arrays, types, name) for name, spec in nodes_spec.items()}
        return Graph(nodes, _edges(header.get("edges"), path), dt=_dt(header.get("dt"), path),
                     metadata=_metadata(header.get("metadata", {}), path))


def _edges(raw: Any, path: Any) -> list[tuple[str, str]]:
    if not isinstance(raw, list) or not all(
            isinstance(e, list) and len(e) == 2 and all(isinstance(v, str) for v in e) for e in raw):
        raise _malformed(f"{os.fspath(path)!r}: 'edges' must be a JSON array of [source, target] name pairs, got "
                         f"a {_json_type(raw)}{'' if not isinstance(raw, list) else ' with other entries'}",
                         None, "edges")
    return [(a, b) for a, b in raw]


def _dt(raw: Any, path: Any) -> float:
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        raise _malformed(f"{os.fspath(path)!r}: 'dt' is a JSON {_json_type(raw)} ({raw!r}), expected a number of "
                         "seconds", None, "dt")
    return float(raw)


def _metadata(raw: Any, path: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise _malformed(f"{os.fspath(path)!r}: 'metadata' is a JSON {_json_type(raw)}, expected an object", None,
                         "metadata")
    return raw
