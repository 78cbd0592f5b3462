"""One trial: compile the model for a target with some knobs, run it on the target's emulator,
price it.  This is what a worker (a local process or a Ray task) runs; it takes and returns
only plain, picklable values, so the same function serves both.

A configuration that cannot be built (the network does not fit the chip's cores, a weight width
the quantizer refuses) is not a crash of the study: its :class:`Outcome` carries the error's
text, and the study records the trial as failed with that reason ("fits the chip" is a constraint
met by compiling at all).
"""

from __future__ import annotations

import os
import platform
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Mapping

from .. import api
from ..errors import SimulationError, SpikecError

__all__ = ["Problem", "Outcome", "METRICS", "evaluate", "check_problem"]

#: What every trial measures (the objectives are some of them); ``real_time`` is the chip's
#: time for a sample over the sample's duration in the model (<= 1: keeps pace).
METRICS = ("accuracy", "energy", "latency", "cores", "chips", "real_time")


@dataclass(frozen=True)
class Problem:
    """What every trial of a study shares: the model, the data and how much of it is used.
    ``model`` and ``data`` are paths (or ``"default"`` / None for the bundled digits), so a
    worker on another machine loads them itself."""

    model: str
    data: str | None
    samples: int
    calibration: int


@dataclass(frozen=True)
class Outcome:
    """A trial's measurements (:data:`METRICS`), or why the configuration could not be built."""

    metrics: Mapping[str, float]
    error: str | None
    seconds: float
    host: str


@lru_cache(maxsize=4)
def _prepared(problem: Problem) -> tuple[Any, api.Dataset | None, api.Dataset]:
    # Cached per worker process: a Ray worker or pool process loads the model once, not per trial.
    graph = api.load(problem.model)
    data = api.resolve_data(problem.data, problem.model, graph)
    need = problem.calibration + problem.samples
    if data.samples < need:
        raise SimulationError(f"the data has {data.samples} samples; the space asks for {problem.calibration} "
                              f"(calibration) + {problem.samples} (scoring)", parameter="data.samples",
                              limit=data.samples, fix="lower [data] samples or calibration in the space file")
    cal = _slice(data, 0, problem.calibration) if problem.calibration else None
    return graph, cal, _slice(data, problem.calibration, need)


def _slice(data: api.Dataset, start: int, stop: int) -> api.Dataset:
    labels = None if data.labels is None else data.labels[start:stop]
    return api.Dataset({k: v[start:stop] for k, v in data.inputs.items()}, labels,
                       f"{data.source} [{start}:{stop}]")


def check_problem(problem: Problem, objectives: tuple[str, ...]) -> None:
    """Refuse, before any trial runs, a problem whose data cannot be scored as asked."""
    _, _, scored = _prepared(problem)
    if "accuracy" in objectives and scored.labels is None:
        raise SimulationError("the data has no labels, so accuracy cannot be an objective", parameter="--data",
                              fix="give data with 'labels', or drop accuracy from [study] objectives")


def evaluate(problem: Problem, target: str, options: Mapping[str, Any]) -> Outcome:
    """Compile, run and price one configuration of ``target`` (see the module docstring)."""
    t0 = time.perf_counter()
    host = f"{platform.node()}:{os.getpid()}"   # the worker process: which one ran it
    graph, cal, scored = _prepared(problem)
    try:
        chip = api.get_target(target)
        compiled = api.compile(graph, chip, options=dict(options), calibration=cal)
        # One thread per trial: the parallelism is across trials, and one thread keeps runs reproducible.
        report = api.run(compiled.program, scored, threads=1)
    except SpikecError as exc:
        return Outcome({}, f"{type(exc).__name__}: {exc}", time.perf_counter() - t0, host)
    est = report.estimate
    assert est is not None   # emulator runs are always priced
    program = report.program
    duration = report.result.steps * program.dt
    metrics = {
        "accuracy": float("nan") if report.accuracy is None else report.accuracy,
        "energy": est.energy,
        "latency": est.latency,
        "cores": float(program.n_cores),
        "chips": float(chip.chips(program)),
        "real_time": est.latency / duration if duration > 0 else float("inf"),
    }
    return Outcome(metrics, None, time.perf_counter() - t0, host)
