"""The SFQ chip's limits and its co-design knobs.

A rate-coded SFQ network computes with integer fluxon counts: a synapse passes ``level`` pulses
per input pulse (``bias_levels`` bias currents: levels ``0 .. bias_levels - 1``, sign by the
excitatory or inhibitory input of the neuron), and a neuron's storage loop counts them against
a threshold.  So the shared quantize pass targets ``log2(bias_levels) + 1`` signed weight bits,
and the neuron state is the loop's fluxon count.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

from ...errors import UnsupportedError
from ...hardware import HardwareSpec, Sourced
from ..options import Options, option
from .cells import CARNOT_4K, IC_TYPICAL, PYLSE, SFQ_PHYSICS

__all__ = ["SFQ_SPEC", "SfqOptions", "weight_bits_for", "spec_for"]

_EDWARDS = "Edwards, Krylov, J. Friedman, E. Friedman, Neuromorph. Comput. Eng. 4, 014005 (2024)"

SFQ_SPEC = HardwareSpec(
    name="SFQ (pulse-level, rate-coded)",
    weight_bits=Sourced(5, f"{_EDWARDS}: weights set by bias currents; 16 bias levels (levels 0..15 and a sign "
                           "from the excitatory/inhibitory input) is spikec's widest option"),
    state_bits=Sourced(16, "[G] storage-loop fluxon count held in +-(2^15 - 1): spikec's bound (no published "
                           "loop capacity)"),
    decay_bits=Sourced(12, "[G] leak as a 12-bit fraction of the stored fluxons per clock period (spikec's "
                           "resolution of the configurable decay)"),
    max_delay=Sourced(1, "one clock period per synaptic hop: longer delays need DRO shift registers, not modelled"),
    u_overflow="saturate", rounding="toward_zero",
)


def weight_bits_for(levels: int) -> int:
    """Signed weight bits whose magnitudes are exactly the levels ``0 .. levels - 1``."""
    return int(math.log2(levels)) + 1


@dataclass(frozen=True)
class SfqOptions(Options):
    """The SFQ target's knobs (``spikec targets`` lists them)."""

    target: ClassVar[str] = "sfq"

    weight_bits: int | None = option(
        None, type="int", unit="bits", low=2, high=5, source=SFQ_SPEC.weight_bits.source,
        help="signed weight width (default: from bias_levels; at most log2(bias_levels) + 1)")
    bias_levels: int = option(
        16, type="int", choices=(2, 4, 8, 16), source=f"{_EDWARDS}: weights set by bias current; level count is "
        "the co-design knob", help="bias-current levels of a synapse (pulses per input 0..levels-1)")
    stochastic: bool = option(
        False, type="bool", source=f"{_EDWARDS}: thermally stochastic synapses pass or block pulses",
        help="each pulse slot passes with probability level/(levels-1) instead of exactly `level` pulses")
    synapse_seed: int = option(0, type="int", low=0, high=2**63 - 1, source="spikec: seeds the stochastic synapses",
                       help="seed of the stochastic synapses' random draws")
    merger_window_ps: float | None = option(
        None, type="float", unit="ps", low=0.0, high=1000.0, source=PYLSE.merger_window.source,
        help="merger window: two pulses closer than this give one (0: ideal cells)", none_means="PyLSE 8.2 ps")
    stagger: bool = option(
        True, type="bool", source="spikec: time-division fan-in, each merger-tree leaf in its own window-wide slot "
        "(JTL delay lines), so pulses never collide; off: every synapse sends at the same offset",
        help="give each synapse of a neuron's merger tree its own time slot (longer period, no collisions)")
    pulse_spacing_ps: float | None = option(
        None, type="float", unit="ps", low=0.0, high=1000.0,
        source="spikec: a synapse's pulses are spaced so that they never collide with each other",
        help="gap between the pulses of one synapse", none_means="fan-in x window (stagger), else max(window, JTL)")
    clock_ghz: float | None = option(
        None, type="float", unit="GHz", low=0.001, high=1000.0,
        source="spikec: the clock reads out every neuron once per period; it must outlast the critical path",
        help="clock frequency (refused if the period is shorter than the critical path)",
        none_means="critical path")
    family: str = option(
        "rsfq", type="str", choices=("rsfq", "ersfq"), source=SFQ_PHYSICS.ersfq_residual.source,
        help="rsfq: static power in bias resistors; ersfq: none but the residual")
    ersfq_residual: float = option(
        0.0, type="float", low=0.0, high=1.0, source=SFQ_PHYSICS.ersfq_residual.source,
        help="ERSFQ static power as a fraction of RSFQ's")
    cooling_w_per_w: float = option(
        SFQ_PHYSICS.cooling.value, type="float", unit="W/W", low=CARNOT_4K.value, high=1e5,
        source=SFQ_PHYSICS.cooling.source, help="wall watts per watt dissipated at 4 K (>= the Carnot bound 70.4)")
    ic_ua: float | None = option(
        None, type="float", unit="uA", low=1.0, high=2000.0, source=IC_TYPICAL.source,
        help="critical current of every junction, a what-if (dynamic energy per switch = Ic * Phi0)",
        none_means="each cell's (100 uA)")

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.weight_bits is not None and self.weight_bits > weight_bits_for(self.bias_levels):
            raise UnsupportedError(
                f"target sfq, option 'weight_bits' = {self.weight_bits}: {self.bias_levels} bias levels hold "
                f"magnitudes 0..{self.bias_levels - 1}", parameter="weight_bits",
                limit=f"<= {weight_bits_for(self.bias_levels)} bits",
                fix="raise --bias-levels or lower --weight-bits")

    @property
    def levels_max(self) -> int:
        """The largest synapse level: pulses per input at full weight."""
        return (1 << ((self.weight_bits or weight_bits_for(self.bias_levels)) - 1)) - 1


def spec_for(options: SfqOptions) -> HardwareSpec:
    """The spec the shared passes quantize under: the weight width the bias levels allow."""
    from dataclasses import replace

    bits = options.weight_bits or weight_bits_for(options.bias_levels)
    return replace(SFQ_SPEC, weight_bits=Sourced(bits, f"{options.bias_levels} bias levels -> {bits} signed bits"))
