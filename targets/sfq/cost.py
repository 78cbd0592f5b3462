"""SFQ energy and latency from the pulse kernel's counters.

Per sample (J), with ``S_c`` the junction switches of cell type ``c``::

    E_dynamic = sum_c S_c * Ic_c * Phi0                     (every switch dissipates ~Ic*Phi0:
                                                             tests/targets/test_sfq_physics.py)
    P_static  = N_JJ * p_jj            RSFQ (bias resistors, p_jj calibrated on SuperSNN)
              = N_JJ * p_jj * residual ERSFQ
    t         = steps * clock period   (one period per time step of the rate code)
    E_4K      = E_dynamic + P_static * t
    E_wall    = E_4K + cooling,  cooling = k * E_4K         (k >= the Carnot bound 70.4 W/W)

:class:`~spikec.runtime.cost.Estimate` carries ``E_wall`` as its energy (the figure comparable with
room-temperature chips), its breakdown the terms, so ``E_total = E_dynamic + P_static*t + cooling``
holds term by term.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Mapping

import numpy as np

from ...errors import SimulationError, SpecError
from ...hardware import Sourced
from ...runtime.cost import Estimate
from ...runtime.counters import Counters
from ...runtime.sfq import CELL_TYPES, SfqCounters
from .cells import CARNOT_4K, PHI0, PYLSE, SFQ_PHYSICS, CellLibrary

__all__ = ["SfqCosts", "costs_for", "estimate_sfq", "static_power", "split_energy"]

STATIC, COOLING = "static (4 K)", "cooling"


@dataclass(frozen=True)
class SfqCosts:
    """The constants one estimate uses (each sourced; the options' what-ifs say so)."""

    name: str
    ic: Mapping[str, Sourced]  # by cell type (runtime.sfq.CELL_TYPES)
    phi0: Sourced
    p_static_per_jj: Sourced
    static_fraction: Sourced   # 1 for RSFQ, the residual for ERSFQ
    cooling: Sourced           # W at the wall per W at 4 K

    def __post_init__(self) -> None:
        if self.cooling.value is None or self.cooling.value < CARNOT_4K.value:
            raise SpecError(f"cooling overhead {self.cooling.value} W/W is below the Carnot bound", parameter="cooling",
                            limit=f">= {CARNOT_4K.value} W/W ({CARNOT_4K.source})",
                            fix="give a cryocooler figure of at least 70.4 W/W (400 is typical)")

    def constants(self) -> dict[str, Sourced]:
        out = {f"ic_{kind}": c for kind, c in self.ic.items()}
        return {**out, **{f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("name", "ic")}}

    def switch_energy(self, kind: str) -> float:
        """Joules per switch of a junction in a cell of type ``kind``: Ic * Phi0."""
        return float(self.ic[kind].value) * float(self.phi0.value)


def costs_for(options: Mapping[str, Any], library: CellLibrary = PYLSE) -> SfqCosts:
    """The constants of a program compiled with ``options`` (its metadata's ``options``): each
    cell's own Ic, or ``ic_ua`` for every junction."""
    given = options.get("ic_ua")
    cells = library.by_type()
    if given is None:
        ic = {kind: cells[kind].ic for kind in CELL_TYPES}
        label = "Ic per cell"
    else:
        what_if = Sourced(float(given) * 1e-6, "option ic_ua (a what-if for every junction)")
        ic = {kind: what_if for kind in CELL_TYPES}
        label = f"Ic {float(given):g} uA"
    family = options.get("family", "rsfq")
    residual = float(options.get("ersfq_residual", 0.0))
    fraction = (Sourced(1.0, "RSFQ: every junction's bias resistor dissipates") if family == "rsfq" else
                Sourced(residual, f"ERSFQ residual (option ersfq_residual; {SFQ_PHYSICS.ersfq_residual.source})"))
    k = float(options.get("cooling_w_per_w", SFQ_PHYSICS.cooling.value))
    cooling = SFQ_PHYSICS.cooling if k == SFQ_PHYSICS.cooling.value else Sourced(k, "option cooling_w_per_w")
    return SfqCosts(f"SFQ ({family.upper()}, {label}, cooling {k:g} W/W)", ic, PHI0,
                    SFQ_PHYSICS.p_static_per_jj, fraction, cooling)


def static_power(jj_total: int, costs: SfqCosts) -> float:
    """Watts at 4 K of ``jj_total`` biased junctions."""
    return jj_total * float(costs.p_static_per_jj.value) * float(costs.static_fraction.value)


def estimate_sfq(counters: Counters, costs: SfqCosts, *, jj_total: int, period_s: float) -> Estimate:
    """Energy per sample (mean over the batch, at the wall) and latency of a run."""
    if not isinstance(counters, SfqCounters):
        raise SimulationError("an SFQ price needs the pulse kernel's counters (junction switches by cell)",
                              parameter="counters", fix="run on the sfq target's emulator backend")
    batch, steps = counters.per_population.shape[:2]
    if batch == 0:
        raise SimulationError("the run had no samples; nothing to estimate")
    totals = counters.sfq_totals()
    breakdown = {f"dynamic: {t} switches": totals[f"switches_{t}"] * costs.switch_energy(t) / batch
                 for t in CELL_TYPES}
    latency = steps * period_s
    breakdown[STATIC] = static_power(jj_total, costs) * latency
    e_4k = float(sum(breakdown.values()))
    breakdown[COOLING] = float(costs.cooling.value) * e_4k
    return Estimate(table=costs.name, energy=float(sum(breakdown.values())), breakdown=breakdown,
                    per_population={p: {} for p in counters.populations}, latency=latency,
                    step_latency=np.full(steps, period_s), active_cores=1, missing=(),
                    sources={k: c.source for k, c in costs.constants().items()}, constants=costs.constants())


def split_energy(estimate: Estimate) -> dict[str, float]:
    """The estimate's energy as ``dynamic``, ``static``, ``at_4k``, ``cooling`` and ``wall`` (J)."""
    dynamic = sum(v for k, v in estimate.breakdown.items() if k.startswith("dynamic"))
    static, cooling = estimate.breakdown[STATIC], estimate.breakdown[COOLING]
    return {"dynamic": dynamic, "static": static, "at_4k": dynamic + static, "cooling": cooling,
            "wall": estimate.energy}
