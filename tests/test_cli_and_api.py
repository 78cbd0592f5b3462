"""The CLI and the top-level API on the bundled model and on bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import spikec
from spikec.cli import main
from spikec.errors import ModelImportError, SimulationError
from spikec.ir import LIF, Graph, Input, Linear, Output, make_population, save_graph


def _tiny_graph() -> Graph:
    rng = np.random.default_rng(0)
    return Graph(
        {"in": Input((4,)), "fc": Linear(rng.normal(size=(3, 4))),
         "lif": make_population(LIF, 3, tau=0.01, v_threshold=0.5, r=10.0), "out": Output()},
        [("in", "fc"), ("fc", "lif"), ("lif", "out")],
    )


def test_bundled_model_loads_and_reaches_its_recorded_accuracy() -> None:
    graph = spikec.load(spikec.bundled_model())
    data = spikec.load_dataset(spikec.bundled_data(), graph)
    ev = spikec.evaluate(graph, data)
    assert data.samples >= 300 and ev.accuracy is not None
    # the training script recorded the reference accuracy in the file; simulation reproduces it
    assert ev.accuracy == pytest.approx(graph.metadata["float_test_accuracy"], abs=1e-9)
    assert ev.accuracy > 0.9


def test_info_and_simulate_print_tables(capsys: pytest.CaptureFixture[str], tmp_path) -> None:
    assert main(["info", "default"]) == 0
    out = capsys.readouterr().out
    assert "neurons" in out and "connections = 9,472   weights = 9,472" in out and "LIF" in out
    save = tmp_path / "res.npz"
    assert main(["simulate", "default", "--samples", "20", "--save", str(save)]) == 0
    out = capsys.readouterr().out
    assert "accuracy:" in out and "spikes/neuron/step" in out
    with np.load(save) as res:
        assert res["predictions"].shape == (20,)


def test_simulate_a_saved_graph_with_labels(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    graph = _tiny_graph()
    save_graph(graph, tmp_path / "g.npz")
    spikes = (np.random.default_rng(1).random((5, 30, 4)) < 0.5).astype(np.uint8)
    np.savez(tmp_path / "d.npz", spikes=spikes, labels=np.zeros(5, dtype=int))
    assert main(["simulate", str(tmp_path / "g.npz"), "--input", str(tmp_path / "d.npz")]) == 0
    assert "accuracy:" in capsys.readouterr().out


def test_errors_are_reported_without_traceback(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", str(tmp_path / "missing.nir")]) == 2
    assert "no such file" in capsys.readouterr().err
    (tmp_path / "junk.nir").write_bytes(b"not hdf5")
    assert main(["info", str(tmp_path / "junk.nir")]) == 2
    err = capsys.readouterr().err
    assert "error:" in err and "Traceback" not in err


def test_dataset_shape_mismatch_names_the_input(tmp_path) -> None:
    graph = _tiny_graph()
    np.savez(tmp_path / "d.npz", spikes=np.zeros((2, 10, 5)))
    data = spikec.load_dataset(tmp_path / "d.npz", graph)
    with pytest.raises(SimulationError) as err:
        spikec.evaluate(graph, data)
    assert err.value.node == "in" and "(batch, time, 4)" in str(err.value)


def test_load_rejects_unknown_sources(tmp_path) -> None:
    (tmp_path / "m.txt").write_text("x")
    with pytest.raises(ModelImportError):
        spikec.load(tmp_path / "m.txt")
    with pytest.raises(ModelImportError):
        spikec.load(42)


def test_run_on_the_engine_saves_a_program_that_runs_alone(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    prog = tmp_path / "digits.program.npz"
    assert main(["run", "default", "--samples", "40", "--save-program", str(prog)]) == 0
    first = capsys.readouterr().out
    assert "C engine (float): 40 samples x 20 steps" in first
    assert "accuracy:" in first and "Loihi (Davies 2018, Table 2)" in first and "synaptic ops" in first
    # The saved program needs neither the model nor its frontend, and computes the same.
    assert main(["run", str(prog), "--input", str(spikec.bundled_data()), "--samples", "40"]) == 0
    second = capsys.readouterr().out
    acc = [line for line in first.splitlines() if line.startswith("accuracy:")]
    assert acc and acc == [line for line in second.splitlines() if line.startswith("accuracy:")]


def test_run_rejects_a_program_without_input(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    from spikec.compiler.lower import lower
    from spikec.runtime import save_program

    path = tmp_path / "tiny.npz"
    save_program(lower(_tiny_graph()), path)
    assert main(["run", str(path)]) == 2
    assert "--input" in capsys.readouterr().err


def test_demo_runs_the_reference_and_the_engine_with_one_accuracy(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--samples", "30"]) == 0
    out = capsys.readouterr().out
    accs = [line for line in out.splitlines() if line.startswith("accuracy:")]
    assert len(accs) == 2 and accs[0] == accs[1]
    assert "C engine" in out


def test_compile_explains_each_pass_and_the_program_runs(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "digits.loihi.npz"
    assert main(["compile", "default", "--explain", "--samples", "60", "--output", str(out)]) == 0
    text = capsys.readouterr().out
    for name in ("fold_batchnorm", "map_delays", "quantize", "lower"):
        assert f"{name}:" in text
    assert "LIF -> FixedCubaLIF" in text and "compiled for Loihi 1 (fixed)" in text
    assert main(["run", str(out), "--input", str(spikec.bundled_data())]) == 0
    ran = capsys.readouterr().out
    assert "C engine (fixed)" in ran
    acc = float(next(line for line in ran.splitlines() if line.startswith("accuracy:")).split()[1].rstrip("%"))
    assert acc >= 96.5  # 8-bit Loihi weights lose at most 1 point of the float 97.5 %


def test_the_api_does_what_the_cli_does(tmp_path) -> None:
    graph = spikec.load("default")                        # "default" works as in the CLI
    assert graph.neuron_count() == spikec.load(spikec.bundled_model()).neuron_count()
    compiled = spikec.compile("default", "spinnaker2", options={"neurons_per_pe": 64})
    assert compiled.program.metadata["options"]["neurons_per_pe"] == 64
    assert compiled.program.n_cores > spikec.compile("default", "spinnaker2").program.n_cores == 1
    report = spikec.run("default", target="loihi2", samples=30)
    assert report.result.steps == 22 and report.accuracy is not None and report.estimate is not None
    assert report.priced_by.name == "loihi2"
    spikec.save_program(compiled.program, tmp_path / "p.npz")
    again = spikec.run(tmp_path / "p.npz", spikec.bundled_data(), samples=30)
    assert again.target.name == "spinnaker2" and again.priced_by.name == "spinnaker2"  # read from the program
    est = spikec.estimate("default", "loihi1", samples=20)
    assert est.estimate.energy > 0 and est.activity["synops"] > 0 and "e_sop" in est.constants
    rows = spikec.compare("default", targets="loihi1,spinnaker2", samples=20)
    assert [r.target for r in rows] == ["loihi1", "spinnaker2"]
    with pytest.raises(spikec.UnsupportedError, match="need a target"):
        spikec.run("default", options={"weight_bits": 4})
    with pytest.raises(spikec.UnsupportedError, match="runs as it is"):
        spikec.run(tmp_path / "p.npz", spikec.bundled_data(), target="loihi1")
    with pytest.raises(SimulationError, match="--input"):
        spikec.run(tmp_path / "p.npz")


def test_compile_lists_and_chooses_passes(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["compile", "default", "--passes", "list"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in ("fold_batchnorm", "map_delays", "quantize", "lower", "map"))
    assert main(["compile", "default", "--passes", "quantize,lower", "--explain"]) == 0
    out = capsys.readouterr().out
    assert "quantize:" in out and "map_delays:" not in out and "3 cores" in out  # unmapped: a core per population
    assert main(["compile", "default", "--passes", "lower"]) == 2
    assert "'quantize' mandatory" in capsys.readouterr().err


def test_markup_in_names_and_messages_is_printed_as_it_is(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    rng = np.random.default_rng(0)
    name = "[/bold][red]lif"
    graph = Graph({"in": Input((4,)), "fc": Linear(rng.normal(size=(3, 4))),
                   name: make_population(LIF, 3, tau=0.01, v_threshold=0.5, r=10.0), "out": Output()},
                  [("in", "fc"), ("fc", name), (name, "out")])
    save_graph(graph, tmp_path / "g.npz")
    assert main(["info", str(tmp_path / "g.npz")]) == 0
    assert name in capsys.readouterr().out
    assert main(["info", str(tmp_path / "[/x].nir")]) == 2
    assert "[/x].nir" in capsys.readouterr().err


def test_conv_nets_name_both_synapse_counts(capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    # The NIR paper's Sinabs CNN: a conv weight reaches many output positions (issue 12).
    monkeypatch.setenv("COLUMNS", "200")
    cnn = str(Path(__file__).parent / "data" / "nir" / "paper" / "cnn_sinabs.nir")
    assert main(["info", cnn, "--dt", "1"]) == 0
    assert "connections = 903,680   weights = 39,584" in capsys.readouterr().out
    assert main(["compile", cnn, "--dt", "1", "--arithmetic", "float", "--passes", "lower"]) == 0
    assert "843,296 connections (39,680 stored weights)" in capsys.readouterr().out
