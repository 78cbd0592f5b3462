"""The SFQ emulator backend: a compiled program lowered to its netlist and run pulse by pulse
in the C kernel (csrc/sfq.c), with the engine's counters derived from the spikes and the
kernel's own (junction switches by cell, collisions, blocked pulses) beside them."""

from __future__ import annotations

import os
import time
from typing import Mapping

import numpy as np

from ...runtime.counters import COUNTERS
from ...runtime.engine import program_inputs
from ...runtime.program import Program
from ...runtime.sfq import SfqCounters, run_pulses
from ..protocol import BackendRun
from .netlist import SfqNetlist, lower_netlist
from .spec import SfqOptions

__all__ = ["run_sfq", "program_options"]


def program_options(program: Program) -> SfqOptions:
    """The options ``program`` was compiled with."""
    return SfqOptions.from_mapping(program.metadata.get("options", {}))


def run_sfq(program: Program, inputs: Mapping[str, np.ndarray], steps: int, *,
            threads: int | None = None) -> BackendRun:
    """Run ``program`` (compiled for sfq) on the pulse-level kernel for ``steps`` clock periods."""
    t0 = time.perf_counter()
    options = program_options(program)
    net = lower_netlist(program, options)
    data = program_inputs(program, dict(inputs))
    batch = next(iter(data.values())).shape[0] if data else 1
    pulses = np.zeros((batch, steps, net.pulses.input_cell.size), np.uint8)
    for port, pop in program.inputs.items():
        lo, size = net.channels[pop]
        arr = data[port].reshape(batch, data[port].shape[1], size)[:, :steps]
        pulses[:, :arr.shape[1], lo:lo + size] = arr
    run = run_pulses(net.pulses, pulses, period_fs=int(round(net.period_s * 1e15)), stochastic=options.stochastic,
                     seed=options.synapse_seed, threads=threads or os.cpu_count())
    outputs = {}
    for port, pop in program.outputs.items():
        lo, size = net.neurons[pop]
        outputs[port] = run.spikes[:, :, lo:lo + size].astype(np.int64).reshape(
            batch, steps, *program.output_shapes[port])
    counters = _counters(program, net, pulses, run.spikes, run.counters)
    totals = counters.by_population()
    rates = {p.name: totals[p.name]["spikes"] / (p.size * steps * batch)
             for p in program.populations if p.spiking and steps and p.size and batch}
    detail = (f"{net.jj_total} JJ, clock {1e-9 / net.period_s:.2f} GHz, "
              f"{'stochastic' if options.stochastic else 'deterministic'} synapses")
    return BackendRun("SFQ pulse-level kernel", outputs, rates, counters, steps, time.perf_counter() - t0, detail)


def _counters(program: Program, net: SfqNetlist, pulses: np.ndarray, spikes: np.ndarray,
              sfq: np.ndarray) -> SfqCounters:
    """Spikes, synaptic events (spikes x synapses driven) and neuron updates (every neuron is
    read out every period) per population and step; the chip is one core."""
    batch, steps = spikes.shape[:2]
    col = {name: i for i, name in enumerate(COUNTERS)}
    per_pop = np.zeros((batch, steps, len(program.populations), len(COUNTERS)), np.int64)
    n_ch = pulses.shape[2]
    driven = net.fan_out
    for k, p in enumerate(program.populations):
        if p.name in net.channels:
            lo, size = net.channels[p.name]
            raster, fan = pulses[:, :, lo:lo + size], driven[lo:lo + size]
        else:
            lo, size = net.neurons[p.name]
            raster, fan = spikes[:, :, lo:lo + size], driven[n_ch + lo:n_ch + lo + size]
            per_pop[..., k, col["nu_active"]] = size
        per_pop[..., k, col["spikes"]] = raster.sum(axis=2)
        per_pop[..., k, col["synops"]] = raster.astype(np.int64) @ fan
    return SfqCounters(populations=tuple(p.name for p in program.populations), per_population=per_pop,
                       per_core=per_pop.sum(axis=2, keepdims=True), per_step=True, sfq=sfq)

