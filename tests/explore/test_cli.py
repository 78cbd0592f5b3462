"""``spikec explore`` and ``spikec report`` from the command line: files written, the front
printed, a stop (Ctrl-C) reported with how to resume, bad input refused with exit code 2."""

from __future__ import annotations

import csv

import pytest
from spikec import explore as ex
from spikec.cli import main

SPACE_TOML = """
[study]
name = "cli"
trials = 3
batch = 3
seed = 2
[data]
samples = 10
calibration = 5
[targets.loihi2]
weight_bits = { low = 2, high = 8 }
[targets.spinnaker2]
neurons_per_pe = { low = 16, high = 256 }
tick_us = { low = 10.0, high = 1000.0, log = true }
"""


@pytest.fixture
def space_file(tmp_path, require):
    require("optuna")
    path = tmp_path / "space.toml"
    path.write_text(SPACE_TOML)
    return path


def test_explore_writes_table_journal_and_report(space_file, tmp_path, capsys):
    argv = ["explore", "default", "--space", str(space_file), "--workers", "1", "--journal", str(tmp_path / "j"),
            "--table", str(tmp_path / "t.csv"), "-o", str(tmp_path / "r.html")]
    assert main(argv) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "Pareto front" in out and "6 trials run now" in out
    rows = list(csv.DictReader((tmp_path / "t.csv").open()))
    assert len(rows) == 6 and {r["target"] for r in rows} == {"loihi2", "spinnaker2"}
    assert any(r["pareto"] == "True" for r in rows)
    assert "Plotly" in (tmp_path / "r.html").read_text()[:20_000_000]
    # Run again: everything is in the journal already.
    assert main(argv) == 0
    assert "0 trials run now" in " ".join(capsys.readouterr().out.split())


def test_ctrl_c_stops_cleanly_and_says_how_to_resume(space_file, tmp_path, capsys, monkeypatch):
    def stop(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(ex, "explore", stop)
    code = main(["explore", "default", "--space", str(space_file), "--workers", "1", "--journal",
                 str(tmp_path / "j"), "--table", str(tmp_path / "t.csv")])
    assert code == 130
    assert "run the same command again to resume" in " ".join(capsys.readouterr().out.split())
    assert not (tmp_path / "t.csv").exists()


@pytest.mark.parametrize("extra, words", [
    (["--targets", "nochip"], "nochip"),
    (["--workers", "0"], "--workers"),
    (["--workers", "2", "--ray", "auto"], "--workers and --ray"),
    (["--table", "/nonexistent/dir/t.csv"], "does not exist"),
])
def test_bad_flags_exit_2_with_a_message(space_file, tmp_path, capsys, extra, words):
    code = main(["explore", "default", "--space", str(space_file), "--journal", str(tmp_path / "j"), *extra])
    assert code == 2
    assert words in " ".join(capsys.readouterr().err.split())


def test_report_command(tmp_path, capsys):
    out = tmp_path / "r.html"
    assert main(["report", "default", "--target", "spinnaker2", "--neurons-per-pe", "40", "--samples", "6",
                 "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert "SpiNNaker2:" in text and str(out) in text.replace("\n", "")
    assert out.stat().st_size > 1_000_000            # plotly inlined
    assert main(["report", "default", "--target", "loihi2", "--calibration", "5000", "-o", str(out)]) == 2
