"""Xylo Audio 2: the integer neuron against xylosim (rockpool's XyloSim), the cycle model against
rockpool's own ``cycles_model``, the clock check, the mapping refusals and the price."""

from __future__ import annotations

import os
import sys
import types

import numpy as np
import pytest
import spikec
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from spikec.errors import ResourceLimitError, SimulationError, SpecError
from spikec.nn import LIF
from spikec.targets import get_target
from spikec.targets.pipeline import compile_for
from spikec.targets.protocol import ONE_STEP_PER_HOP
from spikec.targets.xylo import XYLO_POWER, XyloNet, clock_needed, cycles, simulate, to_xylo
from spikec.targets.xylo.compile import XYLO_SPEC, XyloOptions
from spikec.targets.xylo.cost import fanout, step_cycles
from spikec.targets.xylo.reference import decay


def _rockpool_xylo() -> types.ModuleType:
    """rockpool's syns61201 package without samna: rockpool 3.1.0's ``rockpool.devices.xylo``
    imports samna unguarded (a packaging bug), so a bare package module stands in for it, and a
    stub ``samna`` gives ``power_cycles_model`` the one attribute it reads at import time."""
    rd = pytest.importorskip("rockpool.devices", reason="rockpool (AGPL test oracle) is not installed")
    if "rockpool.devices.xylo" not in sys.modules or not hasattr(sys.modules["rockpool.devices.xylo"], "__path__"):
        stub = types.ModuleType("rockpool.devices.xylo")
        stub.__path__ = [os.path.join(os.path.dirname(rd.__file__), "xylo")]
        sys.modules["rockpool.devices.xylo"] = stub
    if "samna" not in sys.modules:
        samna = types.ModuleType("samna")
        samna.xyloCore2 = types.SimpleNamespace(configuration=types.SimpleNamespace(XyloConfiguration=object))
        sys.modules["samna"] = samna
    import rockpool.devices.xylo.syns61201.power_cycles_model as model

    return model


def _random_net(rng: np.random.Generator, n_in: int, n_hid: int, n_out: int, rec: float, shifts=(0, 0, 0)) -> XyloNet:
    w_rec = rng.integers(-128, 128, (n_hid, n_hid, 2)) * (rng.random((n_hid, n_hid, 2)) < rec)
    return XyloNet(rng.integers(-128, 128, (n_in, n_hid, 2)), w_rec, rng.integers(-128, 128, (n_hid, n_out)),
                   rng.integers(0, 8, (n_hid, 2)), rng.integers(0, 8, n_hid), rng.integers(0, 2000, n_hid),
                   rng.integers(-128, 128, n_hid), rng.integers(0, 8, n_out), rng.integers(0, 8, n_out),
                   rng.integers(0, 2000, n_out), rng.integers(-128, 128, n_out), *shifts)


# -- the neuron ---------------------------------------------------------------------------------------------------

def test_decay_moves_at_least_one_step_and_shifts_arithmetically() -> None:
    x = np.array([5, -5, 1, -1, 0, 100, -100, -32768])
    assert decay(x, np.array([1, 1, 4, 4, 3, 3, 3, 0])).tolist() == [2, -3, 1, -1, 0, 12, -13, -32768]


def test_one_neuron_by_hand() -> None:
    # 1 input, 1 hidden (dash_syn 1, dash_mem 2, threshold 10), 1 output: events of weight 12.
    net = XyloNet([[[12, 0]]], [[[0, 0]]], [[100]], [[1, 1]], [2], [10], [0], [1], [1], [40], [0])
    run = simulate(net, np.array([[2], [0], [0]]), record_v=True)
    # step 0: i = 24 - 12 = 12; v = 12 -> one spike, v = 2.  step 1: i = 6, v = 2 - 1 + 6 = 7.
    # step 2: i = 3, v = 7 - 1 + 3 = 9.  The output sees the hidden spike one step later: i = 50, v = 50
    # -> spike, v = 10; then i = 25, v = 10 - 5 + 25 = 30 < 40.
    assert run.hidden[:, 0].tolist() == [1, 0, 0] and run.v_hidden[:, 0].tolist() == [2, 7, 9]
    assert run.output[:, 0].tolist() == [0, 1, 0]


def test_saturation_is_per_source_and_asymmetric() -> None:
    # Three sources of +127 << 7 saturate at 32767 before a -128 << 7 arrives (order matters: the
    # unsaturated sum is 32384); three of -128 << 7 stop at -32768, not -32767.
    w = np.array([[[127, 0]], [[127, 0]], [[127, 0]], [[-128, 0]]])
    net = XyloNet(w, [[[0, 0]]], [[0]], [[15, 15]], [15], [32767], [0], [0], [0], [1], [0], shift_in=7)
    run = simulate(net, np.array([[1, 1, 1, 1]]), record_v=True)
    assert run.v_hidden[0, 0] == 32767 - 16384 - 1   # then the current decays by one (16383 >> 15 is 0)
    neg = XyloNet(np.where(w > 0, -128, 0), [[[0, 0]]], [[0]], [[15, 15]], [15], [32767], [0], [0], [0], [1], [0],
                  shift_in=7)
    run = simulate(neg, np.array([[1, 1, 1, 0]]), record_v=True)
    assert run.v_hidden[0, 0] == -32768 + 1


def test_multi_spikes_cap_and_threshold_zero() -> None:
    net = XyloNet([[[100, 0]]], [[[0, 0]]], [[1]], [[1, 1]], [0], [0], [0], [0], [0], [0], [0], shift_in=7)
    run = simulate(net, np.array([[1]]))
    assert run.hidden[0, 0] == 31          # threshold 0: the most spikes a hidden neuron fires


def test_spike_rasters_equal_xylosim_bit_for_bit() -> None:
    pytest.importorskip("xylosim", reason="xylosim 0.1.3 (sdist, pybind11) is not installed")
    _rockpool_xylo()   # the samna stub, before rockpool's Xylo package is imported
    from rockpool.devices.xylo.syns61201 import xylo_sim
    rng = np.random.default_rng(7)
    for trial, (rec, shifts) in enumerate([(0.0, (0, 0, 0)), (0.2, (1, 2, 0)), (0.5, (2, 0, 1)), (0.1, (0, 1, 3))]):
        net = _random_net(rng, 16, 64, 8, rec, shifts)
        raster = rng.integers(0, 17, (120, 16)) * (rng.random((120, 16)) < 0.25)   # 16 > 15: the cap too
        sim = xylo_sim.XyloSim.from_specification(
            net.w_in, net.w_out, net.w_rec, dash_mem=net.dash_mem, dash_mem_out=net.dash_mem_out,
            dash_syn=net.dash_syn[:, 0], dash_syn_2=net.dash_syn[:, 1], dash_syn_out=net.dash_syn_out,
            threshold=net.threshold, threshold_out=net.threshold_out, bias=net.bias, bias_out=net.bias_out,
            weight_shift_in=shifts[0], weight_shift_rec=shifts[1], weight_shift_out=shifts[2])
        out, _, rec_ = sim.evolve(raster, record=True)
        ours = simulate(net, raster, record_v=True)
        assert ours.hidden.sum() > 0 and ours.output.sum() > 0, trial
        np.testing.assert_array_equal(ours.output, out)
        np.testing.assert_array_equal(ours.hidden, rec_["Spikes"])
        np.testing.assert_array_equal(ours.v_hidden, rec_["Vmem"])
        np.testing.assert_array_equal(ours.v_output, rec_["Vmem_out"])


def test_the_net_refuses_out_of_range_values_by_name() -> None:
    net = _random_net(np.random.default_rng(0), 2, 3, 1, 0.5)
    with pytest.raises(SpecError, match="int8") as info:
        XyloNet(net.w_in * 2, net.w_rec, net.w_out, net.dash_syn, net.dash_mem, net.threshold, net.bias,
                net.dash_syn_out, net.dash_mem_out, net.threshold_out, net.bias_out)
    assert info.value.parameter == "w_in"
    with pytest.raises(SpecError) as info:
        XyloNet(net.w_in, net.w_rec, net.w_out, net.dash_syn, net.dash_mem, -net.threshold - 1, net.bias,
                net.dash_syn_out, net.dash_mem_out, net.threshold_out, net.bias_out)
    assert info.value.parameter == "threshold"
    with pytest.raises(SimulationError):
        simulate(net, -np.ones((4, 2)))


# -- the cycle model ----------------------------------------------------------------------------------------------

def _config(net: XyloNet) -> types.SimpleNamespace:
    """The fields of a samna XyloConfiguration that ``cycles_model`` reads."""
    ns = types.SimpleNamespace
    return ns(input=ns(weights=net.w_in[:, :, 0]), readout=ns(weights=net.w_out),
              reservoir=ns(weights=net.w_rec[:, :, 0], neurons=[ns(alias_target=None)] * net.sizes[1]),
              synapse2_enable=False)


@pytest.mark.parametrize("case", range(6))
def test_cycles_equal_rockpools_cycles_model(case: int) -> None:
    model = _rockpool_xylo()
    rng = np.random.default_rng(case)
    n_in, n_hid, n_out, rec = [(16, 64, 8, 0.0), (16, 200, 4, 0.1), (8, 1000, 8, 0.05), (3, 30, 2, 0.9),
                               (16, 500, 8, 0.0), (12, 120, 1, 0.3)][case]
    net = _random_net(rng, n_in, n_hid, n_out, rec)
    for p in (1.0, 0.4, 0.05):
        raster = rng.integers(1, 4, (60, n_in)) * (rng.random((60, n_in)) < p)
        run = simulate(net, raster)
        theirs, _ = model.cycles_model(_config(net), raster, run.hidden, run.output)
        p_in = np.count_nonzero(raster, axis=1) / n_in
        p_hid = np.count_nonzero(run.hidden, axis=1) / n_hid
        ours = cycles(n_in, n_hid, n_out, float(np.count_nonzero(net.w_rec[:, :, 0], axis=1).mean()), p_in, p_hid)
        assert ours.mean() == pytest.approx(theirs, rel=1e-9)
        # Scalar probabilities and the clock follow.
        theirs_p, _ = model.cycles_model(_config(net), p, p / 2, 1.0)
        ours_p = cycles(n_in, n_hid, n_out, fanout_of(net), p, p / 2)
        assert float(ours_p) == pytest.approx(theirs_p, rel=1e-9)
    assert clock_needed(float(cycles(n_in, n_hid, n_out, fanout_of(net), 1.0, 1.0)), 1e-3) == pytest.approx(
        model.est_clock_freq(_config(net), 1e-3), rel=1e-9)


def fanout_of(net: XyloNet) -> float:
    return float(np.count_nonzero(net.w_rec[:, :, 0], axis=1).mean())


# -- the target ---------------------------------------------------------------------------------------------------

def _graph(n_in: int, n_hid: int, n_out: int, seed: int = 0) -> spikec.ir.Graph:
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(n_in, n_hid, bias=False), LIF(n_hid, tau=10e-3, dt=1e-3),
                                torch.nn.Linear(n_hid, n_out, bias=False), LIF(n_out, tau=10e-3, dt=1e-3))
    return spikec.load(model, input_shape=(n_in,), dt=1e-3)


# (16, 64, 2): a dense 64 -> 2 readout gives each output neuron 64 synapses.
@pytest.mark.parametrize("sizes, parameter", [((17, 8, 2), "input_channels"), ((4, 8, 9), "output_neurons"),
                                               ((16, 1001, 2), "hidden_neurons"), ((16, 64, 2), "fan_in")])
def test_mapping_refuses_what_xylo_cannot_hold(sizes, parameter) -> None:
    graph = _graph(*sizes)
    with pytest.raises(ResourceLimitError) as info:
        get_target("xylo").compile(graph)
    assert info.value.parameter == parameter and info.value.fix


def test_compile_run_price_and_the_clock_report() -> None:
    target = get_target("xylo")
    compiled = target.compile(_graph(16, 48, 6))
    mapping = to_xylo(compiled.program)
    assert mapping.net.sizes == (16, 48, 6) and mapping.hidden == ("1",)
    x = (np.random.default_rng(1).random((2, 40, 16)) < 0.3).astype(float)
    run = target.backend("emulator")(compiled.program, {"input": x}, 42)
    est = target.price(run.counters, compiled.program)
    assert est.latency == pytest.approx(42e-3) and est.energy == pytest.approx(XYLO_POWER.p_dynamic.value * 42e-3)
    per_step = step_cycles(run.counters, mapping)
    assert per_step.shape == (2, 42) and fanout(mapping) == 0.0
    assert "fits the 50 MHz clock" in target.notes(run.counters, compiled.program)[0]
    slow = target.compile(_graph(16, 48, 6), {"clock_mhz": 1.0})
    note = target.notes(run.counters, slow.program)[0]
    assert "does NOT fit the 1 MHz clock" in note and "Fix:" in note
    est_slow = target.price(run.counters, slow.program)
    assert est_slow.latency > 42e-3     # the chip falls behind real time


def test_a_worst_case_1000_neuron_net_does_not_fit_50_mhz_at_1_ms() -> None:
    worst = float(cycles(16, 1000, 8, 0.0, 1.0, 1.0))
    assert clock_needed(worst, 1e-3) > 50e6


@settings(max_examples=60, deadline=None)
@given(st.integers(-(1 << 15), (1 << 15) - 1), st.integers(0, 15))
def test_a_decayed_register_moves_toward_zero_and_never_past_it(x: int, dash: int) -> None:
    after = int(x - decay(np.array([x]), np.array([dash]))[0])
    assert abs(after) < abs(x) or x == 0
    assert after * x >= 0


def test_the_bundled_model_does_not_fit_and_the_error_says_why() -> None:
    with pytest.raises(ResourceLimitError) as info:
        get_target("xylo").compile(spikec.load("default"))
    assert info.value.parameter == "input_channels" and "64 input channels" in str(info.value)
    assert "16" in str(info.value.limit)


def test_lowering_sets_thresholds_and_nearest_bit_shift_decays() -> None:
    graph = _graph(16, 8, 2)
    generic = compile_for(graph, XYLO_SPEC, XyloOptions(), target="xylo", timing=ONE_STEP_PER_HOP).program
    mapping = to_xylo(generic)
    hidden = generic.population("1")
    # The engine fires on v > theta; Xylo on v >= threshold: the same for integers with threshold = theta + 1.
    np.testing.assert_array_equal(mapping.net.threshold, hidden.params["v_threshold"] + 1)
    # tau = 10 ms at 1 ms: keep 0.905 per step -> 1 - 2**-3 = 0.875 is nearest; an instantaneous current
    # (a LIF) gets the fastest synapse that passes charge, dash 1.
    assert set(mapping.net.dash_mem.tolist()) == {3} and set(mapping.net.dash_syn.ravel().tolist()) == {1}
    # The compiled program is that configuration in the engine's xylo neurons, and reads back as it.
    compiled = get_target("xylo").compile(graph)
    assert {p.kernel for p in compiled.program.populations} == {"input", "xylo"}
    np.testing.assert_array_equal(compiled.program.population("1").params["threshold"], mapping.net.threshold)
    back = to_xylo(compiled.program).net
    for name in ("w_in", "w_rec", "w_out", "dash_syn", "dash_mem", "threshold", "bias", "dash_syn_out",
                 "dash_mem_out", "threshold_out", "bias_out"):
        np.testing.assert_array_equal(getattr(back, name), getattr(mapping.net, name), err_msg=name)
    assert any("reset by subtraction" in c.what for r in compiled.records for c in r.changes)


def test_the_emulator_is_the_c_engine_and_lines_up_with_the_programs_timing() -> None:
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(16, 4, bias=False), LIF(4, tau=10e-3, dt=1e-3),
                                torch.nn.Linear(4, 2, bias=False), LIF(2, tau=10e-3, dt=1e-3))
    with torch.no_grad():
        model[0].weight.fill_(2.0)
        model[2].weight.fill_(4.0)
    target = get_target("xylo")
    program = target.compile(spikec.load(model, input_shape=(16,), dt=1e-3)).program
    assert target.backend("emulator") is spikec.targets.protocol.emulator
    x = np.zeros((1, 10, 16))
    x[0, 3] = 1.0                                     # one volley at step 3
    out = target.backend("emulator")(program, {"input": x}, 12).output[0]
    assert int(np.flatnonzero(out.any(axis=1))[0]) == 3 + 2   # two hops: hidden at step 4, output at step 5
    # Xylo's own arithmetic sees the volley one step later (the first hop), and agrees step for step.
    raster = np.zeros((12, 16), np.int64)
    raster[4] = 1
    np.testing.assert_array_equal(out, simulate(to_xylo(program).net, raster).output)


def test_the_cycle_model_reads_the_engines_counters_as_xylos_events() -> None:
    # Cycles from the engine's per-step counters equal the model at the activity of Xylo's own run:
    # input channels with events as Xylo takes them (a step after the program's input), hidden
    # neurons that fire (a burst of up to 31 spikes is one event).
    target = get_target("xylo")
    compiled = target.compile(_graph(16, 40, 4, seed=3))
    mapping = to_xylo(compiled.program)
    rng = np.random.default_rng(5)
    x = rng.integers(0, 6, (2, 30, 16)) * (rng.random((2, 30, 16)) < 0.4)
    run = target.backend("emulator")(compiled.program, {"input": x}, 32)
    raster = np.zeros((2, 32, 16), np.int64)
    raster[:, 1:31] = x
    ref = simulate(mapping.net, raster)
    assert ref.hidden.max() > 1                       # multi-spike events occur
    want = cycles(16, 40, 4, fanout(mapping), np.count_nonzero(raster, axis=2) / 16,
                  np.count_nonzero(ref.hidden, axis=2) / 40)
    np.testing.assert_allclose(step_cycles(run.counters, mapping), want, rtol=1e-12)
