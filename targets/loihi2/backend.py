"""Run a Loihi 2 program on Lava from the main environment.

lava-nc 0.10 needs Python 3.10 (numpy < 2), so it lives in a second environment with spikec's
core (``make lava`` builds ``.venv310``; DESIGN.md, "Environment facts").  :func:`run_lava`
writes the program and inputs to a temporary folder, runs :mod:`.lava_run` there in a
subprocess, and reads back every population's spikes.  ``SPIKEC_LAVA_PYTHON`` names another
interpreter.
"""

from __future__ import annotations

import os
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

__all__ = ["LavaRun", "lava_python", "lava_available", "run_lava", "lava_backend"]

_ROOT = Path(__file__).resolve().parents[2]  # the repository (the package's own folder)
_FIX = "run `make lava` in the spikec checkout (it builds .venv310 with lava-nc 0.10), or set SPIKEC_LAVA_PYTHON"


@dataclass(frozen=True)
class LavaRun:
    """Spikes of every population, ``(batch, steps, size)``, and the Lava run's wall time (s)."""

    spikes: Mapping[str, np.ndarray]
    wall: float


def lava_python() -> Path:
    """The interpreter of the Lava environment (``SPIKEC_LAVA_PYTHON`` or ``.venv310``)."""
    return Path(os.environ.get("SPIKEC_LAVA_PYTHON") or _ROOT / ".venv310" / "bin" / "python")


def lava_available() -> bool:
    """Whether the Lava environment exists and imports lava-nc and spikec."""
    py = lava_python()
    if not py.exists():
        return False
    probe = subprocess.run([str(py), "-c", "import lava.magma.core, spikec.runtime"], capture_output=True,
                           cwd=tempfile.gettempdir())
    return probe.returncode == 0


def run_lava(program: Program, inputs: Mapping[str, np.ndarray], steps: int | None = None, *,
             timeout: float | None = None) -> LavaRun:
    """Run ``program`` (timed for Loihi: :func:`.encode.loihi_timing`) on Lava's bit-accurate models."""
    encode(program)  # what Lava cannot express is refused here, with its node, not in the subprocess
    py = lava_python()
    if not py.exists():
        raise BackendError(f"no Lava environment at {py}", parameter="backend", fix=_FIX)
    arrays = {k: np.asarray(v) for k, v in inputs.items()}
    if steps is None:
        steps = max((a.shape[1] for a in arrays.values()), default=0)
    with tempfile.TemporaryDirectory(prefix="spikec-lava-") as tmp:
        job = Path(tmp)
        save_program(program, job / "program.npz")
        np.savez(job / "inputs.npz", __steps__=np.int64(steps), **arrays)
        try:
            proc = subprocess.run([str(py), "-m", "spikec.targets.loihi2.lava_run", str(job)],
                                  capture_output=True, text=True, timeout=timeout, cwd=tmp)
        except subprocess.TimeoutExpired:
            raise BackendError(f"the Lava run did not finish within {timeout} s", parameter="timeout",
                               fix="run fewer samples or steps, or raise the timeout") from None
        if proc.returncode != 0:
            tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
            raise BackendError(f"the Lava run failed (exit {proc.returncode}):\n{tail}", parameter="backend", fix=_FIX
                               if "No module named" in tail else None)
        with np.load(job / "spikes.npz") as f:
            wall = float(f["__wall__"])
            spikes = {k: f[k] for k in f.files if k != "__wall__"}
    return LavaRun(spikes, wall)


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
