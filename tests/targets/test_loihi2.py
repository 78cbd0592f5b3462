"""Loihi 2: lowering, encodings, and the rung "Lava's fixed-point Loihi model == C engine, bit for
bit" on four networks (the bundled digits model, a snnTorch conv net, a recurrent net, a net
with learned synaptic delays).

The Lava tests need the Python 3.10 environment with lava-nc (``make lava``); they skip without
it on a developer machine and fail under CI=true, where the README's test command builds it.
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np
import pytest
import spikec.ir as ir
from hypothesis import example, given, settings
from hypothesis import strategies as st
from spikec.api import bundled_data, bundled_model, decode_rate, evaluate, load, load_dataset
from spikec.cli import main
from spikec.compiler.lower import lower
from spikec.compiler.timing import pipeline_depth
from spikec.errors import UnsupportedError
from spikec.runtime import run
from spikec.targets.always_on import ALWAYS_ON
from spikec.targets.loihi2 import LOIHI2, LOIHI2_SPEC, TARGET, encode, lava_available, loihi_timing, run_lava
from spikec.targets.loihi2.encode import _bias

torch = pytest.importorskip("torch")
snn = pytest.importorskip("snntorch")
from spikec import nn as snc  # noqa: E402
from spikec.compiler.frontends.torch_import import from_torch  # noqa: E402

LAVA = lava_available()
needs_lava = pytest.mark.skipif(not LAVA and os.environ.get("CI") != "true",
                                reason="no Lava environment (make lava); CI=true makes this a failure")


def spikes(shape: tuple[int, ...], p: float = 0.3, seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).random(shape) < p).astype(np.float64)


def leaky(beta: float = 0.9, threshold: float = 0.5) -> "torch.nn.Module":
    return snn.Leaky(beta=beta, threshold=threshold, init_hidden=True, reset_mechanism="zero")


def conv_net() -> ir.Graph:
    torch.manual_seed(0)
    nn = torch.nn
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), leaky(), nn.Conv2d(4, 8, 3, stride=2, padding=1),
                          leaky(0.8), nn.Flatten(), nn.Linear(128, 10), leaky())
    return from_torch(model.eval(), input_shape=(1, 8, 8))


def delay_net() -> ir.Graph:
    torch.manual_seed(1)
    nn = torch.nn
    model = nn.Sequential(snc.DelayedLinear(12, 16, max_delay=40), leaky(), nn.Linear(16, 4), leaky())
    with torch.no_grad():  # learned-looking delays spread over the whole range
        model[0].delay.copy_(torch.randint(0, 41, model[0].delay.shape).double())
    return from_torch(model.eval(), input_shape=(12,))


def recurrent_net() -> ir.Graph:
    """Input -> current-based population with an excitatory/inhibitory recurrent matrix -> readout."""
    rng = np.random.default_rng(2)
    n_in, h, o = 20, 48, 5
    mask = rng.random((h, h)) < 0.2
    w_rec = np.where(np.arange(h) < 36, 0.3, -0.9)[None, :] * rng.random((h, h)) * mask
    t, s = np.nonzero(w_rec)
    nodes = {
        "in": ir.Input((n_in,)),
        "w_in": ir.Linear(rng.normal(0, 0.6, (h, n_in))),
        "h": ir.make_population(ir.CubaLIF, h, tau_syn=4e-3, tau_mem=1e-2, v_threshold=0.4),
        "w_rec": ir.SparseLinear((h, h), t, s, w_rec[t, s]),
        "w_out": ir.Linear(rng.normal(0, 0.5, (o, h))),
        "o": ir.make_population(ir.LIF, o, tau=1e-2, v_threshold=0.4),
        "out": ir.Output(),
    }
    edges = [("in", "w_in"), ("w_in", "h"), ("h", "w_rec"), ("w_rec", "h"), ("h", "w_out"), ("w_out", "o"),
             ("o", "out")]
    return ir.Graph(nodes, edges, dt=1e-3)


NETWORKS = {"conv": (conv_net, (1, 8, 8), 30), "recurrent": (recurrent_net, (20,), 40),
            "delays": (delay_net, (12,), 80)}


def engine_spikes(program, x: dict, steps: int) -> dict[str, np.ndarray]:
    pops = [p.name for p in program.populations if p.kernel != "input"]
    rec = run(program, x, steps, record=pops).recorded
    return {k: v.reshape(v.shape[0], v.shape[1], -1) for k, v in rec.items()}


def assert_same(program, x: dict, steps: int) -> dict[str, np.ndarray]:
    ours = engine_spikes(program, x, steps)
    theirs = run_lava(program, x, steps, timeout=600).spikes
    assert sorted(ours) == sorted(theirs)
    for name in ours:
        assert theirs[name].shape == ours[name].shape, name
        mismatch = np.argwhere(theirs[name] != ours[name])
        assert mismatch.size == 0, f"population {name}: first mismatch (sample, step, neuron) {mismatch[0]}"
        assert ours[name].sum() > 0 or name == "o", f"population {name} never fires: the test would prove little"
    return ours


@needs_lava
@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_networks_spike_for_spike_on_lava(name: str) -> None:
    make, shape, steps = NETWORKS[name]
    compiled = TARGET.compile(make())
    program = compiled.program
    x = {next(iter(program.inputs)): spikes((6, steps) + shape, seed=len(name))}
    ours = assert_same(program, x, steps)
    assert sum(int(v.sum()) for v in ours.values()) > 50


@needs_lava
def test_digits_model_bit_exact_and_accurate_on_emulator_and_lava() -> None:
    graph = load(bundled_model())
    data = load_dataset(bundled_data(), graph)
    float_acc = evaluate(graph, data, dtype=np.float64).accuracy
    program = TARGET.compile(graph, calibration=dict(data.inputs)).program
    steps = data.steps + pipeline_depth(program)
    assert pipeline_depth(program) == 2
    out = assert_same(program, dict(data.inputs), steps)
    final = next(iter(program.outputs.values()))
    acc = float(np.mean(decode_rate(out[final]) == data.labels))
    assert abs(acc - float_acc) <= 0.01, (acc, float_acc)


@needs_lava
def test_lava_wrap_boundary_matches_lava() -> None:
    """u lands exactly on +-2**23: Lava keeps +2**23 and turns -2**23 into +2**23 (two's
    complement would keep -2**23), so the second neuron fires only under Lava's rule."""
    weight = np.array([[64], [-64]])
    fixed = ir.FixedCubaLIF(du=[4096] * 2, dv=[0] * 2, bias=[0] * 2, v_threshold=[8388544] * 2, v_reset=[0] * 2,
                            input_shift=6, u_overflow="lava_wrap")
    graph = ir.Graph({"in": ir.Input((1,)), "w": ir.Linear(weight), "n": fixed, "out": ir.Output()},
                     [("in", "w"), ("w", "n"), ("n", "out")], dt=1e-3)
    program = loihi_timing(lower(graph))
    x = {"in": np.full((1, 4, 1), 2048)}  # 2048 * 64 = 2**17; << 6 = 2**23
    ours = assert_same(program, x, 4)
    assert ours["n"][0, 1:].tolist() == [[1, 1]] * 3
    ref = ir.simulate(graph, {"in": x["in"]}, mode="fixed", record=["n"])  # the IR agrees, one step earlier
    assert ref.recorded["n"][0, :3].tolist() == ours["n"][0, 1:].tolist()
    twos = graph.replace(nodes={**graph.nodes, "n": dataclasses.replace(fixed, u_overflow="wrap")})
    assert ir.simulate(twos, {"in": x["in"]}, mode="fixed", record=["n"]).recorded["n"][0, :, 1].sum() == 0


def test_compiled_program_uses_the_chip_encodings() -> None:
    program = TARGET.compile(conv_net()).program
    net = encode(program)
    assert all(j.delay_base == 1 for j in program.projections)
    for pop in program.populations:
        if pop.kernel == "cuba_fixed":
            assert pop.config["input_shift"] == 6 and pop.config["u_overflow"] == "lava_wrap"
            assert np.all(pop.params["v_threshold"] % 64 == 0)
    assert [c.sign_mode for c in net.connections] == ["mixed"] * 6
    assert all(lif.du == 4095 and 0 < lif.vth < 2**17 for lif in net.lifs if lif.name != ALWAYS_ON)
    # The projection biases come from the always-on neuron, delayed to each layer's first step (on the
    # membrane they would start a step early per hop), so no LIF carries a bias of its own.
    assert [c.name.split("@")[0] for c in net.connections[3:]] == [f"{ALWAYS_ON}->{n}" for n in ("1", "3", "6")]
    mant = np.concatenate([lif.bias_mant for lif in net.lifs if lif.name != ALWAYS_ON])
    assert np.all(mant == 0)


def _refusal(graph: ir.Graph, **kw) -> UnsupportedError:
    with pytest.raises(UnsupportedError) as info:
        TARGET.compile(graph, kw)
    return info.value


def _chain(neuron: ir.Node, *, delay: np.ndarray | None = None) -> ir.Graph:
    w = np.random.default_rng(0).normal(0, 1, (3, 4))
    return ir.Graph({"in": ir.Input((4,)), "w": ir.Linear(w, delay=delay), "n": neuron, "out": ir.Output()},
                    [("in", "w"), ("w", "n"), ("n", "out")], dt=1e-3)


def test_what_lava_cannot_express_is_refused_with_the_limit() -> None:
    lif = ir.make_population(ir.LIF, 3, tau=1e-2, v_threshold=0.5)
    e = _refusal(_chain(ir.make_population(ir.LI, 3, tau=1e-2)))
    assert e.node == "n" and "non-spiking" in str(e)
    e = _refusal(_chain(ir.make_population(ir.LIF, 3, tau=1e-2, v_threshold=0.5, reset="subtract")))
    assert e.parameter == "reset" and "reset to 0" in str(e)
    e = _refusal(_chain(lif, delay=np.full((3, 4), 64)))
    assert e.node.startswith("w.delay") and "relay" in str(e) and "63 steps" in str(e)  # map_delays' relays
    e = _refusal(_chain(ir.make_population(ir.LIF, 3, tau=np.array([1e-2, 2e-2, 1e-2]), v_threshold=0.5)))
    assert e.parameter == "dv" and "one value per Lava LIF process" in str(e)
    assert _refusal(_chain(lif), per_channel=True).parameter == "per_channel"
    with pytest.raises(UnsupportedError, match="float program"):
        encode(loihi_timing(lower(_chain(lif))))
    assert _chain(lif, delay=np.full((3, 4), 63)) and TARGET.compile(_chain(lif, delay=np.full((3, 4), 63)))


@settings(max_examples=300, deadline=None)
@given(st.integers(-(1 << 22), 1 << 22))
# The edges of the 13-bit mantissa and the 3-bit exponent: 4095 << 7 fits, 4095 << 8 and 4097 do not.
@example(4095 << 7)
@example(-(4095 << 7))
@example(4095 << 8)
@example(4097)
@example(-4096)
def test_bias_encoding_is_exact_or_refused(b: int) -> None:
    try:
        mant, exp = _bias("n", np.array([b]))
    except UnsupportedError as e:
        assert e.parameter == "bias"
        assert not any(b % (1 << k) == 0 and abs(b >> k) <= 4095 for k in range(8))
        return
    assert abs(int(mant[0])) <= 4095 and 0 <= int(exp[0]) <= 7
    assert int(mant[0]) << int(exp[0]) == b


def test_spec_and_costs_carry_sources_and_flag_borrowed_constants() -> None:
    assert all(LOIHI2_SPEC.sources().values())
    assert LOIHI2_SPEC.u_overflow == "lava_wrap"
    for name, src in LOIHI2.sources().items():
        if getattr(LOIHI2, name).value is not None:
            assert src.startswith("Loihi 1 value, no Loihi 2 figure published"), name


@needs_lava
def test_cli_runs_loihi2_on_both_backends(capsys: pytest.CaptureFixture) -> None:
    assert main(["run", "default", "--target", "loihi2", "--backend", "lava", "--samples", "40"]) == 0
    lava_out = capsys.readouterr().out
    assert main(["run", "default", "--target", "loihi2", "--samples", "40"]) == 0
    emu_out = capsys.readouterr().out
    acc = [line for line in lava_out.splitlines() if line.startswith("accuracy")]
    assert acc and acc == [line for line in emu_out.splitlines() if line.startswith("accuracy")]
    assert "pipeline depth 2 steps" in emu_out


def test_cli_estimate_prints_breakdown_and_sources(capsys: pytest.CaptureFixture,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "300")  # one source per line
    assert main(["estimate", "default", "--samples", "10"]) == 0
    out = capsys.readouterr().out
    assert "synaptic ops" in out and "Davies et al. 2018" in out and "Loihi 1 value" in out


@needs_lava
@pytest.mark.parametrize("shift", [6, 7, 8])
def test_a_projection_bias_follows_the_population_input_shift(shift: int) -> None:
    """A projection bias into a one-step current (du = 4096) moves into the LIF bias as
    input_bias << input_shift: the program's shift, not Lava's fixed act_shift of 6 (issue 12: every
    other test uses 6, so a fixed shift there went unnoticed)."""
    w = np.array([[3, -2], [1, 4], [-5, 2]])
    fixed = ir.FixedCubaLIF(du=[4096] * 3, dv=[300] * 3, bias=[0] * 3, v_threshold=[64 * 6] * 3, v_reset=[0] * 3,
                            input_shift=shift, u_overflow="lava_wrap")
    graph = ir.Graph({"in": ir.Input((2,)), "w": ir.Affine(w, np.array([2, -1, 1])), "n": fixed, "out": ir.Output()},
                     [("in", "w"), ("w", "n"), ("n", "out")], dt=1e-3)
    program = loihi_timing(lower(graph))
    lif = encode(program).lifs[0]
    assert (lif.bias_mant.astype(np.int64) << lif.bias_exp).tolist() == [v << shift for v in (2, -1, 1)]
    ours = assert_same(program, {"in": spikes((3, 30, 2), p=0.4, seed=shift)}, 30)
    assert ours["n"].sum() > 0
