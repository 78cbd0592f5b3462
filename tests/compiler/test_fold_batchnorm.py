"""fold_batchnorm: identical spikes before and after, no batch-norm left where it can fold."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from spikec import ir
from spikec.compiler.passes import fold_batchnorm
from spikec.errors import UnsupportedError

DT = 1e-3


def _bn(c: int, gamma: np.ndarray, mean: np.ndarray, beta: np.ndarray, var: np.ndarray | None = None, **kw):
    return dict(mean=mean, var=np.ones(c) if var is None else var, gamma=gamma, beta=beta, eps=0.0, **kw)


def _spikes(shape: tuple[int, ...], seed: int = 0, p: float = 0.4) -> np.ndarray:
    return (np.random.default_rng(seed).random(shape) < p).astype(np.float64)


def _graph(nodes: dict, edges: list) -> ir.Graph:
    return ir.Graph(nodes, edges, dt=DT)


# Dyadic values keep every product and quotient exact, so "identical" can be demanded.
dyadic = st.integers(-16, 16).map(lambda k: k / 8)
scales = st.sampled_from([-4.0, -2.0, -1.0, -0.5, -0.25, 0.25, 0.5, 1.0, 2.0, 4.0])


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 5),
    gammas=st.lists(scales, min_size=5, max_size=5),
    betas=st.lists(dyadic, min_size=5, max_size=5),
    means=st.lists(dyadic, min_size=5, max_size=5),
    reset=st.sampled_from(["value", "none"]),
    model=st.sampled_from(["lif", "cuba", "if"]),
    seed=st.integers(0, 1000),
)
def test_membrane_batchnorm_folds_to_identical_spikes(n, gammas, betas, means, reset, model, seed) -> None:
    rng = np.random.default_rng(seed)
    w = rng.integers(-8, 9, size=(n, 4)) / 4
    v_leak = rng.integers(-4, 5, size=n) / 8
    common = dict(r=np.ones(n), v_threshold=np.full(n, 0.5), v_reset=rng.integers(-2, 3, size=n) / 4, reset=reset)
    if model == "lif":
        neuron = ir.LIF(tau=np.full(n, 4 * DT), v_leak=v_leak, **common)
    elif model == "cuba":
        neuron = ir.CubaLIF(tau_syn=np.full(n, 2 * DT), tau_mem=np.full(n, 8 * DT), v_leak=v_leak, w_in=np.ones(n),
                            **common)
    else:  # r = 1/dt makes IF's gain r*dt exactly 1 (r = 1 would give the non-dyadic 1e-3)
        neuron = ir.IF(**{**common, "r": np.full(n, 1 / DT)})
    mbn = ir.MembraneBatchNorm(neuron, **_bn(n, np.array(gammas[:n]), np.array(means[:n]), np.array(betas[:n])))
    g = _graph({"in": ir.Input((4,)), "fc": ir.Linear(w), "lif": mbn, "out": ir.Output()},
               [("in", "fc"), ("fc", "lif"), ("lif", "out")])
    res = fold_batchnorm(g)
    assert not any(isinstance(v, ir.MembraneBatchNorm) for v in res.graph.nodes.values())
    x = _spikes((2, 40, 4), seed)
    before = ir.simulate(g, x, dtype=np.float64).output
    after = ir.simulate(res.graph, x, dtype=np.float64).output
    np.testing.assert_array_equal(after, before)
    assert res.record.figures["batchnorms_folded"] == 1


def test_negative_gamma_negates_the_membrane_and_keeps_the_reset() -> None:
    neuron = ir.LIF(tau=np.full(2, 4 * DT), r=np.ones(2), v_leak=np.array([0.25, 0.25]), v_threshold=np.full(2, 0.5),
                    v_reset=np.array([0.125, 0.125]))
    mbn = ir.MembraneBatchNorm(neuron, **_bn(2, np.array([-1.0, 1.0]), np.zeros(2), np.zeros(2)))
    g = _graph({"in": ir.Input((2,)), "fc": ir.Linear(np.eye(2)), "lif": mbn, "out": ir.Output()},
               [("in", "fc"), ("fc", "lif"), ("lif", "out")])
    res = fold_batchnorm(g)
    lif = res.graph.nodes["lif"]
    np.testing.assert_array_equal(lif.r, [-1.0, 1.0])
    np.testing.assert_array_equal(lif.v_leak, [-0.25, 0.25])
    np.testing.assert_array_equal(lif.v_reset, [-0.125, 0.125])
    np.testing.assert_array_equal(lif.v_threshold, [0.5, 0.5])
    assert "negative gamma" in res.record.explain()
    x = np.zeros((1, 30, 2))
    x[0, ::2, :] = -4.0  # drives neuron 0 down, which its negative gamma turns into firing
    x[0, 1::2, 1] = 4.0
    before = ir.simulate(g, x, dtype=np.float64).output
    assert before[..., 0].sum() > 0 and before[..., 1].sum() > 0
    np.testing.assert_array_equal(ir.simulate(res.graph, x, dtype=np.float64).output, before)


def test_zero_gamma_cannot_fold() -> None:
    neuron = ir.make_population(ir.LIF, 2, tau=4 * DT, v_threshold=0.5)
    mbn = ir.MembraneBatchNorm(neuron, **_bn(2, np.array([0.0, 1.0]), np.zeros(2), np.zeros(2)))
    g = _graph({"in": ir.Input((2,)), "fc": ir.Linear(np.eye(2)), "lif": mbn, "out": ir.Output()},
               [("in", "fc"), ("fc", "lif"), ("lif", "out")])
    with pytest.raises(UnsupportedError) as exc:
        fold_batchnorm(g)
    assert "'lif'" in str(exc.value) and "gamma" in str(exc.value)


@pytest.mark.parametrize("proj", ["linear", "affine", "conv"])
def test_batchnorm_after_a_projection_folds_into_it(proj: str) -> None:
    rng = np.random.default_rng(1)
    if proj == "conv":
        p = ir.Conv2d(rng.integers(-4, 5, size=(3, 2, 3, 3)) / 4, bias=np.array([0.25, 0.0, -0.5]), padding=1)
        shape, c = (2, 5, 5), 3
        lif_shape = (3, 5, 5)
    else:
        w = rng.integers(-4, 5, size=(3, 6)) / 4
        p = ir.Linear(w) if proj == "linear" else ir.Affine(w, np.array([0.5, -0.25, 0.0]))
        shape, c, lif_shape = (6,), 3, (3,)
    bn = ir.BatchNorm(**_bn(c, np.array([2.0, -0.5, 1.0]), np.array([0.25, 0.0, -0.5]), np.array([0.125, 0.5, 0.0]),
                            var=np.array([4.0, 0.25, 1.0])))
    lif = ir.make_population(ir.LIF, lif_shape, tau=4 * DT, v_threshold=0.5)
    g = _graph({"in": ir.Input(shape), "p": p, "bn": bn, "lif": lif, "out": ir.Output()},
               [("in", "p"), ("p", "bn"), ("bn", "lif"), ("lif", "out")])
    res = fold_batchnorm(g)
    assert "bn" not in res.graph.nodes and ("p", "lif") in res.graph.edges
    assert isinstance(res.graph.nodes["p"], ir.Conv2d if proj == "conv" else ir.Affine)
    x = _spikes((2, 30, *shape), seed=2)
    np.testing.assert_array_equal(ir.simulate(res.graph, x, dtype=np.float64).output,
                                  ir.simulate(g, x, dtype=np.float64).output)


def test_batchnorm_that_cannot_fold_stays_and_says_why() -> None:
    lif0 = ir.make_population(ir.LIF, 3, tau=4 * DT, v_threshold=0.5)
    bn = ir.BatchNorm(**_bn(3, np.ones(3), np.zeros(3), np.full(3, 0.5)))
    g = _graph({"in": ir.Input((3,)), "lif0": lif0, "bn": bn,
                "lif": ir.make_population(ir.LIF, 3, tau=4 * DT, v_threshold=0.5),
                "out": ir.Output()}, [("in", "lif0"), ("lif0", "bn"), ("bn", "lif"), ("lif", "out")])
    res = fold_batchnorm(g)
    assert "bn" in res.graph.nodes and res.record.figures["batchnorms_kept"] == 1
    assert "not folded" in res.record.explain() and "LIF" in res.record.explain()
    assert fold_batchnorm(res.graph).graph.nodes.keys() == res.graph.nodes.keys()


def test_trained_torch_network_with_bn_and_mpbn_keeps_its_spikes() -> None:
    torch = pytest.importorskip("torch")
    import spikec.nn as snc
    from spikec.compiler.frontends import from_torch
    from torch import nn

    torch.manual_seed(3)
    model = nn.Sequential(
        snc.Steps(nn.Conv2d(2, 4, 3, padding=1)), snc.Steps(nn.BatchNorm2d(4)),
        snc.LIF((4, 6, 6), tau=4e-3, threshold=0.5, mpbn=True),
        snc.Steps(nn.Flatten()), nn.Linear(144, 5), snc.Steps(nn.BatchNorm1d(5)),
        snc.CubaLIF(5, tau_syn=2e-3, tau_mem=5e-3, threshold=0.2, mpbn=True),
    ).double()
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    for seed in range(4):  # a little training: running statistics and gammas move
        x = torch.tensor(_spikes((6, 12, 2, 6, 6), seed))
        loss = (model(x).mean() - 0.3) ** 2
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        model[2].bn_weight[0] = -1.5
        model[6].bn_weight[1] = -0.7
    graph = from_torch(model, input_shape=(2, 6, 6))
    res = fold_batchnorm(graph)
    left = [n for n, v in res.graph.nodes.items() if isinstance(v, (ir.BatchNorm, ir.MembraneBatchNorm))]
    assert left == [] and res.record.figures["batchnorms_folded"] == 4
    x = _spikes((8, 40, 2, 6, 6), seed=11)
    before = ir.simulate(graph, x, dtype=np.float64, record="all")
    after = ir.simulate(res.graph, x, dtype=np.float64, record="all")
    assert before.output.sum() > 0
    for name, node in res.graph.nodes.items():
        if isinstance(node, ir.Neuron):  # every spiking population, not only the output
            np.testing.assert_array_equal(after.recorded[name], before.recorded[name])


def test_the_input_graph_is_not_changed() -> None:
    neuron = ir.make_population(ir.LIF, 2, tau=4 * DT, v_threshold=0.5)
    mbn = ir.MembraneBatchNorm(neuron, **_bn(2, np.array([-1.0, 2.0]), np.zeros(2), np.zeros(2)))
    g = _graph({"in": ir.Input((2,)), "fc": ir.Linear(np.eye(2)), "lif": mbn, "out": ir.Output()},
               [("in", "fc"), ("fc", "lif"), ("lif", "out")])
    fold_batchnorm(g)
    assert isinstance(g.nodes["lif"], ir.MembraneBatchNorm)
