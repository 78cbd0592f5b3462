"""One NIR node <-> one spikec IR node, in both directions (nir 1.0.8).

Import works on *node specs* (the NIR type name and its raw fields), not on ``nir`` objects:
``nir``'s constructors assert equal parameter shapes, and some writers (snnTorch, Sinabs) give
a population's parameters as scalars, ``(1,)`` or ``(C, 1, 1)`` arrays, or as torch tensors.
Reading the raw fields lets spikec broadcast those from the *graph's* shapes where that is
unambiguous, and name the node and parameter where it is not.

NIR's field names and spikec's are the same for every neuron model, so one table serves both
directions.  The NIR semantics of a spiking neuron is reset-to-``v_reset`` (``Reset.VALUE``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import numpy as np

from ... import ir
from ...errors import ModelImportError, ShapeError, SpikecError, UnsupportedError
from ...ir.conv import normalize_padding
from ...ir.limits import ENV_VAR, check_size
from ...ir.node import Node, Shape

__all__ = ["NodeSpec", "import_node", "import_bytes", "declared_input_shape", "export_node", "delay_steps",
           "PASS_THROUGH", "IMPORTABLE"]

# (spikec class, NIR fields in order, NIR defaults for optional fields)
NEURONS: dict[str, tuple[type[ir.Neuron], tuple[str, ...], dict[str, float]]] = {
    "LIF": (ir.LIF, ("tau", "r", "v_leak", "v_threshold", "v_reset"), {"v_reset": 0.0}),
    "CubaLIF": (
        ir.CubaLIF,
        ("tau_syn", "tau_mem", "r", "v_leak", "v_threshold", "v_reset", "w_in"),
        {"v_reset": 0.0, "w_in": 1.0},
    ),
    "IF": (ir.IF, ("r", "v_threshold", "v_reset"), {"v_reset": 0.0}),
    "LI": (ir.LI, ("tau", "r", "v_leak"), {}),
    "CubaLI": (ir.CubaLI, ("tau_syn", "tau_mem", "r", "v_leak", "w_in"), {"w_in": 1.0}),
    "I": (ir.Integrator, ("r",), {}),
    "Threshold": (ir.Threshold, ("threshold",), {}),
}

#: NIR types that only route data (dropped on import, their edges joined through).
PASS_THROUGH = ("Identity",)

_FIELDS: dict[str, tuple[str, ...]] = {
    "Input": ("shape",),
    "Output": ("shape",),
    "Affine": ("weight", "bias"),
    "Linear": ("weight",),
    "Scale": ("scale",),
    "Conv1d": ("input_shape", "weight", "stride", "padding", "dilation", "groups", "bias"),
    "Conv2d": ("input_shape", "weight", "stride", "padding", "dilation", "groups", "bias"),
    "SumPool2d": ("kernel_size", "stride", "padding"),
    "AvgPool2d": ("kernel_size", "stride", "padding"),
    "Flatten": ("input_type", "start_dim", "end_dim"),
    "Delay": ("delay",),
    "Identity": ("shape",),
    **{kind: fields for kind, (_, fields, _) in NEURONS.items()},
}
_OPTIONAL: dict[str, tuple[str, ...]] = {
    "Output": ("shape",),
    "Conv1d": ("input_shape",),
    "Conv2d": ("input_shape",),
    "Flatten": ("input_type", "start_dim", "end_dim"),
    "Identity": ("shape",),
    **{kind: tuple(defaults) for kind, (_, _, defaults) in NEURONS.items()},
}

#: Every NIR node type from_nir reads (plus nested NIRGraph).
IMPORTABLE = tuple(_FIELDS)


@dataclass(frozen=True)
class NodeSpec:
    """A NIR node as read: ``name`` is its flat (dotted) name, ``params`` its raw fields."""

    name: str
    kind: str
    params: Mapping[str, Any] = field(default_factory=dict)


# --- reading raw fields -------------------------------------------------------------------


def check_fields(spec: NodeSpec) -> None:
    """Unknown types, missing and unexpected fields, each named with the node."""
    if spec.kind not in _FIELDS:
        raise ModelImportError(
            f"has NIR type {spec.kind!r}, which spikec does not read",
            node=spec.name,
            fix=f"supported NIR types: {', '.join(sorted(_FIELDS))} and nested NIRGraph",
        )
    known, optional = _FIELDS[spec.kind], _OPTIONAL.get(spec.kind, ())
    for f in known:
        if f not in optional and spec.params.get(f) is None:
            raise ModelImportError(
                f"the {spec.kind} node has no field {f!r}",
                node=spec.name,
                parameter=f,
                fix="the file is incomplete or was written by a broken exporter; re-export it",
            )
    extra = sorted(set(spec.params) - set(known))
    if extra:
        raise ModelImportError(
            f"the {spec.kind} node has unknown field(s) {extra}",
            node=spec.name,
            parameter=extra[0],
            fix=f"nir 1.0.8's {spec.kind} has fields {list(known)}; was the file written by another NIR version?",
        )


def _raw(value: Any) -> Any:
    if hasattr(value, "detach"):  # torch tensors, as Sinabs and snnTorch put into NIR nodes
        value = value.detach().cpu().numpy()
    if isinstance(value, bytes):
        value = value.decode("utf8")
    return value


def _array(spec: NodeSpec, key: str, default: Any = None, dtype: Any = None) -> np.ndarray:
    value = _raw(spec.params.get(key))
    if value is None:
        value = default
    if np.iscomplexobj(value):  # a cast to float would drop the imaginary part with only a warning
        raise ModelImportError(f"has the complex dtype {np.asarray(value).dtype}; NIR parameters are real",
                               node=spec.name, parameter=key, fix="write real values (the exporter's .real or abs())")
    try:
        arr = np.asarray(value, dtype=dtype)
        if dtype is None and arr.dtype.kind not in "biuf":
            arr = arr.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise ModelImportError(f"is not numeric ({exc})", node=spec.name, parameter=key) from None
    return arr


def _ints(spec: NodeSpec, key: str) -> tuple[int, ...]:
    arr = _array(spec, key, dtype=np.float64)
    if arr.ndim > 1 or not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
        raise ModelImportError(f"must be an integer or a 1-D list of integers, got {arr!r}",
                               node=spec.name, parameter=key)
    return tuple(int(v) for v in np.atleast_1d(arr))


def _shape(spec: NodeSpec, key: str) -> Shape:
    shape = _ints(spec, key)
    if not shape or min(shape) < 1:
        raise ShapeError(f"shape {shape} must be non-empty and positive", node=spec.name, parameter=key)
    return shape


def _per_neuron(spec: NodeSpec, key: str, arr: np.ndarray, shape: Shape) -> np.ndarray:
    """``arr`` as an array of the population's ``shape``, broadcasting only what is unambiguous:
    a single value, or an array of the same rank whose axes are the population's or 1 (such as
    ``(C, 1, 1)`` for ``(C, H, W)``).  A lower-rank array such as ``(C,)`` is rejected: NumPy
    would align it with the *last* axis, not the channels."""
    arr = arr.astype(np.float64)
    if arr.shape == shape:
        return arr
    if arr.size == 1:
        return np.full(shape, float(arr.reshape(-1)[0]))
    if arr.ndim == len(shape) and all(a in (1, s) for a, s in zip(arr.shape, shape)):
        return np.broadcast_to(arr, shape).copy()
    raise ShapeError(
        f"has shape {arr.shape}, which does not broadcast unambiguously to the population's shape {shape} "
        "(taken from the edge into this node)",
        node=spec.name,
        parameter=key,
        fix=f"give one value, an array of shape {shape}, or one with the same rank and 1 on shared axes "
        "(e.g. (C, 1, 1) for per-channel values)",
    )


# --- import -------------------------------------------------------------------------------


def declared_input_shape(spec: NodeSpec) -> Shape | None:
    """The input shape a node states by itself (for a root node without an Input before it)."""
    try:
        if spec.kind in ("Input", "Identity") and spec.params.get("shape") is not None:
            return _shape(spec, "shape")
        if spec.kind in ("Linear", "Affine"):
            return (int(_array(spec, "weight").shape[-1]),)
        if spec.kind in ("Conv1d", "Conv2d") and spec.params.get("input_shape") is not None:
            return (int(_array(spec, "weight").shape[1]) * int(_ints(spec, "groups")[0]), *_ints(spec, "input_shape"))
        if spec.kind == "Flatten" and spec.params.get("input_type") is not None:
            return _shape(spec, "input_type")
        if spec.kind in ("Scale", "Delay"):
            return tuple(_array(spec, spec.kind.lower()).shape) or None
        if spec.kind in NEURONS:
            shapes = {_array(spec, f).shape for f in NEURONS[spec.kind][1] if spec.params.get(f) is not None}
            return shapes.pop() if len(shapes) == 1 else None
    except (SpikecError, IndexError, TypeError, ValueError):
        return None  # malformed: the node's own conversion reports it, naming the field
    return None


def delay_steps(spec: NodeSpec, dt: float) -> np.ndarray:
    """NIR delays are in seconds; spikec counts steps.  Exact multiples of dt only."""
    seconds = _array(spec, "delay", dtype=np.float64)
    if not np.all(np.isfinite(seconds)) or np.any(seconds < 0):
        raise ModelImportError("delays must be finite and >= 0 seconds", node=spec.name, parameter="delay")
    steps = seconds / dt
    rounded = np.round(steps)
    bad = np.abs(steps - rounded) > 1e-6 * np.maximum(1.0, rounded)
    if np.any(bad):
        first = float(seconds[bad].reshape(-1)[0])
        raise ModelImportError(
            f"delay {first:g} s is not a whole number of time steps of dt={dt:g} s ({first / dt:g} steps)",
            node=spec.name,
            parameter="delay",
            fix="import with a dt that divides every delay, or round the delays in the source model",
        )
    return rounded.astype(np.int64)


def _neuron(spec: NodeSpec, in_shape: Shape) -> ir.Neuron:
    cls, fields, defaults = NEURONS[spec.kind]
    values = {f: _per_neuron(spec, f, _array(spec, f, defaults.get(f)), in_shape) for f in fields}
    return cls(**values)


def _conv(spec: NodeSpec, in_shape: Shape) -> Node:
    cls = ir.Conv1d if spec.kind == "Conv1d" else ir.Conv2d
    padding = _raw(spec.params["padding"])
    if isinstance(padding, str):
        stride = _ints(spec, "stride")
        if padding == "same" and max(stride) > 1:
            raise UnsupportedError(
                f"padding='same' with stride {stride} has no agreed output size",
                node=spec.name,
                parameter="padding",
                fix="give explicit integer padding",
            )
    else:
        padding = _ints(spec, "padding")
    # Without input_shape (as snnTorch and Sinabs write) the graph's shape is used; with one, it
    # must agree (the node's own check names a mismatch).
    declared = spec.params.get("input_shape")
    return cls(
        weight=_array(spec, "weight"),
        bias=_array(spec, "bias"),
        stride=_ints(spec, "stride"),
        padding=padding,
        dilation=_ints(spec, "dilation"),
        groups=_ints(spec, "groups")[0],
        input_shape=in_shape[1:] if declared is None else _ints(spec, "input_shape"),
    )


def _flatten(spec: NodeSpec, in_shape: Shape) -> ir.Flatten:
    # NIR (and snnTorch, Sinabs, Spyx on export) count Flatten dims per sample, without the batch.
    if spec.params.get("input_type") is not None and _ints(spec, "input_type") != in_shape:
        declared = _ints(spec, "input_type")
        hint = " (it looks like it includes a batch axis)" if declared[1:] == in_shape else ""
        raise ShapeError(
            f"declares input_type {declared} but receives {in_shape}{hint}",
            node=spec.name,
            parameter="input_type",
            fix="fix the exporter's Flatten input_type, or drop it (the graph's shapes are used)",
        )
    start = _ints(spec, "start_dim")[0] if spec.params.get("start_dim") is not None else 1
    end = _ints(spec, "end_dim")[0] if spec.params.get("end_dim") is not None else -1
    return ir.Flatten(start_dim=start, end_dim=end)


def _import(spec: NodeSpec, in_shape: Shape | None, dt: float) -> Node:
    kind = spec.kind
    if kind == "Input":
        return ir.Input(_shape(spec, "shape"))
    if kind == "Output":
        declared = None if spec.params.get("shape") is None else _shape(spec, "shape")
        k = len(declared or ()) - len(in_shape or ())
        if declared is not None and k > 0 and declared[k:] == in_shape and set(declared[:k]) == {1}:
            declared = in_shape  # a leading batch axis, as Rockpool writes
        return ir.Output(declared)
    assert in_shape is not None  # every other node has a forward edge into it
    if kind in NEURONS:
        return _neuron(spec, in_shape)
    if kind == "Linear":
        return ir.Linear(_array(spec, "weight"))
    if kind == "Affine":
        return ir.Affine(_array(spec, "weight"), _vector(_array(spec, "bias")))
    if kind == "Scale":
        return ir.Scale(_per_neuron(spec, "scale", _array(spec, "scale"), in_shape))
    if kind in ("Conv1d", "Conv2d"):
        return _conv(spec, in_shape)
    if kind in ("SumPool2d", "AvgPool2d"):
        cls = ir.SumPool2d if kind == "SumPool2d" else ir.AvgPool2d
        return cls(kernel_size=_ints(spec, "kernel_size"), stride=_ints(spec, "stride"), padding=_ints(spec, "padding"))
    if kind == "Flatten":
        return _flatten(spec, in_shape)
    if kind == "Delay":
        return ir.Delay(delay_steps(spec, dt))
    raise ModelImportError(f"NIR type {kind!r} cannot be converted", node=spec.name)  # pragma: no cover


def import_bytes(spec: NodeSpec, in_shape: Shape | None) -> int:
    """Bytes that importing ``spec`` allocates from *declared* shapes alone: per-neuron arrays
    broadcast from scalars (a 17 KB file can declare 10^9 neurons), one time step of an Input.
    Arrays the file holds itself were counted when it was read."""
    if spec.kind == "Input":
        try:
            return 8 * math.prod(_shape(spec, "shape"))
        except SpikecError:
            return 0  # malformed: the node's own conversion names the field
    neurons = math.prod(in_shape) if in_shape else 0  # Python ints: a hostile shape cannot overflow
    if spec.kind in NEURONS:
        return 8 * neurons * len(NEURONS[spec.kind][1])
    if spec.kind == "Scale":
        return 8 * neurons
    return 0


def check_import_size(spec: NodeSpec, in_shape: Shape | None, so_far: int = 0) -> int:
    """:func:`import_bytes` of ``spec``, refused above the memory limit (alone or with ``so_far``,
    what the nodes before it took); returns the new running total."""
    nbytes = import_bytes(spec, in_shape)
    if not nbytes:
        return so_far
    shape = declared_input_shape(spec) if spec.kind == "Input" else in_shape
    fix = (f"check the shapes the file declares (an Input's shape is one sample at one time step); if they are "
           f"right, set {ENV_VAR} to allow more")
    check_size(f"the {spec.kind} node's declared shape {shape}", nbytes, node=spec.name,
               parameter="shape" if spec.kind == "Input" else None, fix=fix)
    check_size(f"the graph up to node '{spec.name}' ({spec.kind}, shape {shape})", so_far + nbytes, fix=fix)
    return so_far + nbytes


def _vector(arr: np.ndarray) -> np.ndarray:
    """Leading axes of length 1 dropped, as from an Input's shape: a bias written ``(1, out)``
    (a batch axis, as PyTorch broadcasts it) is the bias ``(out,)``."""
    while arr.ndim > 1 and arr.shape[0] == 1:
        arr = arr[0]
    return arr


def import_node(spec: NodeSpec, in_shape: Shape | None, dt: float) -> tuple[Node, Shape]:
    """The spikec node for ``spec`` receiving ``in_shape``, checked, and its output shape.

    Every failure is a :class:`SpikecError` naming the node."""
    check_fields(spec)
    check_import_size(spec, in_shape)
    try:
        node = _import(spec, in_shape, dt)
        node.check(spec.name, dt)
        return node, tuple(node.infer_shape(spec.name, in_shape))
    except SpikecError as exc:
        raise named(exc, spec.name) from None
    except (TypeError, ValueError, IndexError) as exc:
        raise ModelImportError(f"malformed {spec.kind} node ({exc})", node=spec.name) from None


def named(exc: SpikecError, name: str) -> SpikecError:
    """``exc`` with the node filled in when the raising code did not know it."""
    if exc.node is not None:
        return exc
    return type(exc)(exc.detail, node=name, parameter=exc.parameter, limit=exc.limit, fix=exc.fix)


# --- export -------------------------------------------------------------------------------

_NIR_NAME = {cls: kind for kind, (cls, _, _) in NEURONS.items()}


def _export_neuron(name: str, node: ir.Neuron) -> Any:
    import nir

    kind = _NIR_NAME[type(node)]
    if node.spiking and kind != "Threshold" and node.reset is not ir.Reset.VALUE:
        fix = {
            "none": "a population without reset is an LI (or CubaLI) followed by a Threshold node; build it that way",
        }.get(node.reset.value, "NIR's neurons reset to v_reset; use reset='value' to export")
        raise UnsupportedError(
            f"reset mode '{node.reset.value}' cannot be written to NIR, whose {kind} resets to v_reset",
            node=name,
            parameter="reset",
            fix=fix,
        )
    return getattr(nir, kind)(**{f: np.array(getattr(node, f)) for f in NEURONS[kind][1]})


def _symmetric(name: str, pairs: tuple[tuple[int, int], ...], what: str) -> tuple[int, ...]:
    if any(a != b for a, b in pairs):
        raise UnsupportedError(
            f"asymmetric padding {pairs} cannot be written to NIR (one padding per dimension, both sides)",
            node=name,
            parameter="padding",
            fix=f"pad symmetrically, or (stride 1) use the 'same' split for this {what}",
        )
    return tuple(a for a, _ in pairs)


def _conv_padding(name: str, node: Any) -> Any:
    same = normalize_padding("same", node.kernel_size, node.dilation)
    if node.padding == same and any(a != b for a, b in same) and max(node.stride) == 1:
        return "same"
    return _symmetric(name, node.padding, "convolution")


def export_node(name: str, node: Node, in_shape: Shape | None, out_shape: Shape, dt: float) -> Any:
    """The nir node for one spikec node, or :class:`UnsupportedError` naming what NIR lacks.
    (Per-synapse delays are handled by the caller, which may split them into Delay nodes.)"""
    import nir

    if isinstance(node, ir.Input):
        return nir.Input(input_type={"input": np.array(node.shape)})
    if isinstance(node, ir.Output):
        return nir.Output(output_type={"output": np.array(out_shape)})
    if isinstance(node, (ir.FixedCubaLIF, ir.MembraneBatchNorm, ir.BatchNorm)):
        detail, param, fix = _UNEXPORTABLE[type(node)]
        raise UnsupportedError(detail, node=name, parameter=param, fix=fix)
    if type(node) in _NIR_NAME:
        return _export_neuron(name, node)
    if isinstance(node, ir.Linear):
        return nir.Linear(weight=np.array(node.weight))
    if isinstance(node, ir.SparseLinear):
        return nir.Linear(weight=node.to_dense())  # the same sums, stored densely
    if isinstance(node, ir.Affine):
        return nir.Affine(weight=np.array(node.weight), bias=np.array(node.bias))
    if isinstance(node, ir.Scale):
        return nir.Scale(scale=np.array(node.scale))
    if isinstance(node, (ir.Conv1d, ir.Conv2d)):
        assert in_shape is not None
        one_d = isinstance(node, ir.Conv1d)
        padding = _conv_padding(name, node)
        unwrap: Callable[[tuple[int, ...]], Any] = (lambda t: t[0]) if one_d else (lambda t: t)
        return (nir.Conv1d if one_d else nir.Conv2d)(
            input_shape=unwrap(tuple(in_shape[1:])),
            weight=np.array(node.weight),
            stride=unwrap(node.stride),
            padding=padding if isinstance(padding, str) else unwrap(padding),
            dilation=unwrap(node.dilation),
            groups=node.groups,
            bias=np.array(node.bias),
        )
    if isinstance(node, (ir.SumPool2d, ir.AvgPool2d)):
        cls = nir.SumPool2d if isinstance(node, ir.SumPool2d) else nir.AvgPool2d
        padding = _symmetric(name, node.padding, "pooling")
        return cls(kernel_size=np.array(node.kernel_size), stride=np.array(node.stride), padding=np.array(padding))
    if isinstance(node, ir.Flatten):
        return nir.Flatten(input_type={"input": np.array(in_shape)}, start_dim=node.start_dim, end_dim=node.end_dim)
    if isinstance(node, ir.Delay):
        return nir.Delay(delay=node.delay.astype(np.float64) * dt)  # NIR delays are in seconds
    raise UnsupportedError(f"spikec cannot write a {node.kind} node to NIR", node=name)


_UNEXPORTABLE: dict[type, tuple[str, str, str]] = {
    ir.FixedCubaLIF: (
        "a fixed-point (quantized) neuron cannot be written to NIR, whose models are continuous-time floats",
        "neuron",
        "export the float graph, before the quantize pass",
    ),
    ir.MembraneBatchNorm: (
        "membrane batch-norm has no NIR node",
        "mean",
        "run spikec.compiler.passes.fold_batchnorm first: it folds the normalisation into per-neuron thresholds",
    ),
    ir.BatchNorm: (
        "BatchNorm has no NIR node",
        "mean",
        "run spikec.compiler.passes.fold_batchnorm first: it folds the normalisation into the projection before it",
    ),
}
