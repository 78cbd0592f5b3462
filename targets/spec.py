"""The hardware spec: a frozen, typed description of what a chip can hold.

Passes are driven by it (quantize reads the bit widths, map_delays the delay range, partition
the per-core limits and the mesh), and every figure carries its published source like the
cost tables do.  ``None`` means "no such limit" (an emulator) or "not published", and the
source says which.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from ..errors import GraphValidationError

__all__ = ["Limit", "HardwareSpec"]


@dataclass(frozen=True)
class Limit:
    """An integer limit and where it was published."""

    value: int | None
    source: str

    def __post_init__(self) -> None:
        if self.value is not None and (isinstance(self.value, bool) or not isinstance(self.value, int) or self.value < 0):
            raise GraphValidationError(f"limit {self.value!r} must be a whole number >= 0 or None (source: {self.source})")
        if not self.source:
            raise GraphValidationError("every hardware limit needs its source")


_NONE = Limit(None, "no limit")


@dataclass(frozen=True)
class HardwareSpec:
    """Limits of one chip family; see the module docstring."""

    name: str
    neurons_per_core: Limit = _NONE
    fan_in_per_core: Limit = _NONE        # distinct input axons a core accepts
    fan_out_per_core: Limit = _NONE       # distinct destination cores a core sends to
    synapses_per_core: Limit = _NONE      # synapse memory, in synapses
    weight_bits: Limit = _NONE            # signed weight mantissa, including the sign
    weight_exponent_bits: Limit = _NONE   # shared exponent per projection (0: none)
    bias_bits: Limit = _NONE
    threshold_bits: Limit = _NONE
    state_bits: Limit = _NONE             # u and v registers
    decay_bits: Limit = _NONE             # fraction bits of du/dv
    input_shift: Limit = _NONE            # bits the chip shifts each step's summed input left before u += it
    threshold_shift: Limit = _NONE        # a threshold is its mantissa (threshold_bits, unsigned) << this
    bias_exponent_bits: Limit = _NONE     # a bias is its mantissa (bias_bits, signed) << an exponent this wide
    max_delay: Limit = _NONE              # longest native synaptic delay, in steps (0: none)
    mesh_x: Limit = _NONE                 # cores per chip along x and y
    mesh_y: Limit = _NONE
    chips: Limit = _NONE                  # chips that can be tiled side by side
    u_overflow: str = "wrap"              # what the current register does on overflow (ir.fixed.OVERFLOWS)
    rounding: str = "toward_zero"         # how decays drop their fraction bits (ir.fixed.ROUNDINGS)

    def __post_init__(self) -> None:
        from ..ir.fixed import OVERFLOWS, ROUNDINGS

        for key, allowed in (("u_overflow", OVERFLOWS), ("rounding", ROUNDINGS)):
            if getattr(self, key) not in allowed:
                raise GraphValidationError(f"{key}={getattr(self, key)!r} in spec '{self.name}'", parameter=key,
                                           fix=f"use one of {allowed}")

    def sources(self) -> dict[str, str]:
        return {f.name: getattr(self, f.name).source for f in fields(self) if isinstance(getattr(self, f.name), Limit)}

    def value(self, name: str) -> int | None:
        return getattr(self, name).value
