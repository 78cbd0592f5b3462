r"""Batch normalisation, on a projection's output or on a neuron's membrane.

``BatchNorm`` (inference form, per channel :math:`c` = first per-sample axis):

.. math:: y_c = \gamma_c\,\frac{x_c - \mu_c}{\sqrt{\sigma^2_c + \epsilon}} + \beta_c

``MembraneBatchNorm`` wraps a spiking population and normalises its membrane potential
*before the firing function* (MPBN, Guo et al., ICCV 2023): the membrane evolves exactly as
the wrapped neuron's, but it fires when

.. math:: \gamma_c\,\frac{v^-_c[t] - \mu_c}{\sqrt{\sigma^2_c+\epsilon}} + \beta_c > v_{threshold}

and the reset acts on the raw membrane.  Only ``value`` and ``none`` resets are allowed
(subtracting a normalised threshold from a raw membrane has no agreed meaning).  The
``fold_batchnorm`` pass turns the node into a plain neuron with per-neuron thresholds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import GraphValidationError, ShapeError
from .neurons import IF, LIF, CubaLIF, Neuron, Reset
from .node import Node, Shape, check_finite, frozen_array

__all__ = ["BatchNorm", "MembraneBatchNorm"]


def _bn_arrays(node: Node) -> dict[str, np.ndarray]:
    return {k: getattr(node, k) for k in ("mean", "var", "gamma", "beta")}


def _check_bn(name: str, node: "BatchNorm | MembraneBatchNorm", channels: int) -> None:
    for param, arr in _bn_arrays(node).items():
        check_finite(name, param, arr)
        if arr.shape != (channels,):
            raise ShapeError(f"has shape {arr.shape}, expected ({channels},) (one per channel)",
                             node=name, parameter=param)
    if not np.isfinite(node.eps) or np.any(node.var + node.eps <= 0):
        raise GraphValidationError(
            "var + eps must be > 0", node=name, parameter="var",
            fix="check the running variance of the batch-norm layer",
        )


def _freeze_bn(node: Node) -> None:
    for k in ("mean", "var", "gamma", "beta"):
        object.__setattr__(node, k, frozen_array(getattr(node, k), np.float64, k))
    object.__setattr__(node, "eps", float(node.eps))  # type: ignore[attr-defined]


def _scale_shift(bn: "BatchNorm | MembraneBatchNorm") -> tuple[np.ndarray, np.ndarray]:
    """Per-channel (a, b) with BN(x) = a*x + b."""
    a = bn.gamma / np.sqrt(bn.var + bn.eps)
    return a, bn.beta - a * bn.mean


@dataclass(frozen=True, eq=False)
class BatchNorm(Node):
    """Per-channel affine normalisation of a current (folded into the projection before it)."""

    mean: np.ndarray
    var: np.ndarray
    gamma: np.ndarray
    beta: np.ndarray
    eps: float = 1e-5

    def __post_init__(self) -> None:
        _freeze_bn(self)

    def check(self, name: str, dt: float) -> None:
        _check_bn(name, self, self.mean.shape[0] if self.mean.ndim == 1 else -1)

    def infer_shape(self, name: str, in_shape: Shape | None) -> Shape:
        if in_shape is None or in_shape[0] != self.mean.shape[0]:
            raise ShapeError(
                f"receives input of shape {in_shape}; the first axis must be the {self.mean.shape[0]} channels",
                node=name,
            )
        return in_shape

    def scale_shift(self) -> tuple[np.ndarray, np.ndarray]:
        """(a, b) with y = a*x + b per channel."""
        return _scale_shift(self)


@dataclass(frozen=True, eq=False)
class MembraneBatchNorm(Neuron):
    """A spiking population whose firing function sees the batch-normalised membrane."""

    neuron: Neuron
    mean: np.ndarray
    var: np.ndarray
    gamma: np.ndarray
    beta: np.ndarray
    eps: float = 1e-5

    def __post_init__(self) -> None:
        _freeze_bn(self)

    @property
    def shape(self) -> Shape:
        return self.neuron.shape

    @property
    def channels(self) -> int:
        return self.shape[0]

    def check(self, name: str, dt: float) -> None:
        if not isinstance(self.neuron, (LIF, CubaLIF, IF)):
            raise GraphValidationError(
                f"wraps a {type(self.neuron).__name__}; only LIF, CubaLIF and IF populations fire",
                node=name,
                parameter="neuron",
            )
        if self.neuron.reset not in (Reset.VALUE, Reset.NONE):
            raise GraphValidationError(
                f"reset '{self.neuron.reset.value}' is not defined with a membrane batch-norm",
                node=name,
                parameter="reset",
                fix="use reset='value' (hard reset, as in MPBN) or 'none'",
            )
        self.neuron.check(name, dt)
        _check_bn(name, self, self.channels)

    def coefficients(self, dt: float) -> dict[str, np.ndarray]:
        return self.neuron.coefficients(dt)

    def scale_shift(self) -> tuple[np.ndarray, np.ndarray]:
        """Per-neuron (a, b) with BN(v) = a*v + b, broadcast to the population's shape."""
        a, b = _scale_shift(self)
        expand = (slice(None),) + (None,) * (len(self.shape) - 1)
        return np.broadcast_to(a[expand], self.shape), np.broadcast_to(b[expand], self.shape)
