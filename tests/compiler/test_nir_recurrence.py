"""A recurrent graph keeps its delayed edges, and so its outputs, through a NIR file; the file
records them, and a record that disagrees with spikec's rule is refused by name."""

from __future__ import annotations

import json

import nir
import numpy as np
import pytest
import spikec.ir as ir
from spikec.compiler.frontends.nir_io import read_nir, to_nir, write_nir
from spikec.errors import ModelImportError


def _loop() -> ir.Graph:
    nodes = {"zin": ir.Input(1), "ain": ir.Input(1), "a": ir.Integrator(r=np.ones(1)),
             "b": ir.Integrator(r=np.full(1, 2.0)), "out": ir.Output()}
    edges = [("zin", "b"), ("ain", "a"), ("a", "b"), ("b", "a"), ("b", "out")]
    return ir.Graph(nodes, edges, dt=1.0)


def test_a_nir_round_trip_keeps_the_delayed_edges_and_the_outputs(tmp_path) -> None:
    graph = _loop()
    write_nir(graph, tmp_path / "loop.nir")
    back = read_nir(tmp_path / "loop.nir")
    assert back.back_edges == graph.back_edges == {("b", "a")}
    assert list(back.nodes) != list(graph.nodes)  # nir returns nodes in another order
    inputs = {"zin": np.ones((1, 6, 1)), "ain": np.ones((1, 6, 1))}
    assert np.array_equal(ir.simulate(back, inputs, dtype=np.float64).output,
                          ir.simulate(graph, inputs, dtype=np.float64).output)
    assert json.loads(to_nir(graph).metadata["spikec_back_edges"]) == [["b", "a"]]
    assert "spikec_back_edges" not in back.metadata  # about the file, not the model


def test_a_record_that_disagrees_is_refused(tmp_path) -> None:
    spec = to_nir(_loop())
    spec.metadata["spikec_back_edges"] = json.dumps([["a", "b"]])
    nir.write(tmp_path / "tampered.nir", spec)
    with pytest.raises(ModelImportError, match="records edge 'a' -> 'b' as recurrent"):
        read_nir(tmp_path / "tampered.nir")
    spec.metadata["spikec_back_edges"] = "not json"
    nir.write(tmp_path / "garbage.nir", spec)
    with pytest.raises(ModelImportError, match="JSON list"):
        read_nir(tmp_path / "garbage.nir")
