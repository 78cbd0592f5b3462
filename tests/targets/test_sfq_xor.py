"""The deep XOR case study (Edwards et al. 2024) on the SFQ emulator: classified, with its
classification margin against bias-level count and stochastic synapses."""

from __future__ import annotations

import pytest
import spikec
from spikec.api import Dataset
from spikec.targets.sfq.xor import PATTERNS, deep_xor, xor_inputs, xor_margin


@pytest.fixture(scope="module")
def margins() -> dict:
    graph = deep_xor()
    inputs, labels = xor_inputs(samples_per_pattern=3, steps=150, seed=1)
    data = Dataset(inputs, labels)
    out = {"float": xor_margin(spikec.run(graph, data).result.output, labels)}
    for levels in (2, 4, 8, 16):
        for stochastic in (False, True):
            report = spikec.run(graph, data, target="sfq", options={"bias_levels": levels, "stochastic": stochastic})
            out[levels, stochastic] = xor_margin(report.result.output, labels)
            if stochastic and levels > 2:
                assert report.result.counters.sfq_totals()["blocked"] > 0
    return out


def test_sfq_classifies_xor_with_a_wide_margin(margins) -> None:
    assert margins["float"].accuracy == 1.0
    for stochastic in (False, True):
        for levels in (8, 16):
            m = margins[levels, stochastic]
            assert m.accuracy == 1.0 and m.margin > 0.25, (levels, stochastic, m)
    assert set(margins[16, False].rates) == set(PATTERNS)


def test_the_margin_shrinks_with_fewer_bias_levels(margins) -> None:
    # Ternary synapses cannot hold xor = or - 2 and: the margin turns negative.
    assert margins[2, False].margin < 0 < margins[8, False].margin
    assert margins[4, False].margin < margins[8, False].margin


def test_stochastic_synapses_keep_the_margin_of_their_mean(margins) -> None:
    for levels in (8, 16):
        assert abs(margins[levels, True].margin - margins[levels, False].margin) < 0.1
