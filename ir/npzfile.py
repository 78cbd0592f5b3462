"""spikec's file format: named arrays plus one JSON header, in one ``.npz`` file.

A saved graph (:mod:`spikec.ir.serialize`) and a saved program (:mod:`spikec.runtime.program`)
are both such a file: every array is an npz entry, and one more entry, under a key that names
the kind of file (``__spikec_graph__``, ``__spikec_program__``), holds the header: UTF-8 JSON
(as a uint8 array) with a ``format`` version and whatever says what the arrays are.

Reading never unpickles, checks the size every array declares (its ``.npy`` header) against
:func:`~spikec.ir.limits.limit_bytes` before allocating it, and turns every failure of numpy,
zipfile, zlib or json (a missing, truncated or foreign file, a damaged entry) into one error of
the caller's class that names the file, never a traceback from inside numpy.  Data files
(inputs, saved results) are read with the same checks through :func:`open_arrays`.

Writing is atomic (:func:`atomic_write`): the file is built under a temporary name in the
target's directory and renamed over the target, so a crash, a full disk or Ctrl-C leaves the
old file or none, never half of one, and two writers of one path leave one whole file.
:func:`check_writable` says before any work whether a path can be written at all.
"""

from __future__ import annotations

import json
import os
import secrets
import zipfile
from collections.abc import Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Callable, Iterator

import numpy as np

from ..errors import OutputError, SpikecError
from .limits import check_size

__all__ = ["write", "read", "is_file", "save_arrays", "open_arrays", "atomic_write", "check_writable"]

_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGIC = b"PK"


# --- writing ----------------------------------------------------------------------------------


def write(path: str | os.PathLike, key: str, header: Mapping[str, Any], arrays: Mapping[str, np.ndarray], *,
          default: Callable[[Any], Any] | None = None) -> None:
    """Write ``arrays`` and ``header`` (stored under ``key``; ``default`` as for :func:`json.dumps`),
    atomically, to exactly ``path``."""
    if key in arrays:
        raise ValueError(f"an array is named {key!r}, the header's key")
    text = json.dumps(header, default=default)  # before opening: an unwritable header leaves no file
    save_arrays(path, {**arrays, key: np.frombuffer(text.encode(), dtype=np.uint8)})


def save_arrays(path: str | os.PathLike, arrays: Mapping[str, Any], *, parameter: str | None = None) -> Path:
    """Write ``arrays`` as a compressed ``.npz`` atomically to exactly ``path`` (no suffix added),
    and return that path.  Keys are taken as they are (no clash with keyword arguments as in
    ``np.savez(file=...)``); object arrays are refused, since reading never unpickles."""
    entries = {str(k): np.asarray(v) for k, v in arrays.items()}
    for name, arr in entries.items():
        if arr.dtype.hasobject:
            raise OutputError(f"array {name!r} holds Python objects (dtype {arr.dtype}), which spikec never pickles",
                              parameter=parameter, fix="convert it to a numeric or string array")
    return atomic_write(path, lambda fh: _write_npz(fh, entries), parameter=parameter)


def _write_npz(fh: IO[bytes], entries: Mapping[str, np.ndarray]) -> None:
    with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
        for name, arr in entries.items():
            with zf.open(name + ".npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, arr, allow_pickle=False)


def check_writable(path: str | os.PathLike, *, parameter: str | None = None) -> Path:
    """``path`` as a Path if a file can be written there; else an :class:`OutputError` saying why
    (a missing directory, a directory in the way, no permission), before any work is done."""
    target = Path(path)
    folder = target.parent
    name = os.fspath(target)
    if target.is_dir():
        raise OutputError(f"cannot write {name!r}: it is a directory", parameter=parameter,
                          fix=f"give a file name, e.g. {os.fspath(target / 'out.npz')!r}")
    if not folder.exists():
        raise OutputError(f"cannot write {name!r}: the directory {os.fspath(folder)!r} does not exist",
                          parameter=parameter, fix="create it first (mkdir -p) or choose another path")
    if not folder.is_dir():
        raise OutputError(f"cannot write {name!r}: {os.fspath(folder)!r} is not a directory", parameter=parameter,
                          fix="choose a path inside a directory")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write {name!r}: no permission to create files in {os.fspath(folder)!r}",
                          parameter=parameter, fix="choose a directory you can write to")
    if target.exists() and not os.access(target, os.W_OK):
        raise OutputError(f"cannot write {name!r}: the file is read-only", parameter=parameter,
                          fix="make it writable (chmod u+w) or choose another path")
    return target


def atomic_write(path: str | os.PathLike, fill: Callable[[IO[bytes]], None], *, parameter: str | None = None) -> Path:
    """Call ``fill(fh)`` on a temporary file beside ``path``, then rename it to ``path``.

    The temporary file is removed on any error or interrupt (KeyboardInterrupt included, which
    is raised again); an OSError (disk full, permission) becomes an :class:`OutputError`
    naming ``path``."""
    target = check_writable(path, parameter=parameter)
    fd, tmp = _temporary(target, parameter)
    try:
        with os.fdopen(fd, "wb") as fh:
            fill(fh)
            fh.flush()
            os.fsync(fh.fileno())  # the data is on disk before the name points at it
        os.replace(tmp, target)
    except BaseException as exc:
        _remove(tmp)
        if isinstance(exc, OSError):
            raise OutputError(f"cannot write {os.fspath(target)!r}: {exc.strerror or exc}", parameter=parameter,
                              fix="free some space or choose another path") from None
        raise
    return target


def _temporary(target: Path, parameter: str | None) -> tuple[int, Path]:
    # Created with O_EXCL, mode 0o666 less the umask: the renamed file gets a normal file's mode
    # (tempfile.mkstemp would leave it 0o600).
    for _ in range(16):
        tmp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), tmp
        except FileExistsError:
            continue
        except OSError as exc:
            raise OutputError(f"cannot write {os.fspath(target)!r}: {exc.strerror or exc}", parameter=parameter,
                              fix="choose another path") from None
    raise OutputError(f"cannot create a temporary file beside {os.fspath(target)!r}", parameter=parameter)


def _remove(path: Path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass  # already gone (or never created): nothing is left half-written either way


# --- reading ----------------------------------------------------------------------------------


def is_file(path: Any, key: str, error: type[SpikecError]) -> bool:
    """Whether ``path`` is an ``.npz`` (zip) holding the entry ``key`` (a spikec header): False for
    a missing or foreign file, ``error`` naming the cause for one that cannot be read at all."""
    if not isinstance(path, (str, os.PathLike)) or not os.path.exists(path):
        return False
    name = os.fspath(path)
    if os.path.isdir(path):
        raise error(f"cannot read {name!r}: it is a directory", fix="give the path of a file")
    try:
        with open(path, "rb") as fh:
            start = fh.read(4)
    except PermissionError:
        raise error(f"cannot read {name!r}: permission denied",
                    fix="make the file readable (chmod u+r) or run as its owner") from None
    except OSError as exc:
        raise error(f"cannot read {name!r}: {exc.strerror or exc}") from None
    if not start:
        raise error(f"cannot read {name!r}: the file is empty (0 bytes)",
                    fix="an interrupted save or copy leaves an empty file; write it again")
    if not start.startswith(_ZIP_MAGIC):
        return False  # a foreign file (HDF5, .npy, text): the caller says what it expected
    try:
        with zipfile.ZipFile(path) as zf:
            return f"{key}.npy" in zf.namelist()
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as exc:
        raise error(f"cannot read {name!r}: the .npz (zip) file is truncated or damaged ({exc})",
                    fix="an interrupted save or copy leaves a partial file; write or copy it again") from None


@contextmanager
def open_arrays(path: str | os.PathLike, *, what: str, error: type[SpikecError],
                fix: str | None = None) -> Iterator[Mapping[str, np.ndarray]]:
    """``with open_arrays(...) as arrays``: the arrays of an ``.npz`` file, each read (and its
    declared size checked against the memory limit) when it is looked up.

    A missing file, a directory, a plain ``.npy``, a file that is no zip archive or a damaged
    one raises ``error`` naming the file and saying it is a ``what``; ``fix`` says how to make one."""
    name = _name(path)
    if not isinstance(path, (str, os.PathLike)):
        raise error(f"expected the path of {what}, got {type(path).__name__} {name}", parameter="path",
                    fix="pass a file path (a str or pathlib.Path)")
    _check_container(Path(path), name, what, error, fix)
    try:
        zf = zipfile.ZipFile(path)
    except Exception as exc:  # noqa: BLE001 - a damaged central directory, an unreadable file
        raise error(f"cannot read {name!r} as {what}: damaged or truncated .npz ({type(exc).__name__}: {exc})",
                    fix=fix) from None
    with zf:
        yield _Arrays(zf, name, error)


def _check_container(path: Path, name: str, what: str, error: type[SpikecError], fix: str | None) -> None:
    """The file's first bytes, so that a foreign file is named for what it is (numpy would
    suggest ``allow_pickle``) and a damaged zip for what it is."""
    if not path.exists():
        raise error(f"no such file: {name!r}", fix=fix)
    if path.is_dir():
        raise error(f"{name!r} is a directory, not {what}", fix=fix)
    try:
        with open(path, "rb") as fh:
            start = fh.read(len(_NPY_MAGIC))
    except OSError as exc:
        raise error(f"cannot read {name!r}: {exc.strerror or exc}", fix=fix) from None
    if start.startswith(_NPY_MAGIC):
        raise error(f"{name!r} is a single .npy array, not an .npz file, so not {what}", fix=fix)
    if not start.startswith(_ZIP_MAGIC):
        raise error(f"{name!r} is not an .npz file (no zip archive), so not {what}", fix=fix)


class _Arrays(Mapping[str, np.ndarray]):
    """The arrays of an open npz file, read on lookup after their declared size is checked; a
    damaged one raises the caller's error class."""

    def __init__(self, zf: zipfile.ZipFile, name: str, error: type[SpikecError]) -> None:
        self._zf, self._name, self._error = zf, name, error
        self._members = {(m[:-4] if m.endswith(".npy") else m): m for m in zf.namelist()}
        self._loaded = 0  # bytes read through this mapping so far: many small arrays add up

    def __getitem__(self, entry: str) -> np.ndarray:
        if isinstance(entry, str) and entry not in self._members and entry.removesuffix(".npy") in self._members:
            entry = entry.removesuffix(".npy")  # np.load answers to both spellings
        member = self._members[entry]  # KeyError for an array that is not there
        shape, dtype = self._declared(entry, member)
        nbytes = int(np.prod(shape, dtype=object)) * dtype.itemsize
        what = f"array {entry!r} of {self._name!r} (shape {shape}, {dtype})"
        check_size(what, nbytes, parameter=entry, fix="check the file; if it is right, raise SPIKEC_MAX_BYTES")
        check_size(f"the arrays read from {self._name!r}", self._loaded + nbytes, parameter=entry)
        try:
            with self._zf.open(member) as fh:
                arr = np.lib.format.read_array(fh, allow_pickle=False)
        except Exception as exc:  # noqa: BLE001 - zip CRC, zlib, short data, numpy format errors
            raise self._damaged(entry, exc) from None
        self._loaded += nbytes
        return arr

    def _declared(self, entry: str, member: str) -> tuple[tuple[int, ...], np.dtype]:
        """Shape and dtype from the entry's ``.npy`` header, read without reading the data."""
        try:
            with self._zf.open(member) as fh:
                version = np.lib.format.read_magic(fh)
                if version == (1, 0):
                    shape, _, dtype = np.lib.format.read_array_header_1_0(fh)
                elif version == (2, 0):
                    shape, _, dtype = np.lib.format.read_array_header_2_0(fh)
                else:
                    raise ValueError(f".npy format version {version} is not supported")
        except Exception as exc:  # noqa: BLE001 - not an .npy entry, or a damaged one
            raise self._damaged(entry, exc) from None
        if dtype.hasobject:
            raise self._error(f"{self._name!r}: array {entry!r} holds Python objects (dtype {dtype}); spikec never "
                              "unpickles", parameter=entry, fix="save numeric arrays (np.savez with numbers)")
        return tuple(int(n) for n in shape), dtype

    def _damaged(self, entry: str, exc: BaseException) -> SpikecError:
        return self._error(f"{self._name!r}: array {entry!r} is damaged ({type(exc).__name__}: {exc})",
                           parameter=entry)

    def __iter__(self) -> Iterator[str]:
        return iter(self._members)

    def __len__(self) -> int:
        return len(self._members)


@contextmanager
def read(path: str | os.PathLike, key: str, *, version: str, what: str, error: type[SpikecError],
         fix: str) -> Iterator[tuple[dict[str, Any], Mapping[str, np.ndarray]]]:
    """``with read(...) as (header, arrays)``: the header of a file written by :func:`write` with
    this ``key`` and header ``"format": version``, and its arrays, each read when it is looked up.

    A file that cannot be read, is not a spikec ``what`` (``fix`` says how to make one), or whose
    header or an array is damaged raises ``error``; an array that is not there, KeyError (for the
    caller, a malformed header)."""
    name = _name(path)
    with open_arrays(path, what=f"a spikec {what}", error=error, fix=fix) as data:
        if key not in data:
            raise error(f"{name!r} is an npz file but not a spikec {what}", fix=fix)
        header = _header(data, key, name, error)
        if header.get("format") != version:
            raise error(f"{name!r} has format {header.get('format')!r}, expected {version!r}",
                        fix="was it saved by a newer spikec?")
        yield header, _WithoutHeader(data, key)


def _header(data: Mapping[str, np.ndarray], key: str, name: str, error: type[SpikecError]) -> dict[str, Any]:
    raw = data[key]
    if raw.dtype != np.uint8 or raw.ndim != 1:
        raise error(f"{name!r}: corrupt header (an array of {raw.dtype}, shape {raw.shape}, not UTF-8 bytes)")
    try:
        header = json.loads(raw.tobytes().decode())
    except Exception as exc:  # noqa: BLE001 - numpy, unicode and json errors alike
        raise error(f"{name!r}: corrupt header ({type(exc).__name__}: {exc})") from None
    if not isinstance(header, dict):
        raise error(f"{name!r}: corrupt header (a JSON {type(header).__name__}, not an object)")
    return header


class _WithoutHeader(Mapping[str, np.ndarray]):
    """The arrays of a spikec file, without its header entry."""

    def __init__(self, data: Mapping[str, np.ndarray], key: str) -> None:
        self._data, self._key = data, key

    def __getitem__(self, entry: str) -> np.ndarray:
        if isinstance(entry, str) and entry.removesuffix(".npy") == self._key:
            raise KeyError(entry)  # the header is no array
        return self._data[entry]

    def __iter__(self) -> Iterator[str]:
        return (f for f in self._data if f != self._key)

    def __len__(self) -> int:
        return len(self._data) - 1


def _name(path: Any) -> str:
    return os.fspath(path) if isinstance(path, (str, os.PathLike)) else repr(path)
