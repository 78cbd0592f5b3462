"""Per-node step functions of the reference simulator, float and fixed point.

``make_kernel(graph, name, ctx)`` returns a callable ``x -> y`` for one time step that keeps
the node's state (membranes, delay lines) inside it.  The equations implemented here are the
ones written in each node's docstring; change one only together with the other.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..errors import UnsupportedError
from . import ops
from .conv import AvgPool2d, ConvNd, SumPool2d
from .delay import Delay
from .fixed import FixedCubaLIF
from .graph import Graph
from .io import Input, Output
from .linear import Affine, Linear, Scale, SparseLinear
from .neurons import Neuron, Reset, Threshold
from .norm import BatchNorm, MembraneBatchNorm
from .reshape import Flatten

Kernel = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Context:
    dt: float
    mode: str
    dtype: np.dtype
    batch: int


def is_fixed_graph(graph: Graph) -> bool:
    return any(isinstance(n, FixedCubaLIF) for n in graph.nodes.values())


def make_kernel(graph: Graph, name: str, ctx: Context) -> Kernel:
    node = graph.nodes[name]
    for cls, factory in _FACTORIES:
        if isinstance(node, cls):
            return factory(graph, name, ctx)
    raise UnsupportedError(f"the reference simulator has no kernel for {node.kind}", node=name)


# --- helpers ------------------------------------------------------------------------------


def _param(ctx: Context, name: str, param: str, arr: np.ndarray) -> np.ndarray:
    """A weight-like parameter in the simulation's arithmetic (exact integers in fixed mode)."""
    if ctx.mode == "fixed":
        if arr.dtype.kind == "f" and np.any(arr != np.round(arr)):
            raise UnsupportedError(
                f"holds non-integer values; fixed-point simulation needs integer {param}s",
                node=name,
                parameter=param,
                fix="run the quantize pass first, or simulate with mode='float'",
            )
        return arr.astype(np.int64)
    return arr.astype(ctx.dtype)


def _float_only(ctx: Context, name: str, what: str) -> None:
    if ctx.mode == "fixed":
        raise UnsupportedError(
            f"{what} has no fixed-point form in the reference simulator",
            node=name,
            fix="run fold_batchnorm and quantize first (they turn it into integer nodes), or simulate in float mode",
        )


class _DelayLine:
    """The last ``depth`` inputs, newest first: ``line[d]`` is the input ``d`` steps ago."""

    def __init__(self, depth: int) -> None:
        self.items: deque[np.ndarray] = deque(maxlen=depth + 1)
        self.depth = depth

    def push(self, x: np.ndarray) -> None:
        self.items.appendleft(x)

    def get(self, d: int, like: np.ndarray) -> np.ndarray:
        return self.items[d] if d < len(self.items) else np.zeros_like(like)


def _delayed(delay: np.ndarray | None, apply: Callable[[np.ndarray, np.ndarray | None], np.ndarray]) -> Kernel:
    """Run ``apply(x, mask)`` once per distinct delay value on the input that many steps ago.

    ``mask`` selects the synapses of that delay (``None`` when there are no delays)."""
    if delay is None or not delay.any():
        return lambda x: apply(x, None)
    values = [int(d) for d in np.unique(delay)]
    masks = {d: delay == d for d in values}
    line = _DelayLine(max(values))

    def step(x: np.ndarray) -> np.ndarray:
        line.push(x)
        total = None
        for d in values:
            y = apply(line.get(d, x), masks[d])
            total = y if total is None else total + y
        return total

    return step


# --- projections ----------------------------------------------------------------------------


def _dense(graph: Graph, name: str, ctx: Context) -> Kernel:
    node = graph.nodes[name]
    w = _param(ctx, name, "weight", node.weight)
    bias = _param(ctx, name, "bias", node.bias) if isinstance(node, Affine) else None

    def apply(x: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
        wm = w if mask is None else np.where(mask, w, 0)
        return x @ wm.T

    inner = _delayed(node.delay, apply)
    if bias is None:
        return inner
    return lambda x: inner(x) + bias


def _sparse(graph: Graph, name: str, ctx: Context) -> Kernel:
    node: SparseLinear = graph.nodes[name]
    w = _param(ctx, name, "weight", node.weight)
    n_out = node.shape[0]

    def apply(x: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
        tgt, src, ww = ((node.target, node.source, w) if mask is None
                        else (node.target[mask], node.source[mask], w[mask]))
        y = np.zeros((x.shape[0], n_out), dtype=np.result_type(x, ww))
        np.add.at(y, (slice(None), tgt), x[:, src] * ww)
        return y

    return _delayed(node.delay, apply)


def _conv(graph: Graph, name: str, ctx: Context) -> Kernel:
    node: ConvNd = graph.nodes[name]
    w = _param(ctx, name, "weight", node.weight)
    b = _param(ctx, name, "bias", node.bias)
    return lambda x: ops.conv(x, w, b, node.stride, node.padding, node.dilation, node.groups)


def _pool(graph: Graph, name: str, ctx: Context) -> Kernel:
    node = graph.nodes[name]
    if isinstance(node, AvgPool2d):
        _float_only(ctx, name, "average pooling (a division)")
        area = ctx.dtype.type(np.prod(node.kernel_size))
        return lambda x: ops.pool(x, node.kernel_size, node.stride, node.padding) / area
    return lambda x: ops.pool(x, node.kernel_size, node.stride, node.padding)


def _scale(graph: Graph, name: str, ctx: Context) -> Kernel:
    s = _param(ctx, name, "scale", graph.nodes[name].scale)
    return lambda x: x * s


def _batchnorm(graph: Graph, name: str, ctx: Context) -> Kernel:
    _float_only(ctx, name, "BatchNorm")
    node: BatchNorm = graph.nodes[name]
    a, b = node.scale_shift()
    shape = (1, -1) + (1,) * (len(graph.out_shape(name)) - 1)
    a, b = a.reshape(shape).astype(ctx.dtype), b.reshape(shape).astype(ctx.dtype)
    return lambda x: x * a + b


def _flatten(graph: Graph, name: str, ctx: Context) -> Kernel:
    shape = graph.out_shape(name)
    return lambda x: x.reshape(x.shape[0], *shape)


def _axon_delay(graph: Graph, name: str, ctx: Context) -> Kernel:
    delay = graph.nodes[name].delay
    line = _DelayLine(int(delay.max()) if delay.size else 0)
    values = [int(d) for d in np.unique(delay)]

    def step(x: np.ndarray) -> np.ndarray:
        line.push(x)
        y = np.zeros_like(x)
        for d in values:
            m = delay == d
            y[:, m] = line.get(d, x)[:, m]
        return y

    return step


def _identity(graph: Graph, name: str, ctx: Context) -> Kernel:
    return lambda x: x


# --- neurons --------------------------------------------------------------------------------


def _float_neuron(graph: Graph, name: str, ctx: Context) -> Kernel:
    node = graph.nodes[name]
    _float_only(ctx, name, f"the float neuron model {node.kind}")
    bn = node if isinstance(node, MembraneBatchNorm) else None
    model = bn.neuron if bn is not None else node
    dt = ctx.dt
    shape = (ctx.batch, *model.shape)
    if isinstance(model, Threshold):
        thr = model.threshold.astype(ctx.dtype)
        return lambda x: (x > thr).astype(ctx.dtype)
    c = {k: v.astype(ctx.dtype) for k, v in model.coefficients(dt).items()}
    cuba = "alpha_syn" in c
    spiking = model.spiking
    thr = model.v_threshold.astype(ctx.dtype) if spiking else None
    v_reset = model.v_reset.astype(ctx.dtype) if spiking else None
    reset = model.reset if spiking else Reset.NONE
    if bn is not None:
        a, b = (arr.astype(ctx.dtype) for arr in bn.scale_shift())
        fires = lambda v: a * v + b > thr  # noqa: E731
    else:
        fires = lambda v: v > thr  # noqa: E731
    state = {"v": np.zeros(shape, ctx.dtype), "i": np.zeros(shape, ctx.dtype), "z": np.zeros(shape, ctx.dtype)}

    def step(x: np.ndarray) -> np.ndarray:
        if cuba:
            state["i"] = c["alpha_syn"] * state["i"] + c["gain_syn"] * x
            drive = state["i"]
        else:
            drive = x
        v = c["alpha"] * state["v"] + c["gain"] * drive + c["bias"]
        if reset is Reset.SUBTRACT_NEXT:
            v = v - thr * state["z"]
        if not spiking:
            state["v"] = v
            return v.copy()
        z = fires(v)
        zf = z.astype(ctx.dtype)
        if reset is Reset.VALUE:
            v = np.where(z, v_reset, v)
        elif reset is Reset.SUBTRACT:
            v = v - thr * zf
        state["v"], state["z"] = v, zf
        return zf

    return step


def _shift_round(p: np.ndarray, bits: int, rounding: str) -> np.ndarray:
    if rounding == "floor":
        return p >> bits
    mag = np.abs(p)
    if rounding == "nearest":
        mag = mag + (1 << (bits - 1))
    return np.sign(p) * (mag >> bits)


def _overflow(p: np.ndarray, bits: int, how: str) -> np.ndarray:
    if how == "saturate":
        lim = (1 << (bits - 1)) - 1
        return np.clip(p, -lim, lim)
    half = 1 << (bits - 1)
    if how == "lava_wrap":  # Lava's Loihi model: one correction into (-half, half]
        return np.where(p > half, p - 2 * half, np.where(p <= -half, p + 2 * half, p))
    return ((p + half) & ((1 << bits) - 1)) - half


def _fixed_neuron(graph: Graph, name: str, ctx: Context) -> Kernel:
    node: FixedCubaLIF = graph.nodes[name]
    if ctx.mode != "fixed":
        raise UnsupportedError(
            "is a fixed-point neuron; it only runs in fixed mode", node=name, fix="simulate with mode='fixed'"
        )
    unity = 1 << node.decay_bits
    ku, kv = unity - node.du, unity - node.dv
    D, rnd = node.decay_bits, node.rounding
    shape = (ctx.batch, *node.shape)
    state = {"u": np.zeros(shape, np.int64), "v": np.zeros(shape, np.int64), "z": np.zeros(shape, np.int64)}
    thr, v_reset, bias, reset = node.v_threshold, node.v_reset, node.bias, node.reset

    def step(x: np.ndarray) -> np.ndarray:
        u = _overflow(_shift_round(state["u"] * ku, D, rnd) + (x << node.input_shift), node.u_bits, node.u_overflow)
        v = _shift_round(state["v"] * kv, D, rnd) + u + bias
        if reset is Reset.SUBTRACT_NEXT:
            v = v - thr * state["z"]
        v = _overflow(v, node.v_bits, node.v_overflow)
        state["u"] = u
        if not node.spiking:
            state["v"] = v
            return v.copy()
        z = (v > thr).astype(np.int64)
        if reset is Reset.VALUE:
            v = np.where(z == 1, v_reset, v)
        elif reset is Reset.SUBTRACT:
            v = v - thr * z
        state["v"], state["z"] = v, z
        return z

    return step


_FACTORIES: list[tuple[type, Callable[[Graph, str, Context], Kernel]]] = [
    (Input, _identity),
    (Output, _identity),
    (Linear, _dense),
    (Affine, _dense),
    (SparseLinear, _sparse),
    (ConvNd, _conv),
    (SumPool2d, _pool),
    (AvgPool2d, _pool),
    (Scale, _scale),
    (BatchNorm, _batchnorm),
    (Flatten, _flatten),
    (Delay, _axon_delay),
    (FixedCubaLIF, _fixed_neuron),
    (Neuron, _float_neuron),
]
