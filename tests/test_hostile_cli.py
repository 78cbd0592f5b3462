"""Hostile and edge input through the CLI and the API (issue 12): each case is a clean `error:`
that names what is wrong and the fix, exit status 2 and nothing written half-way, or the right
result.  Every bad file is generated here, in tmp_path."""

from __future__ import annotations

import errno
import io
import os
import threading
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import spikec
from spikec import api
from spikec.api import chips
from spikec.cli import build_parser, clean, main
from spikec.errors import OutputError, ResourceLimitError, SimulationError, UnsupportedError
from spikec.ir import LIF, Graph, Input, Linear, Output, make_population, npzfile, save_graph
from spikec.ir.readout import decode_rate
from spikec.runtime.program import is_program_file


@pytest.fixture(autouse=True)
def _wide(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "400")  # messages on one line, so substrings can be asserted


def _graph(name: str = "lif", weight: float | None = None) -> Graph:
    w = np.random.default_rng(0).normal(size=(3, 4)) if weight is None else np.full((3, 4), weight)
    return Graph({"in": Input((4,)), "fc": Linear(w),
                  name: make_population(LIF, 3, tau=0.01, v_threshold=0.5, r=10.0), "out": Output()},
                 [("in", "fc"), ("fc", name), (name, "out")])


def _spikes(batch: int = 5, steps: int = 30) -> np.ndarray:
    return (np.random.default_rng(1).random((batch, steps, 4)) < 0.5).astype(np.uint8)


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    """A saved tiny graph and a good input file with labels."""
    save_graph(_graph(), tmp_path / "g.npz")
    np.savez(tmp_path / "d.npz", spikes=_spikes(), labels=np.array([0, 1, 2, 0, 1]))
    return {"graph": tmp_path / "g.npz", "data": tmp_path / "d.npz"}


def _fails(argv: list[str], capsys: pytest.CaptureFixture[str], *needles: str) -> str:
    """``spikec argv`` exits 2 with one clean `error:` line holding every needle."""
    assert main([str(a) for a in argv]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("error: ") and "Traceback" not in captured.err
    for needle in needles:
        assert needle in captured.err, captured.err
    return captured.err


# --- 1. no abbreviations ---------------------------------------------------------------------


def test_no_parser_takes_abbreviations() -> None:
    parser = build_parser()
    subparsers = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert parser.allow_abbrev is False and len(subparsers) >= 8
    assert all(p.allow_abbrev is False for p in subparsers.values())
    with pytest.raises(SystemExit) as exit_:
        main(["run", "default", "--save-prog", "x.npz"])
    assert exit_.value.code == 2


def test_run_save_writes_results_not_a_program(files: dict[str, Path], tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out.npz"
    assert main(["run", str(files["graph"]), "--input", str(files["data"]), "--save", str(out)]) == 0
    assert f"saved to {out}" in capsys.readouterr().out
    assert not is_program_file(out)
    with np.load(out) as res:
        assert res["output:out"].shape == (5, 30, 3)


# --- 2. run --save: what the chip output, in simulate --save's format -----------------------------


def test_run_save_has_simulate_keys_counters_and_recorded_spikes(files: dict[str, Path], tmp_path: Path) -> None:
    sim, ran = tmp_path / "sim.npz", tmp_path / "run.npz"
    assert main(["simulate", str(files["graph"]), "--input", str(files["data"]), "--save", str(sim)]) == 0
    assert main(["run", str(files["graph"]), "--input", str(files["data"]), "--save", str(ran),
                 "--record", "lif"]) == 0
    report = spikec.run(files["graph"], files["data"], record=["lif"])
    with np.load(sim) as s, np.load(ran) as r:
        assert set(s.files) <= set(r.files)
        assert {"output:out", "rate:lif", "predictions", "recorded:lif", "counters:lif", "counters:in",
                "counter_names"} <= set(r.files)
        np.testing.assert_array_equal(r["output:out"], report.result.outputs["out"])
        np.testing.assert_array_equal(r["recorded:lif"], report.result.recorded["lif"])
        np.testing.assert_array_equal(r["predictions"], decode_rate(report.result.outputs["out"]))
        assert float(r["rate:lif"]) == pytest.approx(report.result.rates["lif"])
        names = list(r["counter_names"])
        totals = report.result.counters.by_population()["lif"]
        assert r["counters:lif"].tolist() == [totals[n] for n in names] and totals["spikes"] > 0
        # the engine's spikes of the recorded population are the model's: the reference agrees
        np.testing.assert_array_equal(r["recorded:lif"], r["output:out"])


def test_record_needs_the_emulator_and_known_populations(files: dict[str, Path], monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(UnsupportedError, match="emulator"):
        spikec.run(files["graph"], files["data"], target="loihi2", backend="lava", record=["lif"])
    _fails(["run", files["graph"], "--input", files["data"], "--record", "nope"], capsys, "'nope'", "lif")
    monkeypatch.setattr(chips, "_plain_backend", lambda name: lambda *a, **k: pytest.fail("ran"))  # a target's own
    with pytest.raises(UnsupportedError, match="records no populations"):
        spikec.run(files["graph"], files["data"], record=["lif"])
    monkeypatch.undo()
    _fails(["run", files["graph"], "--input", files["data"], "--record", ","], capsys, "--record")


# --- 3. zero samples, zero steps ------------------------------------------------------------


@pytest.mark.parametrize("command", ["simulate", "run"])
@pytest.mark.parametrize("flags, needle", [(["--steps", "0"], "--steps"), (["--samples", "0"], "--samples")])
def test_zero_steps_or_samples_are_refused(files: dict[str, Path], capsys: pytest.CaptureFixture[str], command: str,
                                           flags: list[str], needle: str) -> None:
    _fails([command, files["graph"], "--input", files["data"], *flags], capsys, needle, ">= 1")


@pytest.mark.parametrize("command", ["simulate", "run", "estimate"])
@pytest.mark.parametrize("shape, needle", [((5, 0, 4), "no time steps"), ((0, 30, 4), "no samples")])
def test_inputs_without_samples_or_steps_are_refused(files: dict[str, Path], tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str], command: str,
                                                     shape: tuple[int, ...], needle: str) -> None:
    np.savez(tmp_path / "e.npz", spikes=np.zeros(shape, np.uint8))
    _fails([command, files["graph"], "--input", tmp_path / "e.npz"], capsys, needle, "'spikes'", str(shape))


def test_decode_rate_reads_no_samples_as_no_classes_and_refuses_no_steps() -> None:
    assert decode_rate(np.zeros((0, 7, 3))).shape == (0,)
    with pytest.raises(SimulationError, match="no time steps"):
        decode_rate(np.zeros((4, 0, 3)))
    with pytest.raises(SimulationError, match="no units"):
        decode_rate(np.zeros((4, 2, 0)))
    with pytest.raises(SimulationError, match="steps"):
        spikec.evaluate(_graph(), api.Dataset({"in": _spikes()}, None), steps=0)


# --- 4. labels ------------------------------------------------------------------------------------


@pytest.mark.parametrize("labels, needle", [
    (np.array([0, 1, 3, 0, 1]), "reach 3"),                 # the output has 3 units: classes 0..2
    (np.array([0, -1, 2, 0, 1]), "negative"),
    (np.array([0, 1, 0.5, 0, 1]), "whole numbers"),
    (np.array(["a", "b", "c", "d", "e"]), "dtype"),
    (np.zeros((5, 1), int), "shape (5, 1)"),
    (np.array(2), "shape ()"),
    (np.array([0, 1, 2]), "3 labels for 5 samples"),
])
def test_bad_labels_name_labels(files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                labels: np.ndarray, needle: str) -> None:
    np.savez(tmp_path / "l.npz", spikes=_spikes(), labels=labels)
    for command in ("simulate", "run"):
        _fails([command, files["graph"], "--input", tmp_path / "l.npz"], capsys, "'labels'", needle)


def test_whole_float_labels_count_and_datasets_are_checked_in_the_api(files: dict[str, Path]) -> None:
    graph = _graph()
    as_float = api.Dataset({"in": _spikes()}, np.array([0.0, 1.0, 2.0, 0.0, 1.0]))
    assert as_float.labels is not None and as_float.labels.dtype == np.int64
    assert spikec.evaluate(graph, as_float).accuracy is not None
    too_big = api.Dataset({"in": _spikes()}, np.array([0, 1, 9, 0, 1]))
    with pytest.raises(SimulationError, match="reach 9"):
        spikec.evaluate(graph, too_big)
    with pytest.raises(SimulationError, match="reach 9"):
        spikec.run(graph, too_big)


# --- 5. silent wrong results -------------------------------------------------------------------


@pytest.mark.parametrize("argv, needle", [
    (["simulate", "{g}", "--input", "{d}", "--samples", "-1"], "--samples"),
    (["run", "{g}", "--input", "{d}", "--samples", "-1"], "--samples"),
    (["run", "{g}", "--input", "{d}", "--threads", "0"], "--threads"),
    (["run", "{g}", "--input", "{d}", "--threads", "-5"], "--threads"),
    (["estimate", "{g}", "--input", "{d}", "--threads", "0"], "--threads"),
    (["compare", "{g}", "--input", "{d}", "--threads", "-5"], "--threads"),
    (["compare", "{g}", "--input", "{d}", "--targets", ","], "no targets"),
])
def test_values_that_gave_silent_results_are_refused(files: dict[str, Path], capsys: pytest.CaptureFixture[str],
                                                      argv: list[str], needle: str) -> None:
    _fails([a.format(g=files["graph"], d=files["data"]) for a in argv], capsys, needle)


def test_float32_overflowing_weights_are_refused_with_the_float64_fix(tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    save_graph(_graph(weight=1e300), tmp_path / "big.npz")
    np.savez(tmp_path / "d.npz", spikes=np.ones((2, 5, 4)))
    _fails(["simulate", tmp_path / "big.npz", "--input", tmp_path / "d.npz"], capsys, "'fc'", "'weight'",
           "float32", "--float64")
    assert main(["simulate", str(tmp_path / "big.npz"), "--input", str(tmp_path / "d.npz"), "--float64"]) == 0
    assert "lif" in capsys.readouterr().out


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.complex128, np.bool_])
def test_non_float_dtypes_are_refused_for_float_graphs(dtype: Any) -> None:
    data = api.Dataset({"in": _spikes()}, None)
    with pytest.raises(SimulationError, match="not a float type"):
        spikec.evaluate(_graph(), data, dtype=dtype)


def test_load_dataset_of_none_is_a_clean_error() -> None:
    with pytest.raises(SimulationError, match="NoneType"):
        spikec.load_dataset(None, _graph())  # type: ignore[arg-type]


# --- 6. output files -----------------------------------------------------------------------------


def _output_flags(files: dict[str, Path], path: Path) -> list[list[str]]:
    g, d = str(files["graph"]), str(files["data"])
    return [["simulate", g, "--input", d, "--save", str(path)], ["run", g, "--input", d, "--save", str(path)],
            ["run", g, "--input", d, "--save-program", str(path)], ["compile", g, "--output", str(path)]]


@pytest.mark.parametrize("where", ["missing directory", "a directory", "no permission", "read-only file"])
def test_unwritable_outputs_are_refused_before_any_work(files: dict[str, Path], tmp_path: Path, where: str,
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    path = {"missing directory": tmp_path / "nowhere" / "out.npz", "a directory": tmp_path,
            "no permission": tmp_path / "locked" / "out.npz", "read-only file": tmp_path / "ro.npz"}[where]
    if where == "no permission":
        path.parent.mkdir()
    if where == "read-only file":
        path.write_bytes(b"old")
    real_access = os.access
    # Root may write anywhere: the denial is simulated so the check is tested under any user.
    monkeypatch.setattr(os, "access", lambda p, mode: False if Path(p) in (tmp_path / "locked", tmp_path / "ro.npz")
                        else real_access(p, mode))
    needle = {"missing directory": "does not exist", "a directory": "is a directory",
              "no permission": "no permission", "read-only file": "read-only"}[where]
    # checked BEFORE the work: loading, compiling or running would fail the test
    for work in ("load", "run", "compile", "evaluate"):
        monkeypatch.setattr(api, work, lambda *a, **k: pytest.fail("work began before the output check"))
    for argv in _output_flags(files, path):
        flag = argv[-2]
        _fails(argv, capsys, needle, flag, "Fix:")
    if where == "read-only file":
        assert path.read_bytes() == b"old"


def test_save_writes_exactly_the_name_given_and_reports_it(files: dict[str, Path], tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "result"
    assert main(["simulate", str(files["graph"]), "--input", str(files["data"]), "--save", str(out)]) == 0
    assert f"saved to {out}\n" in capsys.readouterr().out
    assert out.exists() and not out.with_suffix(".npz").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.npz", "g.npz", "result"]


def test_one_file_for_two_outputs_is_refused(files: dict[str, Path], tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "x.npz"
    _fails(["run", files["graph"], "--input", files["data"], "--save", out, "--save-program", out], capsys,
           "--save-program", "own file")


@pytest.mark.parametrize("save", ["graph", "program", "arrays"])
def test_an_interrupted_or_failed_save_leaves_the_old_file_and_no_temporary(tmp_path: Path, save: str,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from spikec.compiler.lower import lower

    path = tmp_path / "x.npz"
    path.write_bytes(b"the old file")
    writers = {"graph": lambda: save_graph(_graph(), path),
               "program": lambda: spikec.save_program(lower(_graph()), path),
               "arrays": lambda: npzfile.save_arrays(path, {"a": np.ones(10**5), "b": np.zeros(10**5)})}
    real = np.lib.format.write_array
    calls = []

    def interrupt_on_second(fh: Any, arr: np.ndarray, **kwargs: Any) -> None:
        calls.append(1)
        if len(calls) == 2:
            raise failure
        real(fh, arr, **kwargs)

    monkeypatch.setattr(np.lib.format, "write_array", interrupt_on_second)
    for failure, caught in ((KeyboardInterrupt(), KeyboardInterrupt),
                            (OSError(errno.ENOSPC, "No space left on device"), OutputError)):
        calls.clear()
        with pytest.raises(caught):
            writers[save]()
        assert path.read_bytes() == b"the old file"
        assert sorted(p.name for p in tmp_path.iterdir()) == ["x.npz"]
    monkeypatch.setattr(np.lib.format, "write_array", real)
    writers[save]()
    assert zipfile.is_zipfile(path) and sorted(p.name for p in tmp_path.iterdir()) == ["x.npz"]


def test_a_written_file_has_a_normal_mode(tmp_path: Path) -> None:
    npzfile.save_arrays(tmp_path / "x.npz", {"a": np.ones(3)})
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "x.npz").stat().st_mode & 0o777 == 0o666 & ~umask


def test_concurrent_writers_of_one_file_leave_one_whole_file(tmp_path: Path) -> None:
    path = tmp_path / "x.npz"
    contents = [np.random.default_rng(k).random(200_000) for k in range(6)]
    start = threading.Barrier(len(contents))

    def write(arr: np.ndarray) -> None:
        start.wait()
        npzfile.save_arrays(path, {"a": arr, "b": arr[::-1].copy()})

    threads = [threading.Thread(target=write, args=(a,)) for a in contents]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with np.load(path) as data:
        a, b = data["a"], data["b"]
    assert any(np.array_equal(a, c) for c in contents) and np.array_equal(b, a[::-1])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.npz"]


def test_keys_that_are_numpy_keywords_are_saved(tmp_path: Path) -> None:
    npzfile.save_arrays(tmp_path / "k.npz", {"file": np.ones(2), "allow_pickle": np.zeros(2)})
    with np.load(tmp_path / "k.npz") as data:
        assert sorted(data.files) == ["allow_pickle", "file"]
    with pytest.raises(OutputError, match="Python objects"):
        npzfile.save_arrays(tmp_path / "o.npz", {"o": np.array([None])})
    assert not (tmp_path / "o.npz").exists()


def test_ctrl_c_ends_the_cli_without_a_traceback(monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    def interrupt(*args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(api, "load", interrupt)
    assert main(["info", "default"]) == 130
    assert capsys.readouterr().err.startswith("error: interrupted")


# --- 7. reading input data -------------------------------------------------------------------


def _npy(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr)
    return buf.getvalue()


def _bomb(path: Path) -> None:
    """An .npz whose array declares 800 GB; its data compresses to almost nothing."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        with zf.open("spikes.npy", "w", force_zip64=True) as fh:
            np.lib.format.write_array_header_1_0(fh, {"descr": "<f8", "fortran_order": False,
                                                      "shape": (10**6, 1000, 100)})
            fh.write(bytes(10**6))


def _damaged(path: Path) -> None:
    np.savez_compressed(path, spikes=np.random.default_rng(0).random((5, 30, 4)))
    data = bytearray(path.read_bytes())
    data[120:160] = bytes(b ^ 0xFF for b in data[120:160])
    path.write_bytes(bytes(data))


BAD_INPUTS = {
    "text, not npz": (lambda p: p.write_text("spikes = 1, 2, 3\n"), "not an .npz file"),
    "a plain .npy": (lambda p: p.write_bytes(_npy(_spikes())), "single .npy array"),
    "object array": (lambda p: np.savez(p, spikes=np.array([None, {}], dtype=object)), "Python objects"),
    "0-d spikes": (lambda p: np.savez(p, spikes=np.array(1.0)), "shape ()"),
    "truncated zip": (lambda p: (np.savez(p, spikes=_spikes()), p.write_bytes(p.read_bytes()[:200])),
                      "damaged or truncated"),
    "damaged array": (_damaged, "damaged"),
    "zip bomb": (_bomb, "800.0 GB"),
    "a directory": (lambda p: p.mkdir(), "is a directory"),
    "missing": (lambda p: None, "no such file"),
}


@pytest.mark.parametrize("case", BAD_INPUTS)
def test_bad_input_files_are_clean_errors(files: dict[str, Path], tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str], case: str) -> None:
    make, needle = BAD_INPUTS[case]
    path = tmp_path / "bad.npz"
    make(path)
    err = _fails(["simulate", files["graph"], "--input", path], capsys, needle)
    assert "allow_pickle" not in err


def test_arrays_read_together_count_against_the_limit(files: dict[str, Path], tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    np.savez(tmp_path / "two.npz", spikes=np.ones((5, 30, 4)), labels=np.zeros(5, np.int64))
    monkeypatch.setenv("SPIKEC_MAX_BYTES", str(5 * 30 * 4 * 8 + 8))  # the spikes fit, spikes + labels do not
    with pytest.raises(ResourceLimitError, match="SPIKEC_MAX_BYTES"):
        spikec.load_dataset(tmp_path / "two.npz", _graph())
    monkeypatch.setenv("SPIKEC_MAX_BYTES", str(5 * 30 * 4 * 8 + 40))
    assert spikec.load_dataset(tmp_path / "two.npz", _graph()).samples == 5


# --- 8. terminal escapes in user text ------------------------------------------------------------


@pytest.mark.parametrize("name", ["\x1b[31mred", "[/x]", "a\u202eb", "two\nlines"])
def test_node_names_reach_the_terminal_escaped(tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str) -> None:
    save_graph(_graph(name), tmp_path / "g.npz")
    np.savez(tmp_path / "d.npz", spikes=_spikes())
    for argv in (["info", tmp_path / "g.npz"], ["simulate", tmp_path / "g.npz", "--input", tmp_path / "d.npz"]):
        assert main([str(a) for a in argv]) == 0
        out = capsys.readouterr().out
        assert clean(name, one_line=True) in out
        assert all(c not in out for c in "\x1b\u202e")
    assert "[/x]" == clean("[/x]") and clean("\x1b[31mred") == "\\x1b[31mred"


def test_paths_in_errors_reach_the_terminal_escaped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = _fails(["info", tmp_path / "\x1b]0;pwned\x07[v2].nir"], capsys, "\\x1b]0;pwned\\x07[v2].nir")
    assert "\x1b" not in err and "\x07" not in err
    with pytest.raises(SystemExit):
        main(["run", "default", "--target", "\x1b[2J"])
    err = capsys.readouterr().err
    assert "\\x1b[2J" in err and "\x1b" not in err


# --- 9. a compiled program where a model is expected ----------------------------------------------


@pytest.mark.parametrize("command", ["info", "simulate", "compile", "estimate", "compare"])
def test_a_compiled_program_is_recognised(files: dict[str, Path], tmp_path: Path, command: str,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    program = tmp_path / "p.npz"
    spikec.save_program(spikec.compile(_graph(), "loihi1").program, program)
    argv = [command, program] + ([] if command in ("info", "compile") else ["--input", files["data"]])
    err = _fails(argv, capsys, "compiled", f"spikec run {program} --input")
    assert "cannot tell" not in err


def test_an_unreadable_npz_model_says_why(tmp_path: Path) -> None:
    path = tmp_path / "m.npz"
    np.savez(path, weights=np.ones(3))
    with pytest.raises(spikec.ModelImportError, match="not a spikec graph"):
        spikec.load(path)
    path.write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(spikec.ModelImportError, match="truncated"):
        spikec.load(path)


# --- 10. estimate checks its arguments first; synthetic Poisson input ---------------------------


def test_estimate_without_input_fails_before_compiling(files: dict[str, Path], monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    from spikec.targets.protocol import Target

    monkeypatch.setattr(Target, "compile", lambda *a, **k: pytest.fail("compiled before the arguments were checked"))
    _fails(["estimate", files["graph"]], capsys, "--input", "--rate")
    _fails(["estimate", files["graph"], "--input", files["data"], "--steps", "0"], capsys, "--steps")
    _fails(["estimate", files["graph"], "--rate", "0.2", "--samples", "-3"], capsys, "--samples")


@pytest.mark.parametrize("rate", ["0", "1.5", "-0.1", "nan", "inf"])
def test_rate_outside_zero_one_is_refused(files: dict[str, Path], capsys: pytest.CaptureFixture[str],
                                          rate: str) -> None:
    _fails(["estimate", files["graph"], "--rate", rate], capsys, "--rate", "0 < rate <= 1")


def test_estimate_and_run_on_synthetic_poisson_input(files: dict[str, Path],
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["estimate", str(files["graph"]), "--rate", "0.2", "--steps", "50", "--samples", "4", "--seed", "3"]
    assert main(argv) == 0
    first = capsys.readouterr().out
    assert "synthetic Poisson input at rate 0.2 per neuron per step (4 samples x 50 steps, seed 3)" in first
    assert "4 samples x 51 steps" in first  # the input's 50 steps plus Loihi 2's pipeline depth
    assert main(argv) == 0
    assert capsys.readouterr().out == first  # seeded: the same activity again
    assert main(["run", str(files["graph"]), "--rate", "0.5"]) == 0
    assert "synthetic Poisson input at rate 0.5 per neuron per step (16 samples x 100 steps, seed 0)" in \
        capsys.readouterr().out
    _fails(["run", files["graph"], "--rate", "0.5", "--input", files["data"]], capsys, "not both")


def test_poisson_dataset_has_the_rate_asked_for() -> None:
    data = api.poisson_dataset(_graph(), 0.1, steps=400, samples=8, seed=1)
    spikes = data.inputs["in"]
    assert spikes.shape == (8, 400, 4) and spikes.dtype == np.uint8 and data.labels is None
    assert abs(spikes.mean() - 0.1) < 0.01
    assert np.array_equal(spikes, api.poisson_dataset(_graph(), 0.1, steps=400, samples=8, seed=1).inputs["in"])
    assert api.poisson_dataset(_graph(), 1.0, steps=3, samples=1).inputs["in"].all()
