"""Cost table of Intel Loihi (1st generation), from ../shared/reference/hardware-numbers.md §1.

Davies et al., IEEE Micro 38(1):82-99 (2018), Table 2, pre-silicon at 0.75 V; quoted
identically by SANA-FE arch/loihi.yaml and KerasSpiking (tag [P] in the reference notes).
Loihi 2 has no published per-event constants; its table will scale from this one and say so.
"""

from __future__ import annotations

from ...hardware import Sourced
from ...runtime.cost import CostTable

_T2 = "Davies et al. 2018, IEEE Micro 38(1), Table 2"

LOIHI1 = CostTable(
    name="Loihi (Davies 2018, Table 2)",
    e_sop=Sourced(23.6e-12, _T2 + ": energy per synaptic spike op (minimum)"),
    e_nu_active=Sourced(81e-12, _T2 + ": energy per neuron update, active"),
    e_nu_idle=Sourced(52e-12, _T2 + ": energy per neuron update, inactive"),
    e_msg_local=Sourced(1.7e-12, _T2 + ": within-tile spike energy"),
    e_hop_x=Sourced(3.0e-12, _T2 + ": energy per tile hop, E-W"),
    e_hop_y=Sourced(4.0e-12, _T2 + ": energy per tile hop, N-S"),
    p_static=Sourced(0.104 / 128, "about 104 mW per chip (Frady et al. 2020, Table 1: 3.34 W / 32 chips) / 128 cores [derived]"),
    t_sop=Sourced(3.5e-9, _T2 + ": time per synaptic spike op (max)"),
    t_nu=Sourced(8.4e-9, _T2 + ": time per neuron update, active"),
    t_spike_out=Sourced(2.1e-9, _T2 + ": within-tile spike latency"),
    t_hop=Sourced(6.5e-9, _T2 + ": latency per tile hop, N-S (the slower axis)"),
    t_barrier=Sourced(465e-9, _T2 + ": mesh-wide barrier sync, 32 tiles (upper end of 113-465 ns)"),
)
