"""The hardware spec: a frozen, typed description of what a chip can hold.

Passes are driven by it (quantize reads the bit widths, map_delays the delay range, partition
the per-core limits and the mesh), and every figure carries its published source like the
cost tables do.  ``None`` means "no such limit" (an emulator) or "not published", and the
source says which.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from ..errors import SpecError
from .arithmetic import OVERFLOWS, ROUNDINGS
from .sourced import Sourced

__all__ = ["HardwareSpec"]

_NONE = Sourced(None, "no limit")


@dataclass(frozen=True)
class HardwareSpec:
    """Limits of one chip family; see the module docstring."""

    name: str
    neurons_per_core: Sourced = _NONE
    fan_in_per_core: Sourced = _NONE        # distinct input axons a core accepts
    fan_out_per_core: Sourced = _NONE       # distinct destination cores a core sends to
    synapses_per_core: Sourced = _NONE      # synapse memory, in synapses
    weight_bits: Sourced = _NONE            # signed weight mantissa, including the sign
    weight_exponent_bits: Sourced = _NONE   # shared exponent per projection (0: none)
    bias_bits: Sourced = _NONE
    threshold_bits: Sourced = _NONE
    state_bits: Sourced = _NONE             # u and v registers
    decay_bits: Sourced = _NONE             # fraction bits of du/dv
    input_shift: Sourced = _NONE            # bits the chip shifts each step's summed input left before u += it
    threshold_shift: Sourced = _NONE        # a threshold is its mantissa (threshold_bits, unsigned) << this
    bias_exponent_bits: Sourced = _NONE     # a bias is its mantissa (bias_bits, signed) << an exponent this wide
    max_delay: Sourced = _NONE              # longest native synaptic delay, in steps (0: none)
    mesh_x: Sourced = _NONE                 # cores per chip along x and y
    mesh_y: Sourced = _NONE
    chips: Sourced = _NONE                  # chips that can be tiled side by side
    u_overflow: str = "wrap"              # what the current register does on overflow (hardware.arithmetic.OVERFLOWS)
    rounding: str = "toward_zero"         # how decays drop their fraction bits (hardware.arithmetic.ROUNDINGS)

    def __post_init__(self) -> None:
        for f in fields(self):
            limit = getattr(self, f.name)
            if isinstance(limit, Sourced) and limit.value is not None and not isinstance(limit.value, int):
                raise SpecError(f"limit {limit.value!r} in spec '{self.name}' must be a whole number or None",
                                parameter=f.name, fix=f"check the figure taken from: {limit.source}")
        for key, allowed in (("u_overflow", OVERFLOWS), ("rounding", ROUNDINGS)):
            if getattr(self, key) not in allowed:
                raise SpecError(f"{key}={getattr(self, key)!r} in spec '{self.name}'", parameter=key,
                                           fix=f"use one of {allowed}")

    def sources(self) -> dict[str, str]:
        return {f.name: getattr(self, f.name).source for f in fields(self)
                if isinstance(getattr(self, f.name), Sourced)}

    def value(self, name: str) -> int | None:
        return getattr(self, name).value
