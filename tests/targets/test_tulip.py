"""TULIP: a BNN imported from torch (BatchNorm folded into integer thresholds) runs bit-exact on
the C engine; the threshold-logic model against its MAC baseline (3x energy, same latency and
area); the schedule and its refusals."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import spikec
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from spikec.compiler.frontends.bnn import bnn_graph, from_bnn, load_bnn
from spikec.errors import ModelImportError, ResourceLimitError, UnsupportedError
from spikec.nn import LIF
from spikec.nn.bnn import bnn_mlp
from spikec.targets import get_target
from spikec.targets.tulip import TULIP_40NM, mac_neuron, schedule, tulip_neuron

BNN = Path(spikec.__file__).resolve().parent / "data" / "bnn_digits.npz"


def _digits_test() -> tuple[np.ndarray, np.ndarray]:
    # data/train_bnn_digits.py's split: pixels > 4, 25 % held out, seed 0.
    x, y = load_digits(return_X_y=True)
    _, x_test, _, y_test = train_test_split((x > 4).astype(np.float32), y, test_size=0.25, random_state=0,
                                            stratify=y)
    return x_test, y_test


def _run(program, x: np.ndarray) -> np.ndarray:  # noqa: ANN001
    steps = program.metadata["pipeline_depth"] + 1
    run = get_target("tulip").backend("emulator")(program, {"input": np.repeat(x[:, None, :], steps, axis=1)}, steps)
    return run.output[:, -1]


def test_the_bundled_bnn_runs_bit_exact_on_the_engine() -> None:
    net = load_bnn(BNN)
    compiled = get_target("tulip").compile(bnn_graph(net))
    x, y = _digits_test()
    scores = _run(compiled.program, x)
    np.testing.assert_array_equal(scores, net.scores(x))
    accuracy = float(np.mean(scores.argmax(axis=1) == y))
    with np.load(BNN) as f:
        assert accuracy == pytest.approx(float(f["accuracy"])) and accuracy >= 0.88


def test_folding_is_exact_for_any_batchnorm_sign() -> None:
    torch.manual_seed(3)
    model = bnn_mlp((20, 24, 16, 5))
    with torch.no_grad():
        for bn in (model[1], model[4]):
            bn.weight.copy_(torch.randn(bn.weight.shape) * 2)
            bn.weight[:3] = 0.0                       # constant outputs
            bn.bias.copy_(torch.randn(bn.bias.shape) * 3)
            bn.running_mean.copy_(torch.randn(bn.running_mean.shape) * 4)
            bn.running_var.copy_(torch.rand(bn.running_var.shape) * 5 + 0.1)
    model.eval()
    x = (np.random.default_rng(0).random((300, 20)) < 0.5).astype(np.float32)
    with torch.no_grad():
        expected = model(torch.from_numpy(x)).numpy().astype(np.int64)
    net = from_bnn(model)
    assert any((layer.threshold is not None and (layer.weight < 0).any()) for layer in net.layers)
    np.testing.assert_array_equal(net.scores(x), expected)
    np.testing.assert_array_equal(_run(get_target("tulip").compile(bnn_graph(net)).program, x), expected)


@pytest.mark.parametrize("fan_in", [64, 128, 256])
def test_tulip_is_three_times_more_energy_efficient_at_equal_latency_and_area(fan_in: int) -> None:
    t, m = tulip_neuron(fan_in), mac_neuron(fan_in)
    assert m.energy / t.energy == pytest.approx(3.0, abs=0.5)
    assert t.cycles <= m.cycles and t.area <= m.area


def test_schedule_of_the_bundled_bnn() -> None:
    program = get_target("tulip").compile(bnn_graph(load_bnn(BNN))).program
    s = schedule(program)
    pes, lanes = TULIP_40NM.pes.value, TULIP_40NM.lanes.value
    assert s.cycles == (math.ceil(128 / pes) * (math.ceil(64 / lanes) + 1), math.ceil(10 / pes) * (2 + 1))
    assert s.energy_ratio == pytest.approx(3.0, abs=0.5)
    assert s.latency <= s.latency_mac and s.area <= s.area_mac
    assert s.memory_bits == 8 * (64 + 8) + 1 * (128 + 9)
    est = get_target("tulip").price(_counters(program), program)
    assert est.energy == pytest.approx(sum(s.energy.values())) and est.latency == s.latency


def _counters(program):  # noqa: ANN001, ANN202
    x = np.zeros((1, 3, 64))
    return get_target("tulip").backend("emulator")(program, {"input": x}, 3).counters


def test_what_is_not_a_bnn_or_does_not_fit_is_refused() -> None:
    torch.manual_seed(0)
    lif = spikec.load(torch.nn.Sequential(torch.nn.Linear(8, 4, bias=False), LIF(4, tau=10e-3, dt=1e-3)),
                      input_shape=(8,), dt=1e-3)
    with pytest.raises(UnsupportedError) as info:
        get_target("tulip").compile(lif)
    assert "spikec.nn.bnn" in info.value.fix
    big = bnn_graph(from_bnn(bnn_mlp((1000, 400, 10)).eval()))
    with pytest.raises(ResourceLimitError) as info:
        get_target("tulip").compile(big)
    assert info.value.parameter == "memory_bits"
    with pytest.raises(ModelImportError):
        from_bnn(torch.nn.Sequential(torch.nn.Linear(4, 2)))


def test_per_neuron_costs_follow_the_documented_formulas() -> None:
    d = TULIP_40NM
    # n = 64, L = 64, k = 16: b = 8 accumulator bits, one accumulation step.
    mac = 64 * (d.e_xnor.value + 1) + 1 * 8 * (1 + d.e_ff.value) + 8
    tulip = 4 * 16 * d.e_in.value + 1 * 8 * (1 + d.e_ff.value) + 8 * d.e_in.value
    assert mac_neuron(64).energy == pytest.approx(mac) and tulip_neuron(64).energy == pytest.approx(tulip)
    assert mac_neuron(65).cycles == tulip_neuron(65).cycles == 2 + 1
