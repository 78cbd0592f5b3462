"""A ReRAM crossbar chip: tiles of 1T1R cells in differential pairs, DACs on the rows, ADCs
shared by columns, digital LIF neurons in the periphery.

Numbers from ../shared/reference/targets-sfq-reram-digital.md §G: NeuroSim V1.4 defaults
(``Inference_pytorch/NeuroSIM/Param.cpp``: 128 x 128 sub-arrays, 8 columns per ADC, Ron 100 kOhm,
Roff 1.7 MOhm, 0.5 V / 10 ns reads, 1 GHz clock, zeta = 1.22), aihwkit 1.2.0's peripheral
defaults (``simulator/parameters/io.py``: 7-bit DAC, 9-bit ADC; ir_drop 0) and the read noise
its ReRAM noise model suggests.  Each figure is a :class:`~spikec.hardware.Sourced`; what the
notes do not hold is listed as missing in the cost model, never guessed.

A weight is a differential pair (g+, g-) of two devices, each programmed to one of ``levels``
conductances evenly spaced in [g_min, g_max] = [1/Roff, 1/Ron]; a signed integer weight ``w`` puts
``|w|`` steps on the device of its sign and leaves the other at g_min, so the pair holds
``2 * levels - 1`` weights and the compiler's signed weight width is ``log2(levels) + 1``.
The neurons are digital (the macro's periphery), so their registers follow the compiler's
default fixed-point format; no ReRAM paper in the notes gives their widths.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...hardware import HardwareSpec, Sourced

__all__ = ["ReramChip", "RERAM_CHIP", "reram_spec"]

_NEUROSIM = "NeuroSim V1.4 default (DNN_NeuroSim_V1.4 Inference_pytorch/NeuroSIM/Param.cpp)"
_AIHWKIT_IO = "aihwkit 1.2.0 IOParameters default (src/aihwkit/simulator/parameters/io.py)"
_SPIKEC_NEURON = ("spikec: digital periphery neurons in the compiler's default fixed-point format "
                  "(no register width published for a ReRAM LSM macro in the reference notes)")


@dataclass(frozen=True)
class ReramChip:
    """The crossbar's own figures (what :class:`~spikec.hardware.HardwareSpec` has no field for)."""

    tile_rows: Sourced
    tile_cols: Sourced
    cols_per_adc: Sourced
    adc_bits: Sourced
    dac_bits: Sourced
    levels: Sourced
    r_on: Sourced           # Ohm
    r_off: Sourced          # Ohm
    v_read: Sourced         # V
    t_read: Sourced         # s, one read pulse
    clock_hz: Sourced
    read_noise: Sourced     # sigma of one device read, as a fraction of g_max
    wire_ohm: Sourced       # interconnect resistance between neighbouring cells
    max_tiles: Sourced

    @property
    def g_max(self) -> float:
        return 1.0 / self.r_on.value

    @property
    def g_min(self) -> float:
        return 1.0 / self.r_off.value


RERAM_CHIP = ReramChip(
    tile_rows=Sourced(128, f"{_NEUROSIM}: numRowSubArray = 128"),
    tile_cols=Sourced(128, f"{_NEUROSIM}: numColSubArray = 128"),
    cols_per_adc=Sourced(8, f"{_NEUROSIM}: numColMuxed = 8 (8 columns share one ADC)"),
    adc_bits=Sourced(9, f"{_AIHWKIT_IO}: out_res = 1/(2**9 - 2), a 9-bit ADC (NeuroSim's 4-bit MLSA is the "
                        "low-power end: levelOutput = 16)"),
    dac_bits=Sourced(6, f"{_AIHWKIT_IO}: inp_res = 1/(2**7 - 2), 7 bits with the sign (6 magnitude bits)"),
    levels=Sourced(16, "spikec choice: 16 conductance levels per device (4 bits, a multi-level write-verify "
                       "target); the reference notes give no level count for Wan et al. 2022 (missing)"),
    r_on=Sourced(100e3, f"{_NEUROSIM}: resistanceOn = 100 kOhm"),
    r_off=Sourced(1.7e6, f"{_NEUROSIM}: resistanceOff = 1.7 MOhm (on/off 17)"),
    v_read=Sourced(0.5, f"{_NEUROSIM}: readVoltage = 0.5 V"),
    t_read=Sourced(10e-9, f"{_NEUROSIM}: readPulseWidth = 10 ns"),
    clock_hz=Sourced(1e9, f"{_NEUROSIM}: clkFreq = 1 GHz"),
    read_noise=Sourced(0.01, "aihwkit 1.2.0 ReRamWan2022NoiseModel docstring: forward.w_noise ~ 0.01 "
                             "(ADDITIVE_CONSTANT) for ~1 % read noise"),
    wire_ohm=Sourced(0.15, "aihwkit 1.2.0 IOParametersIRDropT: ir_drop_rs = 0.15 Ohm per cell"),
    max_tiles=Sourced(None, "no limit: tiles are added as the network needs them (a macro count is a what-if)"),
)


def reram_spec(chip: ReramChip = RERAM_CHIP, *, weight_bits: int | None = None,
               tile_cols: int | None = None) -> HardwareSpec:
    """The compiler's view: a core is one column group of tiles (``tile_cols`` neurons), any
    fan-in (rows spill into more tiles); weights as wide as the differential pair holds.
    ``weight_bits`` and ``tile_cols`` override the chip's (the options of a what-if)."""
    levels = int(chip.levels.value)
    bits = weight_bits if weight_bits is not None else levels.bit_length()  # log2(levels) + 1 with the sign
    cols = (Sourced(int(chip.tile_cols.value), f"one tile column per neuron: {chip.tile_cols.source}")
            if tile_cols is None else Sourced(int(tile_cols), "one tile column per neuron: option tile_cols"))
    return HardwareSpec(
        name="ReRAM crossbar (NeuroSim-style tiles)",
        neurons_per_core=cols,
        weight_bits=Sourced(bits, f"{chip.levels.source}; a differential pair holds +-(levels - 1), so "
                                  "log2(levels) + 1 signed bits"),
        state_bits=Sourced(24, _SPIKEC_NEURON),
        decay_bits=Sourced(12, _SPIKEC_NEURON),
        max_delay=Sourced(0, "a crossbar is read once per step: no per-synapse delay lines"),
        chips=chip.max_tiles,
        u_overflow="saturate",
    )
