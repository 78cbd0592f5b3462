r"""Reservoir states from any backend, and the features a readout learns from.

:func:`run_reservoir` drives a reservoir with input events on

- ``"reference"``: spikec's reference simulator (float64; see :mod:`.reservoir` for why its
  spikes equal the C engine's);
- the C engine, as an ideal chip (``target=None``, backend ``"emulator"``), or compiled for a
  target (``target="loihi2"``, ...) on any of that target's backends (its ``emulator``, Lava,
  a target's own simulator): everything goes through :mod:`spikec.api` (``compile`` once, then
  ``run``), and the states are the graph's ``states`` output, so no backend has to record
  internal populations.  A target's pipeline delay (``pipeline_depth`` steps) is cut off, so the
  states line up with the input in time whatever the chip.

:func:`state_features` turns spikes ``(samples, steps, n)`` into one vector per sample:

- ``"counts"``: spike counts per neuron in ``bins`` equal time bins (Lin et al. 2025 read the
  LSM's spike counts over the time window);
- ``"trace"``: a low-pass trace :math:`y[t] = \beta_f y[t-1] + z[t]` per neuron
  (``trace_decay`` = :math:`\beta_f`), sampled at the end of each bin (Maass 2002's readout
  sees such filtered spike trains).

:func:`extract_states` is both in one call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from .. import api
from ..compiler.lower import lower
from ..errors import SimulationError, UnsupportedError
from ..ir import simulate
from .reservoir import INPUT, STATES, Reservoir

__all__ = ["reference_spikes", "ReservoirRun", "run_reservoir", "state_features", "extract_states", "States"]

REFERENCE = "reference"


def reference_spikes(reservoir: Reservoir, inputs: np.ndarray, *, chunk: int = 256) -> np.ndarray:
    """The reservoir's spikes ``(samples, steps, n)`` (uint8) in the reference simulator (float64)."""
    inputs = np.asarray(inputs)
    if inputs.ndim != 3 or inputs.shape[2] != reservoir.n_inputs:
        raise SimulationError(f"inputs of shape {inputs.shape}", parameter="inputs",
                              fix=f"(samples, steps, {reservoir.n_inputs}) input events")
    parts = []
    for lo in range(0, inputs.shape[0], chunk):
        out = simulate(reservoir.graph, inputs[lo:lo + chunk].astype(np.float64), dtype=np.float64)
        parts.append(out.outputs[STATES].astype(np.uint8))
    return np.concatenate(parts)


@dataclass(frozen=True)
class ReservoirRun:
    """Spikes ``(samples, steps, n)`` (uint8) of a reservoir on one backend, with the price of the
    run where the backend counts events (energy in J and latency in s, per sample)."""

    spikes: np.ndarray
    backend: str
    energy: float | None
    latency: float | None
    priced_by: str | None


def run_reservoir(reservoir: Reservoir, inputs: np.ndarray, *, target: str | None = None,
                  backend: str = "emulator", options: Mapping[str, Any] | None = None,
                  chunk: int = 256) -> ReservoirRun:
    """The reservoir's spikes on ``inputs`` ``(samples, steps, n_inputs)`` (module docstring)."""
    inputs = np.asarray(inputs)
    if inputs.ndim != 3 or inputs.shape[2] != reservoir.n_inputs or inputs.shape[0] == 0 or inputs.shape[1] == 0:
        raise SimulationError(f"inputs of shape {inputs.shape}", parameter="inputs",
                              fix=f"(samples >= 1, steps >= 1, {reservoir.n_inputs}) input events")
    if backend == REFERENCE:
        if target is not None or options:
            raise UnsupportedError(f"the reference simulator runs the graph as it is, not compiled for {target}",
                                   parameter="backend", fix="drop the target, or pick one of its backends")
        return ReservoirRun(reference_spikes(reservoir, inputs, chunk=chunk), "reference simulator (float64)",
                            None, None, None)
    program = api.compile(reservoir.graph, target, options=options).program if target else lower(reservoir.graph)
    depth = int(program.metadata.get("pipeline_depth", 0))
    steps = inputs.shape[1]
    parts, energy, latency, title, priced = [], 0.0, 0.0, backend, None
    for lo in range(0, inputs.shape[0], chunk):
        batch = inputs[lo:lo + chunk]
        data = api.Dataset({INPUT: batch.astype(np.float64)}, None, "lsm input events")
        report = api.run(program, data, backend=backend, steps=steps + depth)
        out = np.asarray(report.result.outputs[STATES])[:, depth:depth + steps]
        parts.append((out > 0).astype(np.uint8).reshape(batch.shape[0], steps, -1))
        title = report.result.title
        if report.estimate is not None and report.priced_by is not None:
            energy += report.estimate.energy * batch.shape[0]
            latency += report.estimate.latency * batch.shape[0]
            priced = report.priced_by.name
    n = inputs.shape[0]
    return ReservoirRun(np.concatenate(parts), title, energy / n if priced else None,
                        latency / n if priced else None, priced)


def state_features(spikes: np.ndarray, *, bins: int = 3, kind: str = "counts",
                   trace_decay: float = 0.9) -> np.ndarray:
    """One feature vector per sample, ``(samples, bins * n)`` float32 (module docstring)."""
    spikes = np.asarray(spikes)
    if spikes.ndim != 3:
        raise SimulationError(f"spikes of shape {spikes.shape}", parameter="spikes", fix="(samples, steps, neurons)")
    samples, steps, n = spikes.shape
    if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or not 1 <= bins <= steps:
        raise SimulationError(f"bins={bins!r} for {steps} steps", parameter="bins", limit=f"1 .. {steps}",
                              fix="at most one bin per time step")
    edges = np.linspace(0, steps, bins + 1).round().astype(int)
    if kind == "counts":
        cum = np.concatenate([np.zeros((samples, 1, n)), np.cumsum(spikes, axis=1, dtype=np.float64)], axis=1)
        feats = cum[:, edges[1:]] - cum[:, edges[:-1]]
    elif kind == "trace":
        if not (isinstance(trace_decay, (int, float)) and 0 <= trace_decay < 1):
            raise SimulationError(f"trace_decay={trace_decay!r}", parameter="trace_decay", limit="0 <= decay < 1",
                                  fix="e.g. 0.9")
        trace = np.zeros((samples, n))
        picks = []
        ends = set(int(e) - 1 for e in edges[1:])
        for t in range(steps):
            trace = trace_decay * trace + spikes[:, t]
            if t in ends:
                picks.append(trace.copy())
        feats = np.stack(picks, axis=1)
    else:
        raise UnsupportedError(f"unknown state kind {kind!r}", parameter="kind", fix="use 'counts' or 'trace'")
    return feats.reshape(samples, -1).astype(np.float32)


@dataclass(frozen=True)
class States:
    """Features ``(samples, F)`` of a reservoir run, and the run they came from."""

    features: np.ndarray
    run: ReservoirRun


def extract_states(reservoir: Reservoir, inputs: np.ndarray, *, target: str | None = None,
                   backend: str = "emulator", options: Mapping[str, Any] | None = None, bins: int = 3,
                   kind: str = "counts", trace_decay: float = 0.9) -> States:
    """:func:`run_reservoir` then :func:`state_features`."""
    run = run_reservoir(reservoir, inputs, target=target, backend=backend, options=options)
    return States(state_features(run.spikes, bins=bins, kind=kind, trace_decay=trace_decay), run)
