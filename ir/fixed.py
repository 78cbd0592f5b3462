r"""Integer (fixed-point) neurons: the arithmetic digital neuromorphic chips implement.

One node, :class:`FixedCubaLIF`, covers every neuron model once quantized: a LIF is a
CubaLIF whose current decays fully each step (``du = 2**decay_bits``), an IF has ``dv = 0``,
an LI/CubaLI/Integrator does not spike.  With :math:`D` = ``decay_bits`` and integer input
:math:`x[t]` (sum of integer weights times spikes):

.. math::
    u[t] = O_u\big(\rho(u[t-1]\,(2^D - d_u),\, D) + (x[t] \ll s_{in})\big)

    v^-[t] = O_v\big(\rho(v[t-1]\,(2^D - d_v),\, D) + u[t] + b\big)
             \;[\,- \theta\, z[t-1] \text{ for subtract\_next}\,]

    z[t] = \mathbb{1}[v^-[t] > \theta], \quad v[t] = \text{reset}(v^-[t], z[t])

:math:`\rho(p, D)` drops :math:`D` fraction bits with the node's ``rounding``:
``toward_zero`` (:math:`\mathrm{sign}(p)\lfloor |p|/2^D \rfloor`, Lava's Loihi model),
``floor`` (arithmetic shift) or ``nearest`` (half away from zero).  :math:`O` keeps a value
in its signed ``*_bits`` width: ``saturate`` clamps to :math:`[-(2^{n-1}-1), 2^{n-1}-1]`,
``wrap`` wraps two's-complement.  A non-spiking population outputs :math:`v`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ..errors import GraphValidationError
from .neurons import Neuron, Reset, _as_reset
from .node import check_same_shape, frozen_array

__all__ = ["FixedCubaLIF", "ROUNDINGS", "OVERFLOWS"]

ROUNDINGS = ("toward_zero", "floor", "nearest")
OVERFLOWS = ("saturate", "wrap")


@dataclass(frozen=True, eq=False)
class FixedCubaLIF(Neuron):
    """Integer current-based LIF; see the module docstring for the exact arithmetic."""

    du: np.ndarray
    dv: np.ndarray
    bias: np.ndarray
    v_threshold: np.ndarray
    v_reset: np.ndarray
    reset: Reset = Reset.VALUE
    spiking_output: bool = True
    decay_bits: int = 12
    input_shift: int = 0
    u_bits: int = 24
    v_bits: int = 24
    u_overflow: str = "wrap"
    v_overflow: str = "saturate"
    rounding: str = "toward_zero"

    integer: ClassVar[bool] = True

    def __post_init__(self) -> None:
        for k in ("du", "dv", "bias", "v_threshold", "v_reset"):
            arr = np.asarray(getattr(self, k))
            if arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.any(arr != np.round(arr)):
                raise GraphValidationError(
                    "must hold integers in a fixed-point neuron", parameter=k, fix="round (quantize) the value first"
                )
            object.__setattr__(self, k, frozen_array(np.nan_to_num(arr) if arr.dtype.kind == "f" else arr, np.int64))
        object.__setattr__(self, "reset", _as_reset(self.reset))
        for k in ("decay_bits", "input_shift", "u_bits", "v_bits"):
            object.__setattr__(self, k, int(getattr(self, k)))

    @property
    def spiking(self) -> bool:  # type: ignore[override]
        return bool(self.spiking_output)

    def check(self, name: str, dt: float) -> None:
        params = {k: getattr(self, k) for k in ("du", "dv", "bias", "v_threshold", "v_reset")}
        check_same_shape(name, params, self.shape)
        unity = 1 << self.decay_bits
        for k in ("du", "dv"):
            arr = params[k]
            if arr.size and (arr.min() < 0 or arr.max() > unity):
                raise GraphValidationError(
                    f"values span [{arr.min()}, {arr.max()}]",
                    node=name,
                    parameter=k,
                    limit=f"0 <= {k} <= 2**decay_bits = {unity}",
                )
        if not (1 <= self.decay_bits <= 30 and 0 <= self.input_shift <= 30):
            raise GraphValidationError(
                f"decay_bits={self.decay_bits}, input_shift={self.input_shift}", node=name, parameter="decay_bits",
                limit="1..30 and 0..30",
            )
        for k in ("u_bits", "v_bits"):
            if not 2 <= getattr(self, k) <= 62:
                raise GraphValidationError(f"is {getattr(self, k)}", node=name, parameter=k, limit="2..62")
        for k, allowed in (("u_overflow", OVERFLOWS), ("v_overflow", OVERFLOWS), ("rounding", ROUNDINGS)):
            if getattr(self, k) not in allowed:
                raise GraphValidationError(f"is {getattr(self, k)!r}", node=name, parameter=k, fix=f"use one of {allowed}")
        vmax = (1 << (self.v_bits - 1)) - 1
        for k in ("v_threshold", "v_reset", "bias"):
            arr = params[k]
            if arr.size and np.abs(arr).max() > vmax:
                raise GraphValidationError(
                    f"magnitude {np.abs(arr).max()} does not fit the {self.v_bits}-bit membrane",
                    node=name,
                    parameter=k,
                    limit=f"|{k}| <= {vmax}",
                    fix="quantize with a smaller scale or more state bits",
                )

    def coefficients(self, dt: float) -> dict[str, np.ndarray]:
        return {}
