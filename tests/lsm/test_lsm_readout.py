"""The readout, and the accuracy a Gaussian LSM reaches on the digits events."""

from __future__ import annotations

import numpy as np
import pytest
from spikec.errors import SpikecError
from spikec.lsm import EventSet, run_lsm, train_readout


@pytest.mark.parametrize("readout, floor", [("logistic", 0.85), ("ridge", 0.8)])
def test_a_gaussian_lsm_classifies_the_digits_events(digits: EventSet, readout: str, floor: float) -> None:
    # Measured with these settings: logistic 0.967, ridge 0.950; the floors leave room for other BLAS builds.
    result = run_lsm(digits, n_neurons=200, readout=readout, seed=0)
    assert result.accuracy >= floor
    assert abs(result.branching - 1.0) <= 0.1
    assert result.test_samples == 120 and result.train_samples == 280


def test_readout_learns_a_separable_problem_and_rejects_bad_input() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 300)
    x = rng.normal(size=(300, 5)) + 3 * np.eye(5)[y]
    for kind in ("ridge", "logistic"):
        assert train_readout(x, y, kind=kind).accuracy(x, y) > 0.95
    with pytest.raises(SpikecError, match="unknown readout"):
        train_readout(x, y, kind="svm")
    with pytest.raises(SpikecError, match="fewer than two classes"):
        train_readout(x, np.zeros(300, int))
    with pytest.raises(SpikecError, match="features"):
        train_readout(x[:, :2], y).predict(x)
    with pytest.raises(SpikecError, match="labels"):
        train_readout(x, y[:10])
