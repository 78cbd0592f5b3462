"""Hardware spec of Intel Loihi (1st generation), from ../shared/reference/hardware-numbers.md §1.

Choices where the chip offers a range (each also said in the limit's source):

- ``weight_bits`` = 8: Loihi stores 1-9-bit weights (Davies 2018 p.87); 8-bit signed is the
  full precision Lava's ``Dense`` uses, so it is the default quantize targets.
- ``weight_exponent_bits``: the chip scales weights by a shared exponent (Lava's
  ``w_scale = 8 - num_weight_bits + weight_exp + isMixed``), but no tagged source in the notes
  gives the exponent's width, so it is left unpublished (``None``; quantize then uses no
  exponent).  Pass a spec with a width to use one.
- ``synapses_per_core``: 128 KB of synapse memory / 8-bit weights = 131072 synapses, an upper
  bound (dense encoding, no index or delay bits; real formats hold fewer).
- ``max_delay`` = 8: the default; 62 needs fewer compartments per core (Davies 2018 p.92).
- mesh: 128 cores = 32 tiles x 4 cores; SANA-FE lays the tiles out 8 x 4.  ``HardwareSpec``
  counts cores, so each tile's 4 cores are a 2 x 2 block of a 16 x 8 core grid (hops between the
  cores of one tile, which share a router, then count 1 instead of 0: an approximation).
"""

from __future__ import annotations

from ...hardware import HardwareSpec, Sourced

__all__ = ["LOIHI1_SPEC"]

_D18 = "Davies et al. 2018, IEEE Micro 38(1)"
_LAVA = "Lava's bit-accurate Loihi LIF model (lava-nc/lava src/lava/proc/lif/models.py)"

LOIHI1_SPEC = HardwareSpec(
    name="Loihi 1",
    neurons_per_core=Sourced(1024, f"{_D18} p.86/p.89: 1024 compartments per core; SANA-FE max_neurons_supported"),
    fan_in_per_core=Sourced(4096, f"{_D18} p.89: 4096 input axon slots (N_axin) per core"),
    fan_out_per_core=Sourced(4096, f"{_D18} p.89: 4096 core-to-core output edges (N_axout) per core"),
    synapses_per_core=Sourced(
        131072, f"derived: {_D18} p.89, 128 KB synaptic memory per core = 1,048,576 bits / 8-bit weights "
        "(upper bound: dense encoding, no index or delay bits)"),
    weight_bits=Sourced(8, f"{_D18} p.87: 1-9-bit weights; 8-bit signed = Lava Dense's full precision (chosen default)"),
    weight_exponent_bits=Sourced(None, "not published in the reference notes (Lava has a shared weight_exp; width unknown)"),
    bias_bits=Sourced(13, f"{_LAVA}: 13-bit bias mantissa"),
    threshold_bits=Sourced(17, f"{_LAVA}: 17-bit threshold (vth) mantissa"),
    state_bits=Sourced(24, f"{_LAVA}: precision=24 for u and v; Dey & Dimitrov 2022: +-23-bit state"),
    decay_bits=Sourced(12, f"{_LAVA}: 12-bit du and dv"),
    max_delay=Sourced(8, f"{_D18} p.92: 8 time steps by default (up to 62 with fewer compartments; 6-bit field, Table 1)"),
    mesh_x=Sourced(16, f"derived: {_D18} p.86, 128 cores = 32 tiles x 4; SANA-FE's 8-wide tile mesh x 2 cores per tile"),
    mesh_y=Sourced(8, f"derived: {_D18} p.86, 128 cores = 32 tiles x 4; SANA-FE's 4-high tile mesh x 2 cores per tile"),
    chips=Sourced(None, "multi-chip systems (Nahuku, Pohoiki) exist; not modelled here"),
)
