"""spikec.targets.sfq: a rate-coded superconducting (SFQ) chip emulated pulse by pulse.

Neurons are clocked flux-storage loops that count fluxons against a threshold; synapses are
bias-current-controlled cells passing ``level`` pulses per input (or each pulse slot with
probability ``level / (levels - 1)``: thermally stochastic synapses, Edwards et al. 2024);
fan-out through splitter trees, fan-in through merger trees whose window swallows a second
pulse (a collision).  The program lowers to a netlist (:mod:`.netlist`), which the C kernel
``csrc/sfq.c`` runs at femtosecond resolution; :mod:`.cost` prices junction switches
(Ic*Phi0), static bias power and cooling.
"""

from __future__ import annotations

from ...runtime.cost import Estimate
from ...runtime.counters import Counters
from ...runtime.program import Program
from ..protocol import ONE_STEP_PER_HOP, Target
from .backend import program_options, run_sfq
from .cells import PYLSE, SFQ_PHYSICS, CellLibrary, SfqPhysics
from .compile import compile_sfq
from .cost import SfqCosts, costs_for, estimate_sfq, split_energy
from .netlist import SfqNetlist, lower_netlist
from .spec import SFQ_SPEC, SfqOptions


def _price(counters: Counters, program: Program) -> Estimate:
    summary = program.metadata["sfq"]
    return estimate_sfq(counters, costs_for(program.metadata.get("options", {})), jj_total=int(summary["jj_total"]),
                        period_s=float(summary["period_ps"]) * 1e-12)


def _notes(counters: Counters, program: Program) -> list[str]:
    s = program.metadata["sfq"]
    lines = [f"{s['jj_total']} JJ ({', '.join(f'{k} {v}' for k, v in s['jj'].items())}); critical path "
             f"{s['critical_path_ps']:.1f} ps, clock {s['clock_ghz']:.2f} GHz"]
    totals = getattr(counters, "sfq_totals", lambda: None)()
    if totals is not None:
        merged = totals["pulses_merger"] + totals["collisions"]
        lines.append(f"merger collisions: {totals['collisions']} of {merged} pulses into mergers; pulses blocked by "
                     f"stochastic synapses: {totals['blocked']}")
        e = split_energy(_price(counters, program))
        lines.append(f"energy per sample: {e['at_4k'] * 1e12:.4g} pJ at 4 K (dynamic {e['dynamic'] * 1e12:.4g} pJ, "
                     f"static {e['static'] * 1e12:.4g} pJ), {e['wall'] * 1e12:.4g} pJ at the wall")
    return lines


class _Costs:
    """What ``spikec targets`` lists: every constant of the cells and the physics."""

    @staticmethod
    def constants() -> dict:
        return {**PYLSE.constants(), **SFQ_PHYSICS.constants(), **costs_for({}).constants()}


TARGET = Target("sfq", SFQ_SPEC, compile_sfq, costs=_Costs(), price_fn=_price, options=SfqOptions,
                timing=ONE_STEP_PER_HOP, backends={"emulator": run_sfq}, notes_fn=_notes,
                summary="superconducting SFQ: fluxon-counting neurons, bias-level synapses, pulse-level emulation")

__all__ = ["TARGET", "SFQ_SPEC", "SfqOptions", "SfqNetlist", "SfqCosts", "CellLibrary", "SfqPhysics", "PYLSE",
           "SFQ_PHYSICS", "compile_sfq", "lower_netlist", "run_sfq", "estimate_sfq", "costs_for", "split_energy",
           "program_options"]
