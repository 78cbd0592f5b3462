r"""Integer (fixed-point) neurons: the arithmetic digital neuromorphic chips implement.

One node, :class:`FixedCubaLIF`, covers every neuron model once quantized: a LIF is a
CubaLIF whose current decays fully each step (``du = 2**decay_bits``), an IF has ``dv = 0``,
an LI/CubaLI/Integrator does not spike.  With :math:`D` = ``decay_bits`` and integer input
:math:`x[t]` (sum of integer weights times spikes):

.. math::
    u[t] = O_u\big(\rho(u[t-1]\,(2^D - d_u),\, D) + (x[t] \ll s_{in})\big)

    v^-[t] = O_v\big(\rho(v[t-1]\,(2^D - d_v),\, D) + u[t] + b
             \;[\,- \theta\, z[t-1] \text{ for subtract\_next}\,]\big)

    z[t] = \mathbb{1}[v^-[t] > \theta], \quad v[t] = \text{reset}(v^-[t], z[t])

:math:`\rho(p, D)` drops :math:`D` fraction bits with the node's ``rounding``:
``toward_zero`` (:math:`\mathrm{sign}(p)\lfloor |p|/2^D \rfloor`, Lava's Loihi model),
``floor`` (arithmetic shift) or ``nearest`` (half away from zero).  :math:`O` keeps a value
in its signed ``*_bits`` width: ``saturate`` clamps to :math:`[-(2^{n-1}-1), 2^{n-1}-1]`,
``wrap`` wraps two's-complement, ``lava_wrap`` is Lava's bit-accurate Loihi model: one
correction by :math:`2^n` into :math:`(-2^{n-1}, 2^{n-1}]` (it differs from two's complement only at
:math:`-2^{n-1}`; the engine refuses inputs for which one correction would not suffice).  The reset
itself is not clamped.  A non-spiking population outputs :math:`v`.  ``*_bits + decay_bits <= 62``
keeps the decay products inside int64.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ..errors import GraphValidationError
from ..hardware.arithmetic import OVERFLOWS, ROUNDINGS
from .neurons import Neuron, Reset, _as_reset
from .node import check_same_shape, frozen_array

__all__ = ["FixedCubaLIF", "ROUNDINGS", "OVERFLOWS"]


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
            # NaN/inf must not slip through as 0 or a huge integer (np.nan_to_num would do that).
            if arr.dtype.kind == "f" and (not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr))):
                raise GraphValidationError(
                    "must hold finite integers in a fixed-point neuron", parameter=k,
                    fix="round (quantize) the value first",
                )
            object.__setattr__(self, k, frozen_array(arr, np.int64))
        object.__setattr__(self, "reset", _as_reset(self.reset))
        for k in ("decay_bits", "input_shift", "u_bits", "v_bits"):
            object.__setattr__(self, k, int(getattr(self, k)))

    @property
    def spiking(self) -> bool:  # type: ignore[override]
        return bool(self.spiking_output)

    def check(self, name: str, dt: float) -> None:
        params = {k: getattr(self, k) for k in ("du", "dv", "bias", "v_threshold", "v_reset")}
        check_same_shape(name, params, self.shape)
        # Checked before `1 << decay_bits` is computed (a negative shift count is a bare ValueError).
        for k, lo, hi in (("decay_bits", 1, 30), ("input_shift", 0, 30)):
            if not lo <= getattr(self, k) <= hi:
                raise GraphValidationError(f"is {getattr(self, k)}", node=name, parameter=k, limit=f"{lo}..{hi}")
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
        for k in ("u_bits", "v_bits"):
            if not 2 <= getattr(self, k) <= 62:
                raise GraphValidationError(f"is {getattr(self, k)}", node=name, parameter=k, limit="2..62")
            # state * (2**D - d) must stay inside int64, the arithmetic of the fixed-point contract.
            if getattr(self, k) + self.decay_bits > 62:
                raise GraphValidationError(
                    f"is {getattr(self, k)} with decay_bits={self.decay_bits}; the decay product would overflow int64",
                    node=name, parameter=k, limit=f"{k} + decay_bits <= 62",
                )
        for k, allowed in (("u_overflow", OVERFLOWS), ("v_overflow", OVERFLOWS), ("rounding", ROUNDINGS)):
            if getattr(self, k) not in allowed:
                raise GraphValidationError(f"is {getattr(self, k)!r}", node=name, parameter=k,
                                           fix=f"use one of {allowed}")
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
