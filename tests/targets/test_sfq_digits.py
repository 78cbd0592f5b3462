"""The bundled digits model on SFQ: float accuracy with ideal cells, reproducible stochastic
synapses, and the API's estimate/compare reading the SFQ report."""

from __future__ import annotations

import numpy as np
import pytest
import spikec


@pytest.fixture(scope="module")
def digits():
    graph = spikec.load("default")
    return graph, spikec.load_dataset(spikec.bundled_data(), graph).take(30)


def test_ideal_cells_stay_within_two_points_of_float(digits) -> None:
    graph, data = digits
    ideal = spikec.run(graph, data, target="sfq", options={"merger_window_ps": 0.0})
    ref = spikec.run(graph, data, options={"arithmetic": "float"})
    assert abs(ideal.accuracy - ref.accuracy) <= 0.02
    assert ideal.result.counters.sfq_totals()["collisions"] == 0


def test_stochastic_synapses_are_seeded(digits) -> None:
    graph, data = digits
    data = data.take(3)
    runs = [spikec.run(graph, data, target="sfq", options={"stochastic": True, "synapse_seed": s}) for s in (1, 1, 2)]
    a, b, c = (r.result.counters.sfq for r in runs)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert runs[0].result.counters.sfq_totals()["blocked"] > 0


def test_estimate_reports_the_sfq_price(digits) -> None:
    graph, data = digits
    est = spikec.estimate(graph, "sfq", data.take(2))
    assert est.estimate.energy > 0 and est.activity["spikes"] > 0
    assert set(est.constants) >= {"ic_merger", "ic_neuron", "phi0", "p_static_per_jj", "cooling"}
