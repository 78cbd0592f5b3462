"""The always-on bias lowering every target shares (targets/always_on.py): pieces that fit the
chip's weights, and the step each population runs behind the graph."""

from __future__ import annotations

import numpy as np
import spikec
from hypothesis import given
from hypothesis import strategies as st
from spikec.targets.always_on import ALWAYS_ON, MAX_PIECES, chip_shifts, lower_biases, split_to_fit


@given(st.integers(2, 16), st.lists(st.integers(-MAX_PIECES, MAX_PIECES), min_size=1, max_size=12),
       st.integers(0, 2**20))
def test_pieces_fit_the_weights_and_add_up_to_the_bias(bits: int, steps: list[int], extra: int) -> None:
    widest = 2 ** (bits - 1) - 1
    # up to MAX_PIECES widest weights, plus something that is not a multiple of them
    value = np.array([s * widest - np.sign(s) * (extra % widest) for s in steps], np.int64)
    pieces = [p for _, p in split_to_fit(bits)(value)]
    assert all(np.abs(p).max() <= widest for p in pieces)
    assert np.array_equal(sum(pieces, np.zeros_like(value)), value)
    # as few as the largest magnitude needs, each piece of one sign per neuron
    assert len(pieces) == -(-int(np.abs(value).max()) // widest)
    assert all(np.all(p * value >= 0) for p in pieces)


def test_a_bias_too_large_for_the_weights_is_refused_not_split_into_millions() -> None:
    import pytest
    from spikec.errors import UnsupportedError

    with pytest.raises(UnsupportedError, match="65 times the widest 8-bit weight") as info:
        split_to_fit(8)(np.array([127 * 65, 3]))
    assert info.value.parameter == "input_bias" and "more weight bits" in info.value.fix
    assert len(split_to_fit(8)(np.array([127 * MAX_PIECES, -1]))) == MAX_PIECES


def test_a_float_bias_is_one_piece_and_a_zero_bias_none() -> None:
    split = split_to_fit(8)
    assert [p.tolist() for _, p in split(np.array([0.5, -300.0]))] == [[0.5, -300.0]]
    assert split(np.zeros(3)) == [] and split(np.zeros(3, np.int64)) == []


def deep_chain(bias: float) -> spikec.ir.Graph:
    rng = np.random.default_rng(3)
    lif = spikec.ir.make_population(spikec.ir.LIF, 4, tau=1e-2, v_threshold=0.5)
    nodes = {"in": spikec.ir.Input((3,)), "w1": spikec.ir.Affine(rng.normal(1, 1, (4, 3)), np.full(4, bias)),
             "h1": lif, "w2": spikec.ir.Affine(rng.normal(1, 1, (4, 4)), np.full(4, bias)), "h2": lif,
             "out": spikec.ir.Output()}
    edges = [("in", "w1"), ("w1", "h1"), ("h1", "w2"), ("w2", "h2"), ("h2", "out")]
    return spikec.ir.Graph(nodes, edges, dt=1e-3)


def test_each_population_lags_its_hops_times_the_steps_per_hop_and_its_bias_too() -> None:
    from spikec.compiler.pipeline import compile_graph
    from spikec.targets import get_target

    program = compile_graph(deep_chain(0.2), get_target("loihi1").spec).program
    for k in (1, 2, 3):
        lowered = lower_biases(program, steps_per_hop=k, split=split_to_fit(8), max_delay=None)
        assert lowered.shifts == {ALWAYS_ON: 0, "in": 0, "h1": k, "h2": 2 * k}
        delays = {j.target: int(j.delay.max()) for j in lowered.program.projections if j.source == ALWAYS_ON}
        assert delays == {"h1": 0, "h2": k}      # s + h*k - k with s = 0
        assert chip_shifts(lowered.program, lowered.source, k) == lowered.shifts


def test_a_bias_beyond_the_delay_range_is_refused_with_the_error_of_the_nearest_encoding() -> None:
    from spikec.compiler.pipeline import compile_graph
    from spikec.errors import UnsupportedError
    from spikec.targets import get_target

    program = compile_graph(deep_chain(0.2), get_target("loihi1").spec).program
    try:
        lower_biases(program, steps_per_hop=4, split=split_to_fit(8), max_delay=3)
    except UnsupportedError as exc:
        assert exc.node == "h2" and exc.parameter == "input_bias" and "4 steps after" in exc.detail
        assert "1 steps before the graph" in exc.detail
    else:
        raise AssertionError("a delay of 4 past a range of 3 must be refused")
