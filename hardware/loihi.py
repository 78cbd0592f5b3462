"""Published numbers of Intel Loihi (1st generation), from ../shared/reference/hardware-numbers.md §1:
its spec and its per-event cost constants.  They live below the targets because two targets read
them: ``loihi1`` prices and limits with them, ``loihi2`` borrows the figures Intel has not
published again for Loihi 2 (fan-in/fan-out slots, the cost table), and says so.

Spec choices where the chip offers a range (each also said in the limit's source):

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

from types import MappingProxyType
from typing import Mapping

from .sourced import Sourced
from .spec import HardwareSpec

__all__ = ["LOIHI1_SPEC", "LOIHI1_COSTS"]

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
    weight_bits=Sourced(8, f"{_D18} p.87: 1-9-bit weights; 8-bit signed = Lava Dense's full precision "
                        "(chosen default)"),
    weight_exponent_bits=Sourced(None, "not published in the reference notes "
                                 "(Lava has a shared weight_exp; width unknown)"),
    bias_bits=Sourced(13, f"{_LAVA}: 13-bit bias mantissa"),
    threshold_bits=Sourced(17, f"{_LAVA}: 17-bit threshold (vth) mantissa"),
    state_bits=Sourced(24, f"{_LAVA}: precision=24 for u and v; Dey & Dimitrov 2022: +-23-bit state"),
    decay_bits=Sourced(12, f"{_LAVA}: 12-bit du and dv"),
    max_delay=Sourced(8, f"{_D18} p.92: 8 time steps by default "
                      "(up to 62 with fewer compartments; 6-bit field, Table 1)"),
    mesh_x=Sourced(16, f"derived: {_D18} p.86, 128 cores = 32 tiles x 4; "
                   "SANA-FE's 8-wide tile mesh x 2 cores per tile"),
    mesh_y=Sourced(8, f"derived: {_D18} p.86, 128 cores = 32 tiles x 4; SANA-FE's 4-high tile mesh x 2 cores per tile"),
    chips=Sourced(None, "multi-chip systems (Nahuku, Pohoiki) exist; not modelled here"),
)

_T2 = "Davies et al. 2018, IEEE Micro 38(1), Table 2"

# Davies et al., IEEE Micro 38(1):82-99 (2018), Table 2, pre-silicon at 0.75 V; quoted identically by
# SANA-FE arch/loihi.yaml and KerasSpiking (tag [P] in the reference notes).  Keys are CostTable fields.
LOIHI1_COSTS: Mapping[str, Sourced] = MappingProxyType(dict(
    e_sop=Sourced(23.6e-12, _T2 + ": energy per synaptic spike op (minimum)"),
    e_nu_active=Sourced(81e-12, _T2 + ": energy per neuron update, active"),
    e_nu_idle=Sourced(52e-12, _T2 + ": energy per neuron update, inactive"),
    e_msg_local=Sourced(1.7e-12, _T2 + ": within-tile spike energy"),
    e_hop_x=Sourced(3.0e-12, _T2 + ": energy per tile hop, E-W"),
    e_hop_y=Sourced(4.0e-12, _T2 + ": energy per tile hop, N-S"),
    p_static=Sourced(0.104 / 128, "about 104 mW per chip (Frady et al. 2020, Table 1: 3.34 W / 32 chips) "
                     "/ 128 cores [derived]"),
    t_sop=Sourced(3.5e-9, _T2 + ": time per synaptic spike op (max)"),
    t_nu=Sourced(8.4e-9, _T2 + ": time per neuron update, active"),
    t_spike_out=Sourced(2.1e-9, _T2 + ": within-tile spike latency"),
    t_hop=Sourced(6.5e-9, _T2 + ": latency per tile hop, N-S (the slower axis)"),
    t_barrier=Sourced(465e-9, _T2 + ": mesh-wide barrier sync, 32 tiles (upper end of 113-465 ns)"),
))
