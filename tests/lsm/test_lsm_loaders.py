"""N-MNIST and SHD loaders, on small files written here in each format."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest
from spikec.errors import SpikecError
from spikec.lsm import bin_events, load_events, load_nmnist, load_shd


def _nmnist_bytes(events: list[tuple[int, int, int, int]]) -> bytes:
    """40-bit records x, y, p<<7 | t>>16, t>>8, t (t already below 2^23)."""
    out = bytearray()
    for x, y, p, t in events:
        out += bytes([x, y, (p << 7) | ((t >> 16) & 0x7F), (t >> 8) & 0xFF, t & 0xFF])
    return bytes(out)


def test_nmnist_records_and_the_overflow_marker(tmp_path: Path) -> None:
    folder = tmp_path / "Train" / "7"
    folder.mkdir(parents=True)
    records = [(3, 4, 1, 5), (33, 0, 0, 0x7FFFFF), (0, 240, 0, 0), (1, 2, 1, 10)]
    (folder / "00001.bin").write_bytes(_nmnist_bytes(records))
    raw = load_nmnist(folder / "00001.bin")
    (e,) = raw.events
    assert raw.labels.tolist() == [7] and raw.sensor == (34, 34, 2)
    assert e["x"].tolist() == [3, 33, 1] and e["y"].tolist() == [4, 0, 2] and e["p"].tolist() == [1, 0, 1]
    assert e["t"].tolist() == [5, 0x7FFFFF, 10 + (1 << 13)]   # after the marker, 2^13 us later
    both = load_nmnist(tmp_path / "Train")
    assert len(both.events) == 1


def test_nmnist_folder_binned_and_cropped(tmp_path: Path) -> None:
    for digit, xs in ((0, [17, 9]), (1, [16])):
        (tmp_path / str(digit)).mkdir()
        (tmp_path / str(digit) / "a.bin").write_bytes(_nmnist_bytes([(x, 17, 1, 100 * k) for k, x in enumerate(xs)]))
    raw = load_nmnist(tmp_path)
    assert raw.labels.tolist() == [0, 1]
    binned = bin_events(raw, 2, crop=16)             # window x, y in [9, 25)
    assert binned.events.shape == (2, 2, 2 * 16 * 16) and binned.shape == (2, 16, 16)
    grid = binned.events.reshape(2, 2, 2, 16, 16)
    assert grid[0, 0, 1, 8, 8] == 1 and grid[0, 1, 1, 8, 0] == 1 and grid[1, 0, 1, 8, 7] == 1
    assert grid.sum() == 3
    events = load_events(tmp_path, steps=2)
    assert events.events.shape == (2, 2, 512)


def test_shd_file(tmp_path: Path) -> None:
    path = tmp_path / "shd_test.h5"
    vlen_f, vlen_u = h5py.vlen_dtype(np.float32), h5py.vlen_dtype(np.uint16)
    with h5py.File(path, "w") as f:
        g = f.create_group("spikes")
        t = g.create_dataset("times", (2,), dtype=vlen_f)
        u = g.create_dataset("units", (2,), dtype=vlen_u)
        t[0], u[0] = np.array([0.0, 0.5, 0.99], np.float32), np.array([0, 699, 5], np.uint16)
        t[1], u[1] = np.array([0.25], np.float32), np.array([3], np.uint16)
        f.create_dataset("labels", data=np.array([4, 19]))
    raw = load_shd(path)
    assert raw.labels.tolist() == [4, 19] and raw.sensor == (700, 1, 1)
    assert raw.events[0]["x"].tolist() == [0, 699, 5]
    binned = bin_events(raw, 4)
    assert binned.events.shape == (2, 4, 700)
    assert binned.events[0, 0, 0] == 1 and binned.events[0, 2, 699] == 1 and binned.events[0, 3, 5] == 1
    assert binned.events[1, 1, 3] == 1 and binned.events.sum() == 4
    assert load_events(path, steps=4).events.shape == (2, 4, 700)


def test_broken_files_are_named(tmp_path: Path) -> None:
    (tmp_path / "odd.bin").write_bytes(b"\x01\x02\x03")
    with pytest.raises(SpikecError, match="5-byte"):
        load_nmnist(tmp_path / "odd.bin")
    with pytest.raises(SpikecError, match="no such"):
        load_nmnist(tmp_path / "missing")
    (tmp_path / "x.h5").write_bytes(b"not hdf5")
    with pytest.raises(SpikecError, match="not an SHD file"):
        load_shd(tmp_path / "x.h5")
    (tmp_path / "empty").mkdir()
    with pytest.raises(SpikecError, match="no <digit>"):
        load_nmnist(tmp_path / "empty")
    with pytest.raises(SpikecError, match="cannot tell"):
        load_events(tmp_path / "data.csv")
