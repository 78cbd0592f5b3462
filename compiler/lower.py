"""Lowering a spikec.ir Graph to a runtime Program, node for node.

What every target shares: each Input and neuron node becomes a population; a projection node
(Linear, Affine, SparseLinear, Conv, pooling, Scale, BatchNorm, Delay) becomes synapses
straight into the neuron it feeds when it has exactly one successor and that successor is a
neuron (through a recurrent edge only without a bias); otherwise (a projection feeding a
projection, an output, several consumers) its value is materialised in a ``pass`` relay
population.  Flatten and Output are views of their source (populations are flat).  Back
edges get ``delay_base=1``, the IR's "recurrent edges read the previous step" rule.  The
result computes exactly what :func:`spikec.ir.simulate` computes; a target then narrows
kernels, arithmetic and placement.

:data:`LOWERINGS` says, per IR node kind, which of those roles it plays and builds its
population or synapses: a new node kind is one entry there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, NamedTuple

import numpy as np

from ..errors import UnsupportedError
from ..ir import kernels as ir_kernels
from ..ir.conv import AvgPool2d, Conv1d, Conv2d, ConvNd, SumPool2d
from ..ir.delay import Delay
from ..ir.fixed import FixedCubaLIF
from ..ir.graph import Graph
from ..ir.io import Input, Output
from ..ir.linear import Affine, Linear, Scale, SparseLinear
from ..ir.neurons import Neuron, Reset, Threshold
from ..ir.norm import BatchNorm, MembraneBatchNorm
from ..ir.reshape import Flatten
from ..runtime.program import Population, Program, Projection

__all__ = ["lower", "Lowering", "LOWERINGS", "Wire"]


class Wire(NamedTuple):
    """Where the synapses of one projection go: the projection's name, its source and target
    populations, and the steps of delay every synapse gets on top of its own."""

    name: str
    src: str
    dst: str
    base: int


@dataclass(frozen=True)
class Lowering:
    """How one IR node kind lowers (see :data:`LOWERINGS`).

    ``role``:

    - ``"input"``, ``"neuron"``: the node becomes the population ``population(graph, name,
      arithmetic)`` builds;
    - ``"projection"``: the node becomes the synapses ``synapses(graph, name, wire, arithmetic)``
      builds (a Projection, and the flat bias it adds to each target neuron, or None), straight
      into the neuron it feeds or into a ``pass`` relay; ``adds_bias(node)`` says beforehand
      whether there will be a bias (a bias cannot ride on a recurrent edge);
    - ``"view"``: the node is its source's value, or a ``pass`` relay where it cannot be.
    """

    role: str
    population: Callable[[Graph, str, str], Population] | None = None
    synapses: Callable[[Graph, str, Wire, str], tuple[Projection, np.ndarray | None]] | None = None
    adds_bias: Callable[[Any], bool] = lambda node: False

    def __post_init__(self) -> None:
        builds = {"input": self.population, "neuron": self.population, "projection": self.synapses, "view": True}
        if self.role not in builds:
            raise ValueError(f"unknown role {self.role!r}, expected one of {sorted(builds)}")
        if builds[self.role] is None:
            raise ValueError(f"a {self.role!r} lowering needs its builder "
                             f"({'synapses' if self.role == 'projection' else 'population'})")


def lower(graph: Graph, *, arithmetic: str | None = None) -> Program:
    """The Program computing what ``graph`` computes (``arithmetic``: ``"float"`` or ``"fixed"``,
    by default fixed exactly when the graph holds fixed-point neurons)."""
    arithmetic = arithmetic or ("fixed" if ir_kernels.is_fixed_graph(graph) else "float")
    if arithmetic not in ("float", "fixed"):
        raise UnsupportedError(f"arithmetic={arithmetic!r}", parameter="arithmetic", fix="use 'float' or 'fixed'")
    back = graph.back_edges
    succ = {n: graph.successors(n) for n in graph.nodes}
    preds = {n: graph.predecessors(n) for n in graph.nodes}
    rule = {n: _lowering(graph, n) for n in graph.order}

    def direct(n: str) -> bool:
        """A projection whose synapses go straight into the one neuron it feeds.  Through a
        recurrent edge too (its synapses get one more step of delay), unless it adds a bias:
        a back edge delivers nothing at step 0, a bias would arrive from step 0."""
        s = succ[n]
        if len(s) != 1 or rule[s[0]].role != "neuron":
            return False
        return (n, s[0]) not in back or not rule[n].adds_bias(graph.nodes[n])

    def is_pop(n: str) -> bool:
        role = rule[n].role
        if role == "projection":
            return not direct(n)
        if role == "view":
            return len(preds[n]) != 1 or (preds[n][0], n) in back
        return True  # inputs and neurons

    pop_nodes = [n for n in graph.order if is_pop(n)]

    def source_pop(n: str) -> str:
        """The population whose output equals node n's output (views resolve to their source)."""
        while n not in pop_nodes:
            n = preds[n][0]
        return n

    populations = [(rule[n].population or _relay)(graph, n, arithmetic) for n in pop_nodes]
    input_bias: dict[str, np.ndarray] = {}
    biased: set[tuple[str, str]] = set()
    projections: list[Projection] = []

    def connect(via: str | None, src_node: str, dst: str, extra_delay: int) -> None:
        """Synapses of projection node ``via`` (or identity when via is None) from src_node's value to dst."""
        src = source_pop(src_node)
        name = f"{src}->{dst}" if via is None else f"{via}:{src}->{dst}"
        # Two edges may join the same pair (a node fed twice by one source, directly and
        # through a view): each is its own projection, numbered.
        taken = {j.name for j in projections}
        if name in taken:
            name = next(f"{name}#{k}" for k in range(2, len(taken) + 3) if f"{name}#{k}" not in taken)
        wire = Wire(name, src, dst, extra_delay)
        if via is None:
            projections.append(_identity(wire, int(np.prod(graph.out_shape(src))), arithmetic))
            return
        proj, bias = rule[via].synapses(graph, via, wire, arithmetic)
        projections.append(proj)
        # A projection node with several inputs sums them first and adds its bias once.
        if bias is not None and (via, dst) not in biased:
            biased.add((via, dst))
            input_bias[dst] = input_bias.get(dst, 0) + bias

    for n in pop_nodes:
        role = rule[n].role
        if role == "input":
            continue
        if role == "projection":
            for p in preds[n]:
                connect(n, p, n, int((p, n) in back))
            continue
        for p in preds[n]:
            b = int((p, n) in back)
            if p not in pop_nodes and rule[p].role == "projection":
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


def _lowering(graph: Graph, n: str) -> Lowering:
    """The table entry of node n's kind (or of the nearest base class that has one)."""
    node = graph.nodes[n]
    for cls in type(node).__mro__:
        if cls in LOWERINGS:
            return LOWERINGS[cls]
    raise UnsupportedError(f"cannot lower {node.kind} to the runtime", node=n,
                           fix=f"express it with supported nodes, or give {node.kind} an entry in "
                               "spikec.compiler.lower.LOWERINGS")


# --- populations ----------------------------------------------------------------------------------


def _input(graph: Graph, n: str, arithmetic: str) -> Population:
    return Population(n, "input", graph.out_shape(n))


def _relay(graph: Graph, n: str, arithmetic: str) -> Population:
    """The ``pass`` population a projection or view becomes where its value must exist."""
    return Population(n, "pass", graph.out_shape(n))


def _fixed_neuron(graph: Graph, n: str, arithmetic: str) -> Population:
    node = graph.nodes[n]
    if arithmetic != "fixed":
        raise UnsupportedError("is a fixed-point neuron; it only runs in a fixed program", node=n,
                               fix="lower with arithmetic='fixed'")
    params = {k: getattr(node, k).reshape(-1) for k in ("du", "dv", "bias", "v_threshold", "v_reset")}
    config = {k: getattr(node, k)
              for k in ("decay_bits", "input_shift", "u_bits", "v_bits", "u_overflow", "v_overflow", "rounding")}
    return Population(n, "cuba_fixed", graph.out_shape(n), params, node.spiking, node.reset.value, config)


def _float_neuron(graph: Graph, n: str, arithmetic: str) -> Population:
    """Every float neuron model (a membrane batch-norm's too) is one ``cuba_float`` population."""
    node = graph.nodes[n]
    shape = graph.out_shape(n)
    if arithmetic != "float":
        raise UnsupportedError(f"the float neuron model {node.kind} has no fixed-point form", node=n,
                               fix="run the quantize pass first, or lower with arithmetic='float'")
    model = node.neuron if isinstance(node, MembraneBatchNorm) else node
    size = int(np.prod(shape))
    flat = lambda a: np.broadcast_to(np.asarray(a, np.float64), shape).reshape(-1)  # noqa: E731
    if isinstance(model, Threshold):
        params = {"alpha": np.zeros(size), "gain": np.ones(size), "bias": np.zeros(size),
                  "v_threshold": flat(model.threshold)}
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


def _identity(wire: Wire, size: int, arithmetic: str, delay: Any = None, weight: Any = None) -> Projection:
    idx = np.arange(size, dtype=np.int64)
    w = np.ones(size, np.int64 if arithmetic == "fixed" else np.float64) if weight is None else weight
    return Projection(wire.name, wire.src, wire.dst, "sparse", w, delay, wire.base, target_index=idx, source_index=idx)


def _size(graph: Graph, n: str) -> int:
    return int(np.prod(graph.out_shape(n)))


def _linear(graph: Graph, n: str, wire: Wire, arithmetic: str) -> tuple[Projection, None]:
    node = graph.nodes[n]
    w = _weights(node.weight, arithmetic, n, "weight")
    return Projection(wire.name, wire.src, wire.dst, "dense", w, node.delay, wire.base), None


def _affine(graph: Graph, n: str, wire: Wire, arithmetic: str) -> tuple[Projection, np.ndarray]:
    proj, _ = _linear(graph, n, wire, arithmetic)
    return proj, _weights(graph.nodes[n].bias, arithmetic, n, "bias")


def _sparse(graph: Graph, n: str, wire: Wire, arithmetic: str) -> tuple[Projection, None]:
    node = graph.nodes[n]
    w = _weights(node.weight, arithmetic, n, "weight")
    return Projection(wire.name, wire.src, wire.dst, "sparse", w, node.delay, wire.base, node.target, node.source), None


def _scale(graph: Graph, n: str, wire: Wire, arithmetic: str) -> tuple[Projection, None]:
    w = _weights(graph.nodes[n].scale, arithmetic, n, "scale").reshape(-1)
    return _identity(wire, _size(graph, n), arithmetic, weight=w), None


def _delay(graph: Graph, n: str, wire: Wire, arithmetic: str) -> tuple[Projection, None]:
    return _identity(wire, _size(graph, n), arithmetic, delay=graph.nodes[n].delay.reshape(-1)), None


def _batchnorm(graph: Graph, n: str, wire: Wire, arithmetic: str) -> tuple[Projection, np.ndarray]:
    if arithmetic == "fixed":
        raise UnsupportedError("BatchNorm has no fixed-point form", node=n, fix="run fold_batchnorm and quantize first")
    out_shape = graph.out_shape(n)
    a, b = graph.nodes[n].scale_shift()
    expand = (slice(None),) + (None,) * (len(out_shape) - 1)
    a, b = (np.broadcast_to(v[expand], out_shape).reshape(-1).astype(np.float64) for v in (a, b))
    return _identity(wire, _size(graph, n), arithmetic, weight=a), b


def _conv(graph: Graph, n: str, wire: Wire, arithmetic: str) -> tuple[Projection, np.ndarray | None]:
    node = graph.nodes[n]
    out_shape = graph.out_shape(n)
    w = _weights(node.weight, arithmetic, n, "weight")
    bias = _weights(node.bias, arithmetic, n, "bias")
    geo, w = _conv_geometry(node, graph.in_shape(n), out_shape, w)
    flat_bias = np.repeat(bias, int(np.prod(out_shape[1:])))
    return (Projection(wire.name, wire.src, wire.dst, "conv", w, None, wire.base, geometry=geo),
            (flat_bias if np.any(bias) else None))


def _conv_geometry(node: ConvNd, in_shape: tuple, out_shape: tuple, w: np.ndarray) -> tuple[dict, np.ndarray]:
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


def _sum_pool(graph: Graph, n: str, wire: Wire, arithmetic: str) -> tuple[Projection, None]:
    c = graph.in_shape(n)[0]
    kh, kw = graph.nodes[n].kernel_size
    return _pool(graph, n, wire, np.ones((c, 1, kh, kw), np.int64 if arithmetic == "fixed" else np.float64))


def _avg_pool(graph: Graph, n: str, wire: Wire, arithmetic: str) -> tuple[Projection, None]:
    if arithmetic == "fixed":
        raise UnsupportedError("average pooling (a division) has no fixed-point form", node=n,
                               fix="use SumPool2d and fold the 1/area into the next weights")
    c = graph.in_shape(n)[0]
    kh, kw = graph.nodes[n].kernel_size
    return _pool(graph, n, wire, np.full((c, 1, kh, kw), 1.0 / (kh * kw)))


def _pool(graph: Graph, n: str, wire: Wire, w: np.ndarray) -> tuple[Projection, None]:
    """Pooling is a depthwise convolution with the fixed kernel ``w`` (c, 1, k_h, k_w)."""
    node = graph.nodes[n]
    geo = {"in_shape": graph.in_shape(n), "out_shape": graph.out_shape(n), "stride": node.stride, "dilation": (1, 1),
           "padding": node.padding, "groups": w.shape[0]}
    return Projection(wire.name, wire.src, wire.dst, "conv", w, None, wire.base, geometry=geo), None


def _stored_bias(node: Any) -> bool:
    return bool(np.any(node.bias))


def _projection(synapses: Callable[..., tuple[Projection, np.ndarray | None]],
                adds_bias: Callable[[Any], bool] = lambda node: False) -> Lowering:
    return Lowering("projection", synapses=synapses, adds_bias=adds_bias)


_VIEW = Lowering("view")

# Every IR node kind, and how it lowers.  A node's kind is looked up along its class's MRO,
# so Neuron covers every float model and ConvNd both convolutions.
LOWERINGS: dict[type, Lowering] = {
    Input: Lowering("input", population=_input),
    Neuron: Lowering("neuron", population=_float_neuron),
    FixedCubaLIF: Lowering("neuron", population=_fixed_neuron),
    Linear: _projection(_linear),
    Affine: _projection(_affine, adds_bias=_stored_bias),
    SparseLinear: _projection(_sparse),
    ConvNd: _projection(_conv, adds_bias=_stored_bias),
    SumPool2d: _projection(_sum_pool),
    AvgPool2d: _projection(_avg_pool),
    Scale: _projection(_scale),
    BatchNorm: _projection(_batchnorm, adds_bias=lambda node: True),
    Delay: _projection(_delay),
    Flatten: _VIEW,
    Output: _VIEW,
}


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
