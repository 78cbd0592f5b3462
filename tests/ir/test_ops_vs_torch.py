"""Convolution, pooling and flatten: shape inference and the NumPy ops against
torch.nn.functional, one op at a time and in whole stacks.

Configurations (stride, padding as int / per-dimension / (before, after) pairs / 'same' /
'valid', dilation, groups) are drawn by hypothesis, plus a fixed grid of Conv1d padding forms;
values are compared in float64.  torch comes from the ``torch`` fixture, which skips only the
tests that need it (the Python 3.10 core environment has none); the shape tests run everywhere.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from spikec import ir
from spikec.errors import GraphValidationError
from spikec.ir import ops
from spikec.ir.conv import normalize_padding

SETTINGS = settings(max_examples=50, deadline=None)
# torch notes that 'same' with an even kernel copies the input; that is expected here.
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")
TOL = dict(rtol=1e-10, atol=1e-10)


@st.composite
def conv_configs(draw, ndim: int):
    groups = draw(st.integers(1, 3))
    cin_g, cout_g = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    kernel = tuple(draw(st.integers(1, 4)) for _ in range(ndim))
    dilation = tuple(draw(st.integers(1, 3)) for _ in range(ndim))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(ndim))
    kinds = ["int", "per_dim", "pairs", "valid"] + (["same"] if max(stride) == 1 else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "int":
        padding = draw(st.integers(0, 3))
    elif kind == "per_dim":
        padding = tuple(draw(st.integers(0, 3)) for _ in range(ndim))
    elif kind == "pairs":
        padding = tuple((draw(st.integers(0, 3)), draw(st.integers(0, 3))) for _ in range(ndim))
    else:
        padding = kind
    pairs = normalize_padding(padding, kernel, dilation)
    spatial = []
    for k, d, (lo, hi) in zip(kernel, dilation, pairs):
        extent = d * (k - 1) + 1
        spatial.append(draw(st.integers(max(1, extent - lo - hi), extent + 7)))
    seed = draw(st.integers(0, 2**32 - 1))
    return dict(groups=groups, cin=cin_g * groups, cout=cout_g * groups, kernel=kernel, dilation=dilation,
                stride=stride, padding=padding, spatial=tuple(spatial), seed=seed)


def torch_conv(torch, x, w, b, cfg):
    """torch's convolution; explicit (before, after) pairs go through F.pad first."""
    F = torch.nn.functional
    conv = F.conv1d if w.ndim == 3 else F.conv2d
    x_t, w_t, b_t = (torch.from_numpy(np.ascontiguousarray(a)) for a in (x, w, b))
    padding = cfg["padding"]
    if isinstance(padding, tuple) and isinstance(padding[0], tuple):
        flat = [p for pair in reversed(padding) for p in pair]  # F.pad lists the last dim first
        x_t, padding = F.pad(x_t, flat), 0
    return conv(x_t, w_t, b_t, stride=cfg["stride"], padding=padding, dilation=cfg["dilation"],
                groups=cfg["groups"]).numpy()


def check_conv(torch, cfg, node_cls):
    rng = np.random.default_rng(cfg["seed"])
    w = rng.normal(size=(cfg["cout"], cfg["cin"] // cfg["groups"], *cfg["kernel"]))
    b = rng.normal(size=cfg["cout"])
    batch, steps = 2, 2
    x = rng.normal(size=(batch * steps, cfg["cin"], *cfg["spatial"]))
    expected = torch_conv(torch, x, w, b, cfg)

    node = node_cls(w, b, stride=cfg["stride"], padding=cfg["padding"], dilation=cfg["dilation"], groups=cfg["groups"])
    pairs = normalize_padding(cfg["padding"], cfg["kernel"], cfg["dilation"])
    direct = ops.conv(x, w, b, cfg["stride"], pairs, cfg["dilation"], cfg["groups"])
    np.testing.assert_allclose(direct, expected, **TOL)

    graph = ir.Graph({"in": ir.Input((cfg["cin"], *cfg["spatial"])), "conv": node, "out": ir.Output()},
                     [("in", "conv"), ("conv", "out")])
    assert graph.out_shape("conv") == expected.shape[1:]
    out = ir.simulate(graph, x.reshape(batch, steps, *x.shape[1:]), dtype=np.float64).output
    np.testing.assert_allclose(out.reshape(expected.shape), expected, **TOL)


@SETTINGS
@given(conv_configs(1))
def test_conv1d_matches_torch(torch, cfg):
    check_conv(torch, cfg, ir.Conv1d)


@SETTINGS
@given(conv_configs(2))
def test_conv2d_matches_torch(torch, cfg):
    check_conv(torch, cfg, ir.Conv2d)


PADDING_FORMS = [0, 2, "same", "valid", ((0, 2),), ((3, 1),)]


@pytest.mark.parametrize(
    "padding, stride, dilation",
    [(p, s, d) for p in PADDING_FORMS for s, d in [(1, 1), (2, 1), (1, 3), (3, 2)] if p != "same" or s == 1],
)
def test_conv1d_padding_forms_match_torch(torch, padding, stride, dilation):
    """Every padding form on one grouped Conv1d with an even kernel (torch takes 'same' only
    with stride 1)."""
    cfg = dict(groups=2, cin=4, cout=6, kernel=(4,), dilation=(dilation,), stride=(stride,), padding=padding,
               spatial=(17,), seed=7)
    check_conv(torch, cfg, ir.Conv1d)


@pytest.mark.parametrize(
    "size,kernel,kw,expected",
    [
        (28, 5, {}, 24),
        (28, 5, dict(padding=2), 28),
        (28, 4, dict(padding="same"), 28),
        (28, 3, dict(padding="same", dilation=3), 28),
        (28, 3, dict(stride=2), 13),
        (28, 3, dict(stride=2, padding=1), 14),
        (7, 3, dict(dilation=3), 1),
        (9, 2, dict(padding=((0, 1), (2, 0)), stride=3), 3),
    ],
)
def test_conv_output_shape_by_hand(size, kernel, kw, expected):
    node = ir.Conv2d(np.ones((5, 1, kernel, kernel)), **kw)
    g = ir.Graph({"in": ir.Input((1, size, size)), "c": node, "out": ir.Output()}, [("in", "c"), ("c", "out")])
    out = g.out_shape("c")
    assert out[0] == 5 and out[1] == expected


def test_same_padding_with_even_kernel_puts_the_extra_zero_after():
    assert normalize_padding("same", (4, 3), (1, 2)) == ((1, 2), (2, 2))


@st.composite
def pool_configs(draw):
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    stride = draw(st.none() | st.tuples(st.integers(1, 3), st.integers(1, 3)))
    # torch wants padding <= kernel/2; spikec allows uneven (before, after) pairs as well.
    symmetric = draw(st.booleans())
    if symmetric:
        padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)
        pairs = tuple((p, p) for p in padding)
    else:
        pairs = tuple((draw(st.integers(0, 2)), draw(st.integers(0, 2))) for _ in kernel)
        padding = pairs
    st_eff = stride or kernel
    spatial = tuple(draw(st.integers(max(1, k - lo - hi), k + 8)) for k, (lo, hi) in zip(kernel, pairs))
    return dict(kernel=kernel, stride=stride, padding=padding, pairs=pairs, stride_eff=st_eff, symmetric=symmetric,
                spatial=spatial, channels=draw(st.integers(1, 3)), seed=draw(st.integers(0, 2**32 - 1)))


@SETTINGS
@given(pool_configs())
def test_pooling_matches_torch(torch, cfg):
    F = torch.nn.functional
    rng = np.random.default_rng(cfg["seed"])
    x = rng.normal(size=(3, cfg["channels"], *cfg["spatial"]))
    flat = [p for pair in reversed(cfg["pairs"]) for p in pair]
    avg = F.avg_pool2d(F.pad(torch.from_numpy(x), flat), cfg["kernel"], stride=cfg["stride_eff"], padding=0,
                       count_include_pad=True).numpy()
    area = cfg["kernel"][0] * cfg["kernel"][1]
    np.testing.assert_allclose(ops.pool(x, cfg["kernel"], cfg["stride_eff"], cfg["pairs"]), avg * area, **TOL)
    if cfg["symmetric"]:  # torch's own padding argument (it takes only these) agrees too
        direct = F.avg_pool2d(torch.from_numpy(x), cfg["kernel"], stride=cfg["stride_eff"],
                              padding=tuple(p for p, _ in cfg["pairs"]), count_include_pad=True).numpy()
        np.testing.assert_allclose(direct, avg, **TOL)
    for cls, expected in ((ir.SumPool2d, avg * area), (ir.AvgPool2d, avg)):
        node = cls(cfg["kernel"], stride=cfg["stride"], padding=cfg["padding"])
        g = ir.Graph({"in": ir.Input(x.shape[1:]), "p": node, "out": ir.Output()}, [("in", "p"), ("p", "out")])
        assert g.out_shape("p") == avg.shape[1:]
        out = ir.simulate(g, x[:, None], dtype=np.float64).output[:, 0]
        np.testing.assert_allclose(out, expected, **TOL)


@SETTINGS
@given(
    st.lists(st.integers(1, 4), min_size=1, max_size=4).flatmap(
        lambda shape: st.tuples(
            st.just(tuple(shape)),
            st.integers(-len(shape), len(shape) - 1),
            st.integers(-len(shape), len(shape) - 1),
        )
    )
)
def test_flatten_shapes(args):
    """Flatten(start, end) on per-sample dims equals a C-order reshape; the data moves with it."""
    shape, start, end = args
    n = len(shape)
    s, e = start % n, end % n
    g_nodes = {"in": ir.Input(shape), "f": ir.Flatten(start, end), "out": ir.Output()}
    if s > e:
        with pytest.raises(GraphValidationError):
            ir.Graph(g_nodes, [("in", "f"), ("f", "out")])
        return
    g = ir.Graph(g_nodes, [("in", "f"), ("f", "out")])
    expected = shape[:s] + (int(np.prod(shape[s : e + 1])),) + shape[e + 1 :]
    assert g.out_shape("f") == expected
    x = np.arange(2 * np.prod(shape), dtype=np.float64).reshape(2, 1, *shape)
    out = ir.simulate(g, x, dtype=np.float64).output
    np.testing.assert_array_equal(out, x.reshape(2, 1, *expected))


# --- whole stacks ----------------------------------------------------------------------------------


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
def test_stack_shapes_and_values_match_torch(torch, case):
    F = torch.nn.functional
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
