"""The reference simulator: what a graph computes, batched over samples, in NumPy.

It walks :attr:`Graph.order` once per time step (see :mod:`spikec.ir.graph` for the timing
rule) with one *kernel* per node; kernels hold the node's state.  Two arithmetic modes:

- ``float``: every node in ``dtype`` (float32 by default, as PyTorch models run);
- ``fixed``: integer arithmetic in int64, exactly as specified by
  :class:`~spikec.ir.fixed.FixedCubaLIF` and integer weights.  This mode is the contract the
  C engine must meet bit for bit.  Float-only nodes (float neurons, batch-norm, average
  pooling, non-integer weights) are rejected with the node named.

Inputs and outputs are laid out ``(batch, time, *shape)``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping

import numpy as np

from ..errors import SimulationError
from . import kernels
from .graph import Graph
from .inputs import check_inputs
from .io import Input

__all__ = ["simulate", "SimResult"]


@dataclass(frozen=True)
class SimResult:
    """Outputs (and recorded node outputs) of a simulation, each ``(batch, time, *shape)``."""

    outputs: Mapping[str, np.ndarray]
    recorded: Mapping[str, np.ndarray]
    mode: str
    steps: int

    @property
    def output(self) -> np.ndarray:
        """The only output (error if the graph has several)."""
        if len(self.outputs) != 1:
            raise SimulationError(f"the graph has {len(self.outputs)} outputs; pick one from .outputs")
        return next(iter(self.outputs.values()))


def simulate(
    graph: Graph,
    inputs: np.ndarray | Mapping[str, np.ndarray],
    *,
    steps: int | None = None,
    record: Iterable[str] | str = (),
    mode: str | None = None,
    dtype: Any = np.float32,
    on_step: Callable[[int], None] | None = None,
) -> SimResult:
    """Run ``graph`` on ``inputs`` (``(batch, time, *shape)`` per Input node).

    ``steps`` defaults to the input length (longer runs see zero input after it).
    ``record`` names nodes whose outputs to keep, or ``"all"``.  ``mode`` is ``"float"`` or
    ``"fixed"``; by default ``fixed`` when the graph holds fixed-point neurons.
    """
    mode = mode or ("fixed" if kernels.is_fixed_graph(graph) else "float")
    if mode not in ("float", "fixed"):
        raise SimulationError(f"unknown mode {mode!r}", parameter="mode", fix="use 'float' or 'fixed'")
    dtype = np.dtype(np.int64) if mode == "fixed" else _float_dtype(graph, dtype)
    data = check_inputs({n: graph.out_shape(n) for n in graph.inputs}, inputs, integer=mode == "fixed", dtype=dtype)
    batch, length = next(iter(data.values())).shape[:2]
    steps = length if steps is None else int(steps)
    if steps < 0:
        raise SimulationError(f"steps={steps} must be >= 0", parameter="steps")
    names = list(graph.nodes) if record == "all" else ([record] if isinstance(record, str) else list(record))
    for n in names:
        if n not in graph.nodes:
            raise SimulationError("cannot record a node that is not in the graph", node=n)
    ctx = kernels.Context(dt=graph.dt, mode=mode, dtype=dtype, batch=batch)
    ks = {n: kernels.make_kernel(graph, n, ctx) for n in graph.order}
    keep = set(graph.outputs) | set(names)
    trace = {n: np.zeros((batch, steps, *graph.out_shape(n)), dtype=ctx.dtype) for n in keep}
    prev: dict[str, np.ndarray] = {n: np.zeros((batch, *graph.out_shape(n)), ctx.dtype) for n in graph.nodes}
    back = graph.back_edges
    preds = {n: graph.predecessors(n) for n in graph.nodes}
    for t in range(steps):
        cur: dict[str, np.ndarray] = {}
        for n in graph.order:
            node = graph.nodes[n]
            if isinstance(node, Input):
                x = data[n][:, t] if t < length else np.zeros((batch, *graph.out_shape(n)), ctx.dtype)
            else:
                srcs = preds[n]
                x = prev[srcs[0]] if (srcs[0], n) in back else cur[srcs[0]]
                for s in srcs[1:]:
                    x = x + (prev[s] if (s, n) in back else cur[s])
            cur[n] = ks[n](x)
            if n in keep:
                trace[n][:, t] = cur[n]
        prev = cur
        if on_step is not None:
            on_step(t)
    return SimResult(
        outputs={n: trace[n] for n in graph.outputs},
        recorded={n: trace[n] for n in names},
        mode=mode,
        steps=steps,
    )


def _float_dtype(graph: Graph, dtype: Any) -> np.dtype:
    """``dtype`` if a float simulation can run in it: a float type (an integer or complex one
    would silently truncate every membrane), wide enough for every parameter (1e300 overflows
    float32 to inf, and inf - inf leaves no spike)."""
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise SimulationError(f"dtype {dtype!r} is not a numpy type", parameter="dtype",
                              fix="use np.float32 or np.float64") from None
    if dt.kind != "f":
        raise SimulationError(f"dtype {dt} is not a float type", parameter="dtype",
                              fix="simulate in np.float32 or np.float64 (mode='fixed' for integer arithmetic)")
    limit = float(np.finfo(dt).max)
    for name, node in graph.nodes.items():
        for param, arr in _float_arrays(node):
            peak = float(np.max(np.abs(arr))) if arr.size else 0.0
            if peak > limit:
                raise SimulationError(f"values up to {peak:.3g} do not fit {dt} (largest {limit:.3g})", node=name,
                                      parameter=param, fix="simulate in float64 (--float64, dtype=np.float64)")
    return dt


def _float_arrays(node: Any) -> Iterable[tuple[str, np.ndarray]]:
    """A node's float parameters, including those of a wrapped node (MembraneBatchNorm's neuron)."""
    for param, arr in node.arrays():
        if arr.dtype.kind == "f":
            yield param, arr
    for f in dataclasses.fields(node):
        inner = getattr(node, f.name)
        if hasattr(inner, "arrays") and dataclasses.is_dataclass(inner):
            yield from ((f"{f.name}.{p}", a) for p, a in _float_arrays(inner))
