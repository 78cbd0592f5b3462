"""Properties of random graphs (hypothesis): batching, an unchanged replace() and a save/load
round trip do not change results, float32 equals float64 on exact cases, simulating leaves the
graph untouched; the save/load round trip of every node kind; graph queries (synapse and
neuron counts); and the immutability of nodes and graphs.

Random networks use dyadic numbers only (weights in quarters, decays of 0, 1/2 or 3/4), so
every membrane is exact in float64 and, for short LIF runs, in float32 too: results must then
agree bit for bit, not approximately.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from spikec import ir
from spikec.errors import GraphValidationError

SETTINGS = settings(max_examples=50, deadline=None)
MODES = ["value", "subtract", "subtract_next", "none"]


@st.composite
def networks(draw, lif_only: bool = False, max_steps: int = 8):
    """A random feed-forward stack of (Linear | Affine, with or without delays) -> (LIF | CubaLIF),
    sometimes with a recurrent projection on one layer, plus a batch of spike trains."""
    quarters = st.integers(-8, 8).map(lambda k: k / 4)
    sizes = draw(st.lists(st.integers(1, 5), min_size=2, max_size=4))
    nodes: dict[str, ir.Node] = {"in": ir.Input((sizes[0],))}
    edges = []
    prev = "in"
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        w = np.array(draw(st.lists(quarters, min_size=n_in * n_out, max_size=n_in * n_out))).reshape(n_out, n_in)
        delay = None
        if draw(st.booleans()):
            delay = np.array(draw(st.lists(st.integers(0, 3), min_size=w.size, max_size=w.size))).reshape(w.shape)
        if draw(st.booleans()):
            proj = ir.Affine(w, np.array(draw(st.lists(quarters, min_size=n_out, max_size=n_out))), delay=delay)
        else:
            proj = ir.Linear(w, delay=delay)

        def per_neuron(values):
            return np.array(draw(st.lists(st.sampled_from(values), min_size=n_out, max_size=n_out)), dtype=float)

        common = dict(
            r=per_neuron([1.0, 2.0]), v_leak=per_neuron([-0.25, 0.0, 0.25]),
            v_threshold=per_neuron([0.25, 0.5, 1.0, 1.5]), v_reset=per_neuron([-0.5, 0.0, 0.25]),
            reset=draw(st.sampled_from(MODES)),
        )
        if lif_only or draw(st.booleans()):
            neuron = ir.LIF(tau=per_neuron([1.0, 2.0, 4.0]), **common)
        else:
            neuron = ir.CubaLIF(tau_syn=per_neuron([1.0, 2.0, 4.0]), tau_mem=per_neuron([1.0, 2.0, 4.0]),
                                w_in=per_neuron([1.0, 2.0]), **common)
        nodes[f"w{i}"], nodes[f"n{i}"] = proj, neuron
        edges += [(prev, f"w{i}"), (f"w{i}", f"n{i}")]
        if draw(st.booleans()):
            rec = np.array(draw(st.lists(quarters, min_size=n_out * n_out, max_size=n_out * n_out)))
            nodes[f"r{i}"] = ir.Linear(rec.reshape(n_out, n_out))
            edges += [(f"n{i}", f"r{i}"), (f"r{i}", f"n{i}")]
        prev = f"n{i}"
    nodes["out"] = ir.Output()
    edges.append((prev, "out"))
    graph = ir.Graph(nodes, edges, dt=1.0)
    batch, steps = draw(st.integers(2, 4)), draw(st.integers(1, max_steps))
    seed = draw(st.integers(0, 2**32 - 1))
    x = (np.random.default_rng(seed).random((batch, steps, sizes[0])) < 0.5).astype(float)
    return graph, x


def outputs(graph, x, dtype=np.float64):
    res = ir.simulate(graph, x, record="all", dtype=dtype)
    return {n: a.astype(np.float64) for n, a in res.recorded.items()}


@SETTINGS
@given(networks(max_steps=12))
def test_batched_equals_one_sample_at_a_time(case):
    graph, x = case
    together = outputs(graph, x)
    for b in range(x.shape[0]):
        alone = outputs(graph, x[b : b + 1])
        for name in graph.nodes:
            np.testing.assert_array_equal(together[name][b : b + 1], alone[name], err_msg=name)


@SETTINGS
@given(networks())
def test_replace_without_changes_and_save_load_simulate_identically(tmp_path_factory, case):
    graph, x = case
    expected = outputs(graph, x)
    path = tmp_path_factory.mktemp("g") / "graph.npz"
    ir.save_graph(graph, path)
    loaded = ir.load_graph(path)
    assert_same_graph(graph, loaded)
    copies = [
        graph.replace(),
        graph.replace(nodes=dict(graph.nodes), edges=list(graph.edges), dt=graph.dt),
        graph.replace(nodes={n: v.replace() for n, v in graph.nodes.items()}),
        loaded,
    ]
    for copy in copies:
        assert copy is not graph
        assert copy.order == graph.order and copy.back_edges == graph.back_edges
        assert dict(copy.shapes) == dict(graph.shapes)
        got = outputs(copy, x)
        for name in graph.nodes:
            np.testing.assert_array_equal(got[name], expected[name], err_msg=name)


@SETTINGS
@given(networks(lif_only=True, max_steps=5))
def test_float32_and_float64_agree_on_exact_cases(case):
    graph, x = case
    np.testing.assert_array_equal(
        ir.simulate(graph, x, dtype=np.float32).output, ir.simulate(graph, x, dtype=np.float64).output
    )


@SETTINGS
@given(networks())
def test_simulation_leaves_the_graph_untouched(case):
    graph, x = case
    before = {n: [(k, a.copy()) for k, a in v.arrays()] for n, v in graph.nodes.items()}
    first = outputs(graph, x)
    for name, arrays in before.items():
        for (k, a), (_, now) in zip(arrays, graph.nodes[name].arrays()):
            np.testing.assert_array_equal(a, now, err_msg=f"{name}.{k}")
    second = outputs(graph, x)
    for name in graph.nodes:
        np.testing.assert_array_equal(first[name], second[name])


# --- save / load of every node kind, graph queries ---------------------------------------------------


def assert_same_graph(a: ir.Graph, b: ir.Graph) -> None:
    assert list(a.nodes) == list(b.nodes)
    assert a.edges == b.edges and a.dt == b.dt and dict(a.metadata) == dict(b.metadata)
    assert a.order == b.order and a.back_edges == b.back_edges and dict(a.shapes) == dict(b.shapes)
    for name in a.nodes:
        assert_same_node(a.nodes[name], b.nodes[name])


def assert_same_node(x: ir.Node, y: ir.Node) -> None:
    assert type(x) is type(y)
    for f in dataclasses.fields(x):
        u, v = getattr(x, f.name), getattr(y, f.name)
        if isinstance(u, ir.Node):
            assert_same_node(u, v)
        elif isinstance(u, np.ndarray):
            assert u.dtype == v.dtype and u.shape == v.shape, f.name
            np.testing.assert_array_equal(u, v)
        else:
            assert u == v, f.name


def every_kind_graph() -> ir.Graph:
    """One graph that holds every float node kind, with uneven padding, groups, delays, a
    negative-gamma membrane batch-norm and two outputs."""
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
    graph = every_kind_graph()
    ir.save_graph(graph, tmp_path / "g.npz")
    loaded = ir.load_graph(tmp_path / "g.npz")
    assert_same_graph(graph, loaded)
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
    assert_same_graph(graph, loaded)
    assert loaded.nodes["w"].weight.dtype == np.int64
    x = np.ones((1, 10, 3), dtype=np.int64)
    np.testing.assert_array_equal(ir.simulate(graph, x).output, ir.simulate(loaded, x).output)


def test_synapse_and_neuron_counts():
    graph = every_kind_graph()
    assert graph.synapses_of("conv") == 4 * 1 * 3 * 3 * 5 * 5  # each weight once per output position
    assert graph.synapses_of("sparse") == 3
    assert graph.synapses_of("cuba") == 0
    assert graph.synapse_count() == sum(graph.synapses_of(n) for n in graph.projections())
    assert graph.neuron_count() == 4 * 5 * 5 + 5 + 3 + 3


# --- immutability -----------------------------------------------------------------------------------


def every_node_kind() -> dict[str, ir.Node]:
    lif = ir.make_population(ir.LIF, 2, tau=4.0, v_threshold=1.0)
    return {
        "Input": ir.Input((2,)),
        "Output": ir.Output((2,)),
        "LIF": lif,
        "CubaLIF": ir.make_population(ir.CubaLIF, 2, tau_syn=2.0, tau_mem=4.0, v_threshold=1.0),
        "IF": ir.make_population(ir.IF, 2, v_threshold=1.0),
        "LI": ir.make_population(ir.LI, 2, tau=4.0),
        "CubaLI": ir.make_population(ir.CubaLI, 2, tau_syn=2.0, tau_mem=4.0),
        "Integrator": ir.make_population(ir.Integrator, 2),
        "Threshold": ir.make_population(ir.Threshold, 2, threshold=0.5),
        "FixedCubaLIF": ir.FixedCubaLIF(du=[1, 2], dv=[3, 4], bias=[0, 1], v_threshold=[9, 9], v_reset=[0, 0]),
        "MembraneBatchNorm": ir.MembraneBatchNorm(lif, mean=[0.0, 0.0], var=[1.0, 1.0], gamma=[1.0, 1.0],
                                                  beta=[0.0, 0.0]),
        "Linear": ir.Linear(np.ones((2, 2)), delay=np.ones((2, 2), int)),
        "Affine": ir.Affine(np.ones((2, 2)), np.zeros(2)),
        "SparseLinear": ir.SparseLinear((2, 2), target=[0, 1], source=[1, 0], weight=[1.0, 2.0], delay=[0, 1]),
        "Scale": ir.Scale(np.ones(2)),
        "Conv1d": ir.Conv1d(np.ones((2, 1, 2)), padding="same"),
        "Conv2d": ir.Conv2d(np.ones((2, 1, 2, 2)), np.zeros(2), stride=2),
        "SumPool2d": ir.SumPool2d(2),
        "AvgPool2d": ir.AvgPool2d((2, 1), padding=((0, 1), (0, 0))),
        "Flatten": ir.Flatten(),
        "Delay": ir.Delay(np.array([0, 3])),
        "BatchNorm": ir.BatchNorm(mean=[0.0], var=[1.0], gamma=[1.0], beta=[0.0]),
    }


def test_the_catalogue_covers_every_node_class():
    exported = {name for name in ir.__all__ if isinstance(getattr(ir, name), type) and
                issubclass(getattr(ir, name), ir.Node) and name not in ("Node", "Neuron", "Projection")}
    assert exported == set(every_node_kind())


@pytest.mark.parametrize("kind", sorted(every_node_kind()))
def test_nodes_are_frozen_with_read_only_arrays(kind):
    node = every_node_kind()[kind]
    for f in dataclasses.fields(node):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(node, f.name, getattr(node, f.name))
    for name, arr in node.arrays():
        assert not arr.flags.writeable, name
        with pytest.raises(ValueError):
            arr[...] = 0
    assert node.replace() is not node
    if kind == "MembraneBatchNorm":  # arrays() lists its own fields; the wrapped neuron's are frozen too
        assert all(not arr.flags.writeable for _, arr in node.neuron.arrays())


def test_nodes_copy_what_they_are_given():
    w = np.ones((2, 2))
    tau = np.full(2, 4.0)
    lin = ir.Linear(w)
    lif = ir.LIF(tau=tau, r=np.ones(2), v_leak=np.zeros(2), v_threshold=np.ones(2), v_reset=np.zeros(2))
    w[0, 0] = 5.0
    tau[0] = 0.5
    assert lin.weight[0, 0] == 1.0 and lif.tau[0] == 4.0
    tau = np.full(2, 2.0)
    pop = ir.make_population(ir.LIF, 2, tau=tau, v_threshold=1.0)
    tau[0] = 100.0
    assert pop.tau[0] == 2.0
    changed = lif.replace(tau=np.full(2, 8.0))
    assert lif.tau.tolist() == [4.0, 4.0] and changed.tau.tolist() == [8.0, 8.0]
    assert not changed.tau.flags.writeable


def test_graphs_are_immutable():
    nodes = {"in": ir.Input((2,)), "s": ir.Scale(np.ones(2)), "out": ir.Output()}
    edges = [("in", "s"), ("s", "out")]
    g = ir.Graph(nodes, edges, metadata={"source": "test"})
    nodes["extra"] = ir.Scale(np.ones(2))
    edges.append(("in", "out"))
    assert set(g.nodes) == {"in", "s", "out"} and g.edges == (("in", "s"), ("s", "out"))
    with pytest.raises(TypeError):
        g.nodes["s"] = ir.Scale(np.ones(2))  # type: ignore[index]
    with pytest.raises(TypeError):
        g.metadata["source"] = "changed"  # type: ignore[index]
    with pytest.raises(TypeError):
        g.shapes["s"] = ((3,), (3,))  # type: ignore[index]
    for attr in ("nodes", "edges", "dt", "metadata", "order"):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(g, attr, getattr(g, attr))
    assert g.with_node("s", ir.Scale(np.full(2, 2.0))).nodes["s"].scale.tolist() == [2.0, 2.0]
    assert g.nodes["s"].scale.tolist() == [1.0, 1.0]


def test_graph_replace_validates_again(raises_named):
    graph = every_kind_graph()
    with raises_named(GraphValidationError, None, "dt"):
        graph.replace(dt=-1.0)
    assert graph.replace(dt=0.25).dt == 0.25
