"""The C engine's fan-out tables (``engine_fanout_tables``) against the NumPy ones
(``fanout_tables``): identical totals and pointers, and per source the same entries (the C
builder lists a source's cores in first-appearance order, NumPy's by core)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from spikec.compiler.lower import lower
from spikec.runtime import Population, Program, Projection, run
from spikec.runtime.engine import engine_module
from spikec.runtime.fanout import engine_fanout_tables, fanout_tables

from .test_counters import network, placed


def assert_same_tables(program: Program) -> None:
    for py, c in zip(fanout_tables(program), engine_fanout_tables(program, engine_module())):
        np.testing.assert_array_equal(c.totals, py.totals)
        np.testing.assert_array_equal(c.ptr, py.ptr)
        for i in range(len(py.ptr) - 1):
            lo, hi = py.ptr[i], py.ptr[i + 1]
            order = np.argsort(c.core[lo:hi], kind="stable")
            np.testing.assert_array_equal(c.core[lo:hi][order], py.core[lo:hi])
            np.testing.assert_array_equal(c.syn[lo:hi][order], py.syn[lo:hi])
            np.testing.assert_array_equal(c.words[lo:hi][order], py.words[lo:hi])


@pytest.mark.parametrize("seed", range(3))
def test_lowered_network_placed_on_a_mesh(seed: int) -> None:
    assert_same_tables(placed(lower(network(seed)), seed))


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**31), n_src=st.integers(1, 40), n_dst=st.integers(1, 40), n_syn=st.integers(0, 300),
       cores=st.integers(1, 9), zero=st.floats(0.0, 1.0))
def test_random_sparse_and_dense_projections(seed: int, n_src: int, n_dst: int, n_syn: int, cores: int,
                                             zero: float) -> None:
    """Unsorted sparse sources, repeated pairs, zero weights (words without synaptic events),
    two outgoing projections of one population, placements that split populations over cores."""
    rng = np.random.default_rng(seed)
    w = rng.normal(size=n_syn) * (rng.random(n_syn) >= zero)
    dense = rng.normal(size=(n_dst, n_src)) * (rng.random((n_dst, n_src)) >= zero)
    pops = tuple(Population(name, kind, (n,)) for name, kind, n in (("a", "input", n_src), ("b", "pass", n_dst),
                                                                     ("c", "pass", n_dst)))
    projs = (Projection("s", "a", "b", "sparse", w, target_index=rng.integers(0, n_dst, n_syn),
                        source_index=rng.integers(0, n_src, n_syn)),
             Projection("d", "a", "c", "dense", dense))
    total = n_src + 2 * n_dst
    cores = min(cores, total)
    core_xy = np.stack([np.arange(cores) % 3, np.arange(cores) // 3], axis=1)
    prog = Program(dt=1.0, arithmetic="float", populations=pops, projections=projs, inputs={"in": "a"},
                   outputs={}, core_of=rng.integers(0, cores, total), core_xy=core_xy)
    assert_same_tables(prog)


@pytest.mark.parametrize("silent", [0, 1])
def test_counters_over_the_run_skip_neurons_that_never_fire(silent: int) -> None:
    """Counters over the run are summed per neuron at the end of a sample: a neuron that never
    fired adds nothing, not even its (longer) route to hops_max."""
    weight = np.array([[1.0, 0.0], [0.0, 1.0]])  # input 0 -> b0 (next core), input 1 -> b1 (three hops away)
    pops = (Population("a", "input", (2,)), Population("b", "pass", (2,)))
    prog = Program(dt=1.0, arithmetic="float", populations=pops,
                   projections=(Projection("w", "a", "b", "dense", weight),), inputs={"in": "a"}, outputs={},
                   core_of=np.array([0, 0, 1, 2]), core_xy=np.array([[0, 0], [1, 0], [3, 0]]))
    x = np.zeros((2, 3, 2))
    x[:, :, 1 - silent] = 1.0
    total = run(prog, {"in": x}, counters="total").counters
    step = run(prog, {"in": x}, counters="step").counters
    assert total.total("hops_max") == step.total("hops_max") == (1 if silent else 3)
    for name in ("spikes", "synops", "msg_remote", "hops_x"):
        assert total.total(name) == step.total(name) > 0
    by_core_total, by_core_step = total.totals(by="core"), step.totals(by="core")
    for name, values in by_core_total.items():
        np.testing.assert_array_equal(values, by_core_step[name], err_msg=name)


def test_a_neuron_reading_more_words_than_32_bit_entries_hold_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """The engine's fan-out entries are 32-bit; the limit is lowered here to stand for 2**31 - 1."""
    from spikec.errors import SimulationError
    from spikec.runtime import fanout

    pops = (Population("a", "input", (2,)), Population("b", "pass", (4,)))
    prog = Program(dt=1.0, arithmetic="float", populations=pops,
                   projections=(Projection("w", "a", "b", "dense", np.ones((4, 2))),), inputs={"in": "a"},
                   outputs={}, core_of=np.zeros(6, np.int64), core_xy=np.zeros((1, 2), np.int64))
    monkeypatch.setattr(fanout, "_INT32_MAX", 4)
    assert len(engine_fanout_tables(prog, engine_module())) == 2  # 4 words per neuron: at the limit
    monkeypatch.setattr(fanout, "_INT32_MAX", 3)
    with pytest.raises(SimulationError, match="32-bit") as err:
        engine_fanout_tables(prog, engine_module())
    assert "'a'" in str(err.value)
