"""spikec.nn layers: their forward pass is the IR's reference update, and they train."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from spikec import ir  # noqa: E402
from spikec import nn as snn  # noqa: E402
from spikec.errors import GraphValidationError  # noqa: E402
from torch import nn  # noqa: E402

RESETS = ["value", "subtract", "subtract_next", "none"]


def simulate_alone(node: ir.Node, x: torch.Tensor, dt: float, dtype=np.float64) -> np.ndarray:
    """Run one IR node on ``x`` (batch, time, *shape) in the reference simulator."""
    graph = ir.Graph(nodes={"input": ir.Input(shape=tuple(x.shape[2:])), "p": node, "output": ir.Output()},
                     edges=(("input", "p"), ("p", "output")), dt=dt)
    return ir.simulate(graph, x.detach().numpy(), dtype=dtype).output


def currents(shape: tuple[int, ...], seed: int = 0, dtype=torch.float64) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(shape, generator=g) * 0.6 + 0.25).to(dtype)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("reset", RESETS)
def test_lif_is_the_ir_lif(reset: str, dtype: torch.dtype) -> None:
    rng = np.random.default_rng(1)
    layer = snn.LIF((3, 5), tau=rng.uniform(2e-3, 2e-2, (3, 5)), threshold=rng.uniform(0.3, 1.5, (3, 5)),
                    v_leak=rng.uniform(-0.2, 0.2, (3, 5)), reset=reset).to(dtype)
    x = currents((4, 50, 3, 5), dtype=dtype)
    got = layer(x)
    want = simulate_alone(layer.to_ir(), x, layer.dt, np.float64 if dtype == torch.float64 else np.float32)
    assert 0 < got.sum() < got.numel()
    np.testing.assert_array_equal(got.detach().numpy(), want)


@pytest.mark.parametrize("reset", RESETS)
def test_cuba_lif_is_the_ir_cuba_lif(reset: str) -> None:
    layer = snn.CubaLIF(6, tau_syn=np.linspace(2e-3, 5e-3, 6), tau_mem=8e-3, threshold=0.7, reset=reset, dt=1e-3)
    x = currents((3, 60, 6), seed=2)
    got = layer(x)
    assert isinstance(layer.to_ir(), ir.CubaLIF) and got.sum() > 0
    np.testing.assert_array_equal(got.numpy(), simulate_alone(layer.to_ir(), x, layer.dt))


def test_default_gain_is_one() -> None:
    c = snn.LIF(4, tau=5e-3).neuron().coefficients(1e-3)
    np.testing.assert_allclose(c["gain"], 1.0, rtol=1e-15)
    c = snn.CubaLIF(4, tau_syn=3e-3, tau_mem=7e-3).neuron().coefficients(1e-3)
    np.testing.assert_allclose([c["gain"], c["gain_syn"]], 1.0, rtol=1e-15)


def test_mpbn_training_uses_step_batch_statistics() -> None:
    layer = snn.LIF(3, tau=4e-3, threshold=0.5, mpbn=True).double().train()
    x = currents((16, 1, 3), seed=3)
    got = layer(x)[:, 0]
    v = x[:, 0]  # one step from rest: v = alpha*0 + 1*x + 0
    bn = (v - v.mean(0)) / torch.sqrt(v.var(0, unbiased=False) + layer.bn_eps)
    np.testing.assert_array_equal(got.detach().numpy(), (bn > 0.5).double().numpy())
    np.testing.assert_allclose(layer.running_mean.numpy(), 0.1 * v.mean(0).numpy())


def test_mpbn_eval_is_the_ir_membrane_batchnorm_with_negative_gamma() -> None:
    layer = snn.LIF((2, 4, 4), tau=6e-3, threshold=0.3, mpbn=True).double()
    for seed in range(3):  # running statistics from training passes
        layer(currents((5, 10, 2, 4, 4), seed=seed))
    with torch.no_grad():
        layer.bn_weight.copy_(torch.tensor([-0.8, 1.3]))
        layer.bn_bias.copy_(torch.tensor([0.4, -0.1]))
    layer.eval()
    node = layer.to_ir()
    assert isinstance(node, ir.MembraneBatchNorm) and node.gamma[0] < 0
    x = currents((3, 40, 2, 4, 4), seed=7)
    got = layer(x)
    assert got[:, :, 0].sum() > 0 and got[:, :, 1].sum() > 0
    np.testing.assert_array_equal(got.numpy(), simulate_alone(node, x, layer.dt))


@pytest.mark.parametrize("surrogate, slope, at_zero", [("fast_sigmoid", 25.0, 1.0), ("atan", 2.0, 1.0)])
def test_surrogate_gradients(surrogate: str, slope: float, at_zero: float) -> None:
    u = torch.tensor([0.0, 0.1, -0.1], requires_grad=True)
    z = snn.spike(u, slope, surrogate)
    z.sum().backward()
    assert z.tolist() == [0.0, 1.0, 0.0]  # strict: v == threshold does not fire
    assert u.grad[0] == pytest.approx(at_zero) and 0 < u.grad[1] < at_zero and u.grad[1] == u.grad[2]


def test_gradients_reach_weights_threshold_and_bn() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), snn.LIF(16, tau=5e-3, threshold=0.3, learn_threshold=True),
                          nn.Linear(16, 4), snn.CubaLIF(4, tau_syn=2e-3, tau_mem=5e-3, mpbn=True, surrogate="atan",
                                                        slope=2.0))
    x = (torch.rand(6, 20, 8) < 0.4).float()
    model(x).sum().backward()
    assert model[0].weight.grad.abs().sum() > 0
    assert model[1].threshold.grad.abs().sum() > 0 and model[3].bn_weight.grad.abs().sum() > 0
    with torch.no_grad():
        model[1].threshold.add_(0.25)
    np.testing.assert_allclose(model[1].to_ir().v_threshold, model[1].threshold.detach().double().numpy())


def test_delayed_linear_is_the_ir_linear_with_delays() -> None:
    torch.manual_seed(1)
    layer = snn.DelayedLinear(5, 3, max_delay=4).double()
    with torch.no_grad():
        layer.delay[0, 0], layer.delay[1, 1] = -3.0, 9.0  # trained out of range: clamped
    d = layer.integer_delay()
    assert d.min() >= 0 and d.max() <= 4 and d[0, 0] == 0 and d[1, 1] == 4
    x = (torch.rand(2, 25, 5) < 0.5).double()
    got = layer(x)
    node = layer.to_ir()
    np.testing.assert_array_equal(node.delay, d.numpy())
    np.testing.assert_array_equal(got.detach().numpy(), simulate_alone(node, x, 1e-3))
    # y[t] = sum_i W_ji x_i[t - d_ji], spelled out
    w, dn, xn = layer.weight.detach().numpy(), d.numpy(), x.numpy()
    by_hand = np.zeros_like(got.detach().numpy())
    for j in range(3):
        for i in range(5):
            by_hand[:, dn[j, i]:, j] += w[j, i] * xn[:, : 25 - dn[j, i], i]
    np.testing.assert_allclose(got.detach().numpy(), by_hand, rtol=1e-12, atol=1e-12)


def test_delayed_linear_delay_gradient_is_the_interpolation_slope() -> None:
    layer = snn.DelayedLinear(1, 1, max_delay=3).double()
    with torch.no_grad():
        layer.weight.fill_(1.0)
        layer.delay.fill_(1.2)  # forward uses delay 1
    x = torch.zeros(1, 6, 1, dtype=torch.float64)
    x[0, 2, 0] = 1.0  # one spike at t=2: arrives at t=3 with delay 1, t=4 with delay 2
    y = layer(x)
    assert y[0, :, 0].tolist() == [0, 0, 0, 1, 0, 0]
    y[0, 4, 0].backward()  # moving the delay towards 2 raises y[4]
    assert layer.delay.grad.item() == pytest.approx(1.0)


def test_steps_applies_a_layer_per_time_step() -> None:
    conv = nn.Conv2d(2, 3, 3, padding=1).double()
    x = currents((4, 5, 2, 6, 6))
    got = snn.Steps(conv)(x)
    want = torch.stack([conv(x[:, t]) for t in range(5)], dim=1)
    torch.testing.assert_close(got, want, rtol=0, atol=0)


@pytest.mark.parametrize("make, parameter", [
    (lambda: snn.LIF(3, tau=5e-3, reset="zero"), "reset"),
    (lambda: snn.LIF(3, tau=5e-3, surrogate="sigmoid"), "surrogate"),
    (lambda: snn.LIF(3, tau=5e-3, reset="subtract", mpbn=True), "reset"),
    (lambda: snn.LIF(3, tau=[1e-3, 2e-3]), "tau"),
    (lambda: snn.DelayedLinear(2, 2, max_delay=-1), "max_delay"),
])
def test_bad_arguments_name_the_parameter(make, parameter: str) -> None:
    with pytest.raises(GraphValidationError) as info:
        make()
    assert info.value.parameter == parameter


def test_wrong_input_shape_is_reported() -> None:
    with pytest.raises(GraphValidationError, match=r"\(batch, time"):
        snn.LIF(3, tau=5e-3)(torch.zeros(2, 3))
    with pytest.raises(GraphValidationError, match=r"\(batch, time, 4\)"):
        snn.DelayedLinear(4, 2, 1)(torch.zeros(2, 5, 3))


def test_importing_spikec_ir_does_not_import_torch() -> None:
    code = "import sys, spikec.ir, spikec.compiler.frontends; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


@settings(max_examples=30, deadline=None)
@given(
    tau_steps=st.floats(1.0, 50.0),
    threshold=st.floats(0.05, 2.0),
    v_leak=st.floats(-0.5, 0.5),
    reset=st.sampled_from(RESETS),
    cuba=st.booleans(),
    size=st.integers(1, 8),
    seed=st.integers(0, 2**16),
)
def test_random_populations_match_the_ir(tau_steps, threshold, v_leak, reset, cuba, size, seed) -> None:
    dt = 1e-3
    if cuba:
        layer = snn.CubaLIF(size, tau_syn=tau_steps * dt / 2 + dt, tau_mem=tau_steps * dt, threshold=threshold,
                            v_leak=v_leak, reset=reset, dt=dt)
    else:
        layer = snn.LIF(size, tau=tau_steps * dt, threshold=threshold, v_leak=v_leak, reset=reset, dt=dt)
    x = currents((2, 30, size), seed=seed)
    np.testing.assert_array_equal(layer(x).numpy(), simulate_alone(layer.to_ir(), x, dt))
