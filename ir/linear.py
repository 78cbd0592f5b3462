r"""Dense, sparse and element-wise projections, with optional per-synapse integer delays.

A projection maps the summed input :math:`x` of one time step to an output current.  With a
delay matrix :math:`d` (time steps, :math:`\ge 0`) the output at step :math:`t` reads each
input at its own delay:

.. math::  y_j[t] = \sum_i W_{ji}\, x_i[t - d_{ji}] \;(+\, b_j)

Inputs before step 0 are zero.  Without ``delay`` every :math:`d_{ji} = 0`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import GraphValidationError, ShapeError
from .node import (
    Node,
    Shape,
    check_finite,
    check_nonnegative_int,
    expect_shape,
    frozen_array,
    frozen_int_array,
)

__all__ = ["Projection", "Linear", "Affine", "SparseLinear", "Scale"]


@dataclass(frozen=True, eq=False)
class Projection(Node):
    """Marker base of nodes that carry synapses (weights)."""

    def synapse_count(self) -> int:
        raise NotImplementedError

    def max_delay(self) -> int:
        delay = getattr(self, "delay", None)
        return int(delay.max()) if delay is not None and delay.size else 0


def _check_delay(name: str, delay: np.ndarray | None, shape: tuple[int, ...]) -> None:
    if delay is None:
        return
    if delay.shape != shape:
        raise ShapeError(
            f"has shape {delay.shape} but the weights have shape {shape}",
            node=name,
            parameter="delay",
            fix="give one integer delay per synapse",
        )
    check_nonnegative_int(name, "delay", delay)


def _check_dense(name: str, weight: np.ndarray, delay: np.ndarray | None) -> None:
    if weight.ndim != 2:
        raise ShapeError(
            f"weight must be 2-D (out, in), got shape {weight.shape}", node=name, parameter="weight"
        )
    check_finite(name, "weight", weight)
    _check_delay(name, delay, weight.shape)


@dataclass(frozen=True, eq=False)
class _Dense(Projection):
    """What Linear and Affine share: a (out, in) ``weight`` matrix."""

    weight: np.ndarray

    def infer_shape(self, name: str, in_shape: Shape | None) -> Shape:
        expect_shape(name, in_shape, (self.weight.shape[1],), f"weight of shape {self.weight.shape}")
        return (self.weight.shape[0],)

    def synapse_count(self) -> int:
        return int(np.count_nonzero(self.weight))


@dataclass(frozen=True, eq=False)
class Linear(_Dense):
    r""":math:`y = W x`, ``weight`` of shape (out, in)."""

    weight: np.ndarray
    delay: np.ndarray | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "weight", frozen_array(self.weight, _weight_dtype(self.weight), "weight"))
        object.__setattr__(self, "delay", None if self.delay is None else frozen_int_array(self.delay, "delay"))

    def check(self, name: str, dt: float) -> None:
        _check_dense(name, self.weight, self.delay)


@dataclass(frozen=True, eq=False)
class Affine(_Dense):
    r""":math:`y = W x + b`; the bias is added every step (a constant current)."""

    weight: np.ndarray
    bias: np.ndarray
    delay: np.ndarray | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "weight", frozen_array(self.weight, _weight_dtype(self.weight), "weight"))
        object.__setattr__(self, "bias", frozen_array(self.bias, _weight_dtype(self.bias), "bias"))
        object.__setattr__(self, "delay", None if self.delay is None else frozen_int_array(self.delay, "delay"))

    def check(self, name: str, dt: float) -> None:
        _check_dense(name, self.weight, self.delay)
        check_finite(name, "bias", self.bias)
        if self.bias.shape != (self.weight.shape[0],):
            raise ShapeError(
                f"has shape {self.bias.shape}, expected ({self.weight.shape[0]},) for weight {self.weight.shape}",
                node=name,
                parameter="bias",
            )


@dataclass(frozen=True, eq=False)
class SparseLinear(Projection):
    r"""Sparse :math:`y = W x` in coordinate form: synapse :math:`k` adds
    ``weight[k] * x[source[k]]`` to ``y[target[k]]``.  ``shape`` is (out, in)."""

    shape: tuple[int, int]
    target: np.ndarray
    source: np.ndarray
    weight: np.ndarray
    delay: np.ndarray | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "shape", tuple(int(s) for s in self.shape))
        object.__setattr__(self, "target", frozen_int_array(self.target, "target"))
        object.__setattr__(self, "source", frozen_int_array(self.source, "source"))
        object.__setattr__(self, "weight", frozen_array(self.weight, _weight_dtype(self.weight), "weight"))
        object.__setattr__(self, "delay", None if self.delay is None else frozen_int_array(self.delay, "delay"))

    def check(self, name: str, dt: float) -> None:
        if len(self.shape) != 2 or min(self.shape) < 1:
            raise ShapeError(f"shape must be (out, in) with sizes >= 1, got {self.shape}", node=name, parameter="shape")
        n = self.weight.shape
        for param, arr in (("target", self.target), ("source", self.source)):
            if arr.shape != n or self.weight.ndim != 1:
                raise ShapeError(
                    f"target, source and weight must be 1-D of equal length; {param} has shape "
                    f"{arr.shape}, weight {self.weight.shape}",
                    node=name,
                    parameter=param,
                )
        for param, arr, limit in (("target", self.target, self.shape[0]), ("source", self.source, self.shape[1])):
            if arr.size and (arr.min() < 0 or arr.max() >= limit):
                raise GraphValidationError(
                    f"index out of range [{int(arr.min())}, {int(arr.max())}]",
                    node=name,
                    parameter=param,
                    limit=f"0 <= {param} < {limit}",
                )
        check_finite(name, "weight", self.weight)
        _check_delay(name, self.delay, n)

    def infer_shape(self, name: str, in_shape: Shape | None) -> Shape:
        expect_shape(name, in_shape, (self.shape[1],), f"a sparse matrix of shape {self.shape}")
        return (self.shape[0],)

    def synapse_count(self) -> int:
        return int(np.count_nonzero(self.weight))

    def to_dense(self) -> np.ndarray:
        dense = np.zeros(self.shape, dtype=self.weight.dtype)
        np.add.at(dense, (self.target, self.source), self.weight)
        return dense


@dataclass(frozen=True, eq=False)
class Scale(Projection):
    r"""Element-wise :math:`y = s \odot x` with ``scale`` of the input's shape."""

    scale: np.ndarray

    def __post_init__(self) -> None:
        object.__setattr__(self, "scale", frozen_array(self.scale, _weight_dtype(self.scale), "scale"))

    def check(self, name: str, dt: float) -> None:
        check_finite(name, "scale", self.scale)

    def infer_shape(self, name: str, in_shape: Shape | None) -> Shape:
        expect_shape(name, in_shape, self.scale.shape, f"scale of shape {self.scale.shape}")
        return tuple(self.scale.shape)

    def synapse_count(self) -> int:
        return int(np.count_nonzero(self.scale))


def _weight_dtype(value: object) -> type:
    """Integer weights stay integers (a quantized graph); everything else is float64."""
    arr = np.asarray(value)
    return np.int64 if arr.dtype.kind in "iub" else np.float64
