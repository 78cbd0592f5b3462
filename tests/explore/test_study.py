"""The study: a Pareto front over two targets, reproducible from the seed whoever runs the trials,
resumable after Ctrl-C, refusing a changed space, and written out as a table."""

from __future__ import annotations

import csv
import dataclasses

import numpy as np
import pytest
from spikec.errors import SimulationError, SpecError
from spikec.explore import InProcess, LocalPool, evaluate, explore, make_runner, parse_space, table, write_table
from spikec.explore.objectives import Problem


def test_front_over_two_targets_and_three_knobs(baseline, space):
    assert len(baseline.rows) == 12 and baseline.ran == 12
    assert {r.target for r in baseline.rows} == {"spinnaker2", "loihi2"}
    assert sum(len(t.searched) for t in space.targets) >= 3
    front = baseline.front()
    assert front
    # A configuration tried again stands on no front; of the first tries, the undominated ones
    # are on the front, over all targets and within each.
    seen, ok = set(), []
    for r in baseline.rows:
        key = (r.target, tuple(sorted(r.options.items())))
        if key in seen:
            assert not r.pareto and not r.pareto_target
        else:
            seen.add(key)
            ok.append(r)
    sign = np.array([-1.0, 1.0, 1.0])
    cost = np.array([[r.metrics[o] for o in space.objectives] for r in ok]) * sign
    for r, c in zip(ok, cost):
        dominated = np.all(cost <= c, axis=1) & np.any(cost < c, axis=1)
        mine = np.array([o.target == r.target for o in ok])
        assert r.pareto == (not dominated.any())
        assert r.pareto_target == (not (dominated & mine).any())
    for ts in space.targets:
        assert baseline.front(ts.target), ts.target        # every target has a front of its own
    for r in baseline.rows:
        assert r.state == "ok", r.error
        assert 0.0 <= r.metrics["accuracy"] <= 1.0 and r.metrics["energy"] > 0 and r.metrics["latency"] > 0
        assert set(r.options) == {p.name for p in space.target(r.target).params}


def test_measurements_are_those_of_the_api(baseline):
    from spikec import api

    row = baseline.front()[0]
    graph = api.load("default")
    data = api.resolve_data(None, "default", graph)
    cal = api.Dataset({k: v[:10] for k, v in data.inputs.items()}, data.labels[:10])
    scored = api.Dataset({k: v[10:50] for k, v in data.inputs.items()}, data.labels[10:50])
    compiled = api.compile(graph, row.target, options=dict(row.options), calibration=cal)
    run = api.run(compiled.program, scored, threads=1)
    assert run.accuracy == pytest.approx(row.metrics["accuracy"])
    assert run.estimate.energy == pytest.approx(row.metrics["energy"])
    assert run.estimate.latency == pytest.approx(row.metrics["latency"])


def test_same_seed_same_front_on_a_process_pool(baseline, space, tmp_path):
    pool = LocalPool(2)
    try:
        again = explore("default", space, pool, journal=tmp_path / "pool.journal")
    finally:
        pool.close()
    assert again.front_key() == baseline.front_key()
    assert len({r.host for r in again.rows}) == 2          # both worker processes ran trials


def test_another_seed_tries_other_configurations(baseline, space, tmp_path):
    other = explore("default", dataclasses.replace(space, seed=space.seed + 1), InProcess(),
                    journal=tmp_path / "other.journal")
    assert [r.options for r in other.rows] != [r.options for r in baseline.rows]


class Stop(Exception):
    pass


def test_interrupted_study_resumes_to_the_same_front(baseline, space, tmp_path):
    journal = tmp_path / "stopped.journal"

    def interrupt(row, done, total):
        if done == 4:                        # mid-generation: trials 3..5 of the first target are asked
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        explore("default", space, InProcess(), journal=journal, on_trial=interrupt)
    seen = []
    resumed = explore("default", space, InProcess(), journal=journal, on_trial=lambda r, d, t: seen.append(d))
    # 4 trials were told (the 4th just before the interrupt); trials 4 and 5 were asked, never told.
    assert seen[0] == 5 and seen[-1] == 12
    assert resumed.ran == 8
    assert resumed.front_key() == baseline.front_key()
    assert [r.options for r in resumed.rows] == [r.options for r in baseline.rows]
    # Nothing left to do: a third run runs no trial.
    assert explore("default", space, InProcess(), journal=journal).ran == 0


def test_a_changed_space_is_refused_on_resume(baseline, space):
    changed = dataclasses.replace(space, seed=space.seed + 7)
    with pytest.raises(SpecError, match="another space"):
        explore("default", changed, InProcess(), journal=baseline.journal)


def test_configurations_that_do_not_build_fail_with_their_reason(tmp_path):
    space = parse_space({"study": {"trials": 2, "batch": 2},
                         "data": {"samples": 5, "calibration": 0},
                         "targets": {"spinnaker2": {"chips": 1, "pes_per_chip": 1,
                                                    "neurons_per_pe": {"low": 1, "high": 4}}}})
    result = explore("default", space, InProcess(), journal=tmp_path / "j")
    assert [r.state for r in result.rows] == ["failed", "failed"]
    assert all("ResourceLimitError" in r.error for r in result.rows)
    assert result.front() == []
    path = write_table(result, tmp_path / "t.csv")
    rows = list(csv.DictReader(path.open()))
    assert rows[0]["state"] == "failed" and "ResourceLimitError" in rows[0]["error"]


def test_table_csv_and_parquet(baseline, tmp_path):
    rows = table(baseline)
    assert {"option.weight_bits", "option.neurons_per_pe", "option.tick_us", "accuracy", "energy", "latency",
            "pareto", "host", "error"} <= set(rows[0])
    back = list(csv.DictReader(write_table(baseline, tmp_path / "t.csv").open()))
    assert [r["pareto"] == "True" for r in back] == [r["pareto"] for r in rows]
    assert float(back[0]["energy"]) == pytest.approx(rows[0]["energy"])
    pq = pytest.importorskip("pyarrow.parquet")
    frame = pq.read_table(write_table(baseline, tmp_path / "t.parquet")).to_pylist()
    assert frame == rows


def test_data_problems_are_refused_before_any_trial(space, tmp_path):
    big = dataclasses.replace(space, samples=10_000)
    with pytest.raises(SimulationError, match="calibration"):
        explore("default", big, InProcess(), journal=tmp_path / "j")
    with pytest.raises(SpecError, match="journal"):
        explore("default", space, InProcess(), journal=tmp_path / "no" / "j")
    with pytest.raises(SpecError, match="--workers"):
        make_runner(0)


def test_evaluate_reports_an_unknown_knob_as_a_failed_trial():
    out = evaluate(Problem("default", None, 3, 0), "loihi2", {"no_such_knob": 1})
    assert out.error is not None and "no_such_knob" in out.error and not out.metrics


def test_real_time_constraint_keeps_slow_chips_off_the_front(tmp_path):
    # The digits model steps at dt = 1 ms; a SpiNNaker2 tick longer than that cannot keep pace.
    space = parse_space({"study": {"trials": 6, "batch": 3, "seed": 1},
                         "data": {"samples": 5, "calibration": 0},
                         "constraints": {"real_time": True},
                         "targets": {"spinnaker2": {"tick_us": {"low": 300.0, "high": 3000.0, "log": True}}}})
    result = explore("default", space, InProcess(), journal=tmp_path / "j")
    for r in result.rows:
        tick = r.options["tick_us"] * 1e-6
        assert r.metrics["real_time"] == pytest.approx(tick / 1e-3)   # the tick paces SpiNNaker2
        assert (r.metrics["real_time"] <= 1.0) == (tick <= 1e-3)
    assert any(r.metrics["real_time"] > 1.0 for r in result.rows)
    assert result.front() and all(r.metrics["real_time"] <= 1.0 for r in result.front())


def test_a_dead_worker_is_a_backend_error(tmp_path, monkeypatch):
    import importlib

    from spikec.errors import BackendError
    from spikec.explore import Job, runners

    # A trial function that kills its worker (as running out of memory would), in a module the
    # spawned workers can import (spawn hands them the driver's sys.path).
    (tmp_path / "dying_trial.py").write_text("import os\n\ndef die(problem, target, options):\n"
                                             "    open(__file__ + '.ran', 'w').close()\n    os._exit(3)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(runners, "evaluate", importlib.import_module("dying_trial").die)
    pool = LocalPool(2)
    try:
        with pytest.raises(BackendError, match="worker process died running trial 0"):
            list(pool.run(Problem("default", None, 3, 0), [Job(0, "loihi2", {})]))
        assert (tmp_path / "dying_trial.py.ran").exists()     # it died in the trial, not before
    finally:
        pool.close()
