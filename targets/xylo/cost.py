"""Latency and energy of a Xylo run from its counters: the cycle model per step
(:mod:`.cycles`) against the clock, and the published dynamic power over the run's time.

Xylo runs in real time: a step lasts ``dt`` unless its cycles do not fit, then
``cycles / f_clock`` (the chip falls behind).  Energy = the published dynamic power (291 uW,
measured on the Aloha keyword task) x that time: one measured operating point applied to every
network, labelled so in the estimate; no per-event energies of Xylo are published.
"""

from __future__ import annotations

import numpy as np

from ...errors import SimulationError
from ...runtime.cost import Estimate
from ...runtime.counters import Counters
from ..protocol import ONE_STEP_PER_HOP
from .cycles import XYLO_CYCLES, ClockCheck, check_clock, cycles
from .lower import XyloMapping
from .spec import XYLO_POWER, XyloPower

__all__ = ["step_cycles", "clock_check", "estimate_xylo"]


def step_cycles(counters: Counters, mapping: XyloMapping) -> np.ndarray:
    """Cycles of every step of every sample, ``(batch, steps)``, from the run's event counters."""
    if not counters.per_step:
        raise SimulationError("the cycle model needs per-step counters", parameter="counters",
                              fix="run with counters='step'")
    n_in, n_hid, n_out = mapping.net.sizes
    spikes = counters.per_population[..., counters.column("spikes")]
    pops = list(counters.populations)
    # The program's first hop takes a step: the input events counted at step t reach Xylo's
    # hidden neurons, and cost their cycles, at step t + 1.
    lag = ONE_STEP_PER_HOP.steps_per_hop
    arrived = np.zeros(spikes.shape[:2], np.int64)
    arrived[:, lag:] = spikes[:, :spikes.shape[1] - lag, pops.index(mapping.input)]
    p_in = arrived / max(n_in, 1)
    hid = sum((spikes[..., pops.index(h)] for h in mapping.hidden), np.zeros(spikes.shape[:2], np.int64))
    p_hid = hid / max(n_hid, 1)
    return cycles(n_in, n_hid, n_out, fanout(mapping), p_in, p_hid)


def fanout(mapping: XyloMapping) -> float:
    """Mean non-zero synapse-1 recurrent weights per hidden neuron (the model's ``F``)."""
    w = mapping.net.w_rec[:, :, 0]
    return float(np.count_nonzero(w, axis=1).mean()) if w.shape[0] else 0.0


def clock_check(counters: Counters, mapping: XyloMapping, *, clock_hz: float, dt: float, margin: float) -> ClockCheck:
    n_in, n_hid, n_out = mapping.net.sizes
    worst = float(cycles(n_in, n_hid, n_out, fanout(mapping), 1.0, 1.0, XYLO_CYCLES))
    return check_clock(step_cycles(counters, mapping), worst, clock_hz=clock_hz, dt=dt, margin=margin)


def estimate_xylo(counters: Counters, mapping: XyloMapping, *, clock_hz: float, dt: float,
                  power: XyloPower = XYLO_POWER) -> Estimate:
    """Energy per sample and latency of a run (see the module docstring)."""
    per_step = step_cycles(counters, mapping)
    if per_step.shape[0] == 0:
        raise SimulationError("the run had no samples; nothing to estimate")
    step_time = np.maximum(per_step / clock_hz, dt)
    latency = float(step_time.sum(axis=1).mean())
    breakdown = {"dynamic power x time (Aloha KWS operating point)": float(power.p_dynamic.value) * latency}
    constants = {**power.constants(), **XYLO_CYCLES.constants()}
    return Estimate(
        table="Xylo Audio 2 (cycles: rockpool's model; power: Bos & Muir 2024)", energy=sum(breakdown.values()),
        breakdown=breakdown, per_population={p: {} for p in counters.populations}, latency=latency,
        step_latency=step_time.mean(axis=0), active_cores=1, missing=("static power",),
        sources={k: c.source for k, c in constants.items()}, constants=constants)
