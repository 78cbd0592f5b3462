"""Graphs and programs share one file format (spikec.ir.npzfile): whatever is wrong with a
file, loading it is one spikec error naming the file, never a numpy, zip or json traceback,
and asking whether it is a graph or a program file is a plain False, except for a file that
cannot be read at all (empty, truncated), which is that error."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest
from spikec import ir
from spikec.compiler.lower import lower
from spikec.errors import ModelImportError, ProgramError
from spikec.ir.serialize import is_graph_file
from spikec.runtime.program import is_program_file, load_program, save_program

KINDS = {
    "graph": (ir.load_graph, is_graph_file, ModelImportError, "__spikec_graph__"),
    "program": (load_program, is_program_file, ProgramError, "__spikec_program__"),
}


def _graph() -> ir.Graph:
    nodes = {"in": ir.Input(3), "w": ir.Affine(np.arange(6.0).reshape(2, 3), np.ones(2)),
             "n": ir.make_population(ir.LIF, 2, tau=0.01, v_threshold=1.0), "out": ir.Output()}
    return ir.Graph(nodes, [("in", "w"), ("w", "n"), ("n", "out")])


def _saved(kind: str, path: Path) -> Path:
    if kind == "graph":
        ir.save_graph(_graph(), path)
    else:
        save_program(lower(_graph()), path)
    return path


def _kind(key: str) -> str:
    return "graph" if "graph" in key else "program"


def _npy_bytes() -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.ones(3))
    return buf.getvalue()


def _header(text: str) -> Callable[[Path, str], None]:
    def make(path: Path, key: str) -> None:
        np.savez(path, **{key: np.frombuffer(text.encode(), np.uint8)})
    return make


def _damaged_array(path: Path, key: str) -> None:
    """A real file with bytes of its first array's compressed data flipped."""
    good = _saved(_kind(key), path.with_name("good.npz"))
    data = bytearray(good.read_bytes())
    with zipfile.ZipFile(good) as zf:
        info = next(i for i in zf.infolist() if key not in i.filename)
    start = info.header_offset + 30 + len(info.filename) + len(info.extra) + 40
    data[start:start + 20] = bytes(b ^ 0xFF for b in data[start:start + 20])
    path.write_bytes(bytes(data))


BROKEN: dict[str, Callable[[Path, str], Any]] = {
    "missing": lambda path, key: None,
    "empty": lambda path, key: path.write_bytes(b""),
    "not a zip": lambda path, key: path.write_bytes(b"not a zip file"),
    "a single .npy array": lambda path, key: path.write_bytes(_npy_bytes()),
    "an npz of something else": lambda path, key: np.savez(path, weights=np.ones(3)),
    "truncated": lambda path, key: path.write_bytes(_saved(_kind(key), path.with_name("good.npz")).read_bytes()[:300]),
    "header is not JSON": _header("{"),
    "header is not an object": _header("[1, 2]"),
    "header is not UTF-8": lambda path, key: np.savez(path, **{key: np.array([255, 254], np.uint8)}),
    "header of another version": _header('{"format": "spikec-graph/0"}'),
    "header is a pickled object": lambda path, key: np.savez(path, **{key: np.array([{}], dtype=object)}),
    "an array is damaged": _damaged_array,
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("broken", BROKEN)
def test_a_broken_file_is_one_spikec_error(tmp_path: Path, kind: str, broken: str) -> None:
    load, is_file, error, key = KINDS[kind]
    path = tmp_path / "model.npz"
    BROKEN[broken](path, key)
    if broken in ("empty", "truncated"):  # unreadable: saying "not a graph" would hide why
        with pytest.raises(error, match=f"model.npz.*{broken}"):
            is_file(path)
    else:
        assert is_file(path) in (True, False)
    with pytest.raises(error, match="model.npz"):
        load(path)


def test_each_kind_knows_its_own_files_only(tmp_path: Path) -> None:
    graph, program = _saved("graph", tmp_path / "g.npz"), _saved("program", tmp_path / "p.npz")
    assert is_graph_file(graph) and not is_program_file(graph)
    assert is_program_file(program) and not is_graph_file(program)
    with pytest.raises(ProgramError, match="not a spikec program"):
        load_program(graph)
    with pytest.raises(ModelImportError, match="not a spikec graph"):
        ir.load_graph(program)


def test_an_array_entry_cannot_name_the_header(tmp_path: Path) -> None:
    """The header is no array: a program whose weight names the header entry is damaged."""
    path = _saved("program", tmp_path / "p.npz")
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    arrays["__spikec_program__"] = np.frombuffer(
        bytes(arrays["__spikec_program__"]).decode().replace('"proj0.weight"', '"__spikec_program__"').encode(),
        np.uint8)
    np.savez(path, **arrays)
    with pytest.raises(ProgramError, match="damaged"):
        load_program(path)
