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

from ..errors import ModelImportError
from . import npzfile
from .graph import Graph
from .node import Node

__all__ = ["save_graph", "load_graph", "FORMAT"]

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


def _decode(spec: dict[str, Any], arrays: Any, types: dict[str, type[Node]], name: str) -> Node:
    cls = types.get(spec.get("type", ""))
    if cls is None:
        raise ModelImportError(f"unknown node type {spec.get('type')!r}", node=name,
                               fix="was it saved by a newer spikec?")
    kwargs: dict[str, Any] = {}
    for field_name, value in spec["fields"].items():
        if isinstance(value, dict) and "array" in value:
            kwargs[field_name] = arrays[value["array"]]
        elif isinstance(value, dict) and "node" in value:
            kwargs[field_name] = _decode(value["node"], arrays, types, name)
        else:
            kwargs[field_name] = value
    return cls(**kwargs)


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
    """Whether ``path`` is an ``.npz`` written by :func:`save_graph` (and not, say, a program)."""
    return npzfile.is_file(path, _HEADER)


def load_graph(path: str | os.PathLike) -> Graph:
    """Read a graph written by :func:`save_graph` (validated on load)."""
    with npzfile.read(path, _HEADER, version=FORMAT, what="graph", error=ModelImportError,
                      fix="save it with save_graph()") as (header, arrays):
        types = _node_types()
        try:
            nodes = {name: _decode(spec, arrays, types, name) for name, spec in header["nodes"].items()}
            edges = [tuple(e) for e in header["edges"]]
        except (KeyError, TypeError) as exc:
            raise ModelImportError(f"{os.fspath(path)!r}: malformed graph entry ({exc})") from None
        return Graph(nodes, edges, dt=header["dt"], metadata=header.get("metadata", {}))
