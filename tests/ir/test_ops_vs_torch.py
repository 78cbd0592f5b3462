"""Whole stacks of layers against torch: the Graph's inferred shapes equal the shapes torch
produces, and the reference simulator's values agree (float64).  Single conv/pool ops with
drawn configurations are in test_ir_conv_pool_vs_torch.py."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spikec import ir

torch = pytest.importorskip("torch")
F = torch.nn.functional


@st.composite
def stacks(draw):
    """A random Conv2d / pooling / Flatten / Linear stack and an input size it fits."""
    c_in = draw(st.integers(1, 3))
    size = (draw(st.integers(6, 12)), draw(st.integers(6, 12)))
    layers = []
    c = c_in
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["conv", "conv", "sum", "avg"]))
        if kind == "conv":
            groups = draw(st.sampled_from([g for g in (1, 2, 3) if c % g == 0]))
            c_out = groups * draw(st.integers(1, 2))
            layers.append(("conv", dict(c_out=c_out, k=draw(st.integers(1, 3)), stride=draw(st.integers(1, 2)),
                                        padding=draw(st.integers(0, 1)), dilation=draw(st.integers(1, 2)),
                                        groups=groups)))
            c = c_out
        else:
            layers.append((kind, dict(k=draw(st.integers(1, 2)))))
    return c_in, size, layers, draw(st.integers(1, 4)), draw(st.integers(0, 2**31))


@settings(max_examples=30, deadline=None)
@given(stacks())
def test_stack_shapes_and_values_match_torch(case):
    c_in, size, layers, n_out, seed = case
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(2, c_in, *size))
    t = torch.from_numpy(x)
    nodes: dict[str, ir.Node] = {"input": ir.Input((c_in, *size))}
    c = c_in
    for i, (kind, p) in enumerate(layers):
        if kind == "conv":
            w = rng.normal(size=(p["c_out"], c // p["groups"], p["k"], p["k"]))
            b = rng.normal(size=p["c_out"])
            kw = dict(stride=p["stride"], padding=p["padding"], dilation=p["dilation"], groups=p["groups"])
            if min(t.shape[2:]) + 2 * p["padding"] < p["dilation"] * (p["k"] - 1) + 1:
                continue  # torch would reject it too; keep the stack valid
            t = F.conv2d(t, torch.from_numpy(w), torch.from_numpy(b), **kw)
            nodes[f"l{i}"] = ir.Conv2d(w, b, **kw)
            c = p["c_out"]
        else:
            if min(t.shape[2:]) < p["k"]:
                continue
            t = F.avg_pool2d(t, p["k"])
            if kind == "sum":
                t = t * p["k"] ** 2
            nodes[f"l{i}"] = (ir.SumPool2d if kind == "sum" else ir.AvgPool2d)(p["k"])
    nodes["flat"] = ir.Flatten()
    t = t.flatten(1)
    w = rng.normal(size=(n_out, t.shape[1]))
    t = t @ torch.from_numpy(w).T
    nodes["fc"] = ir.Linear(w)
    nodes["output"] = ir.Output()
    names = list(nodes)
    graph = ir.Graph(nodes, list(zip(names[:-1], names[1:])))
    assert graph.out_shape("fc") == tuple(t.shape[1:])
    out = ir.simulate(graph, x[:, None], dtype=np.float64).output[:, 0]
    np.testing.assert_allclose(out, t.numpy(), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("padding", [0, 2, "same", "valid", ((0, 2),), ((3, 1),)])
@pytest.mark.parametrize("stride, dilation", [(1, 1), (2, 1), (1, 3), (3, 2)])
def test_conv1d_padding_forms_match_torch(padding, stride, dilation):
    if padding == "same" and stride != 1:
        pytest.skip("torch allows padding='same' only with stride 1")
    rng = np.random.default_rng(7)
    x, w, b = rng.normal(size=(3, 4, 17)), rng.normal(size=(6, 2, 4)), rng.normal(size=6)
    node = ir.Conv1d(w, b, stride=stride, padding=padding, dilation=dilation, groups=2)
    graph = ir.Graph({"input": ir.Input((4, 17)), "c": node, "output": ir.Output()}, [("input", "c"), ("c", "output")])
    xt = torch.from_numpy(x)
    if isinstance(padding, tuple):
        xt, tpad = F.pad(xt, list(padding[0])), 0
    else:
        tpad = padding
    with warnings.catch_warnings():  # torch notes that 'same' with an even kernel copies the input
        warnings.simplefilter("ignore", UserWarning)
        expected = F.conv1d(xt, torch.from_numpy(w), torch.from_numpy(b), stride=stride, padding=tpad,
                            dilation=dilation, groups=2).numpy()
    assert graph.out_shape("c") == expected.shape[1:]
    out = ir.simulate(graph, x[:, None], dtype=np.float64).output[:, 0]
    np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-10)

