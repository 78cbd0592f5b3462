"""Entry point of the Lava environment: ``python -m spikec.targets.loihi2.lava_run JOB_DIR``.

Reads ``JOB_DIR/program.npz`` (a timed Loihi 2 program, :func:`spikec.runtime.save_program`)
and ``JOB_DIR/inputs.npz`` (one array per input port, ``(batch, time, *shape)``, and
``steps``), runs it on Lava's bit-accurate CPU models and writes every population's spikes to
``JOB_DIR/spikes.npz`` plus the wall time of the run.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from ...runtime.program import load_program
from .encode import encode
from .lava_net import run


def main(argv: list[str]) -> int:
    job = Path(argv[0])
    program = load_program(job / "program.npz")
    with np.load(job / "inputs.npz") as f:
        steps = int(f["__steps__"])
        inputs = {k: f[k] for k in f.files if k != "__steps__"}
    t0 = time.perf_counter()
    spikes = run(encode(program), inputs, steps)
    np.savez(job / "spikes.npz", __wall__=np.float64(time.perf_counter() - t0), **spikes)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
