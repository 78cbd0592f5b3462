"""What a chip report shows, gathered through the API: compile the model for the target, run it
on the target's emulator recording every population, price the run, and simulate the float
model on the same data.  Works for any target through the :class:`~spikec.targets.protocol.Target`
protocol (no target is named here)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from .. import api
from ..errors import SimulationError, UnsupportedError
from ..hardware import Sourced
from .mesh import MeshData, mesh_data

__all__ = ["LayerRow", "ChipReport", "collect"]


@dataclass(frozen=True)
class LayerRow:
    """One population: its size, its spike rate in the float model and on the chip (spikes per
    neuron per step; None where it does not spike), and what quantizing it cost (None where the
    quantize pass did not touch it): the largest weight error, in the float weights' unit, and
    the share of spikes that agree with the float model on the calibration data."""

    name: str
    kernel: str
    neurons: int
    rate_float: float | None
    rate_chip: float | None
    max_weight_error: float | None
    spike_agreement: float | None


@dataclass(frozen=True)
class ChipReport:
    """Everything a chip report page holds."""

    target: str
    title: str
    model: str
    data_source: str
    samples: int
    steps: int
    options: Mapping[str, Any]
    accuracy_float: float | None
    accuracy_chip: float | None
    energy: float
    latency: float
    breakdown: Mapping[str, float]                  # J per sample, by term
    per_population: Mapping[str, Mapping[str, float]]
    step_latency: np.ndarray                        # s per step
    constants: Mapping[str, Sourced]
    missing: tuple[str, ...]
    notes: tuple[str, ...]
    layers: tuple[LayerRow, ...]
    mesh: MeshData
    n_cores: int
    chips: int


def collect(model: Any, target: str, data: Any = None, *, options: Mapping[str, Any] | None = None,
            samples: int | None = None, calibration: int = 0) -> ChipReport:
    """Compile ``model`` for ``target`` with ``options``, run it on ``data`` (the bundled test
    digits for ``"default"``) and gather the report.  The first ``calibration`` samples choose the
    quantization scales; the ``samples`` after them are run and scored."""
    graph = api.load(model)
    if isinstance(calibration, bool) or not isinstance(calibration, int) or calibration < 0:
        raise SimulationError(f"calibration={calibration!r}", parameter="--calibration", fix="a whole number >= 0")
    data_set = api.resolve_data(data, model, graph, None if samples is None else samples + calibration)
    if calibration >= data_set.samples:
        raise SimulationError(f"{calibration} calibration samples leave none of the data's {data_set.samples} to run",
                              parameter="--calibration", limit=data_set.samples - 1,
                              fix="give fewer calibration samples, or more data")
    cal = data_set.take(calibration) if calibration else None
    scored = _tail(data_set, calibration)
    chip = api.get_target(target)
    compiled = api.compile(graph, chip, options=options, calibration=cal)
    program = compiled.program
    names = [p.name for p in program.populations]
    notes: list[str] = []
    try:
        run = api.run(program, scored, record=names)
    except UnsupportedError as exc:
        if exc.parameter != "record":
            raise
        # A target with an emulator of its own may record nothing: its links are loaded from
        # each population's total events, spread evenly over the population's units.
        run = api.run(program, scored)
        notes.append(f"{chip.title}'s emulator records no per-neuron events: link loads are estimated from each "
                     "population's total events, spread evenly over its neurons")
    est, counters = run.estimate, run.result.counters
    if est is None or counters is None:
        raise UnsupportedError(f"target {chip.name}'s emulator returns no hardware counters", parameter="target",
                               fix="a report needs a backend that counts (the C engine)")
    reference = api.evaluate(graph, scored)
    if run.result.recorded:
        events = np.concatenate([np.count_nonzero(run.result.recorded[n], axis=(0, 1)).reshape(-1) for n in names])
    else:
        totals = counters.by_population()
        events = np.concatenate([np.full(p.size, totals[p.name]["spikes"] / max(p.size, 1))
                                 for p in program.populations])
    quant = _quantization(compiled.records)
    layers = tuple(LayerRow(p.name, p.kernel, p.size, reference.rates.get(p.name), run.result.rates.get(p.name),
                            *quant.get(p.name, (None, None)))
                   for p in program.populations)
    return ChipReport(
        target=chip.name, title=chip.title, model=str(model), data_source=scored.source, samples=scored.samples,
        steps=run.result.steps, options=chip.make_options(options).as_dict(),
        accuracy_float=reference.accuracy, accuracy_chip=run.accuracy, energy=est.energy, latency=est.latency,
        breakdown=dict(est.breakdown), per_population={k: dict(v) for k, v in est.per_population.items()},
        step_latency=np.asarray(est.step_latency), constants=dict(est.constants or chip.constants()),
        missing=tuple(est.missing), notes=(*run.notes, *notes),
        layers=layers, mesh=mesh_data(program, counters, events, scored.samples), n_cores=program.n_cores,
        chips=chip.chips(program))


def _tail(data: api.Dataset, start: int) -> api.Dataset:
    if not start:
        return data
    labels = None if data.labels is None else data.labels[start:]
    return api.Dataset({k: v[start:] for k, v in data.inputs.items()}, labels, f"{data.source} [{start}:]")


def _quantization(records: Any) -> dict[str, tuple[float | None, float | None]]:
    """Per population the quantize pass changed: (max weight error, spike agreement)."""
    out = {}
    for record in records:
        if record.name != "quantize":
            continue
        for change in record.changes:
            f = change.figures
            err, agree = f.get("max_weight_error"), f.get("spike_agreement")
            out[change.node] = (None if err is None else float(err), None if agree is None else float(agree))
    return out
