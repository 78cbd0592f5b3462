"""spikec.targets.spinnaker2: a SpiNNaker2-style many-core — neurons as software on ARM PEs
under a 128 KB SRAM budget, multicast routing tables per chip with compression, and a per-PE
cycle model of every tick."""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from ...hardware import Sourced
from ...runtime.cost import Estimate
from ...runtime.counters import Counters
from ...runtime.program import Program
from ..protocol import ONE_STEP_PER_HOP, Target
from .compile import Spinnaker2Options, compile_spinnaker2
from .cost import SPINNAKER2_COSTS, Spinnaker2Costs, estimate_spinnaker2, overruns, pe_busy
from .spec import SPINNAKER2_CHIP, Spinnaker2Chip, pe_memory, spinnaker2_spec

SPINNAKER2_SPEC = spinnaker2_spec()


def _costs(program: Program) -> Spinnaker2Costs:
    """The cost model at the tick the program was compiled for (``--tick-us``)."""
    tick_us = program.metadata.get("options", {}).get("tick_us")
    if tick_us is None or float(tick_us) * 1e-6 == SPINNAKER2_COSTS.tick_s.value:
        return SPINNAKER2_COSTS
    return dataclasses.replace(SPINNAKER2_COSTS, tick_s=Sourced(float(tick_us) * 1e-6, "option tick_us (a what-if)"))


def _price(counters: Counters, program: Program) -> Estimate:
    return estimate_spinnaker2(counters, _costs(program), chips=TARGET.chips(program),
                               pes=int(np.unique(program.core_of).size))


def _notes(counters: Counters, program: Program) -> list[str]:
    costs = _costs(program)
    busy = pe_busy(counters, costs)
    tick = float(costs.tick_s.value)
    found, total = overruns(counters, costs, limit=3)
    worst = float(busy.max(initial=0.0))
    lines = [f"busiest PE tick: {worst * 1e6:.1f} us of a {tick * 1e6:.0f} us tick ({worst / tick:.1%}) at "
             f"{costs.clock_hz.value / 1e6:.0f} MHz; {total} overrunning PE ticks"]
    # The tick sets latency and idle energy; the shortest one the busiest PE fits in is the bound.
    fits = math.ceil(worst * 1e6) if worst > 0 else 1
    if fits * 1.25 <= tick * 1e6:
        lines.append(f"a {fits} us tick would fit the busiest PE (--tick-us {fits}): {tick * 1e6 / fits:.1f}x less "
                     "latency and idle energy")
    return lines + [o.explain() for o in found]


TARGET = Target("spinnaker2", SPINNAKER2_SPEC, compile_spinnaker2, costs=SPINNAKER2_COSTS, price_fn=_price,
                options=Spinnaker2Options, timing=ONE_STEP_PER_HOP, notes_fn=_notes,
                summary="SpiNNaker2-style many-core: 152 ARM PEs per chip, 128 KB SRAM each, multicast routing")

__all__ = ["TARGET", "SPINNAKER2_SPEC", "SPINNAKER2_CHIP", "SPINNAKER2_COSTS", "Spinnaker2Chip", "Spinnaker2Costs",
           "Spinnaker2Options", "compile_spinnaker2", "spinnaker2_spec", "pe_memory", "estimate_spinnaker2",
           "overruns", "pe_busy"]
