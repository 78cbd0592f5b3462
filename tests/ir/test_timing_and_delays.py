"""The timing rule of ir/graph.py (instantaneous forward edges, back edges one step late,
summed inputs), the schedule (order and back edges) it rests on, synaptic and axonal delays,
and the simulator's input/output contract (its argument errors are in test_validation.py)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from spikec import ir


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


# --- the schedule ----------------------------------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(st.integers(2, 7).flatmap(lambda n: st.tuples(
    st.just(n), st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=3 * n))))
def test_schedule_on_random_graphs(case):
    """Nodes a0..a{n-1} (Integrators of one neuron) on a chain from the input, plus random extra
    edges: the order puts every source of a non-back edge first, removing the back edges leaves
    no cycle, and the back edges are exactly the edges a_i -> a_j with j <= i (the walk follows
    successors in name order, so the chain first, and every a_j is on its stack when a_i's
    extra edges are explored)."""
    n, extra = case
    nodes: dict[str, ir.Node] = {"input": ir.Input(1)}
    nodes.update({f"a{i}": ir.Integrator(r=np.ones(1)) for i in range(n)})
    nodes["output"] = ir.Output()
    edges = [("input", "a0")] + [(f"a{i}", f"a{i + 1}") for i in range(n - 1)] + [(f"a{n - 1}", "output")]
    for i, j in extra:
        if (f"a{i}", f"a{j}") not in edges:
            edges.append((f"a{i}", f"a{j}"))
    graph = ir.Graph(nodes, edges, dt=1.0)
    pos = {name: k for k, name in enumerate(graph.order)}
    for a, b in graph.edges:
        if (a, b) in graph.back_edges:
            assert pos[b] <= pos[a]
        else:
            assert pos[a] < pos[b]
    backward = {(a, b) for a, b in graph.edges if a[0] == b[0] == "a" and int(b[1:]) <= int(a[1:])}
    assert graph.back_edges == backward
    ir.simulate(graph, np.ones((1, 3, 1)), dtype=np.float64)


def test_diamond_and_skip_connections_have_no_back_edges(run):
    nodes = {
        "input": ir.Input(1), "a": ir.Linear([[1.0]]), "b": ir.Linear([[2.0]]), "c": ir.Integrator(r=np.ones(1)),
        "output": ir.Output(),
    }
    edges = [("input", "a"), ("input", "b"), ("a", "b"), ("b", "c"), ("a", "c"), ("input", "c"), ("c", "output")]
    graph = ir.Graph(nodes, edges, dt=1.0)
    assert graph.back_edges == frozenset()
    assert graph.order == ("input", "a", "b", "c", "output")
    # c receives a + b + x = x + (2x + 2x) + x = 6x in the same step
    assert run(graph, np.array([[1.0], [0.5]]))[:, 0].tolist() == [6.0, 9.0]


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
    """A value (or a spike) at step t leaves a Delay of d at step t + d, unchanged, per element,
    for any pattern."""
    rng = np.random.default_rng(0)
    delay = np.array([[0, 1], [3, 7]])
    x = (rng.random((12, 2, 2)) < 0.5) * rng.integers(1, 5, size=(12, 2, 2)).astype(float)
    values = run(chain(ir.Delay(delay), in_shape=(2, 2)), x)
    spikes = run(chain(ir.Delay(delay), threshold((2, 2)), in_shape=(2, 2)), x)
    for i, j in np.ndindex(2, 2):
        d = delay[i, j]
        assert values[:, i, j].tolist() == [0.0] * d + x[: 12 - d, i, j].tolist()
        assert spikes[:, i, j].tolist() == [0.0] * d + (x[: 12 - d, i, j] > 0.5).tolist()


@pytest.mark.parametrize(
    "node", [ir.Delay(np.array([2])), ir.Linear(np.ones((1, 1)), delay=np.array([[2]]))], ids=["Delay", "Linear"]
)
def test_delays_keep_delivering_after_the_input_ends(chain, node):
    g = chain(node, in_shape=(1,))
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
