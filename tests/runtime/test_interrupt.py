"""Ctrl-C during an engine run stops it after the chunks of samples in flight (a C call cannot
be interrupted, so a run is many short calls), instead of after the whole run."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

_CHILD = """
import time
import numpy as np
import spikec
from spikec.compiler.lower import lower
from spikec.runtime import run

program = lower(spikec.load("default"))
x = np.random.default_rng(0).random((8000, 200, 64)) < 0.3
run(program, x[:10], counters="total")  # the program's engine tables are built on its first run
t0 = time.monotonic()
run(program, x[:1000], counters="total", threads=2)  # an eighth of the run: about two chunks per thread
print("ready", time.monotonic() - t0, flush=True)
t0 = time.monotonic()
try:
    run(program, x, counters="total", threads=2)
    print("finished", time.monotonic() - t0, flush=True)
except KeyboardInterrupt:
    print("interrupted", time.monotonic() - t0, flush=True)
"""


def test_ctrl_c_stops_a_long_run_between_chunks() -> None:
    child = subprocess.Popen([sys.executable, "-c", _CHILD], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    word, eighth = child.stdout.readline().split()
    assert word == "ready"
    time.sleep(0.2)
    sent = time.monotonic()
    child.send_signal(signal.SIGINT)
    out, _ = child.communicate(timeout=120)
    stopped = time.monotonic() - sent
    word, elapsed = out.split()
    # The whole run takes eight times `eighth`; a chunk is 1/16 of it, so the run stops within
    # the chunks in flight, not at its end.
    assert word == "interrupted", f"the run finished in {elapsed} s before the signal took effect"
    assert stopped < 0.5 + 2 * float(eighth), (stopped, eighth)
