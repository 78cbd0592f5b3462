"""What every target shares: the registry, the chip timing, and `spikec compare`."""

from __future__ import annotations

import pytest

from spikec.api import bundled_data, bundled_model, load, load_dataset
from spikec.cli import compare_targets, main
from spikec.errors import UnsupportedError
from spikec.targets.target import TARGETS, get_target


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_every_target_compiles_the_bundled_model_with_chip_timing(name: str) -> None:
    target = get_target(name)
    program = target.compile(load(bundled_model())).program
    assert program.metadata["target"] == name and program.metadata["pipeline_depth"] == 2
    assert all(j.delay_base == 1 for j in program.projections)
    assert all(src for src in target.spec.sources().values())


def test_unknown_target_names_the_choices() -> None:
    with pytest.raises(UnsupportedError, match="loihi2"):
        get_target("truenorth")


def test_compare_puts_every_target_side_by_side(capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    graph = load(bundled_model())
    table = compare_targets(graph, load_dataset(bundled_data(), graph).take(30), sorted(TARGETS))
    assert table.row_count == len(TARGETS)
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["compare", "default", "--targets", "loihi1,loihi2", "--samples", "20"]) == 0
    out = capsys.readouterr().out
    assert "Loihi 1" in out and "Loihi 2" in out and "%" in out
