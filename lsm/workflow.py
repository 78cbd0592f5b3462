"""The whole LSM workflow in one call: data -> reservoir -> edge-of-chaos tuning -> states on a chip
-> trained readout -> accuracy, branching factor, energy and latency (what ``spikec lsm`` prints).

:func:`run_lsm` splits the labelled events (seeded), builds a reservoir for their channel count
(:func:`~.reservoir.build_reservoir`), tunes its recurrent scale to the target branching factor on
the first ``tune_samples`` training samples, runs train and test sets on ``target`` (the C engine
as an ideal chip when None, or the reference simulator with ``backend="reference"``), fits the
readout on the training states and scores the test states.  Energy and latency are per test
sample, priced by the target's cost model (an ideal chip's run is priced with Loihi 1's table, as
``spikec run`` does).  ``weights="device"`` takes the target's device weight distribution
(``Target.device_weights``).

:func:`load_events` names the data: ``"digits"`` (:func:`~.events.digits_events`), ``"audio"``
(:func:`~.events.audio_events`, 10 classes), an SHD ``.h5`` file, or an N-MNIST ``.bin`` file or
folder (:mod:`.loaders`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from .. import api
from ..errors import SimulationError, UnsupportedError
from ..ir import save_graph
from ..targets.protocol import WeightSampler
from .branching import Tuning, branching_factor, tune_branching
from .events import EventSet, audio_events, digits_events
from .loaders import bin_events, load_nmnist, load_shd
from .readout import Readout, train_readout
from .reservoir import Reservoir, build_reservoir
from .states import run_reservoir, state_features

__all__ = ["LSMResult", "run_lsm", "load_events", "weight_distribution", "save_reservoir"]


@dataclass(frozen=True, eq=False)
class LSMResult:
    """What one LSM run measured (accuracies are fractions; energy in J and latency in s per sample)."""

    accuracy: float
    train_accuracy: float
    branching: float            # tuned, on the tuning samples
    test_branching: float       # measured on the test run
    firing_rate: float          # spikes per neuron per step on the test run
    energy: float | None
    latency: float | None
    priced_by: str | None
    backend: str
    target: str | None
    train_samples: int
    test_samples: int
    data: str
    reservoir: Reservoir
    readout: Readout
    tuning: Tuning


def load_events(data: str | os.PathLike | EventSet, *, samples: int | None = None, steps: int = 30,
                seed: int = 0) -> EventSet:
    """The event data ``data`` names (module docstring), at most ``samples`` of it."""
    if isinstance(data, EventSet):
        return data if samples is None else data.take(slice(0, samples))
    if data == "digits":
        return digits_events(samples, steps=steps, seed=seed)
    if data == "audio":
        per_class = 60 if samples is None else max(1, -(-samples // 10))
        events = audio_events(10, per_class=per_class, steps=steps, seed=seed)
        order = np.random.default_rng(seed).permutation(events.samples)
        return events.take(order[:samples] if samples is not None else order)
    path = Path(data)
    if path.suffix in (".h5", ".hdf5"):
        raw = load_shd(path)
        events = bin_events(raw, steps)
    elif path.is_dir() or path.suffix == ".bin":
        events = bin_events(load_nmnist(path), steps, crop=16)
    else:
        raise UnsupportedError(f"cannot tell what data {os.fspath(data)!r} is", parameter="data",
                               fix="'digits', 'audio', an SHD .h5 file, or an N-MNIST .bin file or folder")
    return events if samples is None else events.take(slice(0, samples))


def weight_distribution(weights: str | WeightSampler, target: str | None,
                        options: Mapping[str, Any] | None = None) -> str | WeightSampler:
    """``weights`` as a reservoir takes it; ``"device"`` is ``target``'s device distribution."""
    if weights != "device":
        return weights
    if target is None:
        raise UnsupportedError("weights='device' needs a target whose devices set the weights", parameter="weights",
                               fix="name the target (--target reram), or use 'gaussian' or 'uniform'")
    return api.get_target(target).device_weights(options)


def run_lsm(data: str | os.PathLike | EventSet = "digits", *, n_neurons: int = 300, topology: str = "grid",
            weights: str | WeightSampler = "gaussian", target: str | None = None,
            options: Mapping[str, Any] | None = None, backend: str = "emulator", readout: str = "logistic",
            branching: float = 1.0, tolerance: float = 0.1, tune_samples: int = 100, test_fraction: float = 0.3,
            samples: int | None = None, steps: int = 30, bins: int = 3, kind: str = "counts",
            input_scale: float = 0.5, seed: int = 0, **reservoir: Any) -> LSMResult:
    """Build, tune, train and evaluate an LSM (module docstring); ``reservoir`` passes further
    :func:`~.reservoir.build_reservoir` parameters."""
    events = load_events(data, samples=samples, steps=steps, seed=seed)
    if not (isinstance(test_fraction, float) and 0 < test_fraction < 1):
        raise SimulationError(f"test_fraction={test_fraction!r}", parameter="test_fraction", limit="0 < f < 1",
                              fix="e.g. 0.3")
    order = np.random.default_rng(seed).permutation(events.samples)
    n_test = int(round(events.samples * test_fraction))
    if n_test < 1 or events.samples - n_test < 2:
        raise SimulationError(f"{events.samples} samples cannot be split into training and test sets",
                              parameter="samples", fix="use more samples (at least 3) or another test fraction")
    train, test = events.take(order[n_test:]), events.take(order[:n_test])
    dist = weight_distribution(weights, target, options)
    res = build_reservoir(train.events.shape[2], n_neurons, topology=topology, weights=dist, input_scale=input_scale,
                          seed=seed, **reservoir)
    if isinstance(tune_samples, bool) or not isinstance(tune_samples, int) or tune_samples < 1:
        raise SimulationError(f"tune_samples={tune_samples!r}", parameter="tune_samples", fix="a whole number >= 1")
    run_on = {"chip": target, "backend": backend, "options": options}
    tuning = tune_branching(res, train.events[:tune_samples], target=branching, tolerance=tolerance, **run_on)
    train_run = run_reservoir(tuning.reservoir, train.events, target=target, backend=backend, options=options)
    test_run = run_reservoir(tuning.reservoir, test.events, target=target, backend=backend, options=options)
    train_x = state_features(train_run.spikes, bins=bins, kind=kind)
    test_x = state_features(test_run.spikes, bins=bins, kind=kind)
    model = train_readout(train_x, train.labels, kind=readout, seed=seed)
    return LSMResult(
        accuracy=model.accuracy(test_x, test.labels), train_accuracy=model.accuracy(train_x, train.labels),
        branching=tuning.branching, test_branching=branching_factor(test_run.spikes, tuning.reservoir),
        firing_rate=float(test_run.spikes.mean()), energy=test_run.energy, latency=test_run.latency,
        priced_by=test_run.priced_by, backend=test_run.backend, target=target, train_samples=train.samples,
        test_samples=test.samples, data=events.source, reservoir=tuning.reservoir, readout=model, tuning=tuning)


def save_reservoir(reservoir: Reservoir, path: str | os.PathLike) -> Path:
    """Write the reservoir's graph to ``path`` (a spikec graph ``.npz``: ``spikec info/compile/run``
    take it); return the path."""
    checked = api.check_output(path, "--save-graph")
    save_graph(reservoir.graph, checked)
    return checked
