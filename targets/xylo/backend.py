"""Running a compiled program on Xylo's arithmetic (:mod:`.reference`), with the counters the
cycle model reads.

The C engine's integer kernel cannot express Xylo's neuron (its decay moves a register by at
least one, a current decays in the step it arrives, every addition saturates at
``[-2**15, 2**15 - 1]``, and a neuron may fire up to 31 times a step), so this target brings its
own emulator.  Its counters use the engine's layout, one population per row, one core:
``spikes`` counts *events* (a neuron that fires, however many times, or an input channel with
events: Xylo's cycle cost is per event), ``synops`` the events times their non-zero synapses,
``nu_active`` every neuron every step (Xylo updates all of them).
"""

from __future__ import annotations

import time
from typing import Mapping

import numpy as np

from ...errors import SimulationError
from ...runtime.counters import COUNTERS, Counters
from ...runtime.program import Program
from ..protocol import BackendRun
from .lower import XyloMapping, to_xylo
from .reference import MAX_INPUT_EVENTS, simulate

__all__ = ["run_xylo", "xylo_counters"]


def _raster(program: Program, mapping: XyloMapping, inputs: Mapping[str, np.ndarray], steps: int) -> np.ndarray:
    port = next(iter(program.inputs))
    if port not in inputs:
        raise SimulationError(f"no input for port '{port}'", parameter="inputs", fix=f"give inputs['{port}']")
    x = np.asarray(inputs[port])
    n_in = mapping.net.sizes[0]
    if x.ndim < 2 or int(np.prod(x.shape[2:], dtype=np.int64)) != n_in:
        raise SimulationError(f"input has shape {x.shape}, expected (batch, time, {n_in})", parameter="inputs")
    x = x.reshape(x.shape[0], x.shape[1], n_in)
    if x.size and (x.min() < 0 or x.max() > MAX_INPUT_EVENTS or np.any(x != np.round(x))):
        raise SimulationError(f"input values span [{x.min()}, {x.max()}]", parameter="inputs",
                              limit=f"whole event counts 0..{MAX_INPUT_EVENTS} per channel and step",
                              fix="encode the input as spike counts (Xylo takes at most 15 events per bin)")
    # The program's first hop takes a step; Xylo's input synapses act within the step, so the
    # events enter one step later and every output lines up with the program's timing.
    raster = np.zeros((x.shape[0], steps, n_in), np.int64)
    keep = min(x.shape[1], steps - 1)
    raster[:, 1:keep + 1] = x[:, :keep]
    return raster


def xylo_counters(mapping: XyloMapping, raster: np.ndarray, hidden: np.ndarray, output: np.ndarray,
                  names: tuple[str, ...]) -> Counters:
    """Per-step counters ``(batch, steps, populations, counters)`` of one Xylo run."""
    net = mapping.net
    batch, steps = raster.shape[:2]
    per_pop = np.zeros((batch, steps, len(names), len(COUNTERS)), np.int64)
    col = {c: i for i, c in enumerate(COUNTERS)}
    fan_in_src = np.count_nonzero(net.w_in, axis=(1, 2))
    fan_hid = np.count_nonzero(net.w_rec, axis=(1, 2)) + np.count_nonzero(net.w_out, axis=1)
    rows = {mapping.input: (raster > 0, fan_in_src, 0)}
    # Hidden populations occupy consecutive ranges of Xylo's hidden neurons, in program order.
    for h, (lo, hi) in _bounds(mapping).items():
        rows[h] = (hidden[..., lo:hi] > 0, fan_hid[lo:hi], hi - lo)
    rows[mapping.output] = (output > 0, np.zeros(output.shape[-1], np.int64), output.shape[-1])
    for name, (events, fan, n_neurons) in rows.items():
        k = names.index(name)
        per_pop[:, :, k, col["spikes"]] = events.sum(axis=2)
        per_pop[:, :, k, col["synops"]] = (events * fan).sum(axis=2)
        per_pop[:, :, k, col["words"]] = per_pop[:, :, k, col["synops"]]
        per_pop[:, :, k, col["msg_local"]] = per_pop[:, :, k, col["spikes"]]
        per_pop[:, :, k, col["nu_active"]] = n_neurons
    per_core = per_pop.sum(axis=2, keepdims=True)
    per_core[..., col["msg_in"]] = per_core[..., col["msg_local"]]
    return Counters(names, per_pop, per_core, True)


def _bounds(mapping: XyloMapping) -> dict[str, tuple[int, int]]:
    edges = np.cumsum([0, *mapping.hidden_sizes])
    return {h: (int(edges[i]), int(edges[i + 1])) for i, h in enumerate(mapping.hidden)}


def run_xylo(program: Program, inputs: Mapping[str, np.ndarray], steps: int, *,
             threads: int | None = None, record: tuple[str, ...] = ()) -> BackendRun:
    """Run ``program`` on Xylo Audio 2's arithmetic (see the module docstring)."""
    t0 = time.perf_counter()
    mapping = to_xylo(program)
    raster = _raster(program, mapping, inputs, int(steps))
    result = simulate(mapping.net, raster)
    names = tuple(p.name for p in program.populations)
    counters = xylo_counters(mapping, raster, result.hidden, result.output, names)
    batch = raster.shape[0]
    rates = {}
    totals = counters.by_population()
    for p in program.populations:
        if p.spiking and steps and p.size:
            rates[p.name] = totals[p.name]["spikes"] / (p.size * steps * batch)
    out_port = next(iter(program.outputs))
    outputs = {out_port: result.output.astype(np.float64)}
    recorded = {}
    bounds = _bounds(mapping)
    for name in record:
        if name in bounds:
            lo, hi = bounds[name]
            recorded[name] = result.hidden[..., lo:hi].astype(np.float64)
        elif name == mapping.output:
            recorded[name] = result.output.astype(np.float64)
    return BackendRun("Xylo Audio 2 arithmetic (xylosim-exact NumPy model)", outputs, rates, counters, int(steps),
                      time.perf_counter() - t0, recorded=recorded)
