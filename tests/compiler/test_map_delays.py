"""map_delays: the same outputs, step for step, with every synaptic delay within the native range."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from spikec import ir, runtime
from spikec.compiler.lower import lower
from spikec.compiler.passes import map_delays
from spikec.errors import GraphValidationError
from spikec.hardware import HardwareSpec, Sourced

DT = 1e-3
NATIVE = [0, 1, 3, 7, 15, None]
KINDS = ["linear", "affine", "sparse"]


def _spec(native: int | None) -> HardwareSpec:
    return HardwareSpec("test", max_delay=Sourced(native, "test"))


def _spikes(shape: tuple[int, ...], seed: int, p: float = 0.3) -> np.ndarray:
    return (np.random.default_rng(seed).random(shape) < p).astype(np.float64)


def _projection(kind: str, n_out: int, n_in: int, rng: np.random.Generator, max_delay: int, *, fixed: bool) -> ir.Node:
    """A random projection; float weights are multiples of 1/8 so any summation order is exact."""
    w = rng.integers(-24, 25, size=(n_out, n_in))
    w = w.astype(np.int64) if fixed else w / 8
    w[rng.random(w.shape) < 0.2] = 0  # zero synapses: their delays must cost nothing
    d = rng.integers(0, max_delay + 1, size=(n_out, n_in))
    if kind == "linear":
        return ir.Linear(w, delay=d)
    if kind == "affine":
        b = rng.integers(-4, 5, size=n_out)
        return ir.Affine(w, b.astype(np.int64) if fixed else b / 8, delay=d)
    t, s = np.nonzero(np.ones((n_out, n_in)))
    keep = rng.random(t.size) < 0.7
    return ir.SparseLinear((n_out, n_in), t[keep], s[keep], w[t[keep], s[keep]], delay=d[t[keep], s[keep]])


def _neuron(n: int, *, fixed: bool) -> ir.Node:
    if fixed:
        return ir.FixedCubaLIF(du=[1024] * n, dv=[512] * n, bias=[0] * n, v_threshold=[6] * n, v_reset=[0] * n)
    return ir.make_population(ir.LIF, n, tau=4 * DT, v_threshold=0.5)


def _net(kinds: list[str], seed: int, max_delay: int, *, fixed: bool, recurrent: bool, n_in: int = 4) -> ir.Graph:
    """input -> p0 -> n0 -> p1 -> n1 -> out, plus the raw current of p0 as an output (so a wrong
    delay shows up even where no spike does) and optionally a delayed recurrent p2: n0 -> n0."""
    rng = np.random.default_rng(seed)
    h, o = 5, 3
    nodes = {
        "in": ir.Input((n_in,)),
        "p0": _projection(kinds[0], h, n_in, rng, max_delay, fixed=fixed),
        "n0": _neuron(h, fixed=fixed),
        "p1": _projection(kinds[1], o, h, rng, max_delay, fixed=fixed),
        "n1": _neuron(o, fixed=fixed),
        "out": ir.Output(),
        "current": ir.Output(),
    }
    edges = [("in", "p0"), ("p0", "n0"), ("n0", "p1"), ("p1", "n1"), ("n1", "out"), ("p0", "current")]
    if recurrent:
        nodes["p2"] = _projection(kinds[2], h, h, rng, max_delay, fixed=fixed)
        edges += [("n0", "p2"), ("p2", "n0")]
    return ir.Graph(nodes, edges, dt=DT)


def _check_fits(graph: ir.Graph, native: int | None) -> None:
    if native is None:
        return
    for name, node in graph.projections().items():
        assert node.max_delay() <= native, name


def _assert_same(before: ir.Graph, after: ir.Graph, x: np.ndarray, **kw) -> None:
    ref = ir.simulate(before, x, **kw).outputs
    got = ir.simulate(after, x, **kw).outputs
    assert set(ref) == set(got)
    for k in ref:
        np.testing.assert_array_equal(got[k], ref[k], err_msg=k)


@pytest.mark.parametrize("fixed", [False, True], ids=["float64", "fixed"])
@settings(max_examples=50, deadline=None)
@given(
    kinds=st.lists(st.sampled_from(KINDS), min_size=3, max_size=3),
    native=st.sampled_from(NATIVE),
    max_delay=st.integers(0, 40),
    recurrent=st.booleans(),
    seed=st.integers(0, 10_000),
)
def test_random_graphs_keep_outputs_and_fit(fixed, kinds, native, max_delay, recurrent, seed) -> None:
    g = _net(kinds, seed, max_delay, fixed=fixed, recurrent=recurrent)
    res = map_delays(g, _spec(native))
    _check_fits(res.graph, native)
    x = _spikes((2, 60, 4), seed)
    if fixed:
        _assert_same(g, res.graph, x.astype(np.int64), mode="fixed")
    else:
        _assert_same(g, res.graph, x, dtype=np.float64)
        if native is None or g.nodes["p0"].max_delay() <= native and g.nodes["p1"].max_delay() <= native \
                and (not recurrent or g.nodes["p2"].max_delay() <= native):
            assert res.graph is g and not res.record.changes
        else:
            assert res.record.changes and res.record.figures["nodes_added"] > 0


def test_fixed_point_example_spikes_and_is_split() -> None:
    """A fixed-point net that does spike (so the random test above is not vacuous in kind)."""
    g = _net(["sparse", "affine", "linear"], 3, 40, fixed=True, recurrent=True)
    res = map_delays(g, _spec(3))
    x = _spikes((2, 80, 4), 3, p=0.6).astype(np.int64)
    assert ir.simulate(g, x, mode="fixed").outputs["out"].any()
    _assert_same(g, res.graph, x, mode="fixed")
    assert len(res.record.changes) == 3


@pytest.mark.parametrize("native", [0, 2, 5])
def test_recurrent_delayed_back_edge_keeps_its_extra_step(native: int) -> None:
    # n -> rec -> n is a back edge: rec reads n from the previous step, plus its own delays.
    w_rec = np.array([[0.0, 1.0], [1.0, 0.0]])
    g = ir.Graph({
        "in": ir.Input((2,)), "fc": ir.Linear(np.eye(2)),
        "n": ir.make_population(ir.IF, 2, v_threshold=0.5),
        "rec": ir.Linear(w_rec / DT, delay=np.array([[0, 9], [13, 0]])),
        "out": ir.Output(),
    }, [("in", "fc"), ("fc", "n"), ("n", "rec"), ("rec", "n"), ("n", "out")], dt=DT)
    assert ("rec", "n") in g.back_edges
    x = np.zeros((1, 60, 2))
    x[0, 0, 0] = 1.0 / DT
    ref = ir.simulate(g, x, dtype=np.float64).output
    # A ping-pong at 9 + 1 and 13 + 1 steps: the back edge's own step must survive the split.
    assert ref[0, :, 0].nonzero()[0][:3].tolist() == [0, 24, 48]
    res = map_delays(g, _spec(native))
    _check_fits(res.graph, native)
    np.testing.assert_array_equal(ir.simulate(res.graph, x, dtype=np.float64).output, ref)


def test_back_edge_into_the_split_projection() -> None:
    # p sums the input and (through a back edge) its own neuron: entering p from two sides.
    rng = np.random.default_rng(5)
    w = rng.integers(-8, 9, size=(4, 4)) / 8
    d = rng.integers(0, 20, size=(4, 4))
    g = ir.Graph({
        "in": ir.Input((4,)), "p": ir.Affine(w, np.full(4, 0.125), delay=d),
        "n": ir.make_population(ir.LIF, 4, tau=4 * DT, v_threshold=0.5), "out": ir.Output(),
    }, [("in", "p"), ("p", "n"), ("n", "p"), ("n", "out")], dt=DT)
    assert ("n", "p") in g.back_edges
    for native in (0, 3):
        res = map_delays(g, _spec(native))
        assert any(isinstance(v, ir.Delay) and not v.delay.any() for v in res.graph.nodes.values())
        _assert_same(g, res.graph, _spikes((2, 60, 4), 1, p=0.5), dtype=np.float64)


def test_buckets_are_few_chained_and_recorded() -> None:
    w = np.ones((1, 6))
    g = ir.Graph({"in": ir.Input((6,)), "p": ir.Linear(w, delay=np.array([[0, 3, 4, 10, 12, 37]])),
                  "out": ir.Output()}, [("in", "p"), ("p", "out")], dt=DT)
    before = dict(g.nodes)
    res = map_delays(g, _spec(3))
    assert dict(g.nodes) == before  # the input graph is untouched
    # Cover {0..3}, {4..7}, {10..13}, {37..40}: 4 groups, one chain of Delay nodes 4, +6, +27.
    delays = {n: int(v.delay.max()) for n, v in res.graph.nodes.items() if isinstance(v, ir.Delay)}
    assert delays == {"p.delay4": 4, "p.delay10": 6, "p.delay37": 27}
    assert ("p.delay4", "p.delay10") in res.graph.edges and ("p.delay10", "p.delay37") in res.graph.edges
    (change,) = res.record.changes
    assert change.node == "p" and change.figures["groups"] == 4 and change.figures["synapses_moved"] == 4
    assert res.record.figures["nodes_added"] == 6
    assert "37 > native 3" in res.record.explain()


def test_native_fit_and_unlimited_return_the_graph_unchanged() -> None:
    g = ir.Graph({"in": ir.Input((2,)), "p": ir.Linear(np.ones((2, 2)), delay=[[0, 3], [2, 1]]),
                  "d": ir.Delay([5, 9]), "out": ir.Output()}, [("in", "p"), ("p", "d"), ("d", "out")], dt=DT)
    for native in (3, None):
        res = map_delays(g, _spec(native))
        assert res.graph is g and not res.record.changes
        assert res.record.figures["note"] == "fits natively"
        assert res.record.figures["axonal_delay_nodes_left_to_target"] == ["d"]


def test_new_names_do_not_collide() -> None:
    g = ir.Graph({"in": ir.Input((2,)), "p": ir.Linear(np.ones((1, 2)), delay=[[0, 8]]),
                  "p.delay8": ir.Linear(np.ones((1, 1))), "out": ir.Output()},
                 [("in", "p"), ("p", "p.delay8"), ("p.delay8", "out")], dt=DT)
    res = map_delays(g, _spec(0))
    assert isinstance(res.graph.nodes["p.delay8"], ir.Linear)
    assert isinstance(res.graph.nodes["p.delay8_1"], ir.Delay)
    _assert_same(g, res.graph, _spikes((1, 20, 2), 0, p=0.5), dtype=np.float64)


@pytest.mark.parametrize("bad", [5, Sourced(None, "x"), "7"])
def test_bad_spec_value_names_max_delay(bad) -> None:
    g = _net(KINDS, 0, 10, fixed=False, recurrent=False)
    spec = _spec(0)
    if isinstance(bad, Sourced):
        bad = Sourced(3, "x")
        object.__setattr__(bad, "value", -1)  # a spec built around Sourced's own check
    object.__setattr__(spec, "max_delay", bad)
    with pytest.raises(GraphValidationError, match="max_delay") as info:
        map_delays(g, spec)
    assert info.value.parameter == "max_delay"


@pytest.mark.parametrize("native", [0, 3])
def test_c_engine_agrees_with_the_reference(native: int) -> None:
    g = _net(["affine", "sparse", "linear"], 11, 30, fixed=False, recurrent=True)
    mapped = map_delays(g, _spec(native)).graph
    x = _spikes((2, 60, 4), 11, p=0.5)
    ref = ir.simulate(g, x, dtype=np.float64).outputs
    got = runtime.run(lower(mapped), x).outputs
    assert ref["out"].any()
    for k in ref:
        np.testing.assert_array_equal(got[k], ref[k], err_msg=k)


def test_learned_torch_delays_survive_import_and_mapping() -> None:
    torch = pytest.importorskip("torch")
    from spikec import nn as snn_spikec
    from spikec.compiler.frontends import from_torch
    from torch import nn

    torch.manual_seed(4)
    model = nn.Sequential(snn_spikec.DelayedLinear(6, 8, max_delay=12),
                          snn_spikec.LIF(8, tau=4e-3, threshold=0.4, reset="subtract_next")).double()
    x = torch.from_numpy(_spikes((3, 40, 6), 2, p=0.5))
    model(x).sum().backward()  # "learned": delays that have seen a gradient
    model.eval()
    expected = model(x).detach().numpy()
    assert expected.any()
    graph = from_torch(model, input_shape=(6,))
    assert graph.nodes["0"].delay.max() > 3
    res = map_delays(graph, _spec(3))
    _check_fits(res.graph, 3)
    np.testing.assert_array_equal(ir.simulate(res.graph, x.numpy(), dtype=np.float64).output, expected)
