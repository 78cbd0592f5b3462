"""The timing rule of ir/graph.py (instantaneous forward edges, back edges one step late,
summed inputs), synaptic and axonal delays, and the simulator's input/output contract."""

from __future__ import annotations

import numpy as np
import pytest

from spikec import ir
from spikec.errors import SimulationError, UnsupportedError


def threshold(n=1, value=0.5):
    return ir.Threshold(threshold=np.full(n, value))


def recurrent(w_rec: float) -> ir.Graph:
    """in -> win -> thr, thr -> rec -> thr (the back edge), thr -> out."""
    nodes = {
        "in": ir.Input((1,)),
        "win": ir.Linear(np.ones((1, 1))),
        "thr": threshold(),
        "rec": ir.Linear(np.full((1, 1), w_rec)),
        "out": ir.Output(),
    }
    return ir.Graph(nodes, [("in", "win"), ("win", "thr"), ("thr", "rec"), ("rec", "thr"), ("thr", "out")], dt=1.0)


# --- timing ------------------------------------------------------------------------------------


def test_back_edge_is_found_and_scheduled_last():
    g = recurrent(-1.0)
    assert g.back_edges == frozenset({("rec", "thr")})
    assert g.order == ("in", "win", "thr", "rec", "out")


def test_back_edge_delivers_the_previous_step(run):
    # Inhibitory loop, constant drive: step 0 sees 1 + 0 (nothing yet) -> spike; step 1 sees
    # 1 - 1 (step 0's spike) -> silent; step 2 sees 1 - 0 -> spike; ...
    assert run(recurrent(-1.0), np.ones((5, 1)))[:, 0].tolist() == [1, 0, 1, 0, 1]
    # Excitatory loop, one input pulse: step 1 sees 0 + 1 (step 0's spike), and so on forever.
    x = np.zeros((4, 1))
    x[0] = 1
    assert run(recurrent(1.0), x)[:, 0].tolist() == [1, 1, 1, 1]
    res = ir.simulate(recurrent(1.0), x[None], record=["rec", "win"], dtype=np.float64)
    assert res.recorded["rec"][0, :, 0].tolist() == [1, 1, 1, 1]  # rec's own output is not delayed
    assert res.recorded["win"][0, :, 0].tolist() == [1, 0, 0, 0]


def test_self_loop(run):
    """y[t] = s (x[t] + y[t-1]) with s = 1/2."""
    nodes = {"in": ir.Input((1,)), "s": ir.Scale(np.full(1, 0.5)), "out": ir.Output()}
    g = ir.Graph(nodes, [("in", "s"), ("s", "s"), ("s", "out")])
    assert g.back_edges == frozenset({("s", "s")})
    assert run(g, [[1.0], [0.0], [1.0]])[:, 0].tolist() == [0.5, 0.25, 0.625]


def test_feed_forward_chain_propagates_within_one_step(run, chain):
    x = np.zeros((3, 2))
    x[0, 1] = 1
    g = chain(threshold(2), ir.Linear(np.eye(2)), threshold(2), ir.Scale(np.ones(2)), threshold(2), in_shape=(2,))
    assert run(g, x).tolist() == x.tolist()


def test_node_order_in_the_dict_does_not_matter(run):
    g1 = recurrent(-1.0)
    g2 = ir.Graph(dict(reversed(list(g1.nodes.items()))), g1.edges, dt=g1.dt)
    assert g2.back_edges == g1.back_edges
    x = np.ones((6, 1))
    assert run(g1, x).tolist() == run(g2, x).tolist()


def test_inputs_of_a_node_are_summed(run):
    """Two Input nodes and a diamond: n receives a + (b + 2b)."""
    nodes = {
        "a": ir.Input((2,)),
        "b": ir.Input((2,)),
        "one": ir.Scale(np.ones(2)),
        "two": ir.Scale(np.full(2, 2.0)),
        "n": ir.make_population(ir.Integrator, 2, r=1.0),
        "out": ir.Output(),
    }
    edges = [("a", "n"), ("b", "one"), ("b", "two"), ("one", "n"), ("two", "n"), ("n", "out")]
    g = ir.Graph(nodes, edges, dt=1.0)
    a = np.array([[[1.0, 0.0], [0.0, 2.0]]])
    b = np.array([[[0.5, 1.0], [0.25, 0.0]]])
    out = ir.simulate(g, {"a": a, "b": b}, dtype=np.float64).output[0]
    # step 0: 1 + 1.5, 0 + 3; step 1 adds 0 + .75, 2 + 0
    assert out.tolist() == [[2.5, 3.0], [3.25, 5.0]]


# --- synaptic delays -------------------------------------------------------------------------------

W = np.array([[1.0, 2.0, 4.0], [8.0, 16.0, 32.0]])
D = np.array([[0, 1, 2], [3, 0, 1]])
# Input i fires once, at step i.  Synapse (j, i) delivers it at step i + D[j, i]:
#   y0: i0 at 0 (1), i1 at 2 (2), i2 at 4 (4);  y1: i0 at 3 (8), i1 at 1 (16), i2 at 3 (32).
PULSES = np.eye(3)[[0, 1, 2, 2, 2, 2, 2]] * (np.arange(7)[:, None] < 3)
EXPECTED = np.array([[1, 0, 2, 0, 4, 0, 0], [0, 16, 0, 40, 0, 0, 0]], dtype=float).T


def test_linear_per_synapse_delays(run, chain):
    assert run(chain(ir.Linear(W, delay=D), in_shape=(3,)), PULSES).tolist() == EXPECTED.tolist()


def test_affine_bias_arrives_every_step_and_delays_apply(run, chain):
    out = run(chain(ir.Affine(W, np.array([0.5, -1.0]), delay=D), in_shape=(3,)), PULSES)
    assert out.tolist() == (EXPECTED + [0.5, -1.0]).tolist()


def test_sparse_per_synapse_delays_with_repeated_synapses(run, chain):
    target, source = np.nonzero(np.ones_like(W))
    # A second synapse 0 <- 0 with delay 5, and one whose delay outlasts the run.
    sp = ir.SparseLinear(
        (2, 3),
        target=np.r_[target, 0, 1],
        source=np.r_[source, 0, 0],
        weight=np.r_[W[target, source], 0.25, 100.0],
        delay=np.r_[D[target, source], 5, 50],
    )
    expected = EXPECTED.copy()
    expected[5, 0] += 0.25
    assert run(chain(sp, in_shape=(3,)), PULSES).tolist() == expected.tolist()
    np.testing.assert_array_equal(sp.to_dense(), W + [[0.25, 0, 0], [100, 0, 0]])


def test_zero_delay_array_is_no_delay(run, chain):
    out = run(chain(ir.Linear(W, delay=np.zeros((2, 3), int)), in_shape=(3,)), PULSES)
    assert out.tolist() == (PULSES @ W.T).tolist()


def test_delay_node(run, chain):
    """A spike at step t leaves a Delay of d at step t + d, per element, for any pattern."""
    rng = np.random.default_rng(0)
    delay = np.array([[0, 1], [3, 7]])
    x = (rng.random((12, 2, 2)) < 0.5).astype(float)
    out = run(chain(ir.Delay(delay), threshold((2, 2)), in_shape=(2, 2)), x)
    for i, j in np.ndindex(2, 2):
        d = delay[i, j]
        assert out[:, i, j].tolist() == [0.0] * d + x[: 12 - d, i, j].tolist()


def test_delays_keep_delivering_after_the_input_ends(run, chain):
    g = chain(ir.Delay(np.array([2])), in_shape=(1,))
    out = ir.simulate(g, np.ones((1, 1, 1)), steps=4, dtype=np.float64).output[0, :, 0]
    assert out.tolist() == [0, 0, 1, 0]


# --- the simulator's contract -------------------------------------------------------------------------


def test_steps_longer_than_input_and_empty_input(chain):
    g = chain(ir.Affine(np.ones((1, 2)), np.array([0.5])), in_shape=(2,))
    out = ir.simulate(g, np.ones((2, 1, 2)), steps=3, dtype=np.float64).output
    assert out.shape == (2, 3, 1) and out[0, :, 0].tolist() == [2.5, 0.5, 0.5]
    out = ir.simulate(g, np.ones((1, 0, 2)), steps=2).output
    assert out[0, :, 0].tolist() == [0.5, 0.5]
    assert ir.simulate(g, np.ones((1, 3, 2)), steps=0).output.shape == (1, 0, 1)


def test_record_and_dtypes(chain):
    g = chain(ir.Scale(np.full(2, 0.5)), threshold(2, 0.25), in_shape=(2,))
    x = np.ones((3, 4, 2))
    res = ir.simulate(g, x, record="all")
    assert set(res.recorded) == set(g.nodes) and res.mode == "float" and res.steps == 4
    assert res.output.dtype == np.float32 and res.recorded["l0"].shape == (3, 4, 2)
    assert ir.simulate(g, x.astype(int), dtype=np.float64).output.dtype == np.float64
    assert ir.simulate(g, x.astype(bool), record="l1").recorded["l1"].sum() == 24


def test_simulate_errors(chain, raises_named):
    g = chain(ir.Scale(np.ones(2)), in_shape=(2,))
    x = np.zeros((1, 3, 2))
    with pytest.raises(SimulationError) as info:
        ir.simulate(g, x, mode="analog")
    assert info.value.parameter == "mode"
    for bad in (np.zeros((3, 2)), np.zeros((1, 3, 3)), np.zeros((1, 3, 2, 1))):
        with raises_named(SimulationError, "input"):
            ir.simulate(g, bad)
    with raises_named(SimulationError, "input"):
        ir.simulate(g, np.full((1, 3, 2), "a"))
    with raises_named(SimulationError, "input"):
        ir.simulate(g, np.full((1, 3, 2), np.nan))
    with pytest.raises(SimulationError):
        ir.simulate(g, {"nope": x})
    with pytest.raises(SimulationError):
        ir.simulate(g, {"input": x, "extra": x})
    with pytest.raises(SimulationError) as info:
        ir.simulate(g, x, steps=-1)
    assert info.value.parameter == "steps"
    with raises_named(SimulationError, "ghost"):
        ir.simulate(g, x, record=["ghost"])

    nodes = {"a": ir.Input((2,)), "b": ir.Input((2,)), "o1": ir.Output(), "o2": ir.Output()}
    two = ir.Graph(nodes, [("a", "o1"), ("b", "o2")])
    with pytest.raises(SimulationError):
        ir.simulate(two, x)
    with pytest.raises(SimulationError):
        ir.simulate(two, {"a": x, "b": np.zeros((2, 3, 2))})
    with pytest.raises(SimulationError):
        ir.simulate(two, {"a": x, "b": x}).output
    with raises_named(UnsupportedError, "input"):
        ir.simulate(g, np.full((1, 3, 2), 0.5), mode="fixed")
