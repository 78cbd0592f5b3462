"""spikec's file format: named arrays plus one JSON header, in one ``.npz`` file.

A saved graph (:mod:`spikec.ir.serialize`) and a saved program (:mod:`spikec.runtime.program`)
are both such a file: every array is an npz entry, and one more entry, under a key that names
the kind of file (``__spikec_graph__``, ``__spikec_program__``), holds the header: UTF-8 JSON
(as a uint8 array) with a ``format`` version and whatever says what the arrays are.

Reading never unpickles (``allow_pickle=False``), and every failure of numpy, zipfile, zlib or
json (a missing, truncated or foreign file, a damaged entry) becomes one error of the caller's
class that names the file, never a traceback from inside numpy.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from contextlib import contextmanager
from typing import Any, Callable, Iterator

import numpy as np

from ..errors import SpikecError

__all__ = ["write", "read", "is_file"]


def write(path: str | os.PathLike, key: str, header: Mapping[str, Any], arrays: Mapping[str, np.ndarray], *,
          default: Callable[[Any], Any] | None = None) -> None:
    """Write ``arrays`` and ``header`` (stored under ``key``; ``default`` as for :func:`json.dumps`)."""
    if key in arrays:
        raise ValueError(f"an array is named {key!r}, the header's key")
    text = json.dumps(header, default=default)  # before opening: an unwritable header leaves no file
    entries = {**arrays, key: np.frombuffer(text.encode(), dtype=np.uint8)}
    with open(path, "wb") as fh:
        np.savez_compressed(fh, **entries)


def is_file(path: str | os.PathLike, key: str) -> bool:
    """Whether ``path`` is an npz file with a header under ``key`` (anything unreadable is not)."""
    try:
        with np.load(path, allow_pickle=False) as data:
            return key in data.files
    except Exception:  # noqa: BLE001 - a missing, foreign or damaged file is simply not one
        return False


@contextmanager
def read(path: str | os.PathLike, key: str, *, version: str, what: str, error: type[SpikecError],
         fix: str) -> Iterator[tuple[dict[str, Any], Mapping[str, np.ndarray]]]:
    """``with read(...) as (header, arrays)``: the header of a file written by :func:`write` with
    this ``key`` and header ``"format": version``, and its arrays, each read when it is looked up.

    A file that cannot be read, is not a spikec ``what`` (``fix`` says how to make one), or whose
    header or an array is damaged raises ``error``; an array that is not there, KeyError (for the
    caller, a malformed header)."""
    name = _name(path)
    try:
        data = np.load(path, allow_pickle=False)
    except Exception as exc:  # noqa: BLE001 - missing, not npz, truncated zip, pickled: one user-facing error
        raise error(f"cannot read {name!r} as a spikec {what} ({type(exc).__name__}: {exc})") from None
    if not isinstance(data, np.lib.npyio.NpzFile):  # a single .npy array
        raise error(f"{name!r} is not an npz file, so not a spikec {what}", fix=fix)
    with data:
        if key not in data.files:
            raise error(f"{name!r} is an npz file but not a spikec {what}", fix=fix)
        try:
            header = json.loads(bytes(data[key]).decode())
        except Exception as exc:  # noqa: BLE001 - zip, zlib, numpy, unicode and json errors alike
            raise error(f"{name!r}: corrupt header ({type(exc).__name__}: {exc})") from None
        if not isinstance(header, dict):
            raise error(f"{name!r}: corrupt header (a JSON {type(header).__name__}, not an object)")
        if header.get("format") != version:
            raise error(f"{name!r} has format {header.get('format')!r}, expected {version!r}",
                        fix="was it saved by a newer spikec?")
        yield header, _Arrays(data, key, name, error)


class _Arrays(Mapping[str, np.ndarray]):
    """The arrays of an open npz file (not its header), read on lookup; a damaged one raises the
    caller's error class."""

    def __init__(self, data: Any, key: str, name: str, error: type[SpikecError]) -> None:
        self._data, self._key, self._name, self._error = data, key, name, error

    def __getitem__(self, entry: str) -> np.ndarray:
        if isinstance(entry, str) and entry.removesuffix(".npy") == self._key:
            raise KeyError(entry)  # the header is no array
        try:
            return self._data[entry]
        except KeyError:
            raise
        except Exception as exc:  # noqa: BLE001 - a damaged entry: zip, zlib or numpy format errors
            raise self._error(f"{self._name!r}: array {entry!r} is damaged ({type(exc).__name__}: {exc})") from None

    def __iter__(self) -> Iterator[str]:
        return (f for f in self._data.files if f != self._key)

    def __len__(self) -> int:
        return len(self._data.files) - 1


def _name(path: Any) -> str:
    return os.fspath(path) if isinstance(path, (str, os.PathLike)) else repr(path)
