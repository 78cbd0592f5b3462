"""spikec.targets.spinnaker2: a SpiNNaker2-style many-core — neurons as software on ARM PEs
under a 128 KB SRAM budget, multicast routing tables per chip with compression, and a per-PE
cycle model of every tick."""

import numpy as np

from ...compiler.passes.mapping import chips_needed
from ..target import Target
from .chip import SPINNAKER2_CHIP, Spinnaker2Chip, pe_memory, spinnaker2_spec
from .compile import compile_spinnaker2
from .cost import SPINNAKER2_COSTS, Spinnaker2Costs, estimate_spinnaker2, overruns, pe_busy

SPINNAKER2_SPEC = spinnaker2_spec()


def _price(counters, program):  # type: ignore[no-untyped-def]
    chips = int(program.metadata.get("chips", chips_needed(program.n_cores, SPINNAKER2_SPEC)))
    return estimate_spinnaker2(counters, SPINNAKER2_COSTS, chips=chips, pes=int(np.unique(program.core_of).size))


def _notes(counters, program):  # type: ignore[no-untyped-def]
    busy = pe_busy(counters, SPINNAKER2_COSTS)
    tick = float(SPINNAKER2_COSTS.tick_s.value)
    found, total = overruns(counters, SPINNAKER2_COSTS, limit=3)
    worst = float(busy.max(initial=0.0))
    lines = [f"busiest PE tick: {worst * 1e6:.1f} us of a {tick * 1e6:.0f} us tick ({worst / tick:.1%}) at "
             f"{SPINNAKER2_COSTS.clock_hz.value / 1e6:.0f} MHz; {total} overrunning PE ticks"]
    return lines + [o.explain() for o in found]


TARGET = Target("spinnaker2", SPINNAKER2_SPEC, SPINNAKER2_COSTS, compile_spinnaker2, price_fn=_price,
                overrides=("chips", "pes_per_chip", "neurons_per_pe"), notes_fn=_notes)

__all__ = ["TARGET", "SPINNAKER2_SPEC", "SPINNAKER2_CHIP", "SPINNAKER2_COSTS", "Spinnaker2Chip", "Spinnaker2Costs",
           "compile_spinnaker2", "spinnaker2_spec", "pe_memory", "estimate_spinnaker2", "overruns", "pe_busy"]
