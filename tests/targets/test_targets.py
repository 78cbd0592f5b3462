"""What every target must do (the "runs on every target" group), with per-target expectations,
plus discovery: the target folders and a plug-in target found through its entry point."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import spikec
from spikec.cli import main
from spikec.errors import SpecError, UnsupportedError
from spikec.hardware import HardwareSpec, Sourced
from spikec.runtime import run
from spikec.runtime.cost import CostTable
from spikec.targets import Options, Target, Timing, get_target, option, target_names
from spikec.targets.always_on import ALWAYS_ON

PLUGIN = Path(__file__).resolve().parents[1] / "data" / "plugin"

# What each built-in target is expected to do on the bundled model, and what it must refuse
# (options -> the parameter the error names).  A target missing here fails the test below, so
# a new target comes with its expectations.
EXPECTED = {
    "loihi1": {"kernels": {"input", "cuba_fixed"}, "refuses": [({"weight_bits": 9}, "weight_bits")]},
    "loihi2": {"kernels": {"input", "cuba_fixed"}, "backends": {"emulator", "lava"},
               "refuses": [({"per_channel": True}, "per_channel"), ({"arithmetic": "float"}, "arithmetic"),
                           ({"weight_bits": 9}, "weight_bits")]},
    "spinnaker2": {"kernels": {"input", "cuba_fixed"},
                   "refuses": [({"neurons_per_pe": 4000}, "neurons_per_pe"), ({"chips": 0}, "chips"),
                               ({"weight_bits": 17}, "weight_bits")]},
    "sfq": {"kernels": {"input", "cuba_fixed"},
            "refuses": [({"arithmetic": "float"}, "arithmetic"), ({"bias_levels": 4, "weight_bits": 4}, "weight_bits"),
                        ({"cooling_w_per_w": 50.0}, "cooling_w_per_w")]},
    "reram": {"kernels": {"input", "cuba_fixed"},
              "refuses": [({"weight_bits": 10}, "weight_bits"), ({"adc_bits": 1}, "adc_bits"),
                          ({"read_time": 5.0}, "read_time")]},
    "fpga": {"kernels": {"input", "cuba_fixed"},
             "refuses": [({"preset": "tpu"}, "preset"), ({"weight_bits": 17}, "weight_bits"), ({"pes": 0}, "pes")]},
    "xylo": {"bundled": "Xylo Audio 2 has 16 inputs and 8 outputs; the bundled model has 64 and 10 (test_xylo.py "
                        "checks the refusal)",
             "refuses": [({"arithmetic": "float"}, "arithmetic"), ({"weight_bits": 9}, "weight_bits"),
                         ({"clock_mhz": 0.5}, "clock_mhz")]},
    "tulip": {"bundled": "TULIP runs binary networks; the bundled model is LIF (test_tulip.py checks the refusal)",
              "refuses": [({"weight_bits": 9}, "weight_bits"), ({"per_channel": "maybe"}, "per_channel")]},
}


@pytest.fixture(scope="module")
def digits() -> tuple[spikec.ir.Graph, spikec.api.Dataset]:
    graph = spikec.load("default")
    return graph, spikec.load_dataset(spikec.bundled_data(), graph).take(40)


def test_every_builtin_target_folder_is_found_and_has_expectations() -> None:
    folders = {p.parent.name for p in Path(spikec.targets.__file__).parent.glob("*/__init__.py")
               if not p.parent.name.startswith("_")}
    assert folders == set(target_names()) == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_target_compiles_runs_and_prices_the_bundled_model(name: str, digits) -> None:
    if "bundled" in EXPECTED[name]:   # a chip too small for, or of another kind than, the bundled model
        pytest.skip(EXPECTED[name]["bundled"])
    graph, data = digits
    target = get_target(name)
    compiled = target.compile(graph)
    program = compiled.program
    hop = target.timing.steps_per_hop
    # Timing as the target declares it: two hops in the digits model.
    assert program.metadata["target"] == name and program.metadata["pipeline_depth"] == 2 * hop
    assert all(j.delay_base == hop for j in program.projections)
    assert {p.kernel for p in program.populations} == EXPECTED[name]["kernels"]
    assert set(target.backends) == EXPECTED[name].get("backends", {"emulator"})
    report = spikec.run(graph, data, target=target)
    assert report.result.steps == data.steps + 2 * hop
    assert report.accuracy is not None and report.accuracy >= 0.9
    est = target.price(report.result.counters, program)
    assert est.energy > 0 and np.isfinite(est.energy) and est.latency > 0
    assert all(src for src in target.spec.sources().values())
    assert all(c.source for c in target.constants().values())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_target_refuses_what_it_cannot_do_by_name(name: str, digits) -> None:
    graph, _ = digits
    target = get_target(name)
    for options, parameter in EXPECTED[name]["refuses"]:
        with pytest.raises(UnsupportedError) as info:
            target.compile(graph, options)
        assert info.value.parameter == parameter and name in str(info.value), options
    with pytest.raises(UnsupportedError, match=f"target {name} has no option 'warp_drive'"):
        target.compile(graph, {"warp_drive": 1})


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_option_is_sourced_and_its_range_enforced(name: str) -> None:
    target = get_target(name)
    target.options()  # the defaults are valid
    for info in target.options.describe():
        assert info.source and info.help and info.flag.startswith("--")
        if info.type == "int" and info.high is not None:
            with pytest.raises(UnsupportedError, match=f"option '{info.name}'"):
                target.make_options({info.name: int(info.high) + 1})
            assert getattr(target.make_options({info.name: int(info.high)}), info.name) == int(info.high)
        if info.type == "int" and info.low is not None:
            with pytest.raises(UnsupportedError, match=r"int in \["):
                target.make_options({info.name: str(int(info.low) - 1)})
            with pytest.raises(UnsupportedError, match="cannot read"):
                target.make_options({info.name: "seven"})


def test_options_parse_types_and_refuse_bad_values() -> None:
    opts = get_target("spinnaker2").make_options({"pes_per_chip": "16", "per_channel": "yes", "chips": np.int64(2)})
    assert opts.pes_per_chip == 16 and opts.per_channel is True and opts.chips == 2 and type(opts.chips) is int
    with pytest.raises(UnsupportedError, match="expected int"):
        get_target("spinnaker2").make_options({"pes_per_chip": 1.5})
    with pytest.raises(UnsupportedError, match="expected bool"):
        get_target("loihi1").make_options({"per_channel": 1})
    with pytest.raises(UnsupportedError, match="one of fixed, float"):
        get_target("loihi1").make_options({"arithmetic": "double"})


def test_a_target_is_checked_when_it_is_built() -> None:
    spec = HardwareSpec("x", weight_bits=Sourced(8, "x"))
    table = CostTable(name="x", e_sop=Sourced(1e-12, "x"))
    with pytest.raises(SpecError, match="neither a CostTable nor a price"):
        Target("x", spec, lambda g, o, c: None)
    with pytest.raises(SpecError, match="lower-case"):
        Target("My Chip", spec, lambda g, o, c: None, costs=table)
    with pytest.raises(SpecError, match="steps_per_hop"):
        Timing(-1, "x")
    with pytest.raises(SpecError, match="source"):
        option(1, type="int", source="", help="x")

    class Wrong(Options):
        target = "other"

    with pytest.raises(SpecError, match="target = 'other'"):
        Target("x", spec, lambda g, o, c: None, costs=table, options=Wrong)


def test_a_compile_that_skips_the_shared_flow_is_caught(digits) -> None:
    from spikec.compiler.pipeline import compile_graph

    spec = HardwareSpec("x")
    rogue = Target("rogue", spec, lambda g, o, c: compile_graph(g, spec, arithmetic="float"), costs=CostTable(name="x"))
    with pytest.raises(SpecError, match="pipeline depth"):
        rogue.compile(digits[0])


def test_a_target_may_bring_its_own_emulator_and_the_rates_are_per_neuron_per_step(digits) -> None:
    graph, data = digits
    spec = HardwareSpec("x")
    def mine(program, inputs, steps, *, threads=None):  # type: ignore[no-untyped-def]
        raise NotImplementedError

    own = Target("own", spec, lambda g, o, c: None, costs=CostTable(name="x"), backends={"emulator": mine, "b": mine})
    assert list(own.backends) == ["emulator", "b"] and own.backend("emulator") is mine
    with pytest.raises(SpecError, match="not callable"):
        Target("own", spec, lambda g, o, c: None, costs=CostTable(name="x"), backends={"b": "b"})
    assert list(get_target("loihi2").backends) == ["emulator", "lava"]
    # The emulator's rates (from its spike counters) are the reference simulator's, float64 on the float model.
    report = spikec.run(graph, data)
    ref = spikec.evaluate(graph, data, dtype=np.float64)
    assert report.result.rates == pytest.approx(ref.rates, rel=1e-12)


def test_unknown_target_names_the_choices() -> None:
    with pytest.raises(UnsupportedError, match="loihi2"):
        get_target("truenorth")


def test_compare_puts_every_target_side_by_side(capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch,
                                                 digits) -> None:
    graph, data = digits
    rows = spikec.compare(graph, data.take(30))
    assert [r.target for r in rows] == target_names()
    for r in rows:
        if "bundled" in EXPECTED[r.target]:     # refused by name, a row all the same
            assert r.refused and r.energy is None and r.accuracy is None, r.target
        else:
            assert r.refused is None and r.energy > 0 and r.chips >= 1 and r.accuracy is not None, r.target
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["compare", "default", "--targets", "loihi1,loihi2,xylo", "--samples", "20"]) == 0
    out = capsys.readouterr().out
    assert "Loihi 1" in out and "Loihi 2" in out and "%" in out
    assert "does not fit" in out and "xylo does not take this model: " in out and "16" in out
    # Only refusals: the command fails with the first one, as compiling for that chip would.
    assert main(["compare", "default", "--targets", "xylo,tulip", "--samples", "20"]) == 2
    assert "error:" in capsys.readouterr().err


def _spikec(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(PLUGIN), "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "spikec.cli", *args], capture_output=True, text=True, env=env,
                          timeout=300)


def test_a_plugin_target_from_an_entry_point_lists_compiles_runs_and_is_priced(tmp_path: Path) -> None:
    listed = _spikec("targets")
    assert listed.returncode == 0, listed.stderr
    assert "toychip: Toy chip" in listed.stdout and "--toy-voltage" in listed.stdout and "2 step(s)" in listed.stdout
    out = tmp_path / "toy.npz"
    compiled = _spikec("compile", "default", "--target", "toychip", "--weight-bits", "5", "--output", str(out))
    assert compiled.returncode == 0, compiled.stderr
    assert "compiled for Toy chip (fixed)" in compiled.stdout and out.exists()
    ran = _spikec("run", str(out), "--input", str(spikec.bundled_data()), "--samples", "40")
    assert ran.returncode == 0, ran.stderr
    assert "x 24 steps" in ran.stdout and "Toy chip (made-up constants)" in ran.stdout  # 20 + 2 hops x 2 steps
    low, high = (_spikec("estimate", "default", "--target", "toychip", "--samples", "20", "--toy-voltage", v)
                 for v in ("0.8", "1.1"))
    assert low.returncode == 0 and high.returncode == 0, low.stderr + high.stderr

    def energy(p: subprocess.CompletedProcess) -> float:
        return float(next(line for line in p.stdout.splitlines() if "uJ and" in line).split(":")[1].split()[0])

    assert energy(high) == pytest.approx(energy(low) * (1.1 / 0.8) ** 2, rel=1e-3)
    bad = _spikec("estimate", "default", "--target", "toychip", "--toy-voltage", "5")
    assert bad.returncode == 2 and "toy_voltage" in bad.stderr and "[0.6, 1.1]" in bad.stderr
    other = _spikec("run", "default", "--target", "loihi2", "--toy-voltage", "0.9")
    assert other.returncode == 2 and "loihi2 has no option 'toy_voltage'" in other.stderr


def test_a_plugin_registered_under_another_name_is_refused(tmp_path: Path) -> None:
    info = tmp_path / "alias-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: alias\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[spikec.targets]\nnotoy = toychip:TARGET\n")
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{PLUGIN}"}
    p = subprocess.run([sys.executable, "-m", "spikec.cli", "targets", "notoy"], capture_output=True, text=True,
                       env=env, timeout=120)
    assert p.returncode == 2 and "defines target 'toychip' under the name 'notoy'" in p.stderr


def test_a_broken_plugin_is_named_not_a_crash(tmp_path: Path) -> None:
    info = tmp_path / "brokenchip-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: brokenchip\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[spikec.targets]\nbrokenchip = brokenchip_missing:TARGET\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    p = subprocess.run([sys.executable, "-m", "spikec.cli", "targets"], capture_output=True, text=True, env=env,
                       timeout=120)
    # Listed as broken (exit 2), while the other targets are still listed and usable.
    assert p.returncode == 2 and "brokenchip" in p.stderr and "failed to import" in p.stderr
    assert "Traceback" not in p.stderr and "loihi2: Loihi 2" in p.stdout
    p = subprocess.run([sys.executable, "-m", "spikec.cli", "run", "default", "--target", "brokenchip"],
                       capture_output=True, text=True, env=env, timeout=120)
    assert p.returncode == 2 and "brokenchip_missing" in p.stderr and "Traceback" not in p.stderr


def test_a_biased_recurrent_projection_rides_an_always_on_neuron_on_every_target() -> None:
    # A bias on a recurrent projection lowers through a relay population: one more hop on the loop.
    # Every target dissolves the relay and sends its bias from an always-on neuron, from the step the
    # recurrent edge first delivers, so each chip equals the quantized graph shifted by its hops.
    rng = np.random.default_rng(0)
    lif = spikec.ir.make_population(spikec.ir.LIF, 4, tau=1e-2, v_threshold=0.5)
    nodes = {"in": spikec.ir.Input((3,)), "w": spikec.ir.Linear(rng.normal(size=(4, 3))), "h": lif,
             "rec": spikec.ir.Affine(rng.normal(0, 0.1, (4, 4)), np.full(4, 0.3)), "out": spikec.ir.Output()}
    edges = [("in", "w"), ("w", "h"), ("h", "rec"), ("rec", "h"), ("h", "out")]
    graph = spikec.ir.Graph(nodes, edges, dt=1e-3)
    x = (np.random.default_rng(1).random((2, 30, 3)) < 0.4).astype(np.int64)
    for name in ("loihi1", "loihi2", "spinnaker2"):
        compiled = get_target(name).compile(graph)
        program = compiled.program
        assert program.neuron_count() == 5 and all(p.kernel != "pass" for p in program.populations), name
        (bias,) = [j for j in program.projections if j.source == ALWAYS_ON]
        assert bias.target == "h" and np.all(bias.delay == 1), name     # graph step 1, one hop in: 1 + 1 - 1
        chip = run(program, {"in": x}, 31, record=["h"]).recorded["h"][:, 1:]
        want = spikec.ir.simulate(compiled.graph, {"in": x}, mode="fixed", record=["h"]).recorded["h"]
        assert np.array_equal(chip.reshape(want.shape), want) and want.sum() > 0, name
    no_bias = graph.with_node("rec", spikec.ir.Linear(nodes["rec"].weight))
    assert get_target("spinnaker2").compile(no_bias).program.neuron_count() == 4  # no relay at all


def test_a_relay_that_cannot_be_dissolved_on_a_loop_is_refused() -> None:
    # Without fuse_linear a two-projection chain on the loop keeps a relay whose projection is a
    # matrix, not a copy: it cannot be dissolved, and with one step per hop it would lengthen the loop.
    rng = np.random.default_rng(0)
    lif = spikec.ir.make_population(spikec.ir.LIF, 4, tau=1e-2, v_threshold=0.5)
    nodes = {"in": spikec.ir.Input((3,)), "w": spikec.ir.Linear(rng.normal(size=(4, 3))), "h": lif,
             "r1": spikec.ir.Linear(rng.normal(0, 0.3, (5, 4))), "r2": spikec.ir.Linear(rng.normal(0, 0.3, (4, 5))),
             "out": spikec.ir.Output()}
    edges = [("in", "w"), ("w", "h"), ("h", "r1"), ("r1", "r2"), ("r2", "h"), ("h", "out")]
    graph = spikec.ir.Graph(nodes, edges, dt=1e-3)
    passes = "fold_batchnorm,map_delays,lower,map"
    for name in ("loihi1", "spinnaker2"):
        with pytest.raises(UnsupportedError, match="relay population 'r1' sits on a recurrent loop") as info:
            get_target(name).compile(graph, {"passes": passes, "arithmetic": "float"})
        assert info.value.node == "r1" and "fuse" in info.value.fix
    assert get_target("spinnaker2").compile(graph).program.neuron_count() == 4    # fused: no relay
