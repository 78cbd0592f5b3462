"""Lowering a spikec.ir Graph to a runtime Program, node for node.

What every target shares: each Input and neuron node becomes a population; a projection node
(Linear, Affine, SparseLinear, Conv, pooling, Scale, BatchNorm, Delay) becomes synapses
straight into the neuron it feeds when it has exactly one successor and that successor is a
neuron (through a recurrent edge only without a bias); otherwise (a projection feeding a
projection, an output, several consumers) its value is materialised in a ``pass`` relay
population.  Flatten and
Output are views of their source (populations are flat).  Back edges get ``delay_base=1``,
the IR's "recurrent edges read the previous step" rule.  The result computes exactly what
:func:`spikec.ir.simulate` computes; a target then narrows kernels, arithmetic and placement.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import UnsupportedError
from ..ir import kernels as ir_kernels
from ..ir.conv import AvgPool2d, Conv1d, Conv2d, SumPool2d, _ConvNd
from ..ir.delay import Delay
from ..ir.fixed import FixedCubaLIF
from ..ir.graph import Graph
from ..ir.io import Input, Output
from ..ir.linear import Affine, Linear, Scale, SparseLinear
from ..ir.neurons import Neuron, Reset, Threshold
from ..ir.norm import BatchNorm, MembraneBatchNorm
from ..ir.reshape import Flatten
from ..runtime.program import Population, Program, Projection

__all__ = ["lower"]

_PROJECTIONS = (Linear, Affine, SparseLinear, _ConvNd, SumPool2d, AvgPool2d, Scale, BatchNorm, Delay)
_VIEWS = (Flatten, Output)


def lower(graph: Graph, *, arithmetic: str | None = None) -> Program:
    """The Program computing what ``graph`` computes (``arithmetic``: ``"float"`` or ``"fixed"``,
    by default fixed exactly when the graph holds fixed-point neurons)."""
    arithmetic = arithmetic or ("fixed" if ir_kernels.is_fixed_graph(graph) else "float")
    if arithmetic not in ("float", "fixed"):
        raise UnsupportedError(f"arithmetic={arithmetic!r}", parameter="arithmetic", fix="use 'float' or 'fixed'")
    back = graph.back_edges
    succ = {n: graph.successors(n) for n in graph.nodes}
    preds = {n: graph.predecessors(n) for n in graph.nodes}

    def direct(n: str) -> bool:
        """A projection whose synapses go straight into the one neuron it feeds.  Through a
        recurrent edge too (its synapses get one more step of delay), unless it adds a bias:
        a back edge delivers nothing at step 0, a bias would arrive from step 0."""
        s = succ[n]
        if len(s) != 1 or not isinstance(graph.nodes[s[0]], Neuron):
            return False
        return (n, s[0]) not in back or not _has_bias(graph.nodes[n])

    def is_pop(n: str) -> bool:
        node = graph.nodes[n]
        if isinstance(node, (Input, Neuron)):
            return True
        if isinstance(node, _PROJECTIONS):
            return not direct(n)
        if isinstance(node, _VIEWS):
            return len(preds[n]) != 1 or (preds[n][0], n) in back
        raise UnsupportedError(f"cannot lower {node.kind} to the runtime", node=n)

    pop_nodes = [n for n in graph.order if is_pop(n)]

    def source_pop(n: str) -> str:
        """The population whose output equals node n's output (views resolve to their source)."""
        while n not in pop_nodes:
            n = preds[n][0]
        return n

    populations = [_population(graph, n, arithmetic) for n in pop_nodes]
    input_bias: dict[str, np.ndarray] = {}
    biased: set[tuple[str, str]] = set()
    projections: list[Projection] = []

    def connect(via: str, src_node: str, dst: str, extra_delay: int) -> None:
        """Synapses of projection node ``via`` (or identity when via is None) from src_node's value to dst."""
        src = source_pop(src_node)
        base = extra_delay
        name = f"{src}->{dst}" if via is None else f"{via}:{src}->{dst}"
        # Two edges may join the same pair (a node fed twice by one source, directly and
        # through a view): each is its own projection, numbered.
        taken = {j.name for j in projections}
        if name in taken:
            name = next(f"{name}#{k}" for k in range(2, len(taken) + 3) if f"{name}#{k}" not in taken)
        if via is None:
            size = int(np.prod(graph.out_shape(src)))
            projections.append(_identity(name, src, dst, size, base, arithmetic))
            return
        proj, bias = _synapses(graph, via, name, src, dst, base, arithmetic)
        projections.append(proj)
        # A projection node with several inputs sums them first and adds its bias once.
        if bias is not None and (via, dst) not in biased:
            biased.add((via, dst))
            input_bias[dst] = input_bias.get(dst, 0) + bias

    for n in pop_nodes:
        node = graph.nodes[n]
        if isinstance(node, Input):
            continue
        if isinstance(node, _PROJECTIONS):
            for p in preds[n]:
                connect(n, p, n, int((p, n) in back))
            continue
        for p in preds[n]:
            b = int((p, n) in back)
            if p not in pop_nodes and isinstance(graph.nodes[p], _PROJECTIONS):
                for q in preds[p]:
                    connect(p, q, n, b + int((q, p) in back))
            else:
                connect(None, p, n, b)
    populations = [
        _with_input_bias(p, input_bias[p.name], arithmetic) if p.name in input_bias else p for p in populations
    ]
    return Program(
        dt=graph.dt,
        arithmetic=arithmetic,
        populations=tuple(populations),
        projections=tuple(projections),
        inputs={n: n for n in graph.inputs},
        outputs={n: source_pop(n) for n in graph.outputs},
        output_shapes={n: graph.out_shape(n) for n in graph.outputs},
        metadata={"lowered_from": "spikec.ir", "graph_metadata": _jsonable(graph.metadata)},
    )


# --- populations ----------------------------------------------------------------------------------


def _population(graph: Graph, n: str, arithmetic: str) -> Population:
    node = graph.nodes[n]
    shape = graph.out_shape(n)
    if isinstance(node, Input):
        return Population(n, "input", shape)
    if not isinstance(node, Neuron):
        return Population(n, "pass", shape)
    if isinstance(node, FixedCubaLIF):
        if arithmetic != "fixed":
            raise UnsupportedError("is a fixed-point neuron; it only runs in a fixed program", node=n,
                                   fix="lower with arithmetic='fixed'")
        params = {k: getattr(node, k).reshape(-1) for k in ("du", "dv", "bias", "v_threshold", "v_reset")}
        config = {k: getattr(node, k) for k in ("decay_bits", "input_shift", "u_bits", "v_bits", "u_overflow", "v_overflow", "rounding")}
        return Population(n, "cuba_fixed", shape, params, node.spiking, node.reset.value, config)
    if arithmetic != "float":
        raise UnsupportedError(f"the float neuron model {node.kind} has no fixed-point form", node=n,
                               fix="run the quantize pass first, or lower with arithmetic='float'")
    model = node.neuron if isinstance(node, MembraneBatchNorm) else node
    size = int(np.prod(shape))
    flat = lambda a: np.broadcast_to(np.asarray(a, np.float64), shape).reshape(-1)  # noqa: E731
    if isinstance(model, Threshold):
        params = {"alpha": np.zeros(size), "gain": np.ones(size), "bias": np.zeros(size), "v_threshold": flat(model.threshold)}
        return Population(n, "cuba_float", shape, params, True, Reset.NONE.value)
    params = {k: flat(v) for k, v in model.coefficients(graph.dt).items()}
    spiking = bool(model.spiking)
    if spiking:
        params["v_threshold"] = flat(model.v_threshold)
        params["v_reset"] = flat(model.v_reset)
    if isinstance(node, MembraneBatchNorm):
        a, b = node.scale_shift()
        params["fire_scale"], params["fire_shift"] = flat(a), flat(b)
    return Population(n, "cuba_float", shape, params, spiking, model.reset.value if spiking else "none")


def _has_bias(node: Any) -> bool:
    if isinstance(node, (Affine, _ConvNd)):
        return bool(np.any(node.bias))
    return isinstance(node, BatchNorm)


def _with_input_bias(pop: Population, bias: np.ndarray, arithmetic: str) -> Population:
    if pop.kernel == "input":  # unreachable: nothing projects into an input
        raise UnsupportedError("an input cannot take a bias", node=pop.name)
    dtype = np.int64 if arithmetic == "fixed" else np.float64
    return Population(pop.name, pop.kernel, pop.shape, {**pop.params, "input_bias": np.asarray(bias, dtype)},
                      pop.spiking, pop.reset, pop.config)


# --- synapses -------------------------------------------------------------------------------------


def _weights(arr: np.ndarray, arithmetic: str, node: str, param: str) -> np.ndarray:
    if arithmetic == "fixed":
        if arr.dtype.kind == "f" and np.any(arr != np.round(arr)):
            raise UnsupportedError("holds non-integer values; a fixed program needs integer weights", node=node,
                                   parameter=param, fix="run the quantize pass first, or lower with arithmetic='float'")
        return arr.astype(np.int64)
    return arr.astype(np.float64)


def _identity(name: str, src: str, dst: str, size: int, base: int, arithmetic: str, delay: Any = None,
              weight: Any = None) -> Projection:
    idx = np.arange(size, dtype=np.int64)
    w = np.ones(size, np.int64 if arithmetic == "fixed" else np.float64) if weight is None else weight
    return Projection(name, src, dst, "sparse", w, delay, base, target_index=idx, source_index=idx)


def _synapses(graph: Graph, n: str, name: str, src: str, dst: str, base: int, arithmetic: str) -> tuple[Projection, np.ndarray | None]:
    """The projection for node n's synapses, and the bias it adds to each target neuron (flat)."""
    node = graph.nodes[n]
    out_shape = graph.out_shape(n)
    size = int(np.prod(out_shape))
    if isinstance(node, (Linear, Affine)):
        w = _weights(node.weight, arithmetic, n, "weight")
        proj = Projection(name, src, dst, "dense", w, node.delay, base)
        bias = _weights(node.bias, arithmetic, n, "bias") if isinstance(node, Affine) else None
        return proj, bias
    if isinstance(node, SparseLinear):
        w = _weights(node.weight, arithmetic, n, "weight")
        return Projection(name, src, dst, "sparse", w, node.delay, base, node.target, node.source), None
    if isinstance(node, Scale):
        w = _weights(node.scale, arithmetic, n, "scale").reshape(-1)
        return _identity(name, src, dst, size, base, arithmetic, weight=w), None
    if isinstance(node, Delay):
        return _identity(name, src, dst, size, base, arithmetic, delay=node.delay.reshape(-1)), None
    if isinstance(node, BatchNorm):
        if arithmetic == "fixed":
            raise UnsupportedError("BatchNorm has no fixed-point form", node=n, fix="run fold_batchnorm and quantize first")
        a, b = node.scale_shift()
        expand = (slice(None),) + (None,) * (len(out_shape) - 1)
        a, b = (np.broadcast_to(v[expand], out_shape).reshape(-1).astype(np.float64) for v in (a, b))
        return _identity(name, src, dst, size, base, arithmetic, weight=a), b
    in_shape = graph.in_shape(n)
    if isinstance(node, _ConvNd):
        w = _weights(node.weight, arithmetic, n, "weight")
        bias = _weights(node.bias, arithmetic, n, "bias")
        geo, w = _conv_geometry(node, in_shape, out_shape, w)
        flat_bias = np.repeat(bias, int(np.prod(out_shape[1:])))
        return Projection(name, src, dst, "conv", w, None, base, geometry=geo), (flat_bias if np.any(bias) else None)
    if isinstance(node, (SumPool2d, AvgPool2d)):
        c = in_shape[0]
        kh, kw = node.kernel_size
        if isinstance(node, AvgPool2d):
            if arithmetic == "fixed":
                raise UnsupportedError("average pooling (a division) has no fixed-point form", node=n,
                                       fix="use SumPool2d and fold the 1/area into the next weights")
            w = np.full((c, 1, kh, kw), 1.0 / (kh * kw))
        else:
            w = np.ones((c, 1, kh, kw), np.int64 if arithmetic == "fixed" else np.float64)
        geo = {"in_shape": in_shape, "out_shape": out_shape, "stride": node.stride, "dilation": (1, 1),
               "padding": node.padding, "groups": c}
        return Projection(name, src, dst, "conv", w, None, base, geometry=geo), None
    raise UnsupportedError(f"cannot lower {node.kind} to synapses", node=n)


def _conv_geometry(node: _ConvNd, in_shape: tuple, out_shape: tuple, w: np.ndarray) -> tuple[dict, np.ndarray]:
    if isinstance(node, Conv1d):  # a 1-D convolution is a 2-D one of height 1
        return {
            "in_shape": (in_shape[0], 1, in_shape[1]), "out_shape": (out_shape[0], 1, out_shape[1]),
            "stride": (1, node.stride[0]), "dilation": (1, node.dilation[0]),
            "padding": ((0, 0), node.padding[0]), "groups": node.groups,
        }, w[:, :, None, :]
    assert isinstance(node, Conv2d)
    return {
        "in_shape": in_shape, "out_shape": out_shape, "stride": node.stride, "dilation": node.dilation,
        "padding": node.padding, "groups": node.groups,
    }, w


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, np.generic):
        return value.item()
    return repr(value)
