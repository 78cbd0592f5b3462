"""A parametric synchronous SNN accelerator on an FPGA, and presets of published designs.

The accelerator: ``pes`` processing elements (PEs), each time-multiplexing up to
``neurons_per_pe`` neurons whose weights sit in the PE's block RAM; per time step each PE
handles its synaptic work, ``synapse_lanes`` synaptic operations per cycle (``dataflow =
"event"``: one per received event and synapse) or one *input axon* per cycle with every neuron
listening (``"scan"``: a clock-driven design that visits every input whether it spiked or not),
then updates its neurons ``neuron_lanes`` at a time.  Layers on different PEs either work on
consecutive steps (``layer_pipelined``: the slowest PE sets the pace) or one after another.

Tags: [P] paper, [D] derived from published figures, [G] spikec's assumption (why is stated),
[V] vendor documentation.  Numbers: ../shared/reference/targets-sfq-reram-digital.md §H.2.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

from ...errors import UnsupportedError
from ...hardware import Sourced

__all__ = ["FpgaDesign", "GENERIC", "SPIKER_PLUS_MNIST", "FIREFLY", "PRESETS", "preset"]

_BRAM = Sourced(36864, "Xilinx 7-series/UltraScale BRAM36: 36 Kb per block (UG473, UG573) [V]")
_SPK = "Carpegna, Savino, Di Carlo, Spiker+ (arXiv 2401.01141, 2024), MNIST design [P]"
_FF = "Li et al., FireFly (2023) [P/S]"


@dataclass(frozen=True)
class FpgaDesign:
    """One accelerator configuration; every figure a :class:`Sourced` (see the module docstring)."""

    name: str
    dataflow: str                 # "event" or "scan"
    layer_pipelined: bool
    clock_hz: Sourced
    pes: Sourced
    neurons_per_pe: Sourced
    synapse_lanes: Sourced        # synaptic ops (event) or input axons (scan) per PE per cycle
    neuron_lanes: Sourced         # neuron updates per PE per cycle
    c_step: Sourced               # fixed cycles per PE per step (control, hand-over)
    weight_bits: Sourced
    state_bits: Sourced
    bram_bits: Sourced
    lut_per_neuron_lane: Sourced
    ff_per_neuron_lane: Sourced
    lut_per_pe: Sourced
    ff_per_pe: Sourced
    dsp_per_synapse_lane: Sourced
    p_static: Sourced             # W, the whole device
    e_synop: Sourced              # J per synaptic operation
    e_neuron: Sourced             # J per neuron update
    steps: Sourced = Sourced(None, "time steps per sample: the run's own")

    def __post_init__(self) -> None:
        if self.dataflow not in ("event", "scan"):
            raise UnsupportedError(f"dataflow {self.dataflow!r}", parameter="dataflow", fix="use 'event' or 'scan'")
        for name in ("clock_hz", "pes", "neurons_per_pe", "synapse_lanes", "neuron_lanes", "weight_bits"):
            if not getattr(self, name).value:
                raise UnsupportedError(f"design {self.name}: {name} must be > 0", parameter=name)

    def constants(self) -> dict[str, Sourced]:
        return {f.name: getattr(self, f.name) for f in fields(self) if isinstance(getattr(self, f.name), Sourced)}

    @property
    def peak_ops(self) -> float:
        """Peak synaptic operations per second: every lane of every PE busy every cycle
        (in ``scan`` a lane is one input visiting ``neurons_per_pe`` neurons)."""
        per_lane = self.neurons_per_pe.value if self.dataflow == "scan" else 1
        return float(self.pes.value * self.synapse_lanes.value * per_lane * self.clock_hz.value)

    def with_(self, **changes: int | float) -> "FpgaDesign":
        """A what-if copy: each given knob replaced, its source saying so."""
        return replace(self, **{k: Sourced(v, f"what-if override (--{k.replace('_', '-')})")
                                for k, v in changes.items()})


_G_E = ("[G] order of magnitude of one BRAM read + one adder in a 28 nm FPGA at ~1 V; no per-operation "
        "energy of an FPGA SNN is published")

GENERIC = FpgaDesign(
    name="generic event-driven FPGA SNN accelerator",
    dataflow="event", layer_pipelined=False,
    clock_hz=Sourced(100e6, "[G] a typical Artix-7 fabric clock (Spiker+, Fan & Levy both report 100 MHz) [P]"),
    pes=Sourced(16, "[G] spikec's default: 16 PEs"),
    neurons_per_pe=Sourced(256, "[G] 256 neurons per PE (one 36 Kb BRAM of 16-bit states holds 2304)"),
    synapse_lanes=Sourced(1, "[G] one synaptic op per PE per cycle (one BRAM port)"),
    neuron_lanes=Sourced(1, "[G] one neuron update per PE per cycle"),
    c_step=Sourced(4, "[G] a few cycles of hand-over per step"),
    weight_bits=Sourced(8, "[G] 8-bit weights"), state_bits=Sourced(16, "[G] 16-bit states"), bram_bits=_BRAM,
    lut_per_neuron_lane=Sourced(55, f"[D] {_SPK}: 7,612 logic cells / 138 parallel neuron units"),
    ff_per_neuron_lane=Sourced(None, "flip-flops per neuron unit: not published for Spiker+"),
    lut_per_pe=Sourced(None, "control logic per PE: not published"),
    ff_per_pe=Sourced(None, "control flip-flops per PE: not published"),
    dsp_per_synapse_lane=Sourced(0, "[G] accumulation in fabric adders (Spiker+ uses no DSPs for LIF)"),
    p_static=Sourced(0.09, "[G] Artix-7 100T device static power at 25 C is ~0.1 W (Xilinx XPE, not retrieved)"),
    e_synop=Sourced(10e-12, _G_E), e_neuron=Sourced(20e-12, _G_E),
)

SPIKER_PLUS_MNIST = replace(
    GENERIC, name="Spiker+ MNIST (784-128-10 LIF, Artix-7)", dataflow="scan", layer_pipelined=True,
    clock_hz=Sourced(100e6, f"[G] 100 MHz Artix-7 clock, as Spiker (the predecessor, same authors) [P]; {_SPK} "
                            "reports 780 us/img"),
    pes=Sourced(2, f"{_SPK}: one hardware layer per network layer (2 layers)"),
    neurons_per_pe=Sourced(128, f"{_SPK}: 128 hidden neurons, all in parallel"),
    synapse_lanes=Sourced(1, "[G] a clock-driven layer reads one input axon per cycle, all neurons in parallel"),
    neuron_lanes=Sourced(128, f"{_SPK}: one hardware neuron per network neuron"),
    c_step=Sourced(2, "[G] two cycles of hand-over between steps"),
    weight_bits=Sourced(6, f"[G] {_SPK}: 18 BRAM for 101,632 weights is <= 6.5 bits each"),
    steps=Sourced(100, "[G] 100 time steps per image (common for rate-coded MNIST; the paper's value not "
                       "retrieved)"),
)

FIREFLY = replace(
    GENERIC, name="FireFly (Xilinx UltraScale, DSP48E2 synaptic ops)", dataflow="event", layer_pipelined=False,
    clock_hz=Sourced(300e6, f"{_FF}: 300 MHz"),
    pes=Sourced(576, f"[G] 576 PEs x 32 lanes = 18,432 ops/cycle = 5.53 TOP/s / 300 MHz [D] ({_FF}); the DSP "
                     "count itself was not retrieved"),
    synapse_lanes=Sourced(32, "[G] see pes"),
    dsp_per_synapse_lane=Sourced(None, "FireFly's ops per DSP48E2 were not retrieved"),
    p_static=Sourced(None, "FireFly's power was not retrieved"),
)

PRESETS = {"generic": GENERIC, "spiker_plus": SPIKER_PLUS_MNIST, "firefly": FIREFLY}


def preset(name: str) -> FpgaDesign:
    """A published design by name (``generic``, ``spiker_plus``, ``firefly``)."""
    if name not in PRESETS:
        raise UnsupportedError(f"no FPGA preset {name!r}", parameter="preset", fix=f"use one of {sorted(PRESETS)}")
    return PRESETS[name]
