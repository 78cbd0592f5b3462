"""Calibration data chooses quantize's scales (compiler/passes/calibrate.py), shown on a small
recurrent net (data/rnn_digits.nir, trained by data/train_rnn_digits.py) compiled for Loihi 2."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import spikec
from spikec import api
from spikec.compiler.passes.calibrate import STEPS, step_factor, step_shift
from spikec.compiler.passes.quantize import quantize
from spikec.targets.loihi2.spec import LOIHI2_SPEC

DATA = Path(__file__).resolve().parents[2] / "data"


@pytest.fixture(scope="module")
def rnn():
    graph = api.load(DATA / "rnn_digits.nir")
    data = api.load_dataset(DATA / "digits_test.npz", graph)  # the held-out digits, coded as in training
    calibration = data.take(100)
    held = api.Dataset({k: v[100:] for k, v in data.inputs.items()}, data.labels[100:], "held-out 100:")
    return graph, calibration, held


def _quantize_record(compiled):
    return next(r for r in compiled.records if r.name == "quantize")


def test_steps_keep_mantissas_in_range() -> None:
    assert 0 in STEPS and step_factor(0) == 1.0 and step_factor(-4) == 0.5 and step_factor(4) == 2.0
    assert step_shift(0, 8, 6) == 8 and step_shift(3, 8, 6) == 8  # larger scales keep the shift
    assert step_shift(-1, 8, 6) == 8 and step_shift(-3, 8, 6) == 8  # 2^-3/4: mantissas shrink, still fit
    assert step_shift(-4, 8, 6) == 7 and step_shift(-4, 6, 6) == 6  # half: one bit of exponent back, not below s0


def test_recurrent_net_on_loihi2_within_one_point_and_calibration_agrees_at_least_as_well(rnn) -> None:
    graph, calibration, held = rnn
    assert graph.back_edges == {("w_rec", "lif")}
    float_acc = api.evaluate(graph, held, dtype=np.float64).accuracy
    default = spikec.compile(graph, "loihi2")
    calibrated = spikec.compile(graph, "loihi2", calibration=calibration)
    acc = {name: spikec.run(c.program, held, backend="emulator").accuracy
           for name, c in (("default", default), ("calibrated", calibrated))}
    print(f"float {float_acc:.4f}, loihi2 default {acc['default']:.4f}, calibrated {acc['calibrated']:.4f}")
    assert abs(acc["calibrated"] - float_acc) <= 0.01, (acc, float_acc)
    rec = _quantize_record(calibrated)
    assert rec.figures["saturated"] == 0 and rec.figures["calibrated_populations"] >= 1
    for c in rec.changes:
        f = c.figures
        print(c.node, f"agreement {f['agreement_default']:.4f} -> {f['spike_agreement']:.4f}",
              f"step {f['calibration_step']}")
        cand = f["agreement_candidates"]
        assert set(cand) == set(STEPS) and cand[f["calibration_step"]] == max(
            v for k, v in cand.items() if k not in f["saturating_candidates"])
        assert f["spike_agreement"] >= f["agreement_default"], c.node
        assert f["saturated"] == {"weights": 0, "biases": 0, "thresholds": 0}
    # the chosen step is what the graph holds: scale = the default's times 2^(k/4)
    base = {c.node: c.figures["scale"] for c in _quantize_record(default).changes}
    for c in rec.changes:
        assert c.figures["scale"] == pytest.approx(base[c.node] * step_factor(c.figures["calibration_step"]))
    assert "calibrated x" in calibrated.explain() and "calibrated" not in default.explain()


def test_saturating_candidates_are_reported_and_chosen_only_on_request(rnn) -> None:
    graph, calibration, _ = rnn
    x = calibration.inputs["input"]
    safe = quantize(graph, LOIHI2_SPEC, calibration=x)
    bold = quantize(graph, LOIHI2_SPEC, calibration=x, calibration_saturation=True)
    s, b = ({c.node: c.figures for c in r.record.changes} for r in (safe, bold))
    assert s["lif"]["saturating_candidates"] and min(s["lif"]["saturating_candidates"]) == 1
    k = b["lif"]["calibration_step"]
    assert k in b["lif"]["saturating_candidates"]  # this net's recurrent layer gains from clamping a few weights
    assert sum(b["lif"]["saturated"].values()) == b["lif"]["saturating_candidates"][k] > 0
    assert bold.record.figures["saturated"] >= b["lif"]["saturating_candidates"][k]  # counted, never silent
    assert b["lif"]["spike_agreement"] > s["lif"]["spike_agreement"]
    assert safe.record.figures["saturated"] == 0


def test_forced_scales_are_not_searched_and_default_is_untouched(rnn) -> None:
    graph, calibration, _ = rnn
    x = calibration.inputs["input"]
    plain = quantize(graph, LOIHI2_SPEC)
    assert all("calibration_step" not in c.figures for c in plain.record.changes)
    scale = plain.record.changes[0].figures["scale"]
    forced = quantize(graph, LOIHI2_SPEC, calibration=x, scales={"lif": scale})
    f = {c.node: c for c in forced.record.changes}
    assert "calibration_step" not in f["lif"].figures and "not calibrated" in f["lif"].what
    assert "calibration_step" in f["readout"].figures
