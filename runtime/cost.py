"""Energy and latency from counters: the event-driven many-core model of
hardware-numbers.md §14a (SANA-FE's "simple" scheduler plus a barrier).

Energy of a run (per sample)::

    E = Σ_pop [synops·e_sop + nu_active·e_nu_active + nu_idle·e_nu_idle + spikes·e_spike_out]
      + msg_local·e_msg_local + msg_remote·e_inject + hops_x·e_hop_x + hops_y·e_hop_y
      + words·e_word + steps·e_sync + P_static·active_cores·T_wall   (P_static per core)

Latency of one time step::

    t_step = max_core(synops_c·t_sop + nu_c·t_nu + spikes_c·t_spike_out)
           + hops_max·t_hop + t_barrier ;   T_wall = Σ_t max(t_step, t_step_min)

Every constant is a :class:`~spikec.hardware.Sourced` carrying its published source.  A constant that has no
published value is ``None``: its term is left out and named in :attr:`Estimate.missing`
rather than silently counted as zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Mapping

import numpy as np

from ..errors import SimulationError
from ..hardware import Sourced
from .counters import COUNTERS, Counters

__all__ = ["CostTable", "Estimate", "estimate"]


_NONE = Sourced(None, "not modelled")


@dataclass(frozen=True)
class CostTable:
    """Per-event energies (J), per-event times (s) and static power (W) of one chip."""

    name: str
    e_sop: Sourced = _NONE
    e_nu_active: Sourced = _NONE
    e_nu_idle: Sourced = _NONE
    e_spike_out: Sourced = _NONE
    e_msg_local: Sourced = _NONE
    e_inject: Sourced = _NONE
    e_hop_x: Sourced = _NONE
    e_hop_y: Sourced = _NONE
    e_word: Sourced = _NONE
    e_sync: Sourced = _NONE
    p_static: Sourced = _NONE  # per active core
    t_sop: Sourced = _NONE
    t_nu: Sourced = _NONE
    t_spike_out: Sourced = _NONE
    t_hop: Sourced = _NONE
    t_barrier: Sourced = _NONE
    t_step_min: Sourced = _NONE

    def sources(self) -> dict[str, str]:
        return {f.name: getattr(self, f.name).source for f in fields(self) if f.name != "name"}

    def borrowed(self, name: str, note: str) -> "CostTable":
        """This table's values under another chip's ``name``, every source prefixed with ``note``
        (for a chip with no published constants of its own, so every estimate says so)."""
        values = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "name"}
        return CostTable(name=name, **{k: c if c.value is None else Sourced(c.value, f"{note}: {c.source}")
                                       for k, c in values.items()})


# Dynamic energy terms: (term, counter, constant field).
_ENERGY_TERMS = (
    ("synaptic ops", "synops", "e_sop"),
    ("neuron updates (active)", "nu_active", "e_nu_active"),
    ("neuron updates (idle)", "nu_idle", "e_nu_idle"),
    ("spikes out", "spikes", "e_spike_out"),
    ("local messages", "msg_local", "e_msg_local"),
    ("remote messages", "msg_remote", "e_inject"),
    ("hops x", "hops_x", "e_hop_x"),
    ("hops y", "hops_y", "e_hop_y"),
    ("synapse memory reads", "words", "e_word"),
)


@dataclass(frozen=True)
class Estimate:
    """Energy (J per sample, mean over the batch) with its breakdown, and latency (s)."""

    table: str
    energy: float
    breakdown: Mapping[str, float]
    per_population: Mapping[str, Mapping[str, float]]
    latency: float
    step_latency: np.ndarray
    active_cores: int
    missing: tuple[str, ...]
    sources: Mapping[str, str]
    constants: Mapping[str, Sourced] = field(default_factory=dict)   # what it was computed with

    def summary(self) -> str:
        lines = [f"{self.table}: {self.energy * 1e6:.4g} uJ and {self.latency * 1e3:.4g} ms per sample"]
        for term, value in self.breakdown.items():
            share = value / self.energy * 100 if self.energy else 0.0
            lines.append(f"  {term:<26} {value * 1e6:12.4g} uJ  {share:5.1f} %")
        if self.missing:
            lines.append("  not included (no published constant): " + ", ".join(self.missing))
        return "\n".join(lines)


def estimate(counters: Counters, table: CostTable) -> Estimate:
    """Combine a run's counters with a chip's cost table (see the module docstring)."""
    if not counters.per_step:
        raise SimulationError(
            "latency needs per-step counters (the busiest core differs from step to step)",
            parameter="counters", fix="run with counters='step'",
        )
    pop, core = counters.per_population, counters.per_core
    batch = pop.shape[0]
    if batch == 0:
        raise SimulationError("the run had no samples; nothing to estimate")
    col = {name: i for i, name in enumerate(COUNTERS)}
    missing: list[str] = []

    def value(field: str, term: str) -> float | None:
        v = getattr(table, field).value
        if v is None and term not in missing:
            missing.append(term)
        return v

    breakdown: dict[str, float] = {}
    per_pop: dict[str, dict[str, float]] = {p: {} for p in counters.populations}
    for term, counter, name in _ENERGY_TERMS:
        e = value(name, term)
        if e is None:
            continue
        by_pop = pop[..., col[counter]].sum(axis=(0, 1)) * e / batch
        breakdown[term] = float(by_pop.sum())
        for k, p in enumerate(counters.populations):
            per_pop[p][term] = float(by_pop[k])

    # Latency, step by step: the busiest core sets the pace, then routing, then the barrier.
    def t(field: str, term: str) -> float:
        v = value(field, term)
        return 0.0 if v is None else v

    busy = (core[..., col["synops"]] * t("t_sop", "time of synaptic ops")
            + (core[..., col["nu_active"]] + core[..., col["nu_idle"]]) * t("t_nu", "time of neuron updates")
            + core[..., col["spikes"]] * t("t_spike_out", "time of spikes out"))
    step = busy.max(axis=2) + core[..., col["hops_max"]].max(axis=2) * t("t_hop", "time of hops")
    step = step + t("t_barrier", "barrier time")
    floor = t("t_step_min", "minimum step time (real-time throttle)")
    step = np.maximum(step, floor)
    latency = float(step.sum(axis=1).mean())
    active = core[..., col["nu_active"]].sum(axis=(0, 1)) + core[..., col["synops"]].sum(axis=(0, 1))
    active_cores = int(np.count_nonzero(active))
    n_steps = core.shape[1]
    e_sync = value("e_sync", "barrier energy")
    if e_sync is not None:
        breakdown["barrier sync"] = e_sync * n_steps
    p_static = value("p_static", "static power")
    if p_static is not None:
        breakdown["static"] = p_static * active_cores * latency
    return Estimate(
        table=table.name,
        energy=float(sum(breakdown.values())),
        breakdown=breakdown,
        per_population=per_pop,
        latency=latency,
        step_latency=step.mean(axis=0),
        active_cores=active_cores,
        missing=tuple(missing),
        sources=table.sources(),
        constants={name: getattr(table, name) for name in table.sources()},
    )

