"""The branching factor (NALSM's descendants per ancestor) and the edge-of-chaos tuning."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from spikec.errors import SpikecError
from spikec.lsm import EventSet, Reservoir, branching_factor, build_reservoir, run_reservoir, tune_branching


def _chain() -> Reservoir:
    """Three neurons: 0 excites 1 and 2, 1 inhibits 2 (the synapses set by hand)."""
    base = build_reservoir(1, 3, seed=0)
    return dataclasses.replace(base, rec_source=np.array([0, 1, 0]), rec_target=np.array([1, 2, 2]),
                               rec_unit=np.array([1.0, -1.0, 1.0])).with_scale(1.0)


def test_descendants_are_counted_per_excitatory_synapse_one_step_later() -> None:
    r = _chain()
    z = np.zeros((1, 4, 3), np.uint8)
    z[0, 0, 0] = 1          # ancestor: neuron 0 at t=0 (excites 1 and 2)
    z[0, 1, [1, 2]] = 1     # both descendants at t=1; 1 is an ancestor too (it only inhibits 2)
    z[0, 2, 2] = 1          # neuron 2 at t=2: its presynaptic 1 inhibits it -> no descendant
    z[0, 3, 0] = 1          # the last step is never an ancestor
    # ancestors: (0,t0), (1,t1), (2,t1), (2,t2) = 4; descendants: 2 (of 0)
    assert branching_factor(z, r) == pytest.approx(2 / 4)
    z[0, 1, 2] = 0
    assert branching_factor(z, r) == pytest.approx(1 / 3)
    assert branching_factor(np.zeros((2, 5, 3)), r) == 0.0


def test_zero_recurrent_weights_give_zero(digits: EventSet) -> None:
    r = build_reservoir(digits.events.shape[2], 100, seed=1).with_scale(0.0)
    spikes = run_reservoir(r, digits.events[:40]).spikes
    assert spikes.sum() > 0
    assert branching_factor(spikes, r) == 0.0
    assert branching_factor(spikes, r, structural=True) > 0  # chance coincidences of input-driven spikes


@settings(max_examples=6, deadline=None)
@given(st.integers(0, 1000))
def test_a_larger_scale_branches_more_on_average(seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = (rng.random((8, 30, 20)) < 0.1).astype(np.uint8)
    r = build_reservoir(20, 80, seed=seed, input_scale=1.5)
    sigmas = [branching_factor(run_reservoir(r.with_scale(s), x).spikes, r.with_scale(s)) for s in (0.1, 0.4, 1.6)]
    assert sigmas[0] < sigmas[1] < sigmas[2]


@pytest.mark.parametrize("target", [1.0, 1.5])
def test_tuning_reaches_the_target_on_digits_events(digits: EventSet, target: float) -> None:
    r = build_reservoir(digits.events.shape[2], 200, seed=3)
    tuning = tune_branching(r, digits.events[:60], target=target)
    assert abs(tuning.branching - target) <= 0.1
    # measured again on the tuned reservoir, on the same input: the same number
    again = branching_factor(run_reservoir(tuning.reservoir, digits.events[:60]).spikes, tuning.reservoir)
    assert again == pytest.approx(tuning.branching)
    assert tuning.history[-1] == (tuning.reservoir.scale, tuning.branching)


def test_tuning_refuses_a_target_below_the_chance_level(digits: EventSet) -> None:
    r = build_reservoir(digits.events.shape[2], 200, topology="random", p_recurrent=0.3, input_scale=2.0)
    with pytest.raises(SpikecError, match="chance branching factor") as info:
        tune_branching(r, digits.events[:30])
    assert info.value.parameter == "branching"


@pytest.mark.parametrize("kwargs", [{"target": 0.0}, {"tolerance": 2.0}, {"target": float("inf")}])
def test_bad_tuning_arguments(digits: EventSet, kwargs: dict) -> None:
    with pytest.raises(SpikecError):
        tune_branching(build_reservoir(digits.events.shape[2], 20), digits.events[:2], **kwargs)


def test_spikes_of_the_wrong_shape_are_refused() -> None:
    with pytest.raises(SpikecError, match="spikes of shape"):
        branching_factor(np.zeros((2, 3, 4)), build_reservoir(2, 5))
