"""SynSense Xylo Audio 2 (SYNS61201): its limits, clock and published power, each with a source.

Tags: [P] paper, [S] secondary summary, [V] read in the named source code,
[C] a number spikec derives from those.  The reference file is
``../shared/reference/targets-sfq-reram-digital.md`` §H.1.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from ...hardware import HardwareSpec, Sourced

__all__ = ["XyloChip", "XYLO_A2", "xylo_spec", "XyloPower", "XYLO_POWER"]

_ON = "open-neuromorphic.org Xylo Audio 2 summary [S]"
_XS = "xylosim 0.1.3 src/v2 (SynSense's bit-accurate simulator) [V]"
_RP = "rockpool 3.1.0 devices/xylo/syns61201"
_BM = "Bos & Muir, arXiv 2406.15112 (2024) [P]"


@dataclass(frozen=True)
class XyloChip:
    """The Xylo Audio 2 SNN core: network limits and number formats."""

    inputs: Sourced = Sourced(16, f"{_ON}: 16 input channels; {_RP} xylo_mapper (Nin <= 16) [V]")
    hidden: Sourced = Sourced(1000, f"{_RP} xylo_mapper max_hidden_neurons=1000 [V]; {_ON}")
    outputs: Sourced = Sourced(8, f"{_RP} xylo_mapper max_output_neurons=8 [V]; {_ON}")
    fan_in: Sourced = Sourced(63, f"{_ON}: max fan-in 63 synapses per neuron")
    weight_bits: Sourced = Sourced(8, f"{_XS} BITS_WEIGHT 8; {_BM}; Ke et al. 2024 [P]")
    state_bits: Sourced = Sourced(16, f"{_XS} BITS_STATE 16 (synaptic currents and membrane); {_BM}")
    synapses_per_neuron: Sourced = Sourced(2, f"{_XS}: two synaptic currents per hidden neuron, one per output")
    bias_bits: Sourced = Sourced(8, f"{_RP} XyloSim.from_specification: bias is an int8 vector [V]")
    threshold_bits: Sourced = Sourced(16, f"{_RP} xylo_mapper threshold_dtype int16 [V]")
    clock_hz: Sourced = Sourced(50e6, f"{_RP} xylo_monitor main_clk_rate=int(50e6) default [V]")
    clock_margin: Sourced = Sourced(0.2, f"{_RP} power_cycles_model.est_clock_freq margin=0.2 default [V]")

    def limits(self) -> dict[str, Sourced]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


XYLO_A2 = XyloChip()


def xylo_spec(chip: XyloChip = XYLO_A2) -> HardwareSpec:
    """The shared passes' view: one core holding every hidden and output neuron, 8-bit weights,
    16-bit saturating state.  Decays drop fraction bits with ``floor`` (Xylo's arithmetic shift);
    the bit-shift decay itself is set when the program is mapped (:mod:`.lower`)."""
    return HardwareSpec(
        name="SynSense Xylo Audio 2",
        neurons_per_core=Sourced(None, "one core; Xylo's own layer limits are checked by targets/xylo/lower.py, "
                                 "which names the layer that breaks them"),
        weight_bits=chip.weight_bits, state_bits=chip.state_bits, bias_bits=chip.bias_bits,
        threshold_bits=chip.threshold_bits,
        decay_bits=Sourced(12, "spikec's choice: 12 fraction bits, then rounded to Xylo's 1 - 2**-dash decays"),
        max_delay=Sourced(0, f"{_XS}: no synaptic delays"),
        mesh_x=Sourced(1, "one SNN core"), mesh_y=Sourced(1, "one SNN core"),
        chips=Sourced(1, "one Xylo chip: no multi-chip Xylo system is published"),
        u_overflow="saturate", rounding="floor",
    )


@dataclass(frozen=True)
class XyloPower:
    """Published power of the Xylo Audio 2 SNN core.  Only one measured operating point exists;
    spikec prices a run as that point's dynamic power over the run's real time (labelled so)."""

    p_dynamic: Sourced = Sourced(291e-6, f"{_BM}: 291 uW dynamic inference power, Aloha keyword spotting (95 %)")
    e_inference_kws: Sourced = Sourced(6.6e-6, f"{_BM}: 6.6 uJ per inference on the same Aloha KWS task")
    p_ambient_app: Sourced = Sourced(100e-6, "Bos & Muir, arXiv 2208.12991 (2022) [P]: < 100 uW inference power, "
                                     "ambient-audio app (an upper bound)")
    p_static: Sourced = Sourced(None, "static/idle power of the SNN core: not published (open-neuromorphic's "
                                "'~5 mW' conflicts with the measured figures; not used)")

    def constants(self) -> dict[str, Sourced]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


XYLO_POWER = XyloPower()
