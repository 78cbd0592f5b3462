"""The Pareto front: its defining properties, on random points (hypothesis)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from spikec.explore import pareto_mask

DIRS = ("maximize", "minimize", "minimize")


def dominates(a: np.ndarray, b: np.ndarray) -> bool:
    a2, b2 = a * [-1, 1, 1], b * [-1, 1, 1]
    return bool(np.all(a2 <= b2) and np.any(a2 < b2))


@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(1, 25), st.just(3)), elements=st.integers(0, 4).map(float)))
def test_front_is_exactly_the_undominated_points(values):
    mask = pareto_mask(values, DIRS)
    for i in range(len(values)):
        dominated = any(dominates(values[j], values[i]) for j in range(len(values)))
        assert mask[i] == (not dominated)
    assert mask.any()                                    # a finite set always has a front
    perm = np.random.default_rng(0).permutation(len(values))
    assert np.array_equal(pareto_mask(values[perm], DIRS), mask[perm])


def test_nan_rows_and_directions():
    v = np.array([[0.9, 1.0, 1.0], [0.8, 0.5, 1.0], [np.nan, 0.1, 0.1], [0.9, 1.0, 1.0], [0.7, 2.0, 2.0]])
    assert pareto_mask(v, DIRS).tolist() == [True, True, False, True, False]
    # maximizing everything flips which end wins
    assert pareto_mask(np.array([[1.0], [2.0]]), ("maximize",)).tolist() == [False, True]
    assert pareto_mask(np.array([[1.0], [2.0]]), ("minimize",)).tolist() == [True, False]
