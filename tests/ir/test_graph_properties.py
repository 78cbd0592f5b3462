"""Properties of graphs and the simulator: batching does not change results, an unchanged
replace() or a save/load round trip gives the same graph, and nodes cannot be mutated."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spikec import ir
from spikec.errors import GraphValidationError

SETTINGS = settings(max_examples=30, deadline=None)


@st.composite
def feed_forward(draw):
    """input -> (Linear -> LIF) * L -> output, optionally with a recurrent Linear and delays.

    Weights are multiples of 1/4 and tau is 2 or 4 time steps, so every membrane value is an
    exact binary fraction: batched and per-sample runs must agree bit for bit."""
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    sizes = draw(st.lists(st.integers(1, 6), min_size=2, max_size=4))
    recurrent = draw(st.booleans())
    delays = draw(st.booleans())
    reset = draw(st.sampled_from(["value", "subtract", "subtract_next", "none"]))
    nodes: dict[str, ir.Node] = {"input": ir.Input(sizes[0])}
    edges = []
    prev = "input"
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        w = rng.integers(-6, 9, size=(b, a)) / 4
        d = rng.integers(0, 3, size=(b, a)) if delays else None
        nodes[f"w{i}"] = ir.Linear(w, delay=d)
        nodes[f"lif{i}"] = ir.LIF(
            tau=rng.choice([2.0, 4.0], size=b), r=rng.choice([1.0, 2.0], size=b), v_leak=np.zeros(b),
            v_threshold=rng.choice([0.25, 0.5, 1.0], size=b), v_reset=np.zeros(b), reset=reset,
        )
        edges += [(prev, f"w{i}"), (f"w{i}", f"lif{i}")]
        prev = f"lif{i}"
    if recurrent:
        n = sizes[-1]
        nodes["rec"] = ir.Linear(rng.integers(-4, 5, size=(n, n)) / 4)
        edges += [(prev, "rec"), ("rec", prev)]
    nodes["output"] = ir.Output()
    edges.append((prev, "output"))
    graph = ir.Graph(nodes, edges, dt=1.0, metadata={"seed": seed})
    batch, steps = draw(st.integers(1, 4)), draw(st.integers(1, 12))
    x = (rng.random((batch, steps, sizes[0])) < 0.5).astype(np.float64)
    return graph, x


@SETTINGS
@given(feed_forward())
def test_batched_equals_per_sample(case):
    graph, x = case
    batched = ir.simulate(graph, x, dtype=np.float64, record="all")
    for i in range(x.shape[0]):
        single = ir.simulate(graph, x[i : i + 1], dtype=np.float64, record="all")
        for name in graph.nodes:
            np.testing.assert_array_equal(batched.recorded[name][i], single.recorded[name][0], err_msg=name)


@SETTINGS
@given(feed_forward())
def test_replace_without_change_and_round_trip(tmp_path_factory, case):
    graph, x = case
    expected = ir.simulate(graph, x, dtype=np.float64).output
    same = graph.replace()
    assert same.order == graph.order and same.back_edges == graph.back_edges
    np.testing.assert_array_equal(ir.simulate(same, x, dtype=np.float64).output, expected)
    path = tmp_path_factory.mktemp("g") / "graph.npz"
    ir.save_graph(graph, path)
    loaded = ir.load_graph(path)
    _assert_same_graph(graph, loaded)
    np.testing.assert_array_equal(ir.simulate(loaded, x, dtype=np.float64).output, expected)


def _assert_same_graph(a: ir.Graph, b: ir.Graph) -> None:
    assert list(a.nodes) == list(b.nodes)
    assert a.edges == b.edges and a.dt == b.dt and dict(a.metadata) == dict(b.metadata)
    assert a.order == b.order and a.back_edges == b.back_edges and dict(a.shapes) == dict(b.shapes)
    for name in a.nodes:
        _assert_same_node(a.nodes[name], b.nodes[name])


def _assert_same_node(x: ir.Node, y: ir.Node) -> None:
    assert type(x) is type(y)
    for f in dataclasses.fields(x):
        u, v = getattr(x, f.name), getattr(y, f.name)
        if isinstance(u, ir.Node):
            _assert_same_node(u, v)
        elif isinstance(u, np.ndarray):
            assert u.dtype == v.dtype and u.shape == v.shape, f.name
            np.testing.assert_array_equal(u, v)
        else:
            assert u == v, f.name


def _every_kind_graph() -> ir.Graph:
    rng = np.random.default_rng(0)
    nodes = {
        "input": ir.Input((2, 6, 6)),
        "conv": ir.Conv2d(rng.normal(size=(4, 1, 3, 3)), rng.normal(size=4), stride=1, padding=((1, 0), (0, 1)),
                          groups=2),
        "bn": ir.BatchNorm(mean=rng.normal(size=4), var=rng.random(4) + 0.5, gamma=rng.normal(size=4),
                           beta=rng.normal(size=4)),
        "mbn": ir.MembraneBatchNorm(ir.make_population(ir.LIF, (4, 5, 5), tau=2.0, v_threshold=0.5),
                                    mean=np.zeros(4), var=np.ones(4), gamma=[1.0, -1.0, 2.0, 0.5], beta=np.zeros(4)),
        "pool": ir.SumPool2d(2, stride=1),
        "avg": ir.AvgPool2d((2, 2), padding=1),
        "flat": ir.Flatten(),
        "sparse": ir.SparseLinear((5, 36), target=[0, 1, 4], source=[3, 20, 35], weight=[1.0, -2.0, 0.5],
                                  delay=[0, 2, 1]),
        "cuba": ir.make_population(ir.CubaLIF, 5, tau_syn=2.0, tau_mem=4.0, v_threshold=0.1, reset="subtract_next"),
        "delay": ir.Delay([0, 1, 2, 3, 4]),
        "aff": ir.Affine(rng.normal(size=(3, 5)), rng.normal(size=3), delay=rng.integers(0, 3, (3, 5))),
        "scale": ir.Scale([1.0, 2.0, 3.0]),
        "li": ir.make_population(ir.CubaLI, 3, tau_syn=2.0, tau_mem=2.0),
        "thr": ir.Threshold(np.zeros(3)),
        "output": ir.Output(),
        "out_li": ir.Output(3),
    }
    chain = ["input", "conv", "bn", "mbn", "pool", "avg", "flat", "sparse", "cuba", "delay", "aff", "scale", "li",
             "thr", "output"]
    edges = list(zip(chain[:-1], chain[1:])) + [("li", "out_li")]
    return ir.Graph(nodes, edges, dt=0.5, metadata={"source": "test", "version": 2})


def test_round_trip_every_node_kind(tmp_path):
    graph = _every_kind_graph()
    ir.save_graph(graph, tmp_path / "g.npz")
    loaded = ir.load_graph(tmp_path / "g.npz")
    _assert_same_graph(graph, loaded)
    x = (np.random.default_rng(1).random((2, 6, 2, 6, 6)) < 0.3).astype(np.float64)
    a, b = ir.simulate(graph, x, dtype=np.float64), ir.simulate(loaded, x, dtype=np.float64)
    for name in graph.outputs:
        np.testing.assert_array_equal(a.outputs[name], b.outputs[name])
    assert graph.with_node("scale", graph.nodes["scale"]).order == graph.order


def test_round_trip_fixed_point(tmp_path):
    neuron = ir.FixedCubaLIF(du=[4096, 100], dv=[0, 7], bias=[1, -2], v_threshold=[50, 60], v_reset=[0, -3],
                             reset="subtract", decay_bits=12, input_shift=2, u_bits=20, v_bits=18,
                             u_overflow="saturate", v_overflow="wrap", rounding="nearest", spiking_output=True)
    nodes = {"input": ir.Input(3), "w": ir.Linear(np.arange(6).reshape(2, 3) - 2), "n": neuron, "output": ir.Output()}
    graph = ir.Graph(nodes, [("input", "w"), ("w", "n"), ("n", "output")])
    ir.save_graph(graph, tmp_path / "f.npz")
    loaded = ir.load_graph(tmp_path / "f.npz")
    _assert_same_graph(graph, loaded)
    assert loaded.nodes["w"].weight.dtype == np.int64
    x = np.ones((1, 10, 3), dtype=np.int64)
    np.testing.assert_array_equal(ir.simulate(graph, x).output, ir.simulate(loaded, x).output)


# --- immutability ------------------------------------------------------------------------------


def test_nodes_are_frozen_and_arrays_read_only():
    graph = _every_kind_graph()
    for name, node in graph.nodes.items():
        fields = dataclasses.fields(node)
        if fields:
            with pytest.raises(dataclasses.FrozenInstanceError):
                setattr(node, fields[0].name, None)
        for param, arr in node.arrays():
            assert not arr.flags.writeable, (name, param)
            with pytest.raises(ValueError):
                arr.flat[0] = 1
    inner = graph.nodes["mbn"].neuron
    assert not inner.tau.flags.writeable


def test_nodes_copy_their_inputs():
    w = np.ones((2, 2))
    node = ir.Linear(w)
    w[0, 0] = 5.0
    assert node.weight[0, 0] == 1.0
    tau = np.full(2, 2.0)
    lif = ir.make_population(ir.LIF, 2, tau=tau, v_threshold=1.0)
    tau[0] = 100.0
    assert lif.tau[0] == 2.0


def test_graph_is_immutable():
    graph = _every_kind_graph()
    with pytest.raises(TypeError):
        graph.nodes["x"] = ir.Output()  # type: ignore[index]
    with pytest.raises(TypeError):
        graph.metadata["x"] = 1  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        graph.dt = 2.0  # type: ignore[misc]
    assert isinstance(graph.edges, tuple)


def test_replace_revalidates(raises_named):
    graph = _every_kind_graph()
    with raises_named(GraphValidationError, None, "dt"):
        graph.replace(dt=-1.0)
    assert graph.replace(dt=0.25).dt == 0.25


def test_node_replace_is_a_changed_copy():
    lif = ir.make_population(ir.LIF, 2, tau=2.0, v_threshold=1.0)
    other = lif.replace(v_threshold=np.array([3.0, 3.0]))
    assert lif.v_threshold.tolist() == [1.0, 1.0] and other.v_threshold.tolist() == [3.0, 3.0]
    assert not other.v_threshold.flags.writeable


# --- scheduling ------------------------------------------------------------------------------


@SETTINGS
@given(st.integers(2, 7).flatmap(lambda n: st.tuples(
    st.just(n), st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=3 * n))))
def test_schedule_on_random_graphs(case):
    """Nodes a0..a{n-1} (Integrators of one neuron) on a chain from the input, plus random extra
    edges: the order puts every source of a non-back edge first, removing the back edges leaves
    no cycle, and the back edges are exactly the edges a_i -> a_j with j <= i (the walk follows
    the chain first, so every a_j is on its stack when a_i's extra edges are explored)."""
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


def test_synapse_counts():
    graph = _every_kind_graph()
    assert graph.synapses_of("conv") == 4 * 1 * 3 * 3 * 5 * 5  # each weight once per output position
    assert graph.synapses_of("sparse") == 3
    assert graph.synapses_of("cuba") == 0
    assert graph.synapse_count() == sum(graph.synapses_of(n) for n in graph.projections())
    assert graph.neuron_count() == 4 * 5 * 5 + 5 + 3 + 3
