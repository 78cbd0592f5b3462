r"""Convolutions and pooling over per-sample tensors of shape (channels, *spatial).

Conv (cross-correlation, as in PyTorch), per output channel :math:`c` and position :math:`p`:

.. math:: y_c[p] = b_c + \sum_{c' \in G(c)} \sum_k W_{c,c',k}\; x_{c'}[p\,s + k\,\delta - \pi_{lo}]

with stride :math:`s`, dilation :math:`\delta`, zero padding :math:`\pi` (before/after per
spatial dimension, so PyTorch's ``padding='same'`` with even kernels is exact) and channel
groups :math:`G`.  Pooling sums (``SumPool2d``) or averages over the whole kernel area
(``AvgPool2d``, zero padding counted, as PyTorch's default ``count_include_pad=True``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Sequence

import numpy as np

from ..errors import GraphValidationError, ShapeError
from .linear import Projection, _weight_dtype
from .node import Node, Shape, check_finite, frozen_array

__all__ = ["ConvNd", "Conv1d", "Conv2d", "SumPool2d", "AvgPool2d", "normalize_padding", "conv_output_size"]

Pairs = tuple[tuple[int, int], ...]


def _tuple(value: Any, n: int, what: str) -> tuple[int, ...]:
    arr = np.atleast_1d(np.asarray(value, dtype=np.int64)).tolist()
    if len(arr) == 1:
        arr = arr * n
    if len(arr) != n:
        raise GraphValidationError(f"needs {n} value(s), got {value!r}", parameter=what)
    return tuple(int(a) for a in arr)


def normalize_padding(padding: Any, kernel: Sequence[int], dilation: Sequence[int]) -> Pairs:
    """Padding as ((before, after), ...) per spatial dimension, from an int, a tuple, a
    tuple of pairs, or the strings 'valid' and 'same' (PyTorch's split: extra pad after)."""
    n = len(kernel)
    if isinstance(padding, str):
        if padding == "valid":
            return tuple((0, 0) for _ in range(n))
        if padding == "same":
            totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
            return tuple((t // 2, t - t // 2) for t in totals)
        raise GraphValidationError(f"unknown padding {padding!r}", parameter="padding",
                                   fix="use an int, 'same' or 'valid'")
    arr = np.asarray(padding, dtype=np.int64)
    if arr.ndim == 2:
        if arr.shape != (n, 2):
            raise GraphValidationError(
                f"needs {n} (before, after) pair(s), got {padding!r}", parameter="padding"
            )
        return tuple((int(a), int(b)) for a, b in arr)
    return tuple((p, p) for p in _tuple(arr, n, "padding"))


def conv_output_size(size: int, kernel: int, stride: int, pad: tuple[int, int], dilation: int) -> int:
    return (size + pad[0] + pad[1] - dilation * (kernel - 1) - 1) // stride + 1


@dataclass(frozen=True, eq=False)
class ConvNd(Projection):
    """Base of :class:`Conv1d` and :class:`Conv2d` (``ndim`` spatial dimensions): what every
    convolution has in common, for passes that treat them alike.  Not a node on its own."""

    weight: np.ndarray
    bias: np.ndarray | None = None
    stride: Any = 1
    padding: Any = 0
    dilation: Any = 1
    groups: int = 1
    input_shape: Any = None  # spatial shape; inferred from the graph when None

    ndim: ClassVar[int] = 0

    def __post_init__(self) -> None:
        n = self.ndim
        weight = frozen_array(self.weight, _weight_dtype(self.weight), "weight")
        object.__setattr__(self, "weight", weight)
        if self.bias is None:
            object.__setattr__(self, "bias", frozen_array(np.zeros(weight.shape[0]), weight.dtype))
        else:
            object.__setattr__(self, "bias", frozen_array(self.bias, _weight_dtype(self.bias), "bias"))
        object.__setattr__(self, "stride", _tuple(self.stride, n, "stride"))
        object.__setattr__(self, "dilation", _tuple(self.dilation, n, "dilation"))
        kernel = weight.shape[2:] if weight.ndim == n + 2 else (1,) * n
        object.__setattr__(self, "padding", normalize_padding(self.padding, kernel, self.dilation))
        object.__setattr__(self, "groups", int(self.groups))
        if self.input_shape is not None:
            object.__setattr__(self, "input_shape", _tuple(self.input_shape, n, "input_shape"))

    @property
    def kernel_size(self) -> tuple[int, ...]:
        return tuple(self.weight.shape[2:])

    def check(self, name: str, dt: float) -> None:
        n = self.ndim
        if self.weight.ndim != n + 2:
            raise ShapeError(
                f"weight must have {n + 2} dimensions (out, in/groups, *kernel), got {self.weight.shape}",
                node=name,
                parameter="weight",
            )
        check_finite(name, "weight", self.weight)
        check_finite(name, "bias", self.bias)
        if self.bias.shape != (self.weight.shape[0],):
            raise ShapeError(f"has shape {self.bias.shape}, expected ({self.weight.shape[0]},)",
                             node=name, parameter="bias")
        for param in ("stride", "dilation"):
            if min(getattr(self, param)) < 1:
                raise GraphValidationError(f"must be >= 1, got {getattr(self, param)}", node=name, parameter=param)
        if min(min(p) for p in self.padding) < 0:
            raise GraphValidationError(f"must be >= 0, got {self.padding}", node=name, parameter="padding")
        if self.groups < 1 or self.weight.shape[0] % self.groups:
            raise GraphValidationError(
                f"{self.weight.shape[0]} output channels are not divisible by groups={self.groups}",
                node=name,
                parameter="groups",
            )

    def infer_shape(self, name: str, in_shape: Shape | None) -> Shape:
        n = self.ndim
        cin = self.weight.shape[1] * self.groups
        if in_shape is None or len(in_shape) != n + 1 or in_shape[0] != cin:
            raise ShapeError(
                f"receives input of shape {in_shape} but expects ({cin}, {', '.join('*' * n)}) "
                f"(weight {self.weight.shape}, groups={self.groups})",
                node=name,
                fix="check the channel count of the layer feeding this convolution",
            )
        if self.input_shape is not None and tuple(in_shape[1:]) != self.input_shape:
            raise ShapeError(
                f"declares spatial input_shape {self.input_shape} but receives {tuple(in_shape[1:])}",
                node=name,
                parameter="input_shape",
            )
        out = tuple(
            conv_output_size(s, k, st, p, d)
            for s, k, st, p, d in zip(in_shape[1:], self.kernel_size, self.stride, self.padding, self.dilation)
        )
        if min(out) < 1:
            raise ShapeError(f"output would be empty for input {in_shape}", node=name, parameter="weight")
        return (self.weight.shape[0], *out)

    def synapse_count(self) -> int:
        return int(np.count_nonzero(self.weight))


@dataclass(frozen=True, eq=False)
class Conv1d(ConvNd):
    """1-D convolution; input (C_in, L), weight (C_out, C_in/groups, K)."""

    ndim: ClassVar[int] = 1


@dataclass(frozen=True, eq=False)
class Conv2d(ConvNd):
    """2-D convolution; input (C_in, H, W), weight (C_out, C_in/groups, K_h, K_w)."""

    ndim: ClassVar[int] = 2


@dataclass(frozen=True, eq=False)
class _Pool2d(Node):
    kernel_size: Any
    stride: Any = None  # defaults to kernel_size, as in PyTorch
    padding: Any = 0

    def __post_init__(self) -> None:
        k = _tuple(self.kernel_size, 2, "kernel_size")
        object.__setattr__(self, "kernel_size", k)
        object.__setattr__(self, "stride", k if self.stride is None else _tuple(self.stride, 2, "stride"))
        object.__setattr__(self, "padding", normalize_padding(self.padding, k, (1, 1)))

    def check(self, name: str, dt: float) -> None:
        if min(self.kernel_size) < 1 or min(self.stride) < 1:
            raise GraphValidationError(
                f"kernel_size {self.kernel_size} and stride {self.stride} must be >= 1", node=name,
                parameter="kernel_size"
            )
        if min(min(p) for p in self.padding) < 0:
            raise GraphValidationError(f"must be >= 0, got {self.padding}", node=name, parameter="padding")

    def infer_shape(self, name: str, in_shape: Shape | None) -> Shape:
        if in_shape is None or len(in_shape) != 3:
            raise ShapeError(f"receives input of shape {in_shape} but expects (C, H, W)", node=name)
        out = tuple(
            conv_output_size(s, k, st, p, 1)
            for s, k, st, p in zip(in_shape[1:], self.kernel_size, self.stride, self.padding)
        )
        if min(out) < 1:
            raise ShapeError(f"output would be empty for input {in_shape}", node=name, parameter="kernel_size")
        return (in_shape[0], *out)


@dataclass(frozen=True, eq=False)
class SumPool2d(_Pool2d):
    """Sum over each kernel window."""


@dataclass(frozen=True, eq=False)
class AvgPool2d(_Pool2d):
    """Mean over each kernel window (divided by the kernel area, padding included)."""
