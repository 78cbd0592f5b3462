"""Hardware spec of Intel Loihi 2, from ../shared/reference/hardware-numbers.md §2 and the
arithmetic of Lava's bit-accurate Loihi models (lava-nc 0.10, tagged [C] in the notes).

Intel has published few Loihi 2 figures; where none exists the Loihi (2018) figure is used and
the limit's source says so (the fan-in/fan-out slots).  The arithmetic is what Lava's
``PyLifModelBitAcc`` / ``PyDenseModelBitAcc`` compute, because those are what spikec's output is
checked against bit for bit:

- u += (sum of weights) << 6 (``act_shift``), wrapped once into 24 bits (``lava_wrap``);
  v saturates at 24 bits; decays are 12-bit multipliers with truncation toward zero;
- a threshold is a 17-bit unsigned mantissa << 6 (``vth_shift``); a bias is a 13-bit signed
  mantissa << a 3-bit exponent;
- weights: 8-bit (Lava ``Dense``'s full precision; mixed-sign weights keep 7 bits + sign);
- delays: 6 bits, 0..63 steps on top of the one step every synaptic hop takes (``DelayDense``).
"""

from __future__ import annotations

from ...hardware import HardwareSpec, Sourced
from ...hardware.loihi import LOIHI1_SPEC

__all__ = ["LOIHI2_SPEC"]

_LAVA_LIF = "Lava's bit-accurate LIF (lava-nc 0.10 src/lava/proc/lif/models.py, PyLifModelBitAcc)"
_LAVA_DENSE = "Lava's bit-accurate Dense (lava-nc 0.10 src/lava/proc/dense/models.py)"
_WIKI = "WikiChip / Open Neuromorphic (hardware-numbers.md §2, tag [S])"
_L1 = "Loihi 1 value (no Loihi 2 figure published): "

LOIHI2_SPEC = HardwareSpec(
    name="Loihi 2",
    neurons_per_core=Sourced(8192, f"{_WIKI}: up to 8192 neurons per core, 1,048,576 per chip"),
    fan_in_per_core=Sourced(4096, _L1 + LOIHI1_SPEC.fan_in_per_core.source),
    fan_out_per_core=Sourced(4096, _L1 + LOIHI1_SPEC.fan_out_per_core.source),
    synapses_per_core=Sourced(937500, f"derived: {_WIKI}, 120 M synapses per chip / 128 cores (upper bound)"),
    weight_bits=Sourced(8, f"{_LAVA_DENSE}: 8-bit weights ('full 8 bit precision')"),
    weight_exponent_bits=Sourced(None, "Lava has a shared weight_exp per connection; its hardware width is not "
                                     "published in the reference notes, so spikec uses none"),
    bias_bits=Sourced(13, f"{_LAVA_LIF}: bias_mant, signed 13 bits"),
    bias_exponent_bits=Sourced(3, f"{_LAVA_LIF}: bias_exp, unsigned 3 bits (0..7)"),
    threshold_bits=Sourced(17, f"{_LAVA_LIF}: vth, unsigned 17 bits"),
    threshold_shift=Sourced(6, f"{_LAVA_LIF}: vth_shift = 6 (threshold MSB-aligned with the 24-bit state)"),
    input_shift=Sourced(6, f"{_LAVA_LIF}: act_shift = 6 (synaptic input MSB-aligned with the 24-bit state)"),
    state_bits=Sourced(24, f"{_LAVA_LIF}: precision=24 for u and v"),
    decay_bits=Sourced(12, f"{_LAVA_LIF}: 12-bit du and dv (decay_shift = 12)"),
    max_delay=Sourced(63, "Lava's DelayDense (src/lava/proc/dense/models.py): 6-bit delays, 0..63 steps on Loihi 2"),
    mesh_x=Sourced(16, "fbhtechinfo '8x16 mesh' (hardware-numbers.md §2, tag [S, weak]); 128 cores"),
    mesh_y=Sourced(8, "fbhtechinfo '8x16 mesh' (hardware-numbers.md §2, tag [S, weak]); 128 cores"),
    chips=Sourced(None, "multi-chip boards (3D mesh scaling, Ars Technica [S]); chip count not limited here"),
    u_overflow="lava_wrap",
)
