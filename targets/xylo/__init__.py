"""spikec.targets.xylo: SynSense Xylo Audio 2 — up to 16 inputs, 1000 hidden and 8 output
integer LIF neurons with bit-shift decays, run on its exact arithmetic (the C engine's ``xylo``
kernel; :mod:`.reference` is the NumPy model the tests hold it to), with the published cycle
model per time step, the clock it needs, and the published power."""

from __future__ import annotations

from ...runtime.cost import Estimate
from ...runtime.counters import Counters
from ...runtime.program import Program
from ..protocol import ONE_STEP_PER_HOP, Target
from .compile import XYLO_SPEC, XyloOptions, compile_xylo
from .cost import clock_check, estimate_xylo, step_cycles
from .cycles import XYLO_CYCLES, clock_needed, cycles
from .lower import XyloMapping, read_xylo, to_xylo
from .program import xylo_program
from .reference import XyloNet, XyloRun, simulate
from .spec import XYLO_A2, XYLO_POWER, XyloChip, XyloPower


def _clock(program: Program) -> tuple[float, float]:
    opts = program.metadata.get("options", {})
    return (float(opts.get("clock_mhz", XYLO_A2.clock_hz.value / 1e6)) * 1e6,
            float(opts.get("clock_margin", XYLO_A2.clock_margin.value)))


def _price(counters: Counters, program: Program) -> Estimate:
    return estimate_xylo(counters, to_xylo(program), clock_hz=_clock(program)[0], dt=program.dt)


def _notes(counters: Counters, program: Program) -> list[str]:
    clock, margin = _clock(program)
    check = clock_check(counters, to_xylo(program), clock_hz=clock, dt=program.dt, margin=margin)
    return [check.explain(), f"energy: {XYLO_POWER.p_dynamic.value * 1e6:g} uW dynamic power measured on one task "
                             f"({XYLO_POWER.p_dynamic.source}) x run time; static power not published"]


class _Costs:
    """The constants the price uses, for ``spikec targets``."""

    @staticmethod
    def constants() -> dict:
        return {**XYLO_POWER.constants(), **XYLO_CYCLES.constants()}


TARGET = Target("xylo", XYLO_SPEC, compile_xylo, costs=_Costs(), price_fn=_price, options=XyloOptions,
                timing=ONE_STEP_PER_HOP, notes_fn=_notes,
                summary="SynSense Xylo Audio 2: 16 in, 1000 hidden, 8 out, 8-bit weights, 16-bit state, "
                        "bit-shift decays")

__all__ = ["TARGET", "XYLO_SPEC", "XYLO_A2", "XYLO_POWER", "XYLO_CYCLES", "XyloChip", "XyloPower", "XyloOptions",
           "XyloNet", "XyloRun", "XyloMapping", "simulate", "to_xylo", "read_xylo", "xylo_program", "compile_xylo",
           "cycles", "clock_needed", "step_cycles", "clock_check", "estimate_xylo"]
