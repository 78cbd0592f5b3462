"""Shared builders for the IR tests (handed out as fixtures: test dirs are not packages)."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import numpy as np
import pytest
from spikec import ir
from spikec.errors import SpikecError

_ANY = object()


def _chain(*layers: ir.Node, in_shape, dt: float = 1.0, out_shape=None) -> ir.Graph:
    """input -> l0 -> l1 -> ... -> output."""
    nodes = {"input": ir.Input(in_shape)}
    nodes.update({f"l{i}": layer for i, layer in enumerate(layers)})
    nodes["output"] = ir.Output(out_shape)
    names = list(nodes)
    return ir.Graph(nodes, list(zip(names[:-1], names[1:])), dt=dt)


@contextmanager
def _raises_named(exc: type[SpikecError], node, parameter=_ANY) -> Iterator[pytest.ExceptionInfo]:
    """``pytest.raises(exc)`` that also checks the error names ``node`` and ``parameter``,
    both as attributes and in the message a user reads."""
    with pytest.raises(exc) as info:
        yield info
    err = info.value
    assert err.node == node, f"error names node {err.node!r}, expected {node!r}: {err}"
    if node is not None:
        assert f"'{node}'" in str(err)
    if parameter is not _ANY:
        assert err.parameter == parameter, f"error names parameter {err.parameter!r}, expected {parameter!r}: {err}"
        if parameter is not None:
            assert f"'{parameter}'" in str(err)


def _run(graph: ir.Graph, x, **kw) -> np.ndarray:
    """The single output of ``graph`` for one sample ``x`` of shape (time, *shape), in float64."""
    kw.setdefault("dtype", np.float64)
    return ir.simulate(graph, np.asarray(x)[None], **kw).output[0]


@pytest.fixture(scope="session")
def chain():
    return _chain


@pytest.fixture(scope="session")
def raises_named():
    return _raises_named


@pytest.fixture(scope="session")
def run():
    return _run


@pytest.fixture(scope="session")
def torch():
    """torch when installed (the Python 3.10 core environment has none)."""
    return pytest.importorskip("torch")
