"""Entry point of the Lava environment: ``python -m spikec.targets.loihi2.lava_run JOB_DIR``.

Reads ``JOB_DIR/program.npz`` (a timed Loihi 2 program, :func:`spikec.runtime.save_program`)
and ``JOB_DIR/inputs.npz`` (the job file, :func:`write_job`), runs the program on Lava's
bit-accurate CPU models and writes the spikes of every LIF population to ``JOB_DIR/spikes.npz``
(:func:`write_spikes`), plus the wall time of the run.

Array keys in both files are positions (``port0``, ``pop0``, ...), never user names, and the
names travel as a JSON list: a port or population may be called anything (``__steps__``,
``file``, ``a/b``) without clashing with ``numpy.savez``'s keywords or the file's own entries.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Mapping

import numpy as np

from ...runtime.program import load_program
from .encode import encode

__all__ = ["main", "write_job", "read_job", "write_spikes"]

JOB_FILE = "inputs.npz"
SPIKES_FILE = "spikes.npz"


def _names(names: list[str]) -> np.ndarray:
    return np.frombuffer(json.dumps(names).encode(), np.uint8)


def _read_names(data: Mapping[str, np.ndarray]) -> list[str]:
    names = json.loads(bytes(data["names"]).decode())
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ValueError("'names' is not a JSON list of strings")
    return names


def write_job(path: Path, inputs: Mapping[str, np.ndarray], steps: int) -> None:
    """The inputs (one array per port) and the step count, keyed by position."""
    ports = list(inputs)
    arrays = {f"port{i}": np.asarray(inputs[p]) for i, p in enumerate(ports)}
    np.savez(path, steps=np.int64(steps), names=_names(ports), **arrays)


def read_job(path: Path) -> tuple[dict[str, np.ndarray], int]:
    """What :func:`write_job` wrote: inputs by port name, and the step count."""
    with np.load(path, allow_pickle=False) as f:
        ports = _read_names(f)
        return {p: f[f"port{i}"] for i, p in enumerate(ports)}, int(f["steps"])


def write_spikes(path: Path, spikes: Mapping[str, np.ndarray], wall: float) -> None:
    """Spikes by population, keyed by position, and the wall time of the run."""
    pops = list(spikes)
    np.savez(path, wall=np.float64(wall), names=_names(pops),
             **{f"pop{i}": np.asarray(spikes[p]) for i, p in enumerate(pops)})


def main(argv: list[str]) -> int:
    from .lava_net import run  # here, so the main environment can use this module's file helpers

    job = Path(argv[0])
    program = load_program(job / "program.npz")
    inputs, steps = read_job(job / JOB_FILE)
    t0 = time.perf_counter()
    spikes = run(encode(program), inputs, steps)
    write_spikes(job / SPIKES_FILE, spikes, time.perf_counter() - t0)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
