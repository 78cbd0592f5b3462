r"""A TULIP-style BNN ASIC (Wagle, Khatri, Vrudhula, arXiv 2104.01699, 2021) and the
conventional MAC-based BNN datapath it is compared with, in the same technology.

Both evaluate one binary neuron of fan-in :math:`n` per PE at a time, :math:`L` inputs per cycle;
the PEs work in SIMD (the same layer, one neuron each), weights in each PE's local memory.

- **MAC baseline** per neuron: :math:`n` XNORs, a popcount tree (:math:`\approx n` full adders),
  :math:`\lceil n/L\rceil` accumulations of a :math:`b`-bit register (adder + flip-flops), one :math:`b`-bit compare.
- **TULIP** per neuron: the ±1 weights are the threshold cells' programmable input weights (no
  XNOR); each group of :math:`k` inputs is one threshold-cell network evaluation costing
  :math:`k\,e_{in}` (energy per input branch); the same accumulations; the compare is one
  threshold cell over the accumulator bits.
- Both take :math:`\lceil n/L\rceil + 1` cycles per neuron (TULIP: "same performance").

:math:`b = \lceil\log_2(n+1)\rceil + 1` (a signed count).  Energies and areas are in units of one
static-CMOS full adder (FA) of the same technology, then scaled by an absolute FA energy.  The
paper publishes only ratios (3x energy, equal performance, area, accuracy); its cell fan-in and
absolute figures were not retrieved, so the threshold cell's per-input energy is calibrated [D]
on one layer (64 -> 128, the bundled BNN's hidden layer) to the published 3x, and its per-input
area so that a PE (accumulator sized for ``max_fan_in``) has the MAC PE's area (the paper: no
area penalty).  Other layers then land where the
model puts them (tests/targets/test_tulip.py checks they stay within 3.0 +- 0.5).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

from ...errors import UnsupportedError
from ...hardware import Sourced

__all__ = ["TulipDesign", "TULIP_40NM", "NeuronCost", "mac_neuron", "tulip_neuron", "acc_bits", "mac_pe_area",
           "tulip_pe_area"]

_P = "Wagle, Khatri, Vrudhula, arXiv 2104.01699 (2021) [P]"


@dataclass(frozen=True)
class TulipDesign:
    """The chip's organisation and its per-unit costs (see the module docstring)."""

    pes: Sourced = Sourced(16, f"[G] 16 SIMD TULIP-PEs ({_P}: an array of PEs; its size was not retrieved)")
    lanes: Sourced = Sourced(64, "[G] 64 inputs per PE per cycle")
    cell_fan_in: Sourced = Sourced(16, "[G] 16 inputs per threshold-cell network (the paper's fan-in was not "
                                       "retrieved)")
    memory_bits: Sourced = Sourced(16384, "[G] 16 Kb local memory per PE (weights and thresholds of its neurons)")
    clock_hz: Sourced = Sourced(100e6, "[G] 100 MHz (40 nm-LP standard cells)")
    e_fa: Sourced = Sourced(10e-15, "[G] ~10 fJ per full-adder evaluation in 40 nm-LP at 1.1 V (order of magnitude)")
    e_xnor: Sourced = Sourced(0.25, "[G] an XNOR is ~1/4 of a full adder's switched capacitance (FA units)")
    e_ff: Sourced = Sourced(0.5, "[G] a flip-flop write is ~1/2 a full adder (FA units)")
    e_in: Sourced = Sourced(0.2963, f"[D] threshold-cell energy per input (FA units), calibrated so that the 64 -> "
                                   f"128 layer gives {_P}'s 3x vs the MAC baseline")
    a_xnor: Sourced = Sourced(0.3, "[G] XNOR area (FA units)")
    a_ff: Sourced = Sourced(0.8, "[G] flip-flop area (FA units)")
    a_in: Sourced = Sourced(1.2526, f"[D] threshold-cell area per input, calibrated so that a PE's datapath has the "
                                    f"MAC PE's area ({_P}: no area penalty)")
    max_fan_in: Sourced = Sourced(1024, "[G] widest neuron a PE accumulates (sets the accumulator width)")
    technology: str = "TSMC 40 nm-LP (both datapaths)"

    def __post_init__(self) -> None:
        if self.lanes.value % self.cell_fan_in.value:
            raise UnsupportedError(f"lanes {self.lanes.value} is not a multiple of the cell fan-in "
                                   f"{self.cell_fan_in.value}", parameter="lanes",
                                   fix="give lanes as a multiple of cell_fan_in")

    def constants(self) -> dict[str, Sourced]:
        return {f.name: getattr(self, f.name) for f in fields(self) if isinstance(getattr(self, f.name), Sourced)}


TULIP_40NM = TulipDesign()


def acc_bits(n: int) -> int:
    """Bits of the signed accumulator of a fan-in ``n`` neuron."""
    return math.ceil(math.log2(n + 1)) + 1


@dataclass(frozen=True)
class NeuronCost:
    """One neuron evaluation: energy (FA units), cycles; and the PE's datapath area (FA units)."""

    energy: float
    cycles: int
    area: float


def _common(n: int, d: TulipDesign) -> tuple[int, int, float]:
    b = acc_bits(n)
    steps = math.ceil(n / d.lanes.value)
    accumulate = steps * b * (1.0 + d.e_ff.value)
    return b, steps, accumulate


def mac_neuron(n: int, d: TulipDesign = TULIP_40NM) -> NeuronCost:
    """The conventional XNOR-popcount datapath (see the module docstring)."""
    b, steps, accumulate = _common(n, d)
    energy = n * (d.e_xnor.value + 1.0) + accumulate + b
    return NeuronCost(energy, steps + 1, mac_pe_area(d))


def tulip_neuron(n: int, d: TulipDesign = TULIP_40NM) -> NeuronCost:
    """The threshold-cell datapath (see the module docstring)."""
    b, steps, accumulate = _common(n, d)
    groups = math.ceil(n / d.cell_fan_in.value)
    energy = groups * d.cell_fan_in.value * d.e_in.value + accumulate + b * d.e_in.value
    return NeuronCost(energy, steps + 1, tulip_pe_area(d))


def mac_pe_area(d: TulipDesign = TULIP_40NM) -> float:
    """One MAC PE's datapath: XNOR + popcount per lane, accumulator, comparator (FA units)."""
    b = acc_bits(int(d.max_fan_in.value))
    return d.lanes.value * (d.a_xnor.value + 1.0) + b * (1.0 + d.a_ff.value) + b


def tulip_pe_area(d: TulipDesign = TULIP_40NM) -> float:
    """One TULIP PE's datapath: threshold-cell inputs per lane, accumulator, compare cell (FA units)."""
    b = acc_bits(int(d.max_fan_in.value))
    return d.lanes.value * d.a_in.value + b * (1.0 + d.a_ff.value) + b * d.a_in.value
