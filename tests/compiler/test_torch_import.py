"""from_torch against the models' own forward passes: spikes must match exactly (float64)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch")
snn = pytest.importorskip("snntorch")

from spikec import ir  # noqa: E402
from spikec import nn as snn_spikec  # noqa: E402
from spikec.compiler.frontends.torch_import import from_torch  # noqa: E402
from spikec.errors import ModelImportError, UnsupportedError  # noqa: E402
from torch import nn  # noqa: E402

_SNN = (snn.Leaky, snn.Synaptic, snn.RLeaky, snn.RSynaptic)


def run_snntorch(model: nn.Sequential, x: torch.Tensor) -> torch.Tensor:
    """Drive per-step snnTorch layers over (batch, time, ...) carrying their state explicitly."""
    def flat(seq: nn.Sequential) -> list[nn.Module]:
        return [leaf for m in seq for leaf in (flat(m) if isinstance(m, nn.Sequential) else [m])]

    layers = flat(model)
    state: dict[int, tuple] = {}
    out = []
    with torch.no_grad():
        for t in range(x.shape[1]):
            h = x[:, t]
            for i, m in enumerate(layers):
                if isinstance(m, (snn.Leaky,)):
                    spk, mem = m(h, *state.get(i, (None,)))
                    state[i] = (mem,)
                elif isinstance(m, snn.Synaptic):
                    spk, syn, mem = m(h, *state.get(i, (None, None)))
                    state[i] = (syn, mem)
                elif isinstance(m, snn.RLeaky):
                    spk, mem = m(h, *state.get(i, (None, None)))
                    state[i] = (spk.to(x.dtype), mem)  # snnTorch's float32 spikes break its double recurrence
                elif isinstance(m, snn.RSynaptic):
                    spk, syn, mem = m(h, *state.get(i, (None, None, None)))
                    state[i] = (spk.to(x.dtype), syn, mem)
                else:
                    spk = m(h)
                h = spk.to(x.dtype)  # snnTorch spikes are float32 0/1: exact in float64
            out.append(h)
    return torch.stack(out, dim=1)


def spikes(shape: tuple[int, ...], p: float = 0.3, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(shape, generator=g) < p).double()


def boost(model: nn.Module, gain: float = 3.0) -> nn.Module:
    """Scale every weight so that all layers spike at a useful rate (default inits are weak)."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.Linear, nn.Conv2d)) and m is not getattr(m, "recurrent", None):
                m.weight.mul_(gain)
    return model


def assert_exact(model: nn.Sequential, x: torch.Tensor, expected: torch.Tensor | None = None, **kw) -> ir.Graph:
    model = model.double().eval()
    ref = run_snntorch(model, x) if expected is None else expected
    graph = from_torch(model, input_shape=tuple(x.shape[2:]), **kw)
    got = ir.simulate(graph, x.numpy(), dtype=np.float64).output
    assert ref.sum() > 0, "test is vacuous: the model never spikes"
    np.testing.assert_array_equal(got, ref.numpy())
    return graph


def _ff(reset: str = "subtract", beta=(0.9, 0.8, 0.7)) -> nn.Sequential:
    torch.manual_seed(1)
    return nn.Sequential(
        nn.Linear(12, 20), snn.Leaky(beta=beta[0], reset_mechanism=reset),
        nn.Linear(20, 16), snn.Leaky(beta=beta[1], threshold=0.5, reset_mechanism=reset),
        nn.Sequential(nn.Linear(16, 5), snn.Leaky(beta=beta[2], reset_mechanism=reset)),
    )


@pytest.mark.parametrize("reset", ["subtract", "zero", "none"])
def test_leaky_feedforward_is_exact(reset: str) -> None:
    graph = assert_exact(boost(_ff(reset)), spikes((4, 40, 12)))
    expected = {"subtract": "subtract_next", "zero": "value", "none": "none"}[reset]
    assert graph.nodes["1"].reset.value == expected
    assert "4.1" in graph.nodes  # nested Sequential flattened with its path


def test_conv_net_is_exact() -> None:
    torch.manual_seed(2)
    model = nn.Sequential(
        nn.Conv2d(2, 4, 3, padding=1), snn.Leaky(beta=0.85, threshold=0.3),
        nn.AvgPool2d(2), nn.Flatten(), nn.Dropout(0.5), nn.Linear(4 * 4 * 4, 6), snn.Leaky(beta=0.9, threshold=0.2),
    )
    assert_exact(boost(model), spikes((3, 20, 2, 8, 8)))


def test_per_neuron_beta_and_threshold_and_if() -> None:
    torch.manual_seed(3)
    model = nn.Sequential(
        nn.Linear(8, 10), snn.Leaky(beta=torch.rand(10), threshold=torch.rand(10) + 0.2),
        nn.Linear(10, 4), snn.Leaky(beta=1.0),
    )
    graph = assert_exact(boost(model), spikes((3, 30, 8)))
    assert isinstance(graph.nodes["3"], ir.IF)


def test_synaptic_is_exact() -> None:
    torch.manual_seed(4)
    model = nn.Sequential(nn.Linear(10, 12), snn.Synaptic(alpha=0.6, beta=0.85, threshold=0.5),
                          nn.Linear(12, 5), snn.Synaptic(alpha=0.3, beta=0.9))
    assert_exact(boost(model), spikes((3, 40, 10)))


def test_rleaky_all_to_all_and_one_to_one() -> None:
    torch.manual_seed(5)
    rec = snn.RLeaky(beta=0.8, linear_features=12, threshold=0.5)
    rec.recurrent.bias.data.zero_()
    model = nn.Sequential(nn.Linear(8, 12), rec, nn.Linear(12, 6),
                          snn.RLeaky(beta=0.9, all_to_all=False, V=torch.rand(6) - 0.5, threshold=0.3))
    graph = assert_exact(boost(model), spikes((3, 40, 8)))
    assert ("1.rec", "1") in graph.back_edges and isinstance(graph.nodes["3.rec"], ir.Scale)


def test_rsynaptic_is_exact() -> None:
    torch.manual_seed(6)
    rec = snn.RSynaptic(alpha=0.5, beta=0.8, linear_features=10, threshold=0.4)
    rec.recurrent.bias = None
    model = nn.Sequential(nn.Linear(6, 10), rec)
    assert_exact(boost(model), spikes((3, 40, 6)))


def test_spikec_lif_with_mpbn_trained_then_exact() -> None:
    torch.manual_seed(7)
    model = nn.Sequential(nn.Linear(10, 8), snn_spikec.LIF(8, tau=5e-3, mpbn=True),
                          nn.Linear(8, 4), snn_spikec.CubaLIF(4, tau_syn=3e-3, tau_mem=6e-3, threshold=0.3)).double()
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    for seed in range(4):
        x = spikes((8, 20, 10), seed=seed)
        loss = (model(x).mean() - 0.2) ** 2
        opt.zero_grad()
        loss.backward()
        opt.step()
    lif = model[1]
    assert not torch.allclose(lif.running_mean, torch.zeros_like(lif.running_mean))
    with torch.no_grad():
        lif.bn_weight[:3] = -lif.bn_weight[:3].abs() - 0.5
    model.eval()
    x = spikes((4, 30, 10), seed=9)
    graph = assert_exact(model, x, expected=model(x).detach())
    assert isinstance(graph.nodes["1"], ir.MembraneBatchNorm)


def test_spikec_delayed_linear_is_exact() -> None:
    torch.manual_seed(8)
    model = nn.Sequential(snn_spikec.DelayedLinear(6, 8, max_delay=4), snn_spikec.LIF(8, tau=4e-3, threshold=0.4,
                                                                                   reset="subtract_next")).double()
    x = spikes((3, 30, 6))
    model(x).sum().backward()
    assert model[0].delay.grad is not None and model[0].delay.grad.abs().sum() > 0
    graph = assert_exact(model, x, expected=model(x).detach())
    assert graph.nodes["0"].delay.max() > 0


def test_unsupported_layer_names_path_and_type() -> None:
    model = nn.Sequential(nn.Linear(4, 4), nn.Sequential(nn.ReLU()))
    with pytest.raises(UnsupportedError, match=r"node '1.0'.*ReLU"):
        from_torch(model, input_shape=(4,))


def test_dropout_in_training_mode_is_rejected() -> None:
    model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.2), snn.Leaky(beta=0.9)).train()
    with pytest.raises(UnsupportedError, match=r"node '1'.*eval"):
        from_torch(model, input_shape=(4,))


def test_recurrent_bias_is_rejected() -> None:
    model = nn.Sequential(nn.Linear(4, 5), snn.RLeaky(beta=0.9, linear_features=5)).double()
    with torch.no_grad():
        model[1].recurrent.bias.fill_(0.1)
    with pytest.raises(UnsupportedError, match=r"node '1'.*bias"):
        from_torch(model, input_shape=(4,))


@pytest.mark.parametrize("bad", [
    lambda: snn.Synaptic(alpha=0.5, beta=0.9, reset_mechanism="zero"),
    lambda: snn.Leaky(beta=0.9, inhibition=True),
    lambda: snn.Leaky(beta=0.9, graded_spikes_factor=2.0),
    lambda: snn.RLeaky(beta=0.9, conv2d_channels=4, kernel_size=3),
])
def test_unrepresentable_snntorch_options_are_rejected(bad) -> None:
    with pytest.raises(UnsupportedError, match=r"node '1'"):
        from_torch(nn.Sequential(nn.Identity(), bad()), input_shape=(4,))


def test_single_layer_and_bad_padding_mode() -> None:
    with pytest.raises(UnsupportedError, match=r"node '\(root\)'.*Linear.*Sequential"):
        from_torch(nn.Linear(3, 3), input_shape=(3,))
    with pytest.raises(ModelImportError, match="input_shape"):
        from_torch(nn.Sequential(nn.Linear(3, 3)), input_shape="three")
    with pytest.raises(UnsupportedError, match="padding_mode"):
        from_torch(nn.Sequential(nn.Conv1d(1, 1, 3, padding=1, padding_mode="circular")), input_shape=(1, 8))


@settings(max_examples=25, deadline=None)
@given(
    betas=st.lists(st.floats(0.0, 1.0, width=32), min_size=2, max_size=2),
    thresholds=st.lists(st.floats(0.0625, 2.0, width=32), min_size=2, max_size=2),
    sizes=st.lists(st.integers(1, 12), min_size=3, max_size=3),
    reset=st.sampled_from(["subtract", "zero", "none"]),
    seed=st.integers(0, 2**16),
)
def test_random_leaky_nets_are_exact(betas, thresholds, sizes, reset, seed) -> None:
    torch.manual_seed(seed)
    model = nn.Sequential(
        nn.Linear(sizes[0], sizes[1]), snn.Leaky(beta=betas[0], threshold=thresholds[0], reset_mechanism=reset),
        nn.Linear(sizes[1], sizes[2]), snn.Leaky(beta=betas[1], threshold=thresholds[1], reset_mechanism=reset),
    )
    boost(model).double().eval()
    x = spikes((2, 25, sizes[0]), p=0.5, seed=seed)
    ref = run_snntorch(model, x)
    graph = from_torch(model, input_shape=(sizes[0],))
    np.testing.assert_array_equal(ir.simulate(graph, x.numpy(), dtype=np.float64).output, ref.numpy())


def test_decay_parameters_give_the_ir_exact_coefficients() -> None:
    from spikec.compiler.frontends.torch_snntorch import decay_parameters

    rng = np.random.default_rng(0)
    # snnTorch stores beta as float32 unless the model is built in float64.
    beta = np.concatenate([rng.uniform(0.5, 1.0, 500), rng.random(500)]).astype(np.float32).astype(np.float64)
    tau, r = decay_parameters(beta, 1e-3)
    c = ir.make_population(ir.LIF, beta.shape, tau=tau, r=r, v_threshold=1.0).coefficients(1e-3)
    assert np.array_equal(c["alpha"][:500], beta[:500])  # float32 beta >= 0.5: always exact
    assert np.mean(c["alpha"] == beta) > 0.9 and np.mean(c["gain"] == 1.0) > 0.9
    assert np.array_equal(c["alpha"].astype(np.float32), beta.astype(np.float32))  # float32 simulation: exact
    assert np.all(np.abs(c["gain"] - 1.0) <= 2.3e-16)


def test_float32_model_float32_simulation() -> None:
    model = boost(_ff("subtract")).eval()
    x = spikes((4, 40, 12)).float()
    ref = run_snntorch(model, x)
    graph = from_torch(model, input_shape=(12,))
    np.testing.assert_array_equal(ir.simulate(graph, x.numpy(), dtype=np.float32).output, ref.numpy())
