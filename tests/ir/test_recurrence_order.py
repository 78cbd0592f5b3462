"""Which edges of a cycle are delayed is canonical: it never depends on the order nodes or edges
are listed in, and it survives a NIR round trip (nir.read returns nodes in alphabetical order)."""

from __future__ import annotations

import numpy as np
import spikec.ir as ir
from hypothesis import given, settings
from hypothesis import strategies as st


def _issue_graph(order: list[str], edge_order: list[int]) -> ir.Graph:
    # issue 12's case: two Inputs feeding a two-node loop of integrators.
    nodes = {"zin": ir.Input(1), "ain": ir.Input(1), "a": ir.Integrator(r=np.ones(1)),
             "b": ir.Integrator(r=np.full(1, 2.0)), "out": ir.Output()}
    edges = [("zin", "b"), ("ain", "a"), ("a", "b"), ("b", "a"), ("b", "out")]
    return ir.Graph({k: nodes[k] for k in order}, [edges[i] for i in edge_order], dt=1.0)


def test_the_issue_loop_is_canonical() -> None:
    inputs = {"zin": np.ones((1, 6, 1)), "ain": np.ones((1, 6, 1))}
    first = _issue_graph(["zin", "ain", "a", "b", "out"], [0, 1, 2, 3, 4])
    alpha = _issue_graph(sorted(["zin", "ain", "a", "b", "out"]), [4, 3, 2, 1, 0])
    assert first.back_edges == alpha.back_edges == {("b", "a")}  # the walk starts at 'ain'
    assert np.array_equal(ir.simulate(first, inputs, dtype=np.float64).output,
                          ir.simulate(alpha, inputs, dtype=np.float64).output)


@st.composite
def recurrent_graphs(draw: st.DrawFn) -> tuple[ir.Graph, np.ndarray]:
    n = draw(st.integers(2, 6))
    names = [f"n{draw(st.integers(0, 99))}_{i}" for i in range(n)]
    nodes: dict[str, ir.Node] = {"in": ir.Input(2)}
    for k, name in enumerate(names):
        nodes[name] = ir.make_population(ir.LIF, 2, tau=0.005 * (k + 2), v_threshold=0.4, r=1.0)
    nodes["out"] = ir.Output()
    edges = [("in", names[0])] + [(names[i], names[i + 1]) for i in range(n - 1)] + [(names[-1], "out")]
    for i, j in draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=2 * n)):
        if (names[i], names[j]) not in edges:
            edges.append((names[i], names[j]))
    spikes = draw(st.integers(0, 2**31)).__index__()
    return ir.Graph(nodes, edges, dt=1e-3), (np.random.default_rng(spikes).random((2, 12, 2)) < 0.5) * 1.0


@settings(max_examples=60, deadline=None)
@given(recurrent_graphs(), st.randoms(use_true_random=False))
def test_shuffling_nodes_and_edges_never_changes_outputs(case, rnd) -> None:
    graph, spikes = case
    names = list(graph.nodes)
    edges = list(graph.edges)
    rnd.shuffle(names)
    rnd.shuffle(edges)
    shuffled = ir.Graph({k: graph.nodes[k] for k in names}, edges, dt=graph.dt)
    assert shuffled.back_edges == graph.back_edges
    for name in graph.nodes:
        if isinstance(graph.nodes[name], ir.Neuron):
            a = ir.simulate(graph, spikes, record=[name], dtype=np.float64).recorded[name]
            b = ir.simulate(shuffled, spikes, record=[name], dtype=np.float64).recorded[name]
            assert np.array_equal(a, b), name
