"""Byte-damaged NIR files, graph files, program files and input files: every load ends in a
spikec error or a valid result, never another exception (issue 12: "a fuzz run over NIR files
and input/graph/program containers finds no traceback")."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import spikec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from spikec.compiler.lower import lower
from spikec.errors import SpikecError
from spikec.ir import save_graph
from spikec.runtime import load_program, save_program

DATA = Path(__file__).parent / "data" / "nir"
NIR_FILES = sorted(DATA.glob("*.nir")) + sorted((DATA / "paper").glob("*.nir"))
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _damage(blob: bytes, edits: list[tuple[int, int]], cut: int | None) -> bytes:
    data = bytearray(blob)
    for at, value in edits:
        data[at % len(data)] = value
    return bytes(data[:cut] if cut is not None else data)


def _edits() -> st.SearchStrategy:
    return st.tuples(st.lists(st.tuples(st.integers(0, 2**31), st.integers(0, 255)), min_size=1, max_size=8),
                     st.one_of(st.none(), st.integers(0, 2**31)))


@SETTINGS
@given(st.sampled_from(NIR_FILES), _edits())
def test_damaged_nir_files_never_crash(tmp_path_factory, path: Path, damage) -> None:
    bad = tmp_path_factory.mktemp("nir") / path.name
    blob = path.read_bytes()
    edits, cut = damage
    bad.write_bytes(_damage(blob, edits, None if cut is None else cut % len(blob)))
    try:
        spikec.load(bad, dt=1e-3)
    except SpikecError:
        pass


def _containers(tmp: Path) -> dict[str, Path]:
    graph = spikec.load("default")
    save_graph(graph, tmp / "graph.npz")
    save_program(lower(graph), tmp / "program.npz")
    spikes = (np.random.default_rng(0).random((3, 5, 64)) < 0.3).astype(np.uint8)
    np.savez(tmp / "data.npz", spikes=spikes, labels=np.array([1, 2, 3]))
    return {k: tmp / f"{k}.npz" for k in ("graph", "program", "data")}


@SETTINGS
@given(st.sampled_from(["graph", "program", "data"]), _edits())
def test_damaged_graph_program_and_input_files_never_crash(tmp_path_factory, kind: str, damage) -> None:
    tmp = tmp_path_factory.mktemp(kind)
    path = _containers(tmp)[kind]
    blob = path.read_bytes()
    edits, cut = damage
    path.write_bytes(_damage(blob, edits, None if cut is None else cut % len(blob)))
    try:
        if kind == "graph":
            spikec.load(path)
        elif kind == "program":
            load_program(path)
        else:
            spikec.load_dataset(path, spikec.load("default"))
    except SpikecError:
        pass
