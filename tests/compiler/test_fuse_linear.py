"""fuse_linear: a chain of linear nodes becomes one projection, with identical spikes in every
population of the reference simulator (dyadic values, so every product and sum is exact), and
every chain it leaves says why in the record."""

from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from spikec import ir
from spikec.api import load
from spikec.compiler.lower import lower
from spikec.compiler.passes import fuse_linear
from spikec.compiler.pipeline import DEFAULT_PASSES, available_passes, compile_graph
from spikec.hardware.loihi import LOIHI1_SPEC

DT = 1e-3
PAPER = Path(__file__).resolve().parents[1] / "data" / "nir" / "paper"
fuse_mod = importlib.import_module("spikec.compiler.passes.fuse_linear")  # the module, not the function


def spikes(shape: tuple[int, ...], seed: int = 0, p: float = 0.3) -> np.ndarray:
    return (np.random.default_rng(seed).random(shape) < p).astype(np.float64)


def lif(shape: tuple[int, ...] | int) -> ir.Node:
    # tau = 8 dt: alpha = 7/8 and gain = 1/8, both dyadic
    return ir.make_population(ir.LIF, shape, tau=8 * DT, v_threshold=0.5)


def dyadic(rng: np.random.Generator, shape: tuple[int, ...], zeros: float = 0.0) -> np.ndarray:
    w = rng.integers(-8, 9, size=shape) / 4
    return np.where(rng.random(shape) < zeros, 0.0, w)


def chain_graph(chain: list[tuple[str, ir.Node]], in_shape: tuple[int, ...], out_size: int,
                flatten: bool = False) -> ir.Graph:
    """in -> chain... [-> Flatten] -> LIF(out) -> out."""
    nodes: dict[str, ir.Node] = {"in": ir.Input(in_shape)}
    edges, prev = [], "in"
    for name, node in chain + ([("flat", ir.Flatten())] if flatten else []):
        nodes[name] = node
        edges.append((prev, name))
        prev = name
    nodes["n"], nodes["out"] = lif(out_size), ir.Output()
    edges += [(prev, "n"), ("n", "out")]
    return ir.Graph(nodes, edges, dt=DT)


def assert_same_spikes(before: ir.Graph, after: ir.Graph, x: np.ndarray, dtypes=(np.float64, np.float32)) -> None:
    neurons = [n for n, v in before.nodes.items() if isinstance(v, ir.Neuron)]
    for dtype in dtypes:
        a = ir.simulate(before, x, record=neurons, dtype=dtype).recorded
        b = ir.simulate(after, x, record=neurons, dtype=dtype).recorded
        for n in neurons:
            assert np.array_equal(a[n], b[n]), (n, np.dtype(dtype).name)


def kinds(graph: ir.Graph) -> list[str]:
    return [graph.nodes[n].kind for n in graph.order]


# --- random chains ---------------------------------------------------------------------------------


def _flat_node(draw, rng: np.random.Generator, n_in: int, allow_bias: bool) -> tuple[ir.Node, int]:
    kind = draw(st.sampled_from(["linear", "affine", "sparse", "scale", "delay", "delayed_linear", "bn"]))
    n_out = draw(st.integers(1, 6)) if kind in ("linear", "affine", "sparse", "delayed_linear") else n_in
    if kind == "linear":
        return ir.Linear(dyadic(rng, (n_out, n_in), zeros=0.3)), n_out
    if kind == "affine" and allow_bias:
        return ir.Affine(dyadic(rng, (n_out, n_in)), dyadic(rng, (n_out,)) / 2), n_out
    if kind == "delayed_linear" or kind == "affine":
        return ir.Linear(dyadic(rng, (n_out, n_in)), delay=rng.integers(0, 4, (n_out, n_in))), n_out
    if kind == "sparse":
        k = draw(st.integers(1, 10))
        return ir.SparseLinear((n_out, n_in), rng.integers(0, n_out, k), rng.integers(0, n_in, k),
                               dyadic(rng, (k,)), delay=rng.integers(0, 3, k)), n_out
    if kind == "scale":
        return ir.Scale(dyadic(rng, (n_in,))), n_in
    if kind == "delay":
        return ir.Delay(rng.integers(0, 4, n_in)), n_in
    return ir.BatchNorm(mean=dyadic(rng, (n_in,)), var=np.ones(n_in), gamma=np.full(n_in, 0.5),
                        beta=dyadic(rng, (n_in,)), eps=0.0), n_in


@settings(max_examples=120, deadline=None)
@given(data=st.data(), length=st.integers(2, 4), seed=st.integers(0, 10_000), bias=st.booleans())
def test_random_flat_chains_fuse_to_identical_spikes(data, length: int, seed: int, bias: bool) -> None:
    rng = np.random.default_rng(seed)
    n, chain = 5, []
    for k in range(length):
        node, n = _flat_node(data.draw, rng, n, allow_bias=bias)
        chain.append((f"p{k}", node))
    graph = chain_graph(chain, (5,), n)
    res = fuse_linear(graph)
    assert_same_spikes(graph, res.graph, spikes((3, 24, 5), seed))
    kept = [c for c in res.record.changes if "not fused" in c.what]
    projections = [n for n in res.graph.order if n.startswith("p")]
    # Every chain is fused, except where a bias would pass a delay (said in the record).
    assert len(projections) == 1 + len(kept), (res.record.explain(), kinds(graph))
    assert all("bias" in c.what and "delay" in c.what for c in kept), res.record.explain()
    if not kept:
        (fused,) = [c for c in res.record.changes if c.what.startswith("fused")]
        assert fused.figures["fused"] == [f"p{k}" for k in range(length)]


def _conv_node(draw, rng: np.random.Generator, c: int) -> tuple[ir.Node, int]:
    kind = draw(st.sampled_from(["conv", "conv", "sum", "avg", "scale", "depthwise"]))
    if kind in ("conv", "depthwise"):
        out = c if kind == "depthwise" else draw(st.integers(1, 3))
        groups = c if kind == "depthwise" else 1
        k = draw(st.integers(1, 3))
        return ir.Conv2d(dyadic(rng, (out, c // groups, k, k)), bias=dyadic(rng, (out,)) if draw(st.booleans())
                         else None, stride=draw(st.integers(1, 2)), padding=draw(st.integers(0, 2)),
                         dilation=draw(st.integers(1, 2)), groups=groups), out
    if kind == "scale":  # per channel: a convolution; per position: only a matrix
        per_channel = draw(st.booleans())
        s = dyadic(rng, (c, 1, 1)) * np.ones((c, 3, 3)) if per_channel else dyadic(rng, (c, 3, 3))
        return ir.Scale(s), c
    cls = ir.SumPool2d if kind == "sum" else ir.AvgPool2d
    k = draw(st.sampled_from([(2, 2), (1, 2), (2, 1)]))  # areas 4, 2, 2: 1/area is dyadic
    return cls(k, stride=draw(st.sampled_from([None, 1])), padding=draw(st.integers(0, 1)) if k == (2, 2) else 0), c


@settings(max_examples=150, deadline=None)
@given(data=st.data(), seed=st.integers(0, 10_000), flatten=st.booleans(), size=st.integers(5, 9))
def test_random_conv_and_pool_chains_fuse_to_identical_spikes(data, seed: int, flatten: bool, size: int) -> None:
    rng = np.random.default_rng(seed)
    c, chain = 2, []
    shape = (c, size, size)
    for k in range(data.draw(st.integers(2, 3))):
        node, c_next = _conv_node(data.draw, rng, c)
        if isinstance(node, ir.Scale) and node.scale.shape[1:] != shape[1:]:
            node = ir.Scale(np.broadcast_to(node.scale[:, :1, :1], shape))
        try:
            shape = node.infer_shape("x", shape)
        except Exception:  # an empty output: keep the chain shorter
            break
        chain.append((f"p{k}", node))
        c = c_next
    if len(chain) < 2:
        return
    if flatten:
        chain += [("flat", ir.Flatten()), ("fc", ir.Linear(dyadic(rng, (3, int(np.prod(shape))))))]
    graph = chain_graph(chain, (2, size, size), 3 if flatten else shape)
    res = fuse_linear(graph)
    assert_same_spikes(graph, res.graph, spikes((2, 12, 2, size, size), seed))
    for c in res.record.changes:
        assert c.what.startswith("fused") or "not fused" in c.what
    left = [n for n in res.graph.order if n.startswith("p") or n == "fc"]
    assert len(left) == 1 + sum("not fused" in c.what for c in res.record.changes), res.record.explain()


# --- the paper's CNN and named cases ------------------------------------------------------------------


def test_sinabs_cnn_pool_conv_and_pool_flatten_linear_fuse_exactly() -> None:
    graph = load(str(PAPER / "cnn_sinabs.nir"), dt=1.0)
    res = fuse_linear(graph)
    text = res.record.explain()
    assert "'4' (SumPool2d) -> '5' (Conv2d) into one Conv2d" in text and "kernel 6x6, stride (2, 2)" in text
    assert "'7' (SumPool2d) -> '8' (Flatten) -> '9' (Affine) into one Linear with 131,072 synapses" in text
    assert not {"4", "7", "8"} & set(res.graph.nodes)
    conv = res.graph.nodes["5"]
    assert conv.padding == ((2, 2), (2, 2)) and conv.weight.shape == (8, 16, 6, 6)
    x = spikes((2, 15, 2, 34, 34), p=0.1)
    assert_same_spikes(graph, res.graph, x, dtypes=(np.float64,))
    # No relay is left to lower: every projection goes straight into a neuron population.
    assert all(p.kernel != "pass" for p in lower(res.graph).populations)
    assert any(p.kernel == "pass" for p in lower(graph).populations)


def test_pool_dropping_its_input_tail_does_not_fuse_into_a_padded_conv() -> None:
    """A 2x2 pool of a 5x5 map drops the last row; the convolution's padding stands there, so one
    convolution would read that row: left, and said."""
    rng = np.random.default_rng(3)
    chain = [("pool", ir.SumPool2d(2)), ("conv", ir.Conv2d(dyadic(rng, (2, 2, 3, 3)), padding=1))]
    graph = chain_graph(chain, (2, 5, 5), (2, 2, 2))
    res = fuse_linear(graph)
    assert "pool" in res.graph.nodes
    (change,) = res.record.changes
    assert change.node == "conv" and "not fused with 'pool'" in change.what and "drops" in change.what
    even = chain_graph(chain, (2, 4, 4), (2, 2, 2))   # no tail: one convolution
    res = fuse_linear(even)
    assert kinds(res.graph).count("Conv2d") == 1 and "pool" not in res.graph.nodes
    assert_same_spikes(even, res.graph, spikes((2, 10, 2, 4, 4)))


def test_a_bias_meeting_padding_or_delays_is_left_with_the_reason() -> None:
    rng = np.random.default_rng(4)
    conv_bias = [("c1", ir.Conv2d(dyadic(rng, (2, 2, 1, 1)), bias=np.array([0.5, -0.25]))),
                 ("c2", ir.Conv2d(dyadic(rng, (2, 2, 3, 3)), padding=1))]
    res = fuse_linear(chain_graph(conv_bias, (2, 4, 4), (2, 4, 4)))
    assert "c1" in res.graph.nodes and "bias would reach the second's zero padding" in res.record.explain()
    delayed = [("a", ir.Affine(dyadic(rng, (3, 4)), np.full(3, 0.5))),
               ("d", ir.Linear(dyadic(rng, (2, 3)), delay=np.ones((2, 3), int)))]
    res = fuse_linear(chain_graph(delayed, (4,), 2))
    assert "a" in res.graph.nodes and "the bias of 'a' would pass the delays of 'd'" in res.record.explain()


def test_fan_out_an_output_and_summed_inputs_stop_a_chain() -> None:
    rng = np.random.default_rng(5)
    nodes = {"in": ir.Input((4,)), "a": ir.Linear(dyadic(rng, (3, 4))), "b": ir.Linear(dyadic(rng, (3, 3))),
             "c": ir.Linear(dyadic(rng, (3, 4))), "n": lif(3), "out": ir.Output(), "probe": ir.Output()}
    edges = [("in", "a"), ("a", "b"), ("a", "probe"), ("b", "n"), ("in", "c"), ("c", "b"), ("n", "out")]
    res = fuse_linear(ir.Graph(nodes, edges, dt=DT))
    assert res.graph.nodes.keys() == nodes.keys()
    assert "'b' sums 2 inputs" in res.record.explain()
    nodes.pop("c")
    edges = [e for e in edges if "c" not in e]
    res = fuse_linear(ir.Graph(nodes, edges, dt=DT))
    assert "'a' also feeds 'probe'" in res.record.explain() and "a" in res.graph.nodes


def test_a_recurrent_chain_fuses_and_keeps_its_one_step() -> None:
    """lif -> w (Linear) -> s (Scale) -> lif: the back edge stays on the fused projection."""
    rng = np.random.default_rng(6)
    nodes = {"in": ir.Input((4,)), "w_in": ir.Linear(dyadic(rng, (5, 4))), "h": lif(5),
             "w": ir.Linear(dyadic(rng, (5, 5))), "s": ir.Scale(dyadic(rng, (5,))), "out": ir.Output()}
    edges = [("in", "w_in"), ("w_in", "h"), ("h", "w"), ("w", "s"), ("s", "h"), ("h", "out")]
    graph = ir.Graph(nodes, edges, dt=DT)
    res = fuse_linear(graph)
    assert "w" not in res.graph.nodes and ("s", "h") in res.graph.back_edges
    assert isinstance(res.graph.nodes["s"], ir.Linear)
    assert_same_spikes(graph, res.graph, spikes((3, 40, 4), 1, p=0.5))


def test_paths_with_different_total_delays_stay_separate_synapses() -> None:
    """Two paths from input 0 to output 0, through hidden 0 (delay 1 + 0) and hidden 1 (0 + 3):
    one SparseLinear holds both pairs, each with its delay."""
    a = ir.Linear(np.array([[1.0], [0.5]]), delay=np.array([[1], [0]]))
    b = ir.Linear(np.array([[1.0, 2.0]]), delay=np.array([[0, 3]]))
    graph = chain_graph([("a", a), ("b", b)], (1,), 1)
    res = fuse_linear(graph)
    fused = res.graph.nodes["b"]
    assert isinstance(fused, ir.SparseLinear) and sorted(fused.delay.tolist()) == [1, 3]
    assert_same_spikes(graph, res.graph, spikes((4, 30, 1), 2, p=0.5))


def test_delay_then_linear_becomes_a_linear_with_delays_and_scales_stay_scales() -> None:
    rng = np.random.default_rng(7)
    graph = chain_graph([("d", ir.Delay(np.array([0, 2, 5]))), ("w", ir.Linear(dyadic(rng, (2, 3))))], (3,), 2)
    res = fuse_linear(graph)
    assert isinstance(res.graph.nodes["w"], ir.Linear) and res.graph.nodes["w"].max_delay() == 5
    assert_same_spikes(graph, res.graph, spikes((3, 30, 3), 3, p=0.5))
    scales = chain_graph([("s1", ir.Scale(np.full((2, 3, 3), 0.5))), ("s2", ir.Scale(dyadic(rng, (2, 3, 3))))],
                         (2, 3, 3), (2, 3, 3))
    res = fuse_linear(scales)
    assert kinds(res.graph) == ["Input", "Scale", "LIF", "Output"]
    assert_same_spikes(scales, res.graph, spikes((2, 20, 2, 3, 3), 4, p=0.5))


def test_a_product_too_large_is_left(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(8)
    # 6 -> 2 -> 9: 12 + 18 synapses become 54, over GROWTH = 1 times the chain's
    graph = chain_graph([("a", ir.Linear(dyadic(rng, (2, 6)) + 4)), ("b", ir.Linear(dyadic(rng, (9, 2)) + 4))],
                        (6,), 9)
    monkeypatch.setattr(fuse_mod, "GROWTH", 1)
    res = fuse_linear(graph)
    assert "a" in res.graph.nodes
    assert "not fused with 'a': the fused matrix would hold 54 synapses (limit 30" in res.record.explain()
    monkeypatch.setattr(fuse_mod, "GROWTH", 16)
    monkeypatch.setattr(fuse_mod, "FLAT_LIMIT", 10)
    res = fuse_linear(graph)
    assert "'a' alone has 12 synapses, over the 10 a fused matrix may hold" in res.record.explain()
    monkeypatch.setattr(fuse_mod, "FLAT_LIMIT", 1 << 22)
    assert "a" not in fuse_linear(graph).graph.nodes


# --- in the pipeline -----------------------------------------------------------------------------------


def test_registered_after_fold_batchnorm_before_map_delays() -> None:
    assert DEFAULT_PASSES.index("fuse_linear") == DEFAULT_PASSES.index("fold_batchnorm") + 1
    assert DEFAULT_PASSES.index("fuse_linear") < DEFAULT_PASSES.index("map_delays")
    assert "fuse_linear" in available_passes()


def test_two_linear_layers_in_a_row_now_quantize_and_lower_without_a_relay() -> None:
    """quantize refuses two weighted projections on one path; fused first, the chain compiles."""
    rng = np.random.default_rng(9)
    graph = chain_graph([("a", ir.Linear(dyadic(rng, (6, 4)))), ("b", ir.Affine(dyadic(rng, (3, 6)),
                                                                                np.full(3, 0.25)))], (4,), 3)
    compiled = compile_graph(graph, LOIHI1_SPEC)
    assert [p.kernel for p in compiled.program.populations] == ["input", "cuba_fixed"]
    assert "fused 'a' (Linear) -> 'b' (Affine) into one Affine" in compiled.records[1].explain()


def test_the_bundled_model_compiles_exactly_as_without_the_pass() -> None:
    graph = load("default")
    with_pass = compile_graph(graph, LOIHI1_SPEC)
    without = compile_graph(graph, LOIHI1_SPEC, passes=[p for p in DEFAULT_PASSES if p != "fuse_linear"])
    assert with_pass.records[1].explain().splitlines()[0] == "fuse_linear: no change"
    a, b = with_pass.program, without.program
    assert [p.name for p in a.populations] == [p.name for p in b.populations]
    for ja, jb in zip(a.projections, b.projections, strict=True):
        assert ja.name == jb.name and np.array_equal(ja.weight, jb.weight)
    assert np.array_equal(a.core_of, b.core_of)
