"""The page of a study: Pareto plots with each point's configuration, opened in headless Chromium."""

from __future__ import annotations

from spikec.explore import InProcess, explore, parse_space, table
from spikec.report import explore_report


def test_explore_report_renders(tmp_path, open_page):
    space = parse_space({"study": {"trials": 4, "batch": 2, "seed": 5},
                         "data": {"samples": 10, "calibration": 5},
                         "targets": {"loihi2": {"weight_bits": {"low": 2, "high": 8}},
                                     "spinnaker2": {"neurons_per_pe": {"low": 16, "high": 256},
                                                    "tick_us": {"low": 10.0, "high": 1000.0, "log": True}}}})
    result = explore("default", space, InProcess(), journal=tmp_path / "j")
    rows = table(result)
    path = explore_report(rows, space.objectives, tmp_path / "explore.html", title="study", runner="this process")
    errors, plots, _ = open_page(path, "explore")
    assert errors == []
    assert len(plots) == 3                                   # one per pair of the 3 objectives
    text = path.read_text()
    front = result.front()
    assert front and all(f"{r.target}#{r.number}" in text for r in front)   # each point's configuration
    assert "neurons_per_pe=" in text
