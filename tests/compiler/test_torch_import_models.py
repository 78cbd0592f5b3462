"""from_torch on whole models: plain-forward containers, snnTorch's init_hidden idiom,
spikec.nn conv nets, float32 agreement, and the errors for what cannot be imported."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
snn = pytest.importorskip("snntorch")

from snntorch import utils as snn_utils  # noqa: E402
from spikec import ir  # noqa: E402
from spikec import nn as snc  # noqa: E402
from spikec.compiler.frontends.torch_import import from_torch  # noqa: E402
from spikec.errors import ModelImportError, UnsupportedError  # noqa: E402
from torch import nn  # noqa: E402


def spikes(shape: tuple[int, ...], p: float = 0.3, seed: int = 0, dtype=torch.float64) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(shape, generator=g) < p).to(dtype)


def run_stepwise(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """snnTorch's own idiom: init_hidden layers, reset, then call the net once per time step."""

    def same_dtype(m: nn.Module, args: tuple, out):  # snnTorch's spikes are float32 even in a float64 net
        return tuple(o.to(x.dtype) for o in out) if isinstance(out, tuple) else out.to(x.dtype)

    hooks = [m.register_forward_hook(same_dtype) for m in model.modules() if type(m).__module__.startswith("snntorch")]
    snn_utils.reset(model)
    try:
        with torch.no_grad():
            outs = []
            for t in range(x.shape[1]):
                y = model(x[:, t])
                outs.append(y[0] if isinstance(y, tuple) else y)
    finally:
        for h in hooks:
            h.remove()
    return torch.stack(outs, dim=1)


def simulate(model: nn.Module, x: torch.Tensor, dtype=np.float64, **kw) -> np.ndarray:
    graph = from_torch(model, input_shape=tuple(x.shape[2:]), **kw)
    return ir.simulate(graph, x.numpy(), dtype=dtype).output


class Chain(nn.Module):
    """A user model whose forward only calls its layers in order (some nested, in another order)."""

    def __init__(self) -> None:
        super().__init__()
        self.lif2 = snn.Leaky(beta=0.8, threshold=0.4, init_hidden=True, output=True)
        self.fc1 = nn.Linear(10, 14)
        self.lif1 = snn.Leaky(beta=0.9, threshold=0.5, init_hidden=True)
        self.block = nn.Sequential(nn.Linear(14, 6))

    def forward(self, x: torch.Tensor):
        return self.lif2(self.block(self.lif1(self.fc1(x))))


def test_init_hidden_idiom_and_plain_forward_container_are_exact() -> None:
    torch.manual_seed(0)
    seq = nn.Sequential(nn.Linear(10, 14), snn.Leaky(beta=0.9, threshold=0.5, init_hidden=True),
                        nn.Linear(14, 6), snn.Leaky(beta=0.8, threshold=0.4, init_hidden=True, output=True))
    with torch.no_grad():
        seq[0].weight.mul_(3)
        seq[2].weight.mul_(3)
    chain = Chain()
    chain.load_state_dict({"fc1.weight": seq[0].weight, "fc1.bias": seq[0].bias, "block.0.weight": seq[2].weight,
                           "block.0.bias": seq[2].bias, **{k: v for k, v in chain.state_dict().items()
                                                           if k.startswith("lif")}})
    x = spikes((4, 40, 10))
    for model in (seq.double(), chain.double()):
        want = run_stepwise(model, x)
        assert want.sum() > 0
        np.testing.assert_array_equal(simulate(model, x), want.numpy())
    graph = from_torch(chain, input_shape=(10,))
    assert [n for n in graph.order if n not in ("input", "output")] == ["fc1", "lif1", "block.0", "lif2"]


def test_spikec_nn_conv_net_with_steps_and_mpbn_is_exact() -> None:
    torch.manual_seed(3)
    model = nn.Sequential(
        snc.Steps(nn.Conv2d(2, 4, 3, padding=1)), snc.Steps(nn.BatchNorm2d(4)),
        snc.LIF((4, 6, 6), tau=4e-3, threshold=0.5, mpbn=True),
        snc.Steps(nn.Sequential(nn.AvgPool2d(2), nn.Flatten())), nn.Linear(36, 5),
        snc.CubaLIF(5, tau_syn=2e-3, tau_mem=5e-3, threshold=0.2),
    ).double()
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    for seed in range(3):
        loss = (model(spikes((6, 12, 2, 6, 6), seed=seed)).mean() - 0.3) ** 2
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        model[2].bn_weight[0] = -1.5  # a negative gamma
    x = spikes((3, 25, 2, 6, 6), seed=11)
    want = model(x).detach()
    assert want.sum() > 0
    graph = from_torch(model, input_shape=(2, 6, 6))
    assert isinstance(graph.nodes["1.layer"], ir.BatchNorm) and isinstance(graph.nodes["2"], ir.MembraneBatchNorm)
    np.testing.assert_array_equal(ir.simulate(graph, x.numpy(), dtype=np.float64).output, want.numpy())


def test_conv1d_batchnorm1d_snntorch_net_is_exact() -> None:
    torch.manual_seed(4)
    model = nn.Sequential(nn.Conv1d(3, 5, 3, padding=1), nn.BatchNorm1d(5), snn.Leaky(beta=0.7, init_hidden=True),
                          nn.Flatten(), nn.Linear(40, 4), snn.Leaky(beta=0.9, threshold=0.3, init_hidden=True))
    model.train()
    with torch.no_grad():
        for _ in range(3):  # non-trivial running statistics
            model[:2](torch.randn(8, 3, 8) * 2 + 0.5)
    model.double().eval()
    x = spikes((3, 30, 3, 8), p=0.5)
    want = run_stepwise(model, x)
    assert want.sum() > 0
    np.testing.assert_array_equal(simulate(model, x), want.numpy())


def test_float32_agreement() -> None:
    """float32 model vs float32 simulation: the fraction of identical spikes (expect all)."""
    torch.manual_seed(5)
    model = nn.Sequential(nn.Linear(64, 128), snn.Leaky(beta=0.9, init_hidden=True),
                          nn.Linear(128, 64), snn.Leaky(beta=0.8, threshold=0.5, init_hidden=True),
                          nn.Linear(64, 10), snn.Leaky(beta=0.95, init_hidden=True))
    with torch.no_grad():
        for m in model:
            if isinstance(m, nn.Linear):
                m.weight.mul_(3)
    x = spikes((16, 50, 64), dtype=torch.float32)
    want = run_stepwise(model, x).numpy()
    got = simulate(model, x, dtype=np.float32)
    assert want.sum() > 100
    assert np.mean(got == want) >= 0.999


def test_mpbn_in_training_mode_is_rejected() -> None:
    model = nn.Sequential(nn.Linear(3, 4), snc.LIF(4, tau=5e-3, mpbn=True))
    with pytest.raises(UnsupportedError, match=r"node '1'.*eval"):
        from_torch(model, input_shape=(3,))


def test_dt_comes_from_spikec_layers_and_must_agree() -> None:
    model = nn.Sequential(nn.Linear(3, 4), snc.LIF(4, tau=5e-3, dt=5e-4)).eval()
    assert from_torch(model, input_shape=(3,)).dt == 5e-4
    assert from_torch(nn.Sequential(nn.Linear(3, 4), snn.Leaky(beta=0.5)), input_shape=(3,)).dt == 1e-3
    with pytest.raises(ModelImportError) as info:
        from_torch(model, input_shape=(3,), dt=1e-3)
    assert info.value.node == "1" and info.value.parameter == "dt"


class Skip(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.lif = snn.Leaky(beta=0.9, init_hidden=True)

    def forward(self, x):
        return self.lif(self.fc(x) + x)


class TimeLoop(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.lif = snn.Leaky(beta=0.9)

    def forward(self, x):
        mem = self.lif.reset_mem()
        out = []
        for t in range(x.shape[1]):
            spk, mem = self.lif(self.fc(x[:, t]), mem)
            out.append(spk)
        return torch.stack(out, 1)


class Twice(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        return self.fc(self.fc(x))


@pytest.mark.parametrize("model, node, words", [
    (nn.Sequential(nn.Linear(4, 4), Skip()), "1", "add"),
    (TimeLoop(), "(root)", "could not be traced"),
    (Twice(), "(root)", "twice"),
    (nn.Sequential(nn.Linear(4, 4), nn.ReLU()), "1", "ReLU"),
    (nn.Sequential(nn.MaxPool2d(2)), "0", "MaxPool2d"),
])
def test_models_that_are_not_chains_of_supported_layers(model, node: str, words: str) -> None:
    with pytest.raises(UnsupportedError) as info:
        from_torch(model, input_shape=(4,))
    assert info.value.node == node and words in str(info.value)
    assert "Sequential" in str(info.value) or "NIR" in str(info.value)
