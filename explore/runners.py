"""Where trials run: in this process, in a local process pool (the default), or as Ray tasks on
a Ray cluster.  A runner takes a batch of jobs and yields each one's outcome as it finishes; the
study tells Optuna in the order results arrive, so a runner only has to run, never to schedule.

Ray does the distribution (no scheduler or RPC of spikec's own): each job is one ``ray.remote``
task asking for one CPU, the cluster places it on any node with a free CPU, and its
:class:`~.objectives.Outcome` comes back as the task's return value through Ray's object store.
Every node must have spikec installed in the Python environment its ``ray start`` runs from
(README, "Exploring the co-design space").
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import socket
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, Iterator, Mapping, Protocol, Sequence

from ..errors import BackendError, SpecError
from .objectives import Outcome, Problem, evaluate

__all__ = ["Job", "Runner", "InProcess", "LocalPool", "RayRunner", "make_runner"]


@dataclass(frozen=True)
class Job:
    """One trial to run: its number in the study, its target and its knobs."""

    number: int
    target: str
    options: Mapping[str, Any]


class Runner(Protocol):
    def run(self, problem: Problem, jobs: Sequence[Job]) -> Iterator[tuple[Job, Outcome]]:
        """Each job with its outcome, as they finish; on an interrupt, pending jobs are dropped."""
        ...

    def close(self) -> None: ...

    @property
    def title(self) -> str: ...


class InProcess:
    """Trials one after another in this process (``--workers 1``: the simplest to debug)."""

    title = "this process"

    def run(self, problem: Problem, jobs: Sequence[Job]) -> Iterator[tuple[Job, Outcome]]:
        for job in jobs:
            yield job, evaluate(problem, job.target, job.options)

    def close(self) -> None:
        pass


def _ignore_interrupt() -> None:
    # Ctrl-C reaches the whole process group; only the driver handles it (it stops the study
    # cleanly), so a worker finishing its trial is not torn down half-way.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class LocalPool:
    """``workers`` processes on this machine (spawned, so no state leaks in from the driver)."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                         initializer=_ignore_interrupt)

    @property
    def title(self) -> str:
        return f"a local pool of {self.workers} processes"

    def run(self, problem: Problem, jobs: Sequence[Job]) -> Iterator[tuple[Job, Outcome]]:
        pending: dict[Future, Job] = {self._pool.submit(evaluate, problem, j.target, j.options): j for j in jobs}
        try:
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in sorted(done, key=lambda f: pending[f].number):
                    job = pending.pop(future)
                    try:
                        outcome = future.result()
                    except BrokenProcessPool:
                        raise BackendError(f"a worker process died running trial {job.number} ({job.target})",
                                           parameter="--workers", fix="rerun the same command: the study resumes "
                                           "from its journal (fewer --workers if memory ran out)") from None
                    yield job, outcome
        finally:
            for future in pending:
                future.cancel()

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


class RayRunner:
    """Trials as Ray tasks on the cluster at ``address`` (``"auto"``: the one this machine has
    joined; ``"local"``: a throw-away single-node cluster)."""

    def __init__(self, address: str) -> None:
        try:
            import ray
        except ImportError:
            raise BackendError("--ray needs Ray", parameter="--ray",
                               fix='pip install "spikec[explore]" (on every node of the cluster)') from None
        self._ray = ray
        self.address = address
        _check_reachable(address)
        try:
            ray.init(address=None if address == "local" else address, include_dashboard=False,
                     log_to_driver=False, configure_logging=False)
        except (ConnectionError, ValueError, RuntimeError) as exc:
            raise BackendError(f"cannot reach a Ray cluster at {address!r}: {exc}", parameter="--ray",
                               fix="start one (`ray start --head`) and pass the address it prints "
                                   "(HOST:6379), or 'auto' on a node that joined it") from None
        self._task = ray.remote(num_cpus=1, max_retries=0)(evaluate)

    @property
    def title(self) -> str:
        cpus = int(self._ray.cluster_resources().get("CPU", 0))
        nodes = sum(1 for n in self._ray.nodes() if n.get("Alive"))
        return f"Ray at {self.address} ({nodes} node(s), {cpus} CPUs)"

    def run(self, problem: Problem, jobs: Sequence[Job]) -> Iterator[tuple[Job, Outcome]]:
        ray = self._ray
        problem_ref = ray.put(problem)
        pending = {self._task.remote(problem_ref, j.target, dict(j.options)): j for j in jobs}
        try:
            while pending:
                done, _ = ray.wait(list(pending), num_returns=1)
                for ref in done:
                    job = pending.pop(ref)
                    try:
                        outcome = ray.get(ref)
                    except ray.exceptions.RayError as exc:
                        raise BackendError(f"Ray lost trial {job.number} ({job.target}): {type(exc).__name__}",
                                           parameter="--ray", fix="check the cluster (`ray status`), then rerun the "
                                           "same command: the study resumes from its journal") from None
                    yield job, outcome
        finally:
            for ref in pending:
                ray.cancel(ref, force=True)

    def close(self) -> None:
        # Disconnects this driver; the cluster (started by `ray start`) keeps running.
        self._ray.shutdown()


def _check_reachable(address: str) -> None:
    """A HOST:PORT that nothing listens on is refused at once: ``ray.init`` would retry it for
    minutes before giving up."""
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        return   # "auto", "local", "ray://...": Ray resolves these itself
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=5).close()
    except OSError as exc:
        raise BackendError(f"cannot reach a Ray cluster at {address!r}: {exc.strerror or exc}", parameter="--ray",
                           fix="start one (`ray start --head`) and pass the address it prints (HOST:6379)") from None


def make_runner(workers: int | None = None, ray_address: str | None = None) -> Runner:
    """The runner ``--workers`` / ``--ray`` ask for (default: a pool of one process per CPU)."""
    if ray_address is not None:
        if workers is not None:
            raise SpecError("--workers and --ray both given", parameter="--workers",
                            fix="drop --workers: on Ray, the cluster's CPUs set how many trials run at once")
        return RayRunner(ray_address)
    n = workers if workers is not None else (os.cpu_count() or 1)
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise SpecError(f"--workers {n!r}", parameter="--workers", fix="a whole number >= 1")
    return InProcess() if n == 1 else LocalPool(n)
