"""Loaders for real event data sets a user already has (nothing is downloaded), in tonic's layout.

- N-MNIST (Orchard et al. 2015): ``.bin`` files of 40-bit big-endian event records: byte 0 = x,
  byte 1 = y, byte 2 bit 7 = polarity, bits 22..0 (byte 2 bits 6..0, bytes 3, 4) = timestamp in us.
  A record with y = 240 is a timestamp overflow marker: 2^13 us is added to every later event
  (as tonic's ``read_mnist_file`` does).  :func:`load_nmnist` takes one file or a folder laid out
  ``<folder>/<digit>/*.bin`` (tonic's ``NMNIST/Train`` or ``Test``); sensor 34 x 34, 2 polarities.
- SHD, the Spiking Heidelberg Digits (Cramer et al., IEEE TNNLS 2022): an HDF5 file with
  ``spikes/times`` (seconds, one variable-length array per sample), ``spikes/units`` (channel
  0..699) and ``labels``; read with h5py.

Both return :class:`RawEvents` (per sample a structured array ``x, y, t (us), p``); :func:`bin_events`
turns them into an :class:`~.events.EventSet` ``(samples, steps, channels)`` a reservoir reads.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ModelImportError, SimulationError
from .events import EventSet

__all__ = ["RawEvents", "EVENT_DTYPE", "load_nmnist", "load_shd", "bin_events", "NMNIST_SENSOR", "SHD_SENSOR"]

EVENT_DTYPE = np.dtype([("x", np.int16), ("y", np.int16), ("t", np.int64), ("p", np.int8)])
NMNIST_SENSOR = (34, 34, 2)     # width, height, polarities (tonic's sensor_size)
SHD_SENSOR = (700, 1, 1)
_OVERFLOW_Y, _OVERFLOW_US = 240, 1 << 13


@dataclass(frozen=True)
class RawEvents:
    """Events per sample (structured arrays of :data:`EVENT_DTYPE`), labels (-1: unknown) and sensor size."""

    events: tuple[np.ndarray, ...]
    labels: np.ndarray
    sensor: tuple[int, int, int]
    source: str


def _read_nmnist_file(path: Path) -> np.ndarray:
    raw = np.fromfile(path, dtype=np.uint8)
    if raw.size % 5:
        raise ModelImportError(f"{os.fspath(path)!r} holds {raw.size} bytes, not whole 5-byte N-MNIST records",
                               parameter="path", fix="give an N-MNIST .bin file (40-bit event records)")
    rec = raw.reshape(-1, 5).astype(np.int64)
    x, y = rec[:, 0], rec[:, 1]
    t = ((rec[:, 2] & 0x7F) << 16) | (rec[:, 3] << 8) | rec[:, 4]
    overflow = y == _OVERFLOW_Y
    t = t + np.cumsum(overflow) * _OVERFLOW_US
    keep = ~overflow
    if np.any(x[keep] >= NMNIST_SENSOR[0]) or np.any(y[keep] >= NMNIST_SENSOR[1]):
        raise ModelImportError(f"{os.fspath(path)!r} has events outside the 34 x 34 sensor", parameter="path",
                               fix="give an N-MNIST .bin file")
    out = np.empty(int(keep.sum()), EVENT_DTYPE)
    out["x"], out["y"], out["t"], out["p"] = x[keep], y[keep], t[keep], (rec[keep, 2] >> 7)
    return out


def load_nmnist(path: str | os.PathLike) -> RawEvents:
    """One N-MNIST ``.bin`` file (label from its folder's name when that is a digit, else -1), or
    a folder of ``<digit>/*.bin`` (sorted by digit, then file name)."""
    root = Path(path)
    if root.is_file():
        files = [root]
    elif root.is_dir():
        files = sorted(p for p in root.glob("*/*.bin") if p.parent.name.isdigit())
        if not files:
            raise ModelImportError(f"no <digit>/*.bin files under {os.fspath(root)!r}", parameter="path",
                                   fix="point at an N-MNIST Train or Test folder (tonic's layout)")
    else:
        raise ModelImportError(f"no such file or folder: {os.fspath(root)!r}", parameter="path")
    labels = np.array([int(p.parent.name) if p.parent.name.isdigit() else -1 for p in files], np.int64)
    return RawEvents(tuple(_read_nmnist_file(p) for p in files), labels, NMNIST_SENSOR, os.fspath(root))


def load_shd(path: str | os.PathLike) -> RawEvents:
    """The Spiking Heidelberg Digits HDF5 file at ``path`` (module docstring)."""
    import h5py

    name = os.fspath(path)
    if not Path(name).is_file():
        raise ModelImportError(f"no such file: {name!r}", parameter="path")
    try:
        with h5py.File(name, "r") as f:
            times, units, labels = f["spikes"]["times"][:], f["spikes"]["units"][:], np.asarray(f["labels"][:])
    except (OSError, KeyError) as exc:
        raise ModelImportError(f"{name!r} is not an SHD file ({exc})", parameter="path",
                               fix="an HDF5 file with spikes/times, spikes/units and labels") from None
    if len(times) != len(units) or len(labels) != len(times):
        raise ModelImportError(f"{name!r} has {len(times)} time arrays, {len(units)} unit arrays and "
                               f"{len(labels)} labels", parameter="path", fix="one of each per sample")
    events = []
    for t, u in zip(times, units):
        t, u = np.asarray(t, np.float64), np.asarray(u, np.int64)
        if t.shape != u.shape or (u.size and (u.min() < 0 or u.max() >= SHD_SENSOR[0])):
            raise ModelImportError(f"{name!r} has a sample whose units are not channels 0..699 of its times",
                                   parameter="path")
        e = np.zeros(t.size, EVENT_DTYPE)
        e["x"], e["t"], e["p"] = u, np.round(t * 1e6).astype(np.int64), 1
        events.append(e)
    return RawEvents(tuple(events), labels.astype(np.int64), SHD_SENSOR, name)


def bin_events(raw: RawEvents, steps: int, *, duration_us: int | None = None, crop: int | None = None) -> EventSet:
    """``raw`` as 0/1 events ``(samples, steps, channels)``: time ``[0, duration_us)`` (default: the
    longest sample) in ``steps`` equal bins; channels ordered polarity, y, x (a centred
    ``crop x crop`` window of the sensor when given, as Lin et al. crop N-MNIST to 16 x 16)."""
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise SimulationError(f"steps={steps!r}", parameter="steps", fix="a whole number >= 1")
    width, height, polarities = raw.sensor
    x0 = y0 = 0
    if crop is not None:
        if not (isinstance(crop, int) and 1 <= crop <= min(width, height)) or height == 1:
            raise SimulationError(f"crop={crop!r} for a {width} x {height} sensor", parameter="crop",
                                  limit=f"1 .. {min(width, height)}", fix="crop 2-D sensors only, within the sensor")
        x0, y0, width, height = (width - crop) // 2, (height - crop) // 2, crop, crop
    longest = max((int(e["t"].max()) + 1 for e in raw.events if e.size), default=1)
    duration = longest if duration_us is None else int(duration_us)
    if duration < 1:
        raise SimulationError(f"duration_us={duration_us!r}", parameter="duration_us", fix="a time span >= 1 us")
    out = np.zeros((len(raw.events), steps, polarities, height, width), np.uint8)
    for s, e in enumerate(raw.events):
        x, y = e["x"].astype(np.int64) - x0, e["y"].astype(np.int64) - y0
        step = e["t"] * steps // duration
        keep = (x >= 0) & (x < width) & (y >= 0) & (y < height) & (step >= 0) & (step < steps)
        out[s, step[keep], e["p"][keep].astype(np.int64) % polarities, y[keep], x[keep]] = 1
    return EventSet(out.reshape(len(raw.events), steps, -1), raw.labels, (polarities, height, width), raw.source)
