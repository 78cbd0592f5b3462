"""The search: one Optuna study per target, all in one journal file, driven in generations.

The driver asks Optuna for a generation of ``batch`` trials, hands them to a runner (in this
process, a local pool, or Ray tasks), and tells Optuna each outcome as it comes back.  The
NSGA-II sampler of generation *g* is seeded from ``(seed, target, g)`` and a generation is asked
only once the previous one is told, so which configurations are tried depends on the seed alone,
never on which worker finished first: a local pool and a Ray cluster give the same trials, the
same measurements, and so the same Pareto front.

The journal file (Optuna's ``JournalFileBackend``) is the study's only state.  A stopped study
(Ctrl-C, a killed machine) resumes from it: trials asked but not told are run again with the
knobs already recorded for them, then the search goes on where it was.  Several drivers may
share one journal (the file is locked), each adding trials to the same studies.
"""

from __future__ import annotations

import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from ..errors import BackendError, SpecError
from .objectives import METRICS, Outcome, Problem, check_problem
from .pareto import pareto_mask
from .runners import Job, Runner
from .space import Param, Space, TargetSpace

__all__ = ["TrialRow", "ExploreResult", "explore"]

_SPACE_ATTR = "spikec.space"


@dataclass(frozen=True)
class TrialRow:
    """One trial as the results table holds it: ``state`` is "ok" or "failed" (with ``error``)."""

    number: int
    target: str
    state: str
    options: Mapping[str, Any]
    metrics: Mapping[str, float]
    error: str | None
    seconds: float
    host: str
    pareto: bool = False            # on the front over every target
    pareto_target: bool = False     # on the front of its own target


@dataclass(frozen=True)
class ExploreResult:
    """Every trial of a study, with the Pareto front marked (over all targets together)."""

    space: Space
    rows: tuple[TrialRow, ...]
    journal: Path
    runner: str
    seconds: float
    ran: int = 0            # trials this call ran (the rest were in the journal already)

    def front(self, target: str | None = None) -> list[TrialRow]:
        """The Pareto-optimal trials over every target; with ``target``, that target's own
        front (which may hold trials another target dominates).  In trial order."""
        if target is None:
            return [r for r in self.rows if r.pareto]
        return [r for r in self.rows if r.pareto_target and r.target == target]

    def front_key(self) -> list[tuple[Any, ...]]:
        """The front as comparable tuples (target, knobs, objective values): two studies found
        the same front when these are equal."""
        return sorted((r.target, tuple(sorted(r.options.items())), tuple(r.metrics[o] for o in self.space.objectives))
                      for r in self.front())


def explore(model: str, space: Space, runner: Runner, *, journal: str | Path, data: str | None = None,
            on_trial: Callable[[TrialRow, int, int], None] | None = None) -> ExploreResult:
    """Search ``space`` for ``model`` (a path, or ``"default"``) scored on ``data`` with
    ``runner``, recording every trial in ``journal``; resumes the studies the journal already
    holds.  ``on_trial(row, done, total)`` is called after each trial (progress bars)."""
    try:
        import optuna
        from optuna.storages import JournalStorage
        from optuna.storages.journal import JournalFileBackend
    except ImportError:
        raise BackendError("exploring needs Optuna", fix='pip install "spikec[explore]"') from None

    problem = Problem(model, data, space.samples, space.calibration)
    check_problem(problem, space.objectives)
    path = Path(journal)
    if path.is_dir() or not path.parent.is_dir():
        raise SpecError(f"journal {str(path)!r} cannot be a file", parameter="--journal",
                        fix="give a file path in an existing directory")
    storage = JournalStorage(JournalFileBackend(str(path)))
    total = space.trials * len(space.targets)
    t0 = time.perf_counter()
    tally = _Tally(total, on_trial)
    studies = {}
    for ts in space.targets:
        study = optuna.create_study(storage=storage, study_name=f"{space.name}.{ts.target}",
                                    directions=list(space.directions), load_if_exists=True)
        _check_same_space(study, space, path)
        studies[ts.target] = study
        tally.done += sum(t.state.is_finished() for t in study.get_trials(deepcopy=False))
    before = tally.done
    for ts in space.targets:
        _drive(studies[ts.target], ts, space, problem, runner, tally)
    rows = [row for ts in space.targets for row in _rows(studies[ts.target], ts)]
    return ExploreResult(space, tuple(_mark_front(rows, space)), path, runner.title, time.perf_counter() - t0,
                         tally.done - before)


@dataclass
class _Tally:
    """Trials finished so far, over every target of the study, for the progress callback."""

    total: int
    on_trial: Callable[[TrialRow, int, int], None] | None
    done: int = 0

    def told(self, row: TrialRow) -> None:
        self.done += 1
        if self.on_trial is not None:
            self.on_trial(row, self.done, self.total)


def _check_same_space(study: Any, space: Space, journal: Path) -> None:
    seen = study.user_attrs.get(_SPACE_ATTR)
    if seen is None:
        study.set_user_attr(_SPACE_ATTR, space.fingerprint())
    elif seen != space.fingerprint():
        raise SpecError(f"journal {str(journal)!r} holds study {study.study_name!r} with another space",
                        parameter="--space", fix="give a new --journal (or [study] name) for a changed space, "
                                                 "or the space the study was started with to resume it")


def _drive(study: Any, ts: TargetSpace, space: Space, problem: Problem, runner: Runner,
           tally: _Tally) -> None:
    import optuna
    from optuna.trial import TrialState

    while True:
        trials = study.get_trials(deepcopy=False)
        stale = [t for t in trials if t.state == TrialState.RUNNING]
        generation = (stale[0].number if stale else len(trials)) // space.batch
        study.sampler = _sampler(space, ts.target, generation)
        if stale:
            # Asked but never told (the last run stopped): run them again with their recorded knobs.
            # optuna.Trial over a stored trial is how Optuna's own ask() resumes one; suggest_* return
            # the values already recorded.
            asked = [optuna.Trial(study, t._trial_id) for t in stale]
        else:
            n = min(space.batch - len(trials) % space.batch, space.trials - len(trials))
            if n <= 0:
                return
            asked = [study.ask() for _ in range(n)]
        by_number = {t.number: t for t in asked}
        jobs = [Job(t.number, ts.target, {**ts.fixed, **{p.name: _suggest(t, p) for p in ts.searched}})
                for t in asked]
        for job, outcome in runner.run(problem, jobs):
            row = _tell(study, by_number[job.number], job, outcome, space)
            tally.told(row)


def _sampler(space: Space, target: str, generation: int) -> Any:
    from optuna.samplers import NSGAIISampler

    seed = int(np.random.SeedSequence([space.seed, zlib.crc32(target.encode()), generation]).generate_state(1)[0])
    return NSGAIISampler(population_size=space.batch, seed=seed)


def _suggest(trial: Any, p: Param) -> Any:
    if p.kind == "choice":
        return trial.suggest_categorical(p.name, list(p.choices))
    if p.kind == "int":
        return trial.suggest_int(p.name, int(p.low), int(p.high), step=p.step or 1, log=p.log)
    return trial.suggest_float(p.name, float(p.low), float(p.high), log=p.log)


def _tell(study: Any, trial: Any, job: Job, outcome: Outcome, space: Space) -> TrialRow:
    from optuna.trial import TrialState

    trial.set_user_attr("seconds", outcome.seconds)
    trial.set_user_attr("host", outcome.host)
    if outcome.error is not None:
        trial.set_user_attr("error", outcome.error)
        study.tell(trial, state=TrialState.FAIL)
        return TrialRow(job.number, job.target, "failed", job.options, {}, outcome.error, outcome.seconds,
                        outcome.host)
    for name, value in outcome.metrics.items():
        trial.set_user_attr(name, value)
    if space.real_time:
        # <= 0: feasible (Optuna's convention); NSGA-II ranks feasible trials first.
        trial.set_constraint("real_time", outcome.metrics["real_time"] - 1.0)
    study.tell(trial, [outcome.metrics[o] for o in space.objectives])
    return TrialRow(job.number, job.target, "ok", job.options, dict(outcome.metrics), None, outcome.seconds,
                    outcome.host)


def _rows(study: Any, ts: TargetSpace) -> list[TrialRow]:
    from optuna.trial import TrialState

    rows = []
    for t in study.get_trials(deepcopy=False):
        if not t.state.is_finished():
            continue
        a = t.user_attrs
        ok = t.state == TrialState.COMPLETE
        rows.append(TrialRow(t.number, ts.target, "ok" if ok else "failed", {**ts.fixed, **t.params},
                             {m: a[m] for m in METRICS if m in a} if ok else {}, a.get("error"),
                             float(a.get("seconds", 0.0)), str(a.get("host", ""))))
    return rows


def _mark_front(rows: list[TrialRow], space: Space) -> list[TrialRow]:
    """``pareto``: on the front over every target; ``pareto_target``: on its own target's front.
    NSGA-II tries a configuration again now and then: of identical ones, only the first trial
    stands on a front (the table keeps them all)."""
    first: dict[tuple[str, str], int] = {}
    for i, r in enumerate(rows):
        first.setdefault((r.target, repr(sorted(r.options.items()))), i)
    # Under the real-time constraint, the front is that of the feasible trials alone.
    candidates = [i for i in first.values() if rows[i].state == "ok"
                  and (not space.real_time or rows[i].metrics["real_time"] <= 1.0)]
    overall = _front(rows, candidates, space)
    own = set().union(*(_front(rows, [i for i in candidates if rows[i].target == ts.target], space)
                        for ts in space.targets))
    return [TrialRow(**{**r.__dict__, "pareto": i in overall, "pareto_target": i in own}) for i, r in enumerate(rows)]


def _front(rows: list[TrialRow], among: list[int], space: Space) -> set[int]:
    values = np.array([[rows[i].metrics[o] for o in space.objectives] for i in among], np.float64)
    mask = pareto_mask(values.reshape(len(among), len(space.objectives)), space.directions)
    return {among[k] for k in np.flatnonzero(mask)}
