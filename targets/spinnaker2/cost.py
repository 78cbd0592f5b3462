"""SpiNNaker2 time and energy: a per-PE cycle model of the software that runs the neurons.

A SpiNNaker2 processing element (PE) is an ARM Cortex-M4F running the network as software, one
timer tick per time step.  Per PE and tick (hardware-numbers.md §14a, SpiNNaker form)::

    cycles = c_tick + c_neuron * neurons + c_packet_in * packets received
             + c_synapse * synaptic events + c_spike_out * spikes sent
    busy   = cycles / f_clock          (the PE's share of the tick)

A tick whose busy time exceeds the tick length **overruns** (the PE cannot keep real time);
:func:`overruns` names the PE, the step and the term that dominates.  Energy::

    E = P_idle_chip * chips * T  +  P_active_PE * sum of busy time  +  e_packet * packets
      + e_synapse * synaptic events + e_neuron * neuron updates
    T = ticks * tick length     (real time: the machine runs tick by tick)

``packets`` counts every multicast packet received by a PE (local or remote).  Every constant
is a :class:`~spikec.runtime.cost.Sourced` with its source; one with no published value is
``None``, its term left out and named in the estimate.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Mapping

import numpy as np

from ...errors import SimulationError
from ...hardware import Sourced
from ...runtime.cost import Estimate
from ...runtime.counters import Counters

__all__ = ["Spinnaker2Costs", "SPINNAKER2_COSTS", "Overrun", "pe_busy", "overruns", "estimate_spinnaker2",
           "unpriced_cycles", "busiest"]

_TERMS = (  # cycle term, per-core counter(s), constant
    ("neuron updates", ("nu_active", "nu_idle"), "c_neuron"),
    ("packets received", ("msg_in",), "c_packet_in"),
    ("synaptic events", ("synops",), "c_synapse"),
    ("spikes sent", ("spikes",), "c_spike_out"),
)


@dataclass(frozen=True)
class Spinnaker2Costs:
    """Cycle counts per event, clock, tick, and the power/energy constants of one PE and chip."""

    name: str
    clock_hz: Sourced
    tick_s: Sourced
    c_tick: Sourced
    c_neuron: Sourced
    c_packet_in: Sourced
    c_synapse: Sourced
    c_spike_out: Sourced
    p_idle_chip: Sourced
    p_active_pe: Sourced
    e_packet: Sourced
    e_synapse: Sourced
    e_neuron: Sourced

    def constants(self) -> dict[str, Sourced]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "name"}

    def sources(self) -> dict[str, str]:
        return {k: c.source for k, c in self.constants().items()}


@dataclass(frozen=True)
class Overrun:
    """A tick in which one PE's software does not finish within the time step."""

    sample: int
    step: int
    pe: int
    busy_s: float
    tick_s: float
    dominant: str

    def explain(self) -> str:
        return (f"PE {self.pe} overruns step {self.step} of sample {self.sample}: {self.busy_s * 1e6:.1f} us busy "
                f"in a {self.tick_s * 1e6:.0f} us tick, mostly {self.dominant}")


def _value(c: Sourced, name: str) -> float:
    if c.value is None:
        raise SimulationError(f"the cycle model needs {name}, which has no value ({c.source})", parameter=name)
    return float(c.value)


def _cycles(counters: Counters, costs: Spinnaker2Costs) -> dict[str, np.ndarray]:
    """Cycles per (sample, step, PE) of every term that has a published constant."""
    core = counters.per_core
    out = {}
    if costs.c_tick.value is not None:
        out["tick overhead"] = np.full(core.shape[:3], float(costs.c_tick.value))
    for term, names, field in _TERMS:
        c = getattr(costs, field).value
        if c is not None:
            out[term] = sum(core[..., counters.column(n)] for n in names) * float(c)
    return out


def unpriced_cycles(costs: Spinnaker2Costs) -> tuple[str, ...]:
    """Cycle terms left out for want of a published constant."""
    missing = ("tick overhead",) if costs.c_tick.value is None else ()
    return missing + tuple(term for term, _, field in _TERMS if getattr(costs, field).value is None)


def pe_busy(counters: Counters, costs: Spinnaker2Costs) -> np.ndarray:
    """Busy seconds of every PE in every tick, ``(batch, steps, PEs)``."""
    if not counters.per_step:
        raise SimulationError("the cycle model needs per-step counters", parameter="counters",
                              fix="run with counters='step'")
    terms = _cycles(counters, costs)
    total = sum(terms.values()) if terms else np.zeros(counters.per_core.shape[:3])
    return total / _value(costs.clock_hz, "clock_hz")


def overruns(counters: Counters, costs: Spinnaker2Costs, *, limit: int = 10) -> tuple[list[Overrun], int]:
    """The first ``limit`` overrunning (sample, step, PE) triples, and how many there are in all."""
    terms = _cycles(counters, costs)
    busy = pe_busy(counters, costs)
    tick = _value(costs.tick_s, "tick_s")
    where = np.argwhere(busy > tick)
    names = list(terms)
    out = []
    for b, t, pe in where[:limit]:
        dominant = names[int(np.argmax([terms[n][b, t, pe] for n in names]))]
        out.append(Overrun(int(b), int(t), int(pe), float(busy[b, t, pe]), tick, dominant))
    return out, int(where.shape[0])


def estimate_spinnaker2(counters: Counters, costs: Spinnaker2Costs, *, chips: int, pes: int) -> Estimate:
    """Energy per sample (mean over the batch) and latency of a run on ``chips`` chips using
    ``pes`` PEs."""
    busy = pe_busy(counters, costs)
    batch, steps = busy.shape[:2]
    if batch == 0:
        raise SimulationError("the run had no samples; nothing to estimate")
    tick = _value(costs.tick_s, "tick_s")
    wall = steps * tick
    missing: list[str] = [f"cycles of {t}" for t in unpriced_cycles(costs)]
    breakdown: dict[str, float] = {}
    core = counters.per_core

    def add(term: str, constant: Sourced, amount: float) -> None:
        if constant.value is None:
            missing.append(term)
        else:
            breakdown[term] = float(constant.value) * amount

    add("idle power (chips x time)", costs.p_idle_chip, chips * wall)
    add("active PE power (busy time)", costs.p_active_pe, float(busy.sum()) / batch)
    add("packets", costs.e_packet, float(core[..., counters.column("msg_in")].sum()) / batch)
    add("synaptic events", costs.e_synapse, float(core[..., counters.column("synops")].sum()) / batch)
    add("neuron updates", costs.e_neuron,
        float(core[..., counters.column("nu_active")].sum() + core[..., counters.column("nu_idle")].sum()) / batch)
    return Estimate(
        table=costs.name, energy=float(sum(breakdown.values())), breakdown=breakdown,
        per_population={p: {} for p in counters.populations}, latency=wall,
        step_latency=np.maximum(busy.max(axis=2).mean(axis=0), tick), active_cores=pes,
        missing=tuple(missing), sources=costs.sources(), constants=costs.constants(),
    )


def busiest(counters: Counters, costs: Spinnaker2Costs) -> Mapping[str, float]:
    """The busiest PE-tick of the run: its busy time and its share of the tick."""
    busy = pe_busy(counters, costs)
    tick = _value(costs.tick_s, "tick_s")
    worst = float(busy.max(initial=0.0))
    return {"busy_s": worst, "tick_s": tick, "load": worst / tick}


_JIN = "X. Jin, PhD thesis, Manchester 2010, sec. 4.7.1 (via 1library.net) [S]: SpiNNaker1 ARM968 at 200 MHz"
_S1 = "SpiNNaker1 value, no SpiNNaker2 figure published; M4F cycles assumed equal"
_P28 = "28 nm SpiNNaker2 prototype (Hoeppner et al. 2019, arXiv 1903.08941) via KerasSpiking devices['spinnaker2'] [C]"

SPINNAKER2_COSTS = Spinnaker2Costs(
    name="SpiNNaker2 (cycle model: SpiNNaker1 measurements; energy: 28 nm prototype)",
    clock_hz=Sourced(150e6, "SpiNNMachine version_spin2.py clock_speeds_hz [150 MHz, 300 MHz]: the low "
                             "performance level [C]"),
    tick_s=Sourced(1e-3, "py-spinnaker2 hw.run sys_tick_in_s default 1 ms [C]"),
    c_tick=Sourced(None, "fixed per-tick cycles: not published (NUMBERS.md 1d)"),
    c_neuron=Sourced(48, f"{_S1}: {_JIN}, 240 ns per neuron update (Izhikevich)"),
    c_packet_in=Sourced(56, f"{_S1}: {_JIN}, 280 ns per received packet (interrupt, lookup, DMA start)"),
    c_synapse=Sourced(22, f"{_S1}: {_JIN}, 110 ns per synaptic word"),
    c_spike_out=Sourced(None, "cycles per spike sent: not published (NUMBERS.md 1d)"),
    p_idle_chip=Sourced(0.25, "'<250 mW baseline' per chip, Scholze et al. (OJCAS) summary, hardware-numbers.md "
                               "3a [S]: an upper bound"),
    p_active_pe=Sourced(None, "active power per PE of the 22 nm chip: not published"),
    e_packet=Sourced(None, "energy per packet of SpiNNaker2: not published (SpiNNaker1: 1 nJ)"),
    e_synapse=Sourced(450e-12, f"{_P28}: 450 pJ per synaptic event"),
    e_neuron=Sourced(2.19e-9, f"{_P28}: 2.19 nJ per neuron update"),
)
