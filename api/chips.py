"""Chips: compile a model for a target, run it on one of the target's backends, price a run,
and put targets side by side.  Each function is what one CLI command does."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from ..compiler.lower import lower
from ..compiler.pipeline import Compiled, available_passes
from ..errors import GraphValidationError, ResourceLimitError, SimulationError, SpikecError, UnsupportedError
from ..hardware import Sourced
from ..ir import Graph
from ..ir.readout import decode_rate
from ..runtime.cost import Estimate
from ..runtime.program import Program, is_program_file, load_program
from ..targets.options import Options
from ..targets.protocol import BackendRun, Target, emulator
from ..targets.registry import all_targets, get_target, target_names
from .models import (
                     DEFAULT_MODEL,
                     Dataset,
                     bundled_data,
                     check_labels_fit,
                     checked_count,
                     load,
                     load_dataset,
                     poisson_dataset,
)

__all__ = ["compile", "run", "estimate", "compare", "RunReport", "EstimateReport", "Comparison", "list_targets",
           "list_passes", "get_target", "target_names", "resolve_data"]

#: What ``spikec run`` prices a run with when it names no target (Loihi's published table).
DEFAULT_COST = "loihi1"


def list_passes() -> dict[str, str]:
    """Every registered compiler pass: name -> what it does (``spikec compile --passes list``)."""
    return available_passes()


def list_targets(errors: list[SpikecError] | None = None) -> list[Target]:
    """Every target, built in or installed through the ``spikec.targets`` entry point; with
    ``errors``, targets that fail to load are reported there instead of raising."""
    return all_targets(errors)


def compile(model: Any, target: str | Target = "loihi1", *, options: Options | Mapping[str, Any] | None = None,
            calibration: Dataset | Mapping[str, np.ndarray] | np.ndarray | None = None,
            dt: float | None = None, source: str | None = None) -> Compiled:
    """Compile ``model`` (anything :func:`~spikec.load` takes) for ``target`` with its
    ``options`` (a dict of knob -> value, see ``spikec targets``); ``calibration`` input spikes
    choose the quantization scales (the best spike agreement with the float model per population,
    ``compiler/passes/calibrate.py``) and the quantize pass reports the agreement."""
    chip = _target(target)
    graph = load(model, dt=dt, source=source)
    if isinstance(calibration, Dataset):
        calibration = dict(calibration.inputs)
    return chip.compile(graph, options, calibration)


@dataclass(frozen=True)
class RunReport:
    """A run of a program on one backend: what it produced, and its price where it was counted."""

    program: Program
    target: Target | None          # the chip compiled for (None: the model lowered as it is)
    backend: str
    result: BackendRun
    data: Dataset
    estimate: Estimate | None       # priced with ``priced_by``'s constants (emulator runs)
    priced_by: Target | None
    notes: tuple[str, ...]

    @property
    def accuracy(self) -> float | None:
        return _accuracy(self.result.outputs, self.data)


#: Synthetic input (``rate=``) is this long and this many samples unless ``steps``/``samples`` say.
SYNTHETIC_STEPS = 100
SYNTHETIC_SAMPLES = 16


def run(model: Any, data: Dataset | str | os.PathLike | None = None, *, target: str | Target | None = None,
        backend: str = "emulator", options: Options | Mapping[str, Any] | None = None, steps: int | None = None,
        samples: int | None = None, threads: int | None = None, cost: str | None = None,
        dt: float | None = None, source: str | None = None, record: Sequence[str] | str = (), rate: float | None = None,
        seed: int = 0) -> RunReport:
    """Run ``model`` on ``backend``: a compiled program (a ``Program`` or a saved ``.npz``) as it
    is, or a model compiled for ``target`` first (without a target, the model lowered as it is:
    an ideal chip; only the ``arithmetic`` option applies then).  ``steps`` defaults to the
    input's length plus the program's pipeline depth.  Emulator runs are priced with ``cost``'s
    constants (default: the target's, else Loihi 1's).

    ``record`` names populations whose events the emulator keeps (``result.recorded``).
    ``rate`` replaces ``data`` by synthetic Poisson input (:func:`~spikec.api.poisson_dataset`):
    ``steps`` long (default 100) for ``samples`` samples (default 16) from ``seed``.
    Every argument and the data are checked before anything is compiled."""
    steps, samples, threads = _checked_counts(steps, samples, threads)
    names = [record] if isinstance(record, str) else list(record)
    if names and backend != "emulator":
        raise UnsupportedError(f"recording populations {names} needs the emulator backend, not {backend!r}",
                               parameter="record", fix="drop --record or run on --backend emulator")
    program, graph, chip = _load_for(model, target, options, dt, source)
    reader = graph if graph is not None else program
    assert reader is not None
    data = _data_for(data, model, reader, samples=samples, steps=steps, rate=rate, seed=seed)
    if rate is not None:
        steps = None  # the synthetic input is `steps` long; the run adds the pipeline depth as for any input
    runner = chip.backend(backend) if chip is not None else _plain_backend(backend)
    if names and runner is not emulator:
        raise UnsupportedError(f"target {chip.name if chip else '-'} brings its own emulator, which records no "
                               "populations", parameter="record", fix="drop --record")
    if cost is not None:
        _target(cost)
    if program is None:
        program = _lower(graph, chip, options)
    _check_record(program, names)
    extra = {"record": names} if names else {}
    result = runner(program, dict(data.inputs), _steps(program, data, steps), threads=threads, **extra)
    priced = estimate_ = None
    notes: tuple[str, ...] = ()
    if result.counters is not None and data.samples and result.steps:
        priced = _target(cost or (chip.name if chip is not None else DEFAULT_COST))
        estimate_ = priced.price(result.counters, program)
        notes = tuple(priced.notes(result.counters, program))
    return RunReport(program, chip, backend, result, data, estimate_, priced, notes)


def _checked_counts(steps: Any, samples: Any, threads: Any) -> tuple[int | None, int | None, int | None]:
    """``--steps``, ``--samples`` and ``--threads``: whole numbers >= 1 where given."""
    return tuple(None if v is None else checked_count(v, flag)  # type: ignore[return-value]
                 for v, flag in ((steps, "--steps"), (samples, "--samples"), (threads, "--threads")))


def _data_for(data: Dataset | str | os.PathLike | None, model: Any, reader: Graph | Program, *,
              samples: int | None, steps: int | None, rate: float | None, seed: int) -> Dataset:
    if rate is None:
        if data is None and not (isinstance(model, str) and model == DEFAULT_MODEL):
            raise SimulationError("no input data given", parameter="--input",
                                  fix="pass --input data.npz (data= in Python), or --rate R for synthetic "
                                      "Poisson input")
        return resolve_data(data, model, reader, samples)
    if data is not None:
        raise SimulationError("both input data and a synthetic rate given", parameter="--rate",
                              fix="give --input or --rate, not both")
    return poisson_dataset(reader, rate, steps=steps or SYNTHETIC_STEPS, samples=samples or SYNTHETIC_SAMPLES,
                           seed=seed)


def _check_record(program: Program, names: Sequence[str]) -> None:
    known = [p.name for p in program.populations]
    unknown = [n for n in names if n not in known]
    if unknown:
        shown = ", ".join(known[:20]) + (", ..." if len(known) > 20 else "")
        raise UnsupportedError(f"no population named {unknown[0]!r} in the program", parameter="record",
                               fix=f"record some of: {shown}")


@dataclass(frozen=True)
class EstimateReport:
    """Energy and latency of a model on a chip, with the activity they come from."""

    target: Target
    program: Program
    estimate: Estimate
    activity: Mapping[str, float]      # counters per sample, summed over populations
    notes: tuple[str, ...]
    constants: Mapping[str, Sourced]
    data: Dataset
    steps: int
    accuracy: float | None


def estimate(model: Any, target: str | Target = "loihi2", data: Dataset | str | os.PathLike | None = None, *,
             options: Options | Mapping[str, Any] | None = None, steps: int | None = None,
             samples: int | None = None, threads: int | None = None, dt: float | None = None, source: str | None = None,
             rate: float | None = None, seed: int = 0) -> EstimateReport:
    """Compile ``model`` for ``target``, run it on the emulator over ``data`` (or over synthetic
    Poisson input at ``rate``, see :func:`run`), and price it.  ``report.data.source`` says which."""
    report = run(model, data, target=target, options=options, steps=steps, samples=samples, threads=threads, dt=dt,
                 source=source, rate=rate, seed=seed)
    chip = report.target
    assert chip is not None and report.estimate is not None and report.result.counters is not None
    totals = report.result.counters.by_population()
    per = max(1, report.data.samples)
    activity = {k: sum(c[k] for c in totals.values()) / per
                for k in ("synops", "nu_active", "nu_idle", "spikes", "msg_local", "msg_remote", "hops_x", "hops_y")}
    # The constants the estimate was computed with (a what-if such as SpiNNaker2's tick changes them).
    constants = report.estimate.constants or chip.constants()
    return EstimateReport(chip, report.program, report.estimate, activity, report.notes, constants,
                          report.data, report.result.steps, report.accuracy)


@dataclass(frozen=True)
class Comparison:
    """One target's row of ``spikec compare``: per sample, with that chip's default options.  A
    target that cannot take the model (too big, a kind of neuron it lacks) has ``refused``, the
    reason and the fix, and no figures."""

    target: str
    title: str
    energy: float | None    # J
    latency: float | None   # s
    cores: int | None
    chips: int | None
    accuracy: float | None
    missing: tuple[str, ...]
    refused: str | None = None


def compare(model: Any, data: Dataset | str | os.PathLike | None = None, targets: str | Sequence[str] = "all", *,
            samples: int | None = None, threads: int | None = None, dt: float | None = None,
            source: str | None = None) -> list[Comparison]:
    """Compile ``model`` for every target in ``targets`` (``"all"``, a comma-separated string or
    a list), run each on its emulator over the same data, and price each with its own constants."""
    names = target_names() if targets == "all" else (
        [t.strip() for t in targets.split(",") if t.strip()] if isinstance(targets, str) else list(targets))
    if not names:
        raise UnsupportedError("no targets to compare", parameter="targets", fix=f"name some of {target_names()}")
    chips = [_target(name) for name in names]
    _checked_counts(None, samples, threads)
    graph = load(model, dt=dt, source=source)
    data = resolve_data(data, model, graph, samples)
    rows = []
    refusals: list[SpikecError] = []
    for chip in chips:
        try:
            report = run(graph, data, target=chip, threads=threads)
        except _REFUSALS as exc:
            # One chip that cannot hold the model (Xylo's 16 inputs, TULIP's binary neurons) is a row
            # of the comparison, not the end of it.
            refusals.append(exc)
            rows.append(Comparison(chip.name, chip.title, None, None, None, None, None, (), refused=str(exc)))
            continue
        assert report.estimate is not None
        rows.append(Comparison(chip.name, chip.title, report.estimate.energy, report.estimate.latency,
                               report.estimate.active_cores, chip.chips(report.program), report.accuracy,
                               report.estimate.missing))
    if len(refusals) == len(rows):
        raise refusals[0]
    return rows


# What a chip says when the model does not fit it or uses what it lacks (not bad input or data).
_REFUSALS = (ResourceLimitError, UnsupportedError, GraphValidationError)


def resolve_data(data: Dataset | str | os.PathLike | None, model: Any, reader: Graph | Program,
                 samples: int | None = None) -> Dataset:
    """``data`` as a Dataset for ``reader``'s inputs: a Dataset, a path, or None for the bundled
    test digits when ``model`` is the bundled model."""
    if data is None:
        if not (isinstance(model, str) and model == DEFAULT_MODEL):
            raise SimulationError("no input data given", parameter="--input", fix="pass --input data.npz (or data=)")
        data = bundled_data()
    if samples is not None:
        checked_count(samples, "--samples")
    if not isinstance(data, Dataset):
        data = load_dataset(data, reader)
    check_labels_fit(data, reader)
    return data.take(samples)


def _target(target: str | Target) -> Target:
    return target if isinstance(target, Target) else get_target(target)


def _load_for(model: Any, target: str | Target | None, options: Options | Mapping[str, Any] | None,
              dt: float | None, source: str | None = None) -> tuple[Program | None, Graph | None, Target | None]:
    """A compiled program as it is (with the target it names), or the model's graph and the
    chip to compile it for, with the options checked: everything but the compilation."""
    if isinstance(model, Program) or (isinstance(model, (str, os.PathLike)) and not
                                      (isinstance(model, str) and model == DEFAULT_MODEL) and is_program_file(model)):
        program = model if isinstance(model, Program) else load_program(model)
        if target is not None or options:
            shown = "the program" if isinstance(model, Program) else repr(os.fspath(model))
            command = f"spikec run {'P.npz' if isinstance(model, Program) else os.fspath(model)} --input data.npz"
            raise UnsupportedError(f"{shown} is compiled for {program.metadata.get('target', 'no target')}: "
                                   "a compiled program runs as it is", parameter="target",
                                   fix=f"run and price it without --target or options (`{command}`), or give the "
                                       "model it was compiled from to compile for a target")
        chip = None
        if program.metadata.get("target") in target_names():
            chip = get_target(program.metadata["target"])
        return program, None, chip
    graph = load(model, dt=dt, source=source)
    if target is None:
        given = dict(options.as_dict() if isinstance(options, Options) else (options or {}))
        given.pop("arithmetic", None)
        if any(v is not None and v is not False for v in given.values()):
            raise UnsupportedError(f"options {sorted(k for k, v in given.items() if v is not None and v is not False)} "
                                   "need a target", parameter="target", fix="name a target (--target) to compile for")
        return None, graph, None
    chip = _target(target)
    chip.make_options(options)
    return None, graph, chip


def _lower(graph: Graph | None, chip: Target | None, options: Options | Mapping[str, Any] | None) -> Program:
    assert graph is not None
    if chip is None:
        given = options.as_dict() if isinstance(options, Options) else dict(options or {})
        return lower(graph, arithmetic=given.get("arithmetic"))
    return chip.compile(graph, options).program


def _plain_backend(name: str) -> Any:
    if name != "emulator":
        raise UnsupportedError(f"backend {name!r} needs a target", parameter="backend",
                               fix="name the target whose backend it is (--target loihi2 for lava)")
    return emulator


def _steps(program: Program, data: Dataset, steps: int | None) -> int:
    return steps if steps is not None else data.steps + int(program.metadata.get("pipeline_depth", 0))


def _accuracy(outputs: Mapping[str, np.ndarray], data: Dataset) -> float | None:
    if len(outputs) != 1 or data.labels is None or not data.samples:
        return None
    return float(np.mean(decode_rate(next(iter(outputs.values()))) == data.labels))
