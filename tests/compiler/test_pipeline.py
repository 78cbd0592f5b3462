"""The pass registry: named, listable passes; compile_graph runs the default list or a chosen one."""

from __future__ import annotations

import numpy as np
import pytest
import spikec
from spikec import ir
from spikec.compiler.pipeline import DEFAULT_PASSES, PASSES, available_passes, compile_graph, register_pass
from spikec.errors import UnsupportedError
from spikec.hardware import HardwareSpec, Sourced
from spikec.hardware.loihi import LOIHI1_SPEC

SPEC = HardwareSpec("test", weight_bits=Sourced(8, "test"), max_delay=Sourced(2, "test"))


def bn_delays() -> ir.Graph:
    """A BatchNorm to fold and delays beyond the spec's 2 steps."""
    bn = ir.BatchNorm(mean=np.zeros(3), var=np.ones(3), gamma=np.array([1.0, 2.0, 0.5]), beta=np.zeros(3), eps=0.0)
    nodes = {"in": ir.Input((4,)), "fc": ir.Linear(np.full((3, 4), 0.25), delay=np.arange(12).reshape(3, 4) % 5),
             "bn": bn, "lif1": ir.make_population(ir.LIF, 3, tau=8e-3, v_threshold=0.5), "out": ir.Output()}
    return ir.Graph(nodes, [("in", "fc"), ("fc", "bn"), ("bn", "lif1"), ("lif1", "out")], dt=1e-3)


@pytest.fixture(scope="module")
def model():
    return spikec.load(spikec.bundled_model())


def _same_program(a, b) -> None:
    assert [p.name for p in a.populations] == [p.name for p in b.populations]
    for p, q in zip(a.populations, b.populations):
        assert p.params.keys() == q.params.keys()
        for k in p.params:
            np.testing.assert_array_equal(p.params[k], q.params[k], err_msg=f"{p.name}.{k}")
    for p, q in zip(a.projections, b.projections, strict=True):
        np.testing.assert_array_equal(p.weight, q.weight, err_msg=p.name)
    np.testing.assert_array_equal(a.core_of, b.core_of)


def test_every_pass_is_listed_with_a_description_in_the_default_order() -> None:
    passes = available_passes()
    assert tuple(passes)[:len(DEFAULT_PASSES)] == DEFAULT_PASSES == (
        "fold_batchnorm", "fuse_linear", "map_delays", "quantize", "lower", "map")
    assert all(isinstance(d, str) and d and "\n" not in d for d in passes.values())


def test_default_list_is_the_old_fixed_pipeline(model) -> None:
    default = compile_graph(model, LOIHI1_SPEC, weight_bits=6)
    named = compile_graph(model, LOIHI1_SPEC, weight_bits=6, passes=list(DEFAULT_PASSES))
    assert [r.name for r in default.records] == list(DEFAULT_PASSES)
    _same_program(default.program, named.program)
    assert default.program.arithmetic == "fixed"
    floating = compile_graph(model, LOIHI1_SPEC, arithmetic="float")
    assert [r.name for r in floating.records] == ["fold_batchnorm", "fuse_linear", "map_delays", "lower", "map"]


def test_a_chosen_subset_runs_in_the_given_order() -> None:
    g = bn_delays()
    res = compile_graph(g, SPEC, passes=["fold_batchnorm", "quantize", "lower"])
    assert [r.name for r in res.records] == ["fold_batchnorm", "quantize", "lower"]
    assert "bn" not in res.graph.nodes and res.graph.nodes["lif1"].kind == "FixedCubaLIF"
    assert res.graph.nodes["fc"].max_delay() == 4  # no map_delays
    # The order matters: split first, the BatchNorm then has three sources and stays.
    swapped = compile_graph(g, SPEC, arithmetic="float", passes=["map_delays", "fold_batchnorm", "lower"])
    assert [r.name for r in swapped.records] == ["map_delays", "fold_batchnorm", "lower"]
    assert "bn" in swapped.graph.nodes and swapped.records[1].figures["batchnorms_kept"] == 1
    only_lower = compile_graph(g, SPEC, arithmetic="float", passes="lower")
    assert [r.name for r in only_lower.records] == ["lower"] and "bn" in only_lower.graph.nodes
    assert [r.name for r in compile_graph(g, SPEC, arithmetic="float", passes="fold_batchnorm, lower").records] == [
        "fold_batchnorm", "lower"]


@pytest.mark.parametrize("passes, arithmetic, words", [
    (["fold_batchnorm", "inline", "lower"], "fixed",
     ["'inline'", "fold_batchnorm, fuse_linear, map_delays, quantize, lower, map"]),
    (["fold_batchnorm", "quantize"], "fixed", ["'lower'", "mandatory"]),
    (["fold_batchnorm", "lower"], "fixed", ["'quantize'", "mandatory", "arithmetic='fixed'"]),
    (["quantize", "lower"], "float", ["'quantize'", "arithmetic='float'"]),
    (["map", "quantize", "lower"], "fixed", ["'map'", "program"]),
    (["quantize", "lower", "map_delays"], "fixed", ["'map_delays'", "graph"]),
    (["quantize", "quantize", "lower"], "fixed", ["'quantize'", "2 times"]),
])
def test_a_bad_pass_list_is_refused_and_says_why(passes, arithmetic, words) -> None:
    with pytest.raises(UnsupportedError) as exc:
        compile_graph(bn_delays(), SPEC, arithmetic=arithmetic, passes=passes)
    assert exc.value.parameter == "passes"
    for w in words:
        assert w in str(exc.value)


def test_a_name_can_be_registered_once() -> None:
    with pytest.raises(UnsupportedError, match="already registered"):
        register_pass("lower", "again")(lambda ir, spec, options: (ir, None))
    assert PASSES["lower"].description != "again"
