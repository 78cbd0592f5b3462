"""How a run is cut into C calls (runtime/engine.py): chunks cover every sample once, keep every
thread busy, are not tiny for a small model (the digits model is a few calls, not 16), and are
still many for a long run (Ctrl-C acts between them); and the counter arrays that share one
allocation are zero and apart."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from spikec.runtime.engine import _CHUNKS_PER_THREAD, _MIN_CHUNK_WORK, _chunk_plan, _zeros_together


@settings(max_examples=300, deadline=None)
@given(batch=st.integers(0, 5000), threads=st.integers(1, 16), work=st.integers(0, 10**9))
def test_chunks_cover_each_sample_once_and_keep_threads_busy(batch: int, threads: int, work: int) -> None:
    chunks = _chunk_plan(batch, threads, work)
    assert [lo for lo, _ in chunks] == ([0] if batch else []) + [hi for _, hi in chunks[:-1]]
    assert (chunks[-1][1] if chunks else 0) == batch
    assert all(hi > lo for lo, hi in chunks)
    assert len(chunks) >= min(batch, threads)
    assert len(chunks) <= max(threads * _CHUNKS_PER_THREAD, 1)
    if work and len(chunks) > threads:
        # more chunks than threads only while each (the last aside) holds a third of the least
        # work, or of a thread's share where that is smaller
        assert 3 * min(hi - lo for lo, hi in chunks[:-1]) >= min(_MIN_CHUNK_WORK / work, batch // threads)


def test_small_runs_are_few_calls_and_long_runs_many() -> None:
    digits = 20 * (64 * 128 + 128 * 10 + 64 + 128 + 10)  # one sample: 20 steps of the bundled model
    assert _chunk_plan(360, 1, digits) == [(0, 180), (180, 360)]
    assert len(_chunk_plan(360, 2, digits)) == 2
    assert len(_chunk_plan(360, 2, 0)) == 16  # without an estimate: as before, 8 per thread
    assert len(_chunk_plan(8000, 2, 10 * digits)) == 16  # a long run still stops between chunks


def test_counter_arrays_share_one_block_but_not_memory() -> None:
    a, b = _zeros_together(((3, 2, 4), (5, 7)))
    assert a.shape == (3, 2, 4) and b.shape == (5, 7) and a.dtype == b.dtype == np.int64
    assert not a.any() and not b.any() and a.flags.c_contiguous and b.flags.c_contiguous
    a[...] = 1
    assert not b.any()
    b[...] = 2
    assert (a == 1).all()
