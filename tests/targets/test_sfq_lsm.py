"""An SFQ liquid state machine: the reservoir of spikec.lsm on SFQ neurons and synapses, scored
against the ideal float LSM of the same (tuned) reservoir on the digits event data."""

from __future__ import annotations

import numpy as np
import pytest
from spikec import lsm


@pytest.mark.parametrize("options", [None, {"stochastic": True, "bias_levels": 8}])
def test_sfq_lsm_accuracy_is_close_to_the_float_lsm_of_the_same_reservoir(options) -> None:
    events = lsm.digits_events(150, steps=20)
    reservoir = lsm.build_reservoir(events.events.shape[2], 60, seed=0)
    reservoir = lsm.tune_branching(reservoir, events.events[:30], target=1.0, tolerance=0.15).reservoir
    n_train = 100
    scores = {}
    for name, target, opts in (("float", None, {"arithmetic": "float"}), ("sfq", "sfq", options)):
        run = lsm.run_reservoir(reservoir, events.events, target=target, options=opts)
        x = lsm.state_features(run.spikes, bins=3)
        readout = lsm.train_readout(x[:n_train], events.labels[:n_train], seed=0)
        scores[name] = readout.accuracy(x[n_train:], events.labels[n_train:])
        assert np.isfinite(run.energy) and run.energy > 0
    assert scores["float"] > 0.5
    assert scores["sfq"] >= scores["float"] - 0.1, scores
