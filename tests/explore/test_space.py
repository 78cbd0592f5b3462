"""The space file: what it accepts, and every way it is refused (naming the knob and the range)."""

from __future__ import annotations

import pytest
from spikec.errors import SpecError, SpikecError
from spikec.explore import load_space, parse_space


def test_parses_ranges_choices_and_fixed_values(raw_space):
    raw = raw_space
    raw["compiler"] = {"per_channel": [False]}
    raw["targets"]["spinnaker2"]["chips"] = 1
    raw["targets"]["spinnaker2"]["per_channel"] = [False, True]
    space = parse_space(raw)
    s2 = space.target("spinnaker2")
    kinds = {p.name: p.kind for p in s2.params}
    assert kinds == {"per_channel": "choice", "weight_bits": "int", "neurons_per_pe": "int", "tick_us": "float",
                     "chips": "fixed"}
    assert s2.fixed == {"chips": 1}
    assert next(p for p in s2.params if p.name == "neurons_per_pe").log
    # a one-element list is a fixed value; [targets.X] wins over [compiler]
    assert space.target("loihi2").fixed == {"per_channel": False}
    assert space.directions == ("maximize", "minimize", "minimize")


def test_targets_flag_picks_and_adds_targets(raw_space):
    space = parse_space({**raw_space, "compiler": {"weight_bits": {"low": 2, "high": 8}}}, targets=["loihi1"])
    assert [t.target for t in space.targets] == ["loihi1"]
    assert space.target("loihi1").searched[0].name == "weight_bits"


@pytest.mark.parametrize("edit, words", [
    (lambda r: r["targets"]["loihi2"].update(weight_bits={"low": 2, "high": 12}), ["loihi2", "int in [1, 8]"]),
    (lambda r: r["targets"]["loihi2"].update(weight_bits={"low": 2, "high": 9}), ["loihi2", "int in [1, 8]"]),
    (lambda r: r["targets"]["loihi2"].update(weight_bits={"low": 0, "high": 8}), ["loihi2", "int in [1, 8]"]),
    (lambda r: r["targets"]["loihi2"].update(weight_bits=9), ["outside"]),
    (lambda r: r["targets"]["loihi2"].update(per_channel=[False, True]), ["per_channel", "one of False"]),
    (lambda r: r["targets"]["loihi2"].update(cores={"low": 1, "high": 4}), ["no knob 'cores'"]),
    (lambda r: r.update(compiler={"tick_us": 10.0}), ["[compiler]", "tick_us"]),
    (lambda r: r["targets"]["spinnaker2"].update(tick_us={"low": 100.0, "high": 10.0}), ["low 100.0 >= high"]),
    (lambda r: r["targets"]["spinnaker2"].update(tick_us={"low": 0.0, "high": 10.0}), ["outside"]),
    (lambda r: r["targets"]["spinnaker2"].update(weight_bits={"low": 2, "high": 8, "step": 0}), ["step"]),
    (lambda r: r["targets"]["spinnaker2"].update(weight_bits={"low": 2}), ["low and high"]),
    (lambda r: r["targets"]["spinnaker2"].update(weight_bits={"low": 2.5, "high": 8}), ["outside"]),
    (lambda r: r["targets"]["spinnaker2"].update(per_channel={"low": 0, "high": 1}), ["range for a bool"]),
    (lambda r: r["study"].update(objectives=["accuracy", "power"]), ["objectives"]),
    (lambda r: r["study"].update(batch=1), ["batch"]),
    (lambda r: r["study"].update(trials=True), ["trials"]),
    (lambda r: r["study"].update(name="a:b"), ["study name"]),
    (lambda r: r.update(constraints={"real_time": "yes"}), ["real_time"]),
    (lambda r: r.update(constraint={"real_time": True}), ["unknown key"]),
    (lambda r: r.update(targets={}), ["names no target"]),
    (lambda r: r.update(compiler={}, targets={"loihi2": {"weight_bits": 8}}), ["varies nothing", "low = 4"]),
])
def test_refusals_name_the_knob_and_the_fix(edit, words, raw_space):
    raw = raw_space
    edit(raw)
    with pytest.raises(SpecError) as err:
        parse_space(raw)
    for word in words:
        assert word in str(err.value)
    assert "Fix:" in str(err.value) or "limit" in str(err.value)


def test_unknown_target_is_refused_with_the_list(raw_space):
    with pytest.raises(SpikecError) as err:
        parse_space(raw_space, targets=["nochip"])
    assert "nochip" in str(err.value)


def test_file_errors(tmp_path):
    with pytest.raises(SpecError, match="no space file"):
        load_space(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[study\n")
    with pytest.raises(SpecError, match="not valid TOML"):
        load_space(bad)
    good = tmp_path / "mine.toml"
    good.write_text('[targets.loihi2]\nweight_bits = { low = 2, high = 8 }\n')
    space = load_space(good)
    assert space.name == "mine" and space.trials == 24
