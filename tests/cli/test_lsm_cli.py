"""``spikec lsm`` end to end, the saved reservoir graph with other commands, and clean errors."""

from __future__ import annotations

import pytest
from spikec.cli import main


def test_lsm_runs_end_to_end_and_saves_a_graph_others_take(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    graph = tmp_path / "reservoir.npz"
    assert main(["lsm", "--data", "audio", "--samples", "80", "--neurons", "60", "--readout", "ridge",
                 "--save-graph", str(graph)]) == 0
    out = capsys.readouterr().out
    for words in ("branching factor (tuned / test)", "energy per sample (loihi1)", "latency per sample",
                  "accuracy:", "reservoir graph saved"):
        assert words in out
    assert graph.exists()
    assert main(["info", str(graph)]) == 0
    info = capsys.readouterr().out
    assert "w_rec->reservoir" in info and "SparseLinear" in info
    assert main(["compile", str(graph), "--target", "loihi2"]) == 0


def test_lsm_on_a_target_prices_with_it(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lsm", "--data", "audio", "--samples", "60", "--neurons", "40", "--target", "loihi2",
                 "--weight-bits", "6"]) == 0
    assert "energy per sample (loihi2)" in capsys.readouterr().out


@pytest.mark.parametrize("argv, words", [
    (["--neurons", "0"], "n_neurons"),
    (["--weights", "device"], "needs a target"),
    (["--weights", "device", "--target", "loihi2"], "no device weight distribution"),
    (["--data", "nosuch.csv"], "cannot tell what data"),
    (["--branching", "-1"], "target=-1"),
    (["--backend", "reference", "--target", "loihi2"], "reference simulator"),
    (["--bins", "99"], "bins=99"),
    (["--test-fraction", "1"], "test_fraction"),
    (["--save-graph", "/nonexistent-dir/r.npz"], "--save-graph"),
    (["--target", "loihi2", "--weight-bits", "99"], "weight"),
])
def test_bad_arguments_give_clean_errors(argv: list[str], words: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lsm", "--data", "audio", "--samples", "30", "--neurons", "20", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and words in err and "Traceback" not in err
