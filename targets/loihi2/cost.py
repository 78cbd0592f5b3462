"""Cost table of Intel Loihi 2.

Intel has published no per-operation energy or latency for Loihi 2 (hardware-numbers.md §2:
"any pJ/SOP figure for Loihi 2 is [U]").  The table is therefore Loihi 1's (Davies et al. 2018,
Table 2), and every source says so, so an estimate printed for Loihi 2 can be read for what it
is: Loihi-1-class constants applied to a Loihi 2 mapping (Loihi 2 is reported to be up to 2x
faster per neuron update and about half the core area, Ars Technica 2021 [S]; not applied).
"""

from __future__ import annotations

from ...hardware.loihi import LOIHI1_COSTS
from ...runtime.cost import CostTable

__all__ = ["LOIHI2"]

LOIHI2 = CostTable(name="Loihi 1", **LOIHI1_COSTS).borrowed("Loihi 2 (Loihi 1 constants: none published for Loihi 2)",
                         "Loihi 1 value, no Loihi 2 figure published")
