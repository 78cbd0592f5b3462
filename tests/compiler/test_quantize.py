"""quantize: float graph -> integer graph within a HardwareSpec, with an honest record."""

from __future__ import annotations

import numpy as np
import pytest
from spikec import api, ir
from spikec.compiler.lower import lower
from spikec.compiler.passes.quantize import quantize
from spikec.errors import UnsupportedError
from spikec.hardware import HardwareSpec, Sourced
from spikec.hardware.loihi import LOIHI1_SPEC
from spikec.ir.conv import AvgPool2d, Conv2d, SumPool2d
from spikec.ir.fixed import FixedCubaLIF
from spikec.ir.norm import BatchNorm, MembraneBatchNorm
from spikec.ir.reshape import Flatten
from spikec.runtime.engine import run

FLOAT_ACCURACY = 0.975  # the bundled model in the float reference (tests/test_cli_and_api.py)
# LOIHI1_SPEC with a 4-bit shared weight exponent (input_shift 0..7), to exercise the exponent path.
EXP_SPEC = HardwareSpec("loihi+exp", **{k: getattr(LOIHI1_SPEC, k) for k in (
    "weight_bits", "bias_bits", "threshold_bits", "state_bits", "decay_bits")},
    weight_exponent_bits=Sourced(4, "test"))


@pytest.fixture(scope="module")
def digits():
    g = api.load(api.bundled_model())
    return g, api.load_dataset(api.bundled_data(), g)


def _spikes(shape, seed=0, p=0.3):
    return (np.random.default_rng(seed).random(shape) < p).astype(np.int64)


def _graph(nodes, edges, dt=1e-3):
    return ir.Graph(nodes=nodes, edges=edges, dt=dt)


def _engine_matches_reference(graph, x):
    pops = [n for n, v in graph.nodes.items() if isinstance(v, FixedCubaLIF)]
    ref = ir.simulate(graph, x, mode="fixed", record=pops)
    eng = run(lower(graph), x, record=pops)
    for n in pops:
        np.testing.assert_array_equal(eng.recorded[n], ref.recorded[n], err_msg=n)
    for o in graph.outputs:
        np.testing.assert_array_equal(eng.outputs[o], ref.outputs[o], err_msg=o)
    return ref


def test_bundled_model_8_bits_within_one_point_and_figures_for_6_and_4(digits) -> None:
    g, data = digits
    x = data.inputs["input"]
    table = {}
    for spec in (LOIHI1_SPEC, EXP_SPEC):
        for per_channel in (False, True):
            for bits in (8, 6, 4):
                res = quantize(g, spec, weight_bits=bits, per_channel=per_channel, calibration=x)
                acc = api.evaluate(res.graph, data).accuracy
                table[spec.name, per_channel, bits] = (acc, res.record.figures["min_spike_agreement"])
                assert res.record.figures["saturated"] == 0
                if bits == 8:
                    assert acc >= FLOAT_ACCURACY - 0.01, (spec.name, per_channel, acc)
    for k, (acc, agree) in table.items():
        print(f"{k}: accuracy {acc:.4f}, min spike agreement {agree:.4f}")


def test_high_bit_width_agrees_with_the_float_graph(digits) -> None:
    g, data = digits
    res = quantize(g, LOIHI1_SPEC, weight_bits=16, calibration=data.inputs["input"])
    for c in res.record.changes:
        assert c.figures["spike_agreement"] >= 0.999, c
    assert res.record.figures["output_agreement"] == 1.0
    assert api.evaluate(res.graph, data).accuracy == pytest.approx(FLOAT_ACCURACY)


def test_quantized_graph_is_integer_runs_on_engine_bit_exactly_and_input_unchanged(digits) -> None:
    g, data = digits
    before = {n: {k: a.copy() for k, a in v.arrays()} for n, v in g.nodes.items()}
    res = quantize(g, EXP_SPEC, weight_bits=6, calibration=data.inputs["input"][:40])
    for n, v in g.nodes.items():  # the input graph is untouched
        for k, a in v.arrays():
            np.testing.assert_array_equal(a, before[n][k])
    assert type(g.nodes["1"]).__name__ == "LIF"
    q = res.graph
    assert all(isinstance(v, FixedCubaLIF) for v in q.neurons().values())
    for n in ("0", "2"):
        w = q.nodes[n].weight
        assert w.dtype == np.int64 and np.abs(w).max() <= 31  # 6-bit signed mantissa
    for c in res.record.changes:
        f = c.figures
        assert f["input_shift"] > 0 and f["max_weight_error"] > 0 and "spike_agreement" in f
        assert q.nodes[c.node].v_threshold.max() <= (1 << 16) - 1  # 17-bit threshold
    _engine_matches_reference(q, data.inputs["input"][:60])
    assert "spike agreement" in res.record.explain()


def test_per_channel_is_at_least_as_faithful_at_4_bits(digits) -> None:
    g, data = digits
    x = data.inputs["input"]
    # At the default scales (calibration may then choose others; agreement_default is before that).
    layer = quantize(g, LOIHI1_SPEC, weight_bits=4).record
    chan = quantize(g, LOIHI1_SPEC, weight_bits=4, per_channel=True).record
    for a, b in zip(layer.changes, chan.changes):
        assert b.figures["max_weight_error"] <= a.figures["max_weight_error"] + 1e-12
        assert isinstance(b.figures["scale"], list)  # [min, max] over neurons
    layer = quantize(g, LOIHI1_SPEC, weight_bits=4, calibration=x).record
    chan = quantize(g, LOIHI1_SPEC, weight_bits=4, per_channel=True, calibration=x).record
    for a, b in zip(layer.changes, chan.changes):
        assert b.figures["agreement_default"] >= a.figures["agreement_default"]


def test_forced_scale_saturates_and_counts_every_clamp(digits) -> None:
    g, _ = digits
    auto = quantize(g, LOIHI1_SPEC).record.changes[0].figures
    assert auto["saturated"] == {"weights": 0, "biases": 0, "thresholds": 0}
    forced = quantize(g, LOIHI1_SPEC, scales={"1": 4 * auto["scale"]})
    f = forced.record.changes[0].figures
    w = np.asarray(g.nodes["0"].weight)
    g1 = 10 * 1e-3 / 1e-2  # r dt / tau of the bundled LIF
    expected = int(np.count_nonzero(np.round(np.abs(w) * g1 * 4 * auto["scale"]) > 127))
    assert f["saturated"]["weights"] == expected > 0
    assert np.abs(forced.graph.nodes["0"].weight).max() == 127
    assert forced.record.figures["saturated"] == expected
    # A scale beyond the 17-bit threshold saturates the threshold, counted too.
    big = quantize(g, LOIHI1_SPEC, scales={"3": 1e6}).record.changes[1].figures
    assert big["saturated"]["thresholds"] == 10 and big["limited_by"] == "forced"


def test_weights_thresholds_and_biases_round_half_away_from_zero() -> None:
    # IF with r dt = 1 and a forced scale of 1: every value lands on its float value, ties included.
    dt = 2.0 ** -10
    w = np.array([[0.5, 1.5, -0.5, -2.5], [2.5, -1.5, 0.25, -0.75]])
    node = ir.make_population(ir.IF, 2, r=1 / dt, v_threshold=np.array([2.5, 3.5]), v_reset=np.array([0.5, -0.5]))
    g = _graph({"in": ir.Input(4), "w": ir.Affine(w, np.array([1.5, -2.5])), "if": node, "out": ir.Output()},
               [("in", "w"), ("w", "if"), ("if", "out")], dt=dt)
    q = quantize(g, LOIHI1_SPEC, scales={"if": 1.0}).graph
    np.testing.assert_array_equal(q.nodes["w"].weight, [[1, 2, -1, -3], [3, -2, 0, -1]])
    np.testing.assert_array_equal(q.nodes["w"].bias, [2, -3])
    np.testing.assert_array_equal(q.nodes["if"].v_threshold, [3, 4])
    np.testing.assert_array_equal(q.nodes["if"].v_reset, [1, -1])


def test_cuba_if_and_non_spiking_li_readout() -> None:
    n_in, n_h, n_o = 12, 20, 5
    rng = np.random.default_rng(1)
    nodes = {
        "in": ir.Input((n_in,)),
        "w1": ir.Linear(rng.normal(0, 0.6, (n_h, n_in))),
        "cuba": ir.make_population(ir.CubaLIF, n_h, tau_syn=4e-3, tau_mem=1e-2, r=5.0, v_threshold=0.3,
                                   w_in=2.0, v_leak=0.2, reset="subtract"),
        "w2": ir.Affine(rng.normal(0, 0.6, (n_h, n_h)), rng.normal(0, 0.1, n_h)),
        "if": ir.make_population(ir.IF, n_h, r=300.0, v_threshold=0.5),
        "w3": ir.Linear(rng.normal(0, 0.5, (n_o, n_h))),
        "li": ir.make_population(ir.LI, n_o, tau=2e-2, r=1.0),
        "out": ir.Output(),
    }
    nodes["out_if"] = ir.Output()
    edges = [("in", "w1"), ("w1", "cuba"), ("cuba", "w2"), ("w2", "if"), ("if", "out_if"),
             ("cuba", "w3"), ("w3", "li"), ("li", "out")]
    g = _graph(nodes, edges)
    x = _spikes((8, 60, n_in))
    res = quantize(g, LOIHI1_SPEC, weight_bits=16, per_channel=True, calibration=x)
    f = {c.node: c.figures for c in res.record.changes}
    assert f["cuba"]["spike_agreement"] >= 0.99 and f["if"]["spike_agreement"] >= 0.99
    assert f["li"]["relative_error"] < 0.05  # what is left comes from cuba spikes that flip (0.04%)
    assert res.record.figures["saturated"] == 0  # the projection bias capped the scale instead
    assert "non-spiking output" in f["li"]["note"] and isinstance(f["li"]["scale"], float)
    q = res.graph
    assert 0 < q.nodes["cuba"].du[0] < 4096 and q.nodes["if"].dv[0] == 0 and not q.nodes["li"].spiking_output
    assert q.nodes["w2"].bias.dtype == np.int64
    ref = ir.simulate(g, x, mode="float").outputs
    assert ref["out"].std() > 0 and ref["out_if"].sum() > 0
    _engine_matches_reference(q, x)


def _conv_graph(avg: bool):
    rng = np.random.default_rng(2)
    pool = AvgPool2d(2) if avg else SumPool2d(2)
    nodes = {
        "in": ir.Input((2, 8, 8)),
        "conv": Conv2d(rng.normal(0, 0.5, (4, 2, 3, 3)), bias=rng.normal(0, 0.05, 4), padding=1),
        "lif1": ir.make_population(ir.LIF, (4, 8, 8), tau=5e-3, r=2.0, v_threshold=0.4),
        "pool": pool,
        "flat": Flatten(),
        "fc": ir.Linear(rng.normal(0, 0.4 if avg else 0.1, (6, 64))),
        "lif2": ir.make_population(ir.LIF, 6, tau=1e-2, r=3.0, v_threshold=0.3),
        "out": ir.Output(),
    }
    edges = [("in", "conv"), ("conv", "lif1"), ("lif1", "pool"), ("pool", "flat"), ("flat", "fc"),
             ("fc", "lif2"), ("lif2", "out")]
    return _graph(nodes, edges)


@pytest.mark.parametrize("avg", [False, True])
def test_conv_net_per_channel_agrees_and_runs_on_engine(avg: bool) -> None:
    g = _conv_graph(avg)
    x = _spikes((4, 30, 2, 8, 8), seed=3)
    assert ir.simulate(g, x, mode="float").output.sum() > 0
    res = quantize(g, LOIHI1_SPEC, weight_bits=16, per_channel=True, calibration=x)
    for c in res.record.changes:
        assert c.figures["spike_agreement"] >= 0.99, c
    q = res.graph
    assert isinstance(q.nodes["pool"], SumPool2d)  # AvgPool's 1/area went into fc's weights
    thr = q.nodes["lif1"].v_threshold.reshape(4, -1)
    assert np.all(thr == thr[:, :1]) and len(np.unique(thr[:, 0])) > 1  # one scale per channel
    _engine_matches_reference(q, x)
    low = quantize(g, LOIHI1_SPEC, weight_bits=4, calibration=x).graph  # still valid at low width
    assert np.abs(low.nodes["conv"].weight).max() == 7
    _engine_matches_reference(low, x)


def _lif(n, **kw):
    return ir.make_population(ir.LIF, n, tau=1e-2, v_threshold=1.0, **kw)


def test_unquantizable_graphs_name_the_node_and_the_fix() -> None:
    w = np.ones((3, 4))
    bn = MembraneBatchNorm(neuron=_lif(3), mean=np.zeros(3), var=np.ones(3), gamma=np.ones(3), beta=np.zeros(3))
    g = _graph({"in": ir.Input(4), "w": ir.Linear(w), "bn": bn, "out": ir.Output()},
               [("in", "w"), ("w", "bn"), ("bn", "out")])
    with pytest.raises(UnsupportedError, match="fold_batchnorm") as e:
        quantize(g, LOIHI1_SPEC)
    assert e.value.node == "bn"
    g = _graph({"in": ir.Input(4), "w": ir.Linear(w), "b": BatchNorm(np.zeros(3), np.ones(3), np.ones(3), np.zeros(3)),
                "lif": _lif(3), "out": ir.Output()}, [("in", "w"), ("w", "b"), ("b", "lif"), ("lif", "out")])
    with pytest.raises(UnsupportedError, match="fold_batchnorm"):
        quantize(g, LOIHI1_SPEC)
    g = _graph({"in": ir.Input(4), "lif": _lif(4), "out": ir.Output()}, [("in", "lif"), ("lif", "out")])
    with pytest.raises(UnsupportedError, match="Linear or Scale") as e:
        quantize(g, LOIHI1_SPEC)
    assert e.value.node == "lif"
    g = _graph({"in": ir.Input((1, 4, 4)), "p": AvgPool2d(2), "lif": _lif((1, 2, 2)), "out": ir.Output()},
               [("in", "p"), ("p", "lif"), ("lif", "out")])
    with pytest.raises(UnsupportedError, match="no weighted projection"):
        quantize(g, LOIHI1_SPEC)
    g = _graph({"in": ir.Input(4), "w": ir.Linear(w), "out": ir.Output()}, [("in", "w"), ("w", "out")])
    with pytest.raises(UnsupportedError, match="population") as e:
        quantize(g, LOIHI1_SPEC)
    with pytest.raises(UnsupportedError, match="weight_bits"):
        quantize(_graph({"in": ir.Input(4), "w": ir.Linear(w), "lif": _lif(3), "out": ir.Output()},
                        [("in", "w"), ("w", "lif"), ("lif", "out")]), HardwareSpec("bare"))


def test_loihi_spec_has_a_source_for_every_limit() -> None:
    s = LOIHI1_SPEC
    assert (s.weight_bits.value, s.state_bits.value, s.decay_bits.value, s.bias_bits.value,
            s.threshold_bits.value) == (8, 24, 12, 13, 17)
    assert s.neurons_per_core.value == 1024 and s.max_delay.value == 8
    assert s.mesh_x.value * s.mesh_y.value == 128
    assert all(src for src in s.sources().values())
