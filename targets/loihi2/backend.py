"""Run a Loihi 2 program on Lava from the main environment.

lava-nc 0.10 needs Python 3.10 (numpy < 2), so it lives in a second environment with spikec's
core (``make lava`` builds ``.venv310``; DESIGN.md, "Environment facts").  :func:`run_lava`
writes the program and inputs to a temporary folder, runs :mod:`.lava_run` there in a
subprocess, and reads back every population's spikes, checked.  ``SPIKEC_LAVA_PYTHON`` names another
interpreter; ``SPIKEC_LAVA_TIMEOUT`` (seconds, default 3600) bounds a run.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import numpy as np

from ...errors import BackendError
from ...runtime.program import Program, save_program
from ..protocol import BackendRun
from .encode import encode
from .lava_run import JOB_FILE, SPIKES_FILE, write_job

__all__ = ["LavaRun", "lava_python", "lava_available", "lava_timeout", "run_lava", "lava_backend",
           "DEFAULT_TIMEOUT", "TIMEOUT_ENV", "PYTHON_ENV"]

_ROOT = Path(__file__).resolve().parents[2]  # the repository (the package's own folder)
PYTHON_ENV = "SPIKEC_LAVA_PYTHON"
TIMEOUT_ENV = "SPIKEC_LAVA_TIMEOUT"
#: Seconds a Lava run may take by default: a hung Lava (a deadlocked worker) is never waited on forever.
DEFAULT_TIMEOUT = 3600.0
_FIX = "run `make lava` in the spikec checkout (it builds .venv310 with lava-nc 0.10), or set SPIKEC_LAVA_PYTHON"


@dataclass(frozen=True)
class LavaRun:
    """Spikes of every population, ``(batch, steps, size)``, and the Lava run's wall time (s)."""

    spikes: Mapping[str, np.ndarray]
    wall: float


def lava_python() -> Path:
    """The interpreter of the Lava environment (``SPIKEC_LAVA_PYTHON`` or ``.venv310``)."""
    return Path(os.environ.get(PYTHON_ENV) or _ROOT / ".venv310" / "bin" / "python")


def lava_available() -> bool:
    """Whether the Lava environment exists and imports lava-nc and spikec."""
    py = lava_python()
    if not _runnable(py):
        return False
    try:
        probe = subprocess.run([str(py), "-c", "import lava.magma.core, spikec.runtime"], capture_output=True,
                               cwd=tempfile.gettempdir(), timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0


def _runnable(py: Path) -> bool:
    return py.is_file() and os.access(py, os.X_OK)


def _checked_python() -> Path:
    """:func:`lava_python`, or a :class:`BackendError` saying what is wrong with it."""
    py = lava_python()
    source = f"{PYTHON_ENV}={os.environ[PYTHON_ENV]!r}" if os.environ.get(PYTHON_ENV) else "the default"
    if not py.exists():
        raise BackendError(f"no Lava environment at {os.fspath(py)!r} ({source})", parameter="backend", fix=_FIX)
    if py.is_dir():
        raise BackendError(f"{os.fspath(py)!r} ({source}) is a directory, not a Python interpreter",
                           parameter=PYTHON_ENV, fix=f"point {PYTHON_ENV} at the interpreter itself, e.g. "
                           f"{os.fspath(py / 'bin' / 'python')!r}")
    if not _runnable(py):
        raise BackendError(f"{os.fspath(py)!r} ({source}) is not an executable file", parameter=PYTHON_ENV,
                           fix=f"point {PYTHON_ENV} at the Lava environment's python")
    return py


def lava_timeout(timeout: float | None = None) -> float:
    """Seconds a Lava run may take: ``timeout``, else ``SPIKEC_LAVA_TIMEOUT``, else
    :data:`DEFAULT_TIMEOUT`."""
    raw: object = timeout
    where = "timeout"
    if timeout is None:
        raw, where = os.environ.get(TIMEOUT_ENV) or DEFAULT_TIMEOUT, TIMEOUT_ENV
    try:
        value = float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise BackendError(f"{where}={raw!r} is not a positive number of seconds", parameter=where,
                           fix=f"give seconds, e.g. {TIMEOUT_ENV}=3600")
    return value


def run_lava(program: Program, inputs: Mapping[str, np.ndarray], steps: int | None = None, *,
             timeout: float | None = None) -> LavaRun:
    """Run ``program`` (timed for Loihi: :func:`.encode.loihi_timing`) on Lava's bit-accurate models.

    The run is stopped after ``timeout`` seconds (default ``SPIKEC_LAVA_TIMEOUT``, else
    :data:`DEFAULT_TIMEOUT`), Lava's own worker processes with it."""
    net = encode(program)  # what Lava cannot express is refused here, with its node, not in the subprocess
    py = _checked_python()
    limit = lava_timeout(timeout)
    arrays = {k: np.asarray(v) for k, v in inputs.items()}
    if steps is None:
        steps = max((a.shape[1] for a in arrays.values()), default=0)
    batch = int(next(iter(arrays.values())).shape[0]) if arrays else 1
    with tempfile.TemporaryDirectory(prefix="spikec-lava-") as tmp:
        job = Path(tmp)
        save_program(program, job / "program.npz")
        write_job(job / JOB_FILE, arrays, steps)
        proc = _run(py, job, limit, timeout is None)
        if proc.returncode != 0:
            tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
            raise BackendError(f"the Lava run failed (exit {proc.returncode}):\n{tail}", parameter="backend", fix=_FIX
                               if "No module named" in tail else None)
        spikes, wall = _read_spikes(job / SPIKES_FILE, {lif.name: lif.size for lif in net.lifs}, batch, steps)
    return LavaRun(spikes, wall)


def _run(py: Path, job: Path, limit: float, from_env: bool) -> subprocess.CompletedProcess:
    """The Lava subprocess, in a session of its own so that a timeout kills Lava's workers too."""
    with subprocess.Popen([str(py), "-m", "spikec.targets.loihi2.lava_run", str(job)], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, cwd=job, start_new_session=True) as proc:
        try:
            out, err = proc.communicate(timeout=limit)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            try:  # a worker that left the session could keep the pipes open: do not wait on it
                proc.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            knob = f"raise {TIMEOUT_ENV} (seconds)" if from_env else "pass a larger timeout"
            raise BackendError(f"the Lava run did not finish within {limit:g} s and was stopped",
                               parameter=TIMEOUT_ENV if from_env else "timeout", limit=f"{limit:g} s",
                               fix=f"{knob}, or run fewer samples or steps") from None
        except BaseException:  # Ctrl-C: Lava's workers must not outlive the run
            _kill_group(proc)
            raise
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()


def _read_spikes(path: Path, sizes: Mapping[str, int], batch: int, steps: int) -> tuple[dict[str, np.ndarray], float]:
    """The spikes the Lava run wrote, checked: one 0/1 array ``(batch, steps, size)`` per LIF
    population, and a finite wall time; anything else is a :class:`BackendError` naming it."""
    def bad(detail: str, node: str | None = None) -> BackendError:
        return BackendError(f"the Lava run's output {path.name}: {detail}", node=node, parameter="backend",
                            fix="the Lava environment may not match this spikec; rebuild it (make lava)")

    if not path.is_file():
        raise bad("is missing (the run exited without writing it)")
    try:
        with np.load(path, allow_pickle=False) as f:
            names = json.loads(bytes(f["names"]).decode())
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                raise ValueError("'names' is not a JSON list of strings")
            wall = float(f["wall"])
            spikes = {n: f[f"pop{i}"] for i, n in enumerate(names)}
    except Exception as exc:  # noqa: BLE001 - zip, numpy, json, key errors: one message
        raise bad(f"cannot be read ({type(exc).__name__}: {exc})") from None
    if sorted(spikes) != sorted(sizes):
        raise bad(f"holds populations {sorted(spikes)[:10]}, expected {sorted(sizes)[:10]}")
    for name, arr in spikes.items():
        want = (batch, steps, sizes[name])
        if arr.shape != want or arr.dtype.kind not in "biu" or (arr.size and (arr.min() < 0 or arr.max() > 1)):
            raise bad(f"spikes of shape {arr.shape} and dtype {arr.dtype}, expected 0/1 integers of shape {want}",
                      node=name)
    if not math.isfinite(wall) or wall < 0:
        raise bad(f"wall time {wall!r} is not a number of seconds")
    return spikes, wall


def lava_backend(program: Program, inputs: Mapping[str, np.ndarray], steps: int, *,
                 threads: int | None = None) -> BackendRun:
    """The ``lava`` backend of the loihi2 target: :func:`run_lava`, read as a
    :class:`~spikec.targets.protocol.BackendRun` (Lava counts no events, so no counters)."""
    t0 = time.perf_counter()
    lava = run_lava(program, inputs, steps)
    wall = time.perf_counter() - t0
    outputs = {port: lava.spikes[pop] for port, pop in program.outputs.items() if pop in lava.spikes}
    rates = {name: float(spikes.mean()) for name, spikes in lava.spikes.items()}
    return BackendRun("Lava (Loihi2SimCfg fixed_pt)", outputs, rates, None, steps, wall,
                      detail=f"Lava run {lava.wall:.2f} s")
