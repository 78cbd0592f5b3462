r"""Cycles, resources and energy of a run on an :class:`~.design.FpgaDesign`, from the engine's
counters (one engine core = one PE).

Cycles of PE :math:`c` in one step::

    event:  ceil(synops_c / synapse_lanes) + ceil(neurons_c / neuron_lanes) + c_step
    scan:   ceil(inputs_c / synapse_lanes) + ceil(neurons_c / neuron_lanes) + c_step

``synops_c`` are the synaptic events the engine delivered into the PE that step, ``inputs_c``
the distinct source neurons with a synapse into it (a clock-driven PE visits each every step).
(In ``scan`` a unit is a population: a hardware layer.)  A step takes ``max_c`` of those
(``layer_pipelined``) or their sum, over ``f_clock``; a run takes
the sum of its steps (an FPGA accelerator runs as fast as it can, not in real time).

Resources: ``BRAM = sum_c ceil(weights_c * weight_bits / bram_bits) + ceil(neurons_c * state_bits / bram_bits)``,
LUT/FF/DSP per neuron lane, per PE and per synapse lane.  Energy per sample::

    E = P_static T + e_synop synops + e_neuron neuron_updates
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...errors import SimulationError
from ...runtime.cost import Estimate
from ...runtime.counters import Counters
from ...runtime.program import Program
from ...runtime.synapses import expand
from .design import FpgaDesign

__all__ = ["Resources", "pe_loads", "step_cycles", "resources", "estimate_fpga"]


@dataclass(frozen=True)
class PeLoad:
    """Static load of every hardware unit ``(n_units,)``: neurons, distinct input axons, stored
    weights, and the PEs it takes.  A unit is an engine core (``event``: one PE each) or a
    population (``scan``: a hardware layer of ``ceil(neurons / neurons_per_pe)`` PEs side by side,
    each visiting every input)."""

    neurons: np.ndarray
    inputs: np.ndarray
    weights: np.ndarray
    pes: np.ndarray


@dataclass(frozen=True)
class Resources:
    """Estimated FPGA resources; ``None`` where a per-unit cost is not published."""

    lut: int | None
    ff: int | None
    bram36: int
    dsp: int | None
    pes: int

    def summary(self) -> str:
        def fmt(x: int | None) -> str:
            return "n/a" if x is None else f"{x:,}"
        return f"{self.pes} PEs: LUT {fmt(self.lut)}, FF {fmt(self.ff)}, BRAM36 {self.bram36}, DSP {fmt(self.dsp)}"


def pe_loads(program: Program, design: FpgaDesign) -> PeLoad:
    """Neurons, input axons and weights of every unit (see :class:`PeLoad`)."""
    by_layer = design.dataflow == "scan"
    unit_of = np.full(int(program.offsets[-1]), -1, np.int64)
    for k, pop in enumerate(program.populations):
        if pop.is_neuron:
            lo, hi = program.offsets[k], program.offsets[k] + pop.size
            unit_of[lo:hi] = k if by_layer else program.core_of[lo:hi]
    n = len(program.populations) if by_layer else program.n_cores
    neurons = np.bincount(unit_of[unit_of >= 0], minlength=n).astype(np.int64)
    weights = np.zeros(n, np.int64)
    pairs = [np.zeros(0, np.int64)]
    for j in program.projections:
        s = expand(j, program.population(j.source).size, program.population(j.target).size)
        keep = s.weight != 0
        src = s.source[keep] + program.offsets[program.index[j.source]]
        unit = unit_of[s.target[keep] + program.offsets[program.index[j.target]]]
        np.add.at(weights, unit, 1)
        pairs.append(unit * (1 << 32) + src)
    inputs = np.bincount(np.unique(np.concatenate(pairs)) >> 32, minlength=n).astype(np.int64)
    per = int(design.neurons_per_pe.value)
    pes = -(-neurons // per) if by_layer else (neurons > 0).astype(np.int64)
    return PeLoad(neurons, inputs, weights, pes)


def step_cycles(counters: Counters, program: Program, design: FpgaDesign) -> np.ndarray:
    """Cycles of every step, ``(batch, steps)`` (see the module docstring)."""
    if not counters.per_step:
        raise SimulationError("the FPGA cycle model needs per-step counters", parameter="counters",
                              fix="run with counters='step'")
    load = pe_loads(program, design)
    lanes, nlanes = int(design.synapse_lanes.value), int(design.neuron_lanes.value)
    used = load.neurons > 0
    if design.dataflow == "event":
        syn = np.ceil(counters.per_core[..., counters.column("synops")] / lanes)
        neurons = load.neurons
    else:   # every PE of a layer visits every input; its neurons are split among its PEs
        syn = np.broadcast_to(np.ceil(load.inputs / lanes), counters.per_core.shape[:2] + load.inputs.shape)
        neurons = -(-load.neurons // np.maximum(load.pes, 1))
    per_pe = (syn + np.ceil(neurons / nlanes) + float(design.c_step.value or 0)) * used
    return per_pe.max(axis=2) if design.layer_pipelined else per_pe.sum(axis=2)


def resources(program: Program, design: FpgaDesign) -> Resources:
    """The FPGA resources the program's PEs need (see the module docstring)."""
    load = pe_loads(program, design)
    used = load.neurons > 0
    bits = int(design.bram_bits.value)
    bram = int((np.ceil(load.weights * int(design.weight_bits.value) / bits)
                + np.ceil(load.neurons * int(design.state_bits.value) / bits))[used].sum())
    pes = int(load.pes.sum())
    # One neuron unit per neuron a PE updates in parallel (a PE never builds more than it holds).
    per_pe_neurons = -(-load.neurons // np.maximum(load.pes, 1))
    lanes = int((load.pes * np.minimum(per_pe_neurons, int(design.neuron_lanes.value))).sum())

    def total(per_lane, per_pe) -> int | None:   # noqa: ANN001
        if per_lane.value is None or per_pe.value is None:
            return None if per_lane.value is None else int(lanes * per_lane.value)
        return int(lanes * per_lane.value + pes * per_pe.value)

    dsp = None if design.dsp_per_synapse_lane.value is None else \
        int(pes * int(design.synapse_lanes.value) * design.dsp_per_synapse_lane.value)
    return Resources(total(design.lut_per_neuron_lane, design.lut_per_pe),
                     total(design.ff_per_neuron_lane, design.ff_per_pe), bram, dsp, pes)


def estimate_fpga(counters: Counters, program: Program, design: FpgaDesign) -> Estimate:
    """Energy per sample and latency of a run (see the module docstring)."""
    cyc = step_cycles(counters, program, design)
    if cyc.shape[0] == 0:
        raise SimulationError("the run had no samples; nothing to estimate")
    step_time = cyc / float(design.clock_hz.value)
    latency = float(step_time.sum(axis=1).mean())
    batch = cyc.shape[0]
    core = counters.per_core
    synops = float(core[..., counters.column("synops")].sum()) / batch
    updates = float(core[..., counters.column("nu_active")].sum() + core[..., counters.column("nu_idle")].sum()) / batch
    breakdown: dict[str, float] = {}
    missing: list[str] = []
    for term, constant, amount in (("static power x time", design.p_static, latency),
                                   ("synaptic ops", design.e_synop, synops),
                                   ("neuron updates", design.e_neuron, updates)):
        if constant.value is None:
            missing.append(term)
        else:
            breakdown[term] = float(constant.value) * amount
    constants = design.constants()
    return Estimate(table=design.name, energy=float(sum(breakdown.values())), breakdown=breakdown,
                    per_population={p: {} for p in counters.populations}, latency=latency,
                    step_latency=step_time.mean(axis=0), active_cores=int(pe_loads(program, design).pes.sum()),
                    missing=tuple(missing), sources={k: c.source for k, c in constants.items()}, constants=constants)
