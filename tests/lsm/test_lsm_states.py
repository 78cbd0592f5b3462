"""State features: spike counts per bin and filtered traces, checked by hand; bad arguments."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from spikec.errors import SpikecError
from spikec.lsm import build_reservoir, extract_states, run_reservoir, state_features


def test_counts_per_bin_by_hand() -> None:
    z = np.zeros((1, 6, 2), np.uint8)
    z[0, [0, 1, 5], 0] = 1
    z[0, [2, 3], 1] = 1
    # bins of steps [0,2), [2,4), [4,6): neuron 0 -> 2, 0, 1; neuron 1 -> 0, 2, 0
    np.testing.assert_array_equal(state_features(z, bins=3), [[2, 0, 0, 2, 1, 0]])
    np.testing.assert_array_equal(state_features(z, bins=1), [[3, 2]])


def test_trace_by_hand() -> None:
    z = np.zeros((1, 4, 1), np.uint8)
    z[0, [0, 2], 0] = 1
    # y: 1, 0.5, 1.25, 0.625; sampled at the ends of two bins (steps 1 and 3)
    np.testing.assert_allclose(state_features(z, bins=2, kind="trace", trace_decay=0.5), [[0.5, 0.625]])


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 4), st.integers(1, 20), st.integers(1, 5), st.integers(0, 2**31))
def test_counts_sum_to_the_spike_total(samples: int, steps: int, n: int, seed: int) -> None:
    z = (np.random.default_rng(seed).random((samples, steps, n)) < 0.3).astype(np.uint8)
    bins = 1 + seed % steps
    f = state_features(z, bins=bins).reshape(samples, bins, n)
    np.testing.assert_array_equal(f.sum(1), z.sum(1))


@pytest.mark.parametrize("kwargs", [{"bins": 0}, {"bins": 7}, {"kind": "rates"}, {"kind": "trace", "trace_decay": 1}])
def test_bad_feature_arguments(kwargs: dict) -> None:
    with pytest.raises(SpikecError):
        state_features(np.zeros((1, 6, 2)), **kwargs)


def test_inputs_of_the_wrong_width_and_reference_with_a_target_are_refused() -> None:
    r = build_reservoir(4, 10)
    with pytest.raises(SpikecError, match="inputs of shape"):
        run_reservoir(r, np.zeros((2, 5, 3)))
    with pytest.raises(SpikecError) as info:
        run_reservoir(r, np.zeros((2, 5, 4)), target="loihi2", backend="reference")
    assert info.value.parameter == "backend"


def test_extract_states_is_run_then_features() -> None:
    r = build_reservoir(4, 10, input_scale=3.0)
    x = (np.random.default_rng(1).random((3, 12, 4)) < 0.4).astype(np.uint8)
    s = extract_states(r, x, bins=4)
    np.testing.assert_array_equal(s.features, state_features(s.run.spikes, bins=4))
    assert s.run.spikes.sum() > 0 and s.run.energy is not None and s.run.priced_by == "loihi1"
