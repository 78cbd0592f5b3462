"""LSM reservoirs on the C engine: the same spikes as the reference simulator (the weights are
dyadic, so the engine's event-order sums are exact), and runs through spikec.api on real targets."""

from __future__ import annotations

import numpy as np
import pytest
from spikec.lsm import build_reservoir, digits_events, run_reservoir


@pytest.fixture(scope="module")
def events() -> np.ndarray:
    return digits_events(48).events


@pytest.mark.parametrize("topology, seed, dale", [("grid", 0, True), ("random", 1, True), ("random", 2, False)])
def test_reference_and_engine_spikes_are_identical(events: np.ndarray, topology: str, seed: int, dale: bool) -> None:
    r = build_reservoir(events.shape[2], 150, topology=topology, seed=seed, dale=dale, scale=0.4)
    ref = run_reservoir(r, events, backend="reference").spikes
    eng = run_reservoir(r, events, chunk=16).spikes
    assert ref.sum() > 1000  # a busy reservoir: recurrent spikes, not only input-driven ones
    np.testing.assert_array_equal(ref, eng)


@pytest.mark.parametrize("target", ["loihi2", "spinnaker2"])
def test_reservoirs_run_on_targets_through_the_api(events: np.ndarray, target: str) -> None:
    r = build_reservoir(events.shape[2], 120, seed=3, scale=0.4)
    ideal = run_reservoir(r, events[:16]).spikes
    run = run_reservoir(r, events[:16], target=target)
    assert run.priced_by == target and run.energy > 0 and run.latency > 0
    assert run.spikes.shape == ideal.shape
    # Quantized to the chip's weights, the spikes stay close to the ideal chip's (aligned in time:
    # the pipeline delay is removed).
    assert np.mean(run.spikes == ideal) > 0.95
    assert abs(run.spikes.mean() - ideal.mean()) < 0.02
