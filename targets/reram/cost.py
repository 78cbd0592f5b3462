r"""NeuroSim-style bookkeeping of a crossbar run: every event the engine counted times its energy.

Energy per sample (the engine's counters, summed over steps, mean over samples)::

    E = zeta * [ cell_reads * V_read^2 * g_mean * t_read          (devices)
               + adc * e_adc(8 bit) * 2**(adc_bits - 8)            (ADC, Walden scaling)
               + dac * e_dac + adc * e_shift_add                   (row drivers, shift-and-add)
               + (nu_active + nu_idle) * e_neuron ]                (digital readout: LIF updates)

Latency: one tile read takes ``t_read + cols_per_adc * t_conv`` (the read pulse, then the ADC
converts its columns one after another); the tiles of one core (column group) are read one
after another, cores in parallel, so a step lasts ``max_core(xb_reads) * t_tile_read`` and an
inference the sum over its steps.  A constant with no published value is ``None``, named in
``Estimate.missing`` and left out, never counted as zero.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from ...errors import SimulationError
from ...hardware import Sourced
from ...runtime.cost import Estimate
from ...runtime.counters import COUNTERS, Counters
from ...runtime.program import Program
from .spec import RERAM_CHIP

__all__ = ["ReramCosts", "RERAM_COSTS", "estimate_reram", "tile_read_time"]

_ISAAC = ("Shafiee et al., 'ISAAC', ISCA 2016, IMA parameters: 8 ADCs of 8 bits at 1.28 GS/s, 16 mW in all "
          "(recalled from the paper; not in the reference notes)")


@dataclass(frozen=True)
class ReramCosts:
    """Per-event constants of the crossbar's periphery (SI units)."""

    v_read: Sourced
    t_read: Sourced
    e_adc_8bit: Sourced
    t_conv: Sourced
    e_dac: Sourced
    e_shift_add: Sourced
    e_neuron: Sourced
    zeta: Sourced

    def constants(self) -> dict[str, Sourced]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


RERAM_COSTS = ReramCosts(
    v_read=RERAM_CHIP.v_read,
    t_read=RERAM_CHIP.t_read,
    e_adc_8bit=Sourced(16e-3 / 8 / 1.28e9, f"derived: {_ISAAC}: 2 mW / 1.28 GS/s = 1.56 pJ per conversion"),
    t_conv=Sourced(1 / 1.28e9, f"derived: {_ISAAC}: 1 / 1.28 GS/s"),
    e_dac=Sourced(None, "row-driver energy per pulse: NeuroSim computes it from circuit models; no single constant "
                        "in the reference notes (missing)"),
    e_shift_add=Sourced(None, "shift-and-add per conversion: not in the reference notes (missing)"),
    e_neuron=Sourced(None, "digital LIF update of the periphery: no ReRAM-macro figure in the reference notes "
                           "(missing)"),
    zeta=Sourced(1.22, "NeuroSim V1.4 Param.cpp: zeta = 1.22 post-layout energy factor"),
)


def tile_read_time(costs: ReramCosts, cols_per_adc: int) -> float:
    """Seconds one tile read takes: the read pulse, then ``cols_per_adc`` conversions per ADC."""
    return costs.t_read.value + cols_per_adc * costs.t_conv.value


def estimate_reram(counters: Counters, program: Program, costs: ReramCosts = RERAM_COSTS) -> Estimate:
    """Energy and latency of a run of a crossbar ``program`` (module docstring)."""
    info = program.metadata.get("reram")
    if info is None:
        raise SimulationError("the program was not compiled for the reram target", parameter="program",
                              fix="compile it with target 'reram'")
    if not counters.per_step:
        raise SimulationError("latency needs per-step counters", parameter="counters", fix="run with counters='step'")
    pop, core = counters.per_population, counters.per_core
    batch = pop.shape[0]
    if batch == 0:
        raise SimulationError("the run had no samples; nothing to estimate")
    col = {name: i for i, name in enumerate(COUNTERS)}
    zeta = costs.zeta.value
    per_event = {
        "device reads": ("cell_reads", costs.v_read.value ** 2 * info["g_mean"] * costs.t_read.value),
        "ADC conversions": ("adc", costs.e_adc_8bit.value * 2.0 ** (info["adc_bits"] - 8)),
        "DAC (row drivers)": ("dac", costs.e_dac.value),
        "shift-and-add": ("adc", costs.e_shift_add.value),
        "digital neuron updates": (("nu_active", "nu_idle"), costs.e_neuron.value),
    }
    breakdown, missing = {}, []
    per_pop: dict[str, dict[str, float]] = {p: {} for p in counters.populations}
    for term, (names, energy) in per_event.items():
        if energy is None:
            missing.append(term)
            continue
        names = (names,) if isinstance(names, str) else names
        by_pop = sum(pop[..., col[n]].sum(axis=(0, 1)) for n in names) * energy * zeta / batch
        breakdown[term] = float(by_pop.sum())
        for k, p in enumerate(counters.populations):
            per_pop[p][term] = float(by_pop[k])
    step = core[..., col["xb_reads"]].max(axis=2) * tile_read_time(costs, int(info["cols_per_adc"]))
    missing.append("time of digital neuron updates")
    active = core[..., col["xb_reads"]].sum(axis=(0, 1)) + core[..., col["nu_active"]].sum(axis=(0, 1))
    constants = costs.constants()
    return Estimate(
        table="ReRAM crossbar (NeuroSim-style bookkeeping)",
        energy=float(sum(breakdown.values())),
        breakdown=breakdown,
        per_population=per_pop,
        latency=float(step.sum(axis=1).mean()),
        step_latency=step.mean(axis=0),
        active_cores=int(np.count_nonzero(active)),
        missing=tuple(missing),
        sources={k: c.source for k, c in constants.items()},
        constants=constants,
    )
