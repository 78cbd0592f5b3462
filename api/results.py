"""Results as files: what ``simulate --save`` and ``run --save`` write, in one key format.

An ``.npz`` with, for each output port ``NAME``, ``output:NAME`` (``(batch, steps, *shape)``);
for each spiking population, ``rate:NAME`` (mean spikes per neuron per step); ``predictions``
(the class per sample) when there is one output; ``recorded:NAME`` for populations recorded
on request; and, from a backend that counts, ``counters:NAME`` (per population, the totals over
the run and the samples, in the order of ``counter_names``).  Files are written atomically
(:func:`spikec.ir.npzfile.atomic_write`), to exactly the path given.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from ..ir.npzfile import check_writable, save_arrays
from ..ir.readout import decode_rate
from ..runtime.counters import COUNTERS
from .chips import RunReport
from .models import Evaluation

__all__ = ["check_output", "save_evaluation", "save_run"]


def check_output(path: str | os.PathLike, parameter: str | None = None) -> Path:
    """``path`` as a Path if a file can be written there; else an OutputError naming
    ``parameter`` (a missing directory, a directory in the way, no permission).  Call it before
    the work whose result goes there."""
    return check_writable(path, parameter=parameter)


def save_evaluation(evaluation: Evaluation, path: str | os.PathLike, *, parameter: str | None = "--save") -> Path:
    """Write a reference simulation's outputs, rates and predictions to ``path``; return it."""
    payload = _common(evaluation.result.outputs, evaluation.rates, evaluation.predictions)
    return save_arrays(path, payload, parameter=parameter)


def save_run(report: RunReport, path: str | os.PathLike, *, parameter: str | None = "--save") -> Path:
    """Write what a backend produced (outputs, rates, predictions, recorded populations, counter
    totals per population where it counts) to ``path``; return it."""
    res = report.result
    outputs = res.outputs
    predictions = decode_rate(next(iter(outputs.values()))) if len(outputs) == 1 else None
    payload = _common(outputs, res.rates, predictions)
    payload.update({f"recorded:{k}": v for k, v in res.recorded.items()})
    if res.counters is not None:
        totals = res.counters.by_population()
        payload["counter_names"] = np.array(COUNTERS)
        payload.update({f"counters:{pop}": np.array([c[name] for name in COUNTERS], np.int64)
                        for pop, c in totals.items()})
    return save_arrays(path, payload, parameter=parameter)


def _common(outputs: Mapping[str, np.ndarray], rates: Mapping[str, float],
            predictions: np.ndarray | None) -> dict[str, Any]:
    payload: dict[str, Any] = {f"output:{k}": v for k, v in outputs.items()}
    payload.update({f"rate:{k}": np.float64(v) for k, v in rates.items()})
    if predictions is not None:
        payload["predictions"] = predictions
    return payload
