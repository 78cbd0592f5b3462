"""Every way a Program or a run's inputs can be refused, and the save/load round trip.

Each case breaks one thing in an otherwise valid program and expects a ProgramError (for
run inputs a SimulationError) that names the population, projection or port at fault and
the parameter, in the attributes and in the message a user reads.
"""

from __future__ import annotations

import dataclasses
from contextlib import contextmanager
from typing import Any, Callable, Iterator

import numpy as np
import pytest
from spikec import ir
from spikec.compiler.lower import lower
from spikec.errors import ProgramError, SimulationError, SpikecError, UnsupportedError
from spikec.runtime import Population, Program, Projection, load_program, run, save_program
from spikec.runtime.program import MAX_DELAY

ANY = object()


@contextmanager
def raises_named(exc: type[SpikecError], node: Any, parameter: Any = ANY) -> Iterator[pytest.ExceptionInfo]:
    """``pytest.raises(exc)`` that also checks the error names ``node`` and ``parameter``, as
    attributes and in the message."""
    with pytest.raises(exc) as info:
        yield info
    err = info.value
    assert type(err) is exc, f"{type(err).__name__}: {err}"
    assert err.node == node, f"error names {err.node!r}, expected {node!r}: {err}"
    if node is not None:
        assert f"'{node}'" in str(err)
    if parameter is not ANY:
        assert err.parameter == parameter, f"error names parameter {err.parameter!r}, expected {parameter!r}: {err}"
        if parameter is not None:
            assert f"'{parameter}'" in str(err)


# --- two valid programs to break ------------------------------------------------------------------------


def float_parts() -> dict[str, Any]:
    """in (3) -> hid (2, spiking, recurrent) -> out (2, graded); img (1x3x3) -> conv -> relay."""
    pops = [
        Population("in", "input", (3,)),
        Population("hid", "cuba_float", (2,), {"alpha": [0.9, 0.8], "gain": [1.0, 1.0], "bias": [0.0, 0.0],
                                                "v_threshold": [1.0, 1.0], "v_reset": [0.0, 0.0]},
                   spiking=True, reset="value"),
        Population("out", "cuba_float", (2,), {"alpha": [0.5, 0.5], "gain": [1.0, 1.0], "bias": [0.0, 0.1]}),
        Population("img", "input", (1, 3, 3)),
        Population("relay", "pass", (1, 2, 2), {"input_bias": [0.0, 0.5, 0.0, 0.0]}),
    ]
    projs = [
        Projection("w_in", "in", "hid", "dense", np.arange(6.0).reshape(2, 3) / 4,
                   delay=np.array([[0, 1, 2], [1, 0, 0]])),
        Projection("w_rec", "hid", "hid", "dense", np.array([[0.0, 0.5], [0.5, 0.0]]), delay_base=1),
        Projection("w_out", "hid", "out", "sparse", np.array([0.5, -0.5]), delay=np.array([0, 2]),
                   target_index=np.array([0, 1]), source_index=np.array([1, 0])),
        Projection("conv", "img", "relay", "conv", np.ones((1, 1, 2, 2)), geometry=conv_geometry()),
    ]
    return dict(dt=1.0, arithmetic="float", populations=pops, projections=projs, inputs={"x": "in", "image": "img"},
                outputs={"y": "out", "r": "relay"})


def conv_geometry(**changes: Any) -> dict[str, Any]:
    geo = {"in_shape": (1, 3, 3), "out_shape": (1, 2, 2), "stride": (1, 1), "dilation": (1, 1),
           "padding": ((0, 0), (0, 0)), "groups": 1}
    geo.update(changes)
    return geo


def fixed_parts() -> dict[str, Any]:
    """in (3) -> lif (2, fixed point)."""
    pops = [
        Population("in", "input", (3,)),
        Population("lif", "cuba_fixed", (2,), {"du": [1024, 4096], "dv": [512, 0], "bias": [0, 1],
                                                "v_threshold": [8, 8], "v_reset": [0, 0]},
                   spiking=True, reset="subtract", config={"decay_bits": 12, "u_bits": 16, "v_bits": 16}),
    ]
    projs = [Projection("w", "in", "lif", "dense", np.array([[3, 1, -2], [0, 5, 1]]))]
    return dict(dt=1.0, arithmetic="fixed", populations=pops, projections=projs, inputs={"x": "in"},
                outputs={"y": "lif"})


def pop(parts: dict, which: str, **changes: Any) -> dict:
    parts["populations"] = [dataclasses.replace(p, **changes) if p.name == which else p for p in parts["populations"]]
    return parts


def param(parts: dict, name: str, key: str, value: Any) -> dict:
    """Set (or with ``value=None`` remove) one parameter of population ``name``."""
    p = next(p for p in parts["populations"] if p.name == name)
    params = dict(p.params)
    if value is None:
        params.pop(key)
    else:
        params[key] = value
    return pop(parts, name, params=params)


def config(parts: dict, **changes: Any) -> dict:
    p = next(p for p in parts["populations"] if p.name == "lif")
    return pop(parts, "lif", config={**p.config, **changes})


def proj(parts: dict, which: str, **changes: Any) -> dict:
    parts["projections"] = [dataclasses.replace(j, **changes) if j.name == which else j for j in parts["projections"]]
    return parts


def test_the_base_programs_are_valid_and_run() -> None:
    f, q = Program(**float_parts()), Program(**fixed_parts())
    assert run(f, {"x": np.ones((1, 4, 3)), "image": np.ones((1, 4, 1, 3, 3))}).outputs["y"].shape == (1, 4, 2)
    assert run(q, np.ones((2, 4, 3), int)).output.shape == (2, 4, 2)


# --- the program as a whole ----------------------------------------------------------------------------


def two_big_inputs(parts: dict) -> dict:
    parts["populations"] = [Population("a", "input", (2**30,)), Population("b", "input", (2**30,))]
    parts["projections"], parts["inputs"], parts["outputs"] = [], {"a": "a", "b": "b"}, {}
    return parts


PROGRAM_CASES: list[tuple[str, Callable[[dict], dict], str]] = [
    ("unknown arithmetic", lambda p: {**p, "arithmetic": "double"}, "arithmetic"),
    ("zero dt", lambda p: {**p, "dt": 0.0}, "dt"),
    ("negative dt", lambda p: {**p, "dt": -1e-3}, "dt"),
    ("NaN dt", lambda p: {**p, "dt": float("nan")}, "dt"),
    ("dt not a number", lambda p: {**p, "dt": "1ms"}, "dt"),
    ("no populations",
     lambda p: {**p, "populations": [], "projections": [], "inputs": {}, "outputs": {}}, "populations"),
    ("a population that is not one", lambda p: {**p, "populations": p["populations"] + [{"name": "x"}]}, "populations"),
    ("repeated population name",
     lambda p: {**p, "populations": p["populations"] + [p["populations"][2]]}, "populations"),
    ("empty population name", lambda p: pop(p, "out", name=""), "populations"),
    ("too many neurons in all", two_big_inputs, "populations"),
    ("a projection that is not one", lambda p: {**p, "projections": p["projections"] + ["w"]}, "projections"),
    ("repeated projection name", lambda p: proj(p, "w_out", name="w_in"), "projections"),
    ("input port to a missing population", lambda p: {**p, "inputs": {"x": "in", "image": "picture"}}, "inputs"),
    ("output port to a missing population", lambda p: {**p, "outputs": {"y": "nowhere"}}, "outputs"),
    ("input port to a neuron population", lambda p: {**p, "inputs": {"x": "in", "image": "img", "h": "hid"}}, "inputs"),
    ("two ports feed one population", lambda p: {**p, "inputs": {"x": "in", "image": "img", "x2": "in"}}, "inputs"),
    ("core_of without core_xy", lambda p: {**p, "core_of": np.zeros(20, int)}, "core_xy"),
    ("core_xy not (n, 2)", lambda p: {**p, "core_of": np.zeros(20, int), "core_xy": np.zeros(3, int)}, "core_xy"),
    ("negative mesh coordinate",
     lambda p: {**p, "core_of": np.zeros(20, int), "core_xy": np.array([[0, -1]])}, "core_xy"),
    ("mesh coordinate beyond 2**20",
     lambda p: {**p, "core_of": np.zeros(20, int), "core_xy": np.array([[2**21, 0]])}, "core_xy"),
    ("core_of of the wrong length",
     lambda p: {**p, "core_of": np.zeros(19, int), "core_xy": np.zeros((1, 2), int)}, "core_of"),
    ("core_of names a missing core",
     lambda p: {**p, "core_of": np.full(20, 1), "core_xy": np.zeros((1, 2), int)}, "core_of"),
    ("negative core", lambda p: {**p, "core_of": np.full(20, -1), "core_xy": np.zeros((1, 2), int)}, "core_of"),
    ("fractional core", lambda p: {**p, "core_of": np.full(20, 0.5), "core_xy": np.zeros((1, 2), int)}, "core_of"),
    ("NaN core", lambda p: {**p, "core_of": np.full(20, np.nan), "core_xy": np.zeros((1, 2), int)}, "core_of"),
]


@pytest.mark.parametrize("case,change,parameter", PROGRAM_CASES, ids=[c[0] for c in PROGRAM_CASES])
def test_program_level_errors(case: str, change: Callable[[dict], dict], parameter: str) -> None:
    with raises_named(ProgramError, "program", parameter):
        Program(**change(float_parts()))


def test_an_input_population_no_port_feeds() -> None:
    with raises_named(ProgramError, "img", "inputs"):
        Program(**{**float_parts(), "inputs": {"x": "in"}})


# --- populations ---------------------------------------------------------------------------------------

POPULATION_CASES: list[tuple[str, Callable[[], dict], str, str]] = [
    ("unknown kernel", lambda: pop(float_parts(), "hid", kernel="lif"), "hid", "kernel"),
    ("empty shape", lambda: pop(float_parts(), "out", shape=()), "out", "shape"),
    ("zero size", lambda: pop(float_parts(), "out", shape=(0,)), "out", "shape"),
    ("shape not integers", lambda: pop(float_parts(), "out", shape=("two",)), "out", "shape"),
    ("size beyond int32", lambda: pop(float_parts(), "img", shape=(2**31,)), "img", "shape"),
    ("float kernel in a fixed program",
     lambda: pop(fixed_parts(), "lif", kernel="cuba_float", config={}), "lif", "kernel"),
    ("fixed kernel in a float program", lambda: pop(float_parts(), "out", kernel="cuba_fixed"), "out", "kernel"),
    ("unknown reset", lambda: pop(float_parts(), "hid", reset="soft"), "hid", "reset"),
    ("parameter of another kernel", lambda: param(float_parts(), "hid", "tau", [1.0, 1.0]), "hid", "tau"),
    ("input with parameters", lambda: param(float_parts(), "in", "bias", [0.0, 0.0, 0.0]), "in", "bias"),
    ("NaN parameter", lambda: param(float_parts(), "hid", "alpha", [np.nan, 0.5]), "hid", "alpha"),
    ("infinite parameter", lambda: param(float_parts(), "out", "bias", [np.inf, 0.0]), "out", "bias"),
    ("string parameter", lambda: param(float_parts(), "hid", "gain", ["a", "b"]), "hid", "gain"),
    ("ragged parameter", lambda: param(float_parts(), "hid", "gain", [[1.0, 2.0], [3.0]]), "hid", "gain"),
    ("too few values", lambda: param(float_parts(), "hid", "bias", [0.0]), "hid", "bias"),
    ("too many values", lambda: param(float_parts(), "relay", "input_bias", np.zeros(5)), "relay", "input_bias"),
    ("missing required parameter", lambda: param(float_parts(), "out", "gain", None), "out", "gain"),
    ("spiking without a threshold", lambda: param(float_parts(), "hid", "v_threshold", None), "hid", "v_threshold"),
    ("alpha_syn without gain_syn", lambda: param(float_parts(), "out", "alpha_syn", [0.5, 0.5]), "out", "gain_syn"),
    ("fire_scale without fire_shift",
     lambda: param(float_parts(), "hid", "fire_scale", [1.0, 1.0]), "hid", "fire_shift"),
    ("a spiking relay", lambda: pop(float_parts(), "relay", spiking=True), "relay", "spiking"),
    ("value reset without v_reset", lambda: param(float_parts(), "hid", "v_reset", None), "hid", "v_reset"),
    ("settings on a float kernel", lambda: pop(float_parts(), "hid", config={"decay_bits": 12}), "hid", "config"),
    ("unknown fixed setting", lambda: config(fixed_parts(), precision=8), "lif", "config"),
    # fixed point
    ("fractional fixed parameter", lambda: param(fixed_parts(), "lif", "bias", [0.5, 0.0]), "lif", "bias"),
    ("NaN fixed parameter", lambda: param(fixed_parts(), "lif", "du", [np.nan, 0.0]), "lif", "du"),
    ("fixed parameter beyond int64",
     lambda: param(fixed_parts(), "lif", "bias", np.array([2**64 - 1, 0], np.uint64)), "lif", "bias"),
    ("fixed parameter beyond 2**62", lambda: param(fixed_parts(), "lif", "bias", [2.0**63, 0.0]), "lif", "bias"),
    ("du above 2**decay_bits", lambda: param(fixed_parts(), "lif", "du", [4097, 0]), "lif", "du"),
    ("negative dv", lambda: param(fixed_parts(), "lif", "dv", [-1, 0]), "lif", "dv"),
    ("decay_bits 0", lambda: config(fixed_parts(), decay_bits=0), "lif", "decay_bits"),
    ("input_shift 31", lambda: config(fixed_parts(), input_shift=31), "lif", "input_shift"),
    ("u_bits 1", lambda: config(fixed_parts(), u_bits=1), "lif", "u_bits"),
    ("v_bits 63", lambda: config(fixed_parts(), v_bits=63), "lif", "v_bits"),
    ("u_bits + decay_bits above 62", lambda: config(fixed_parts(), u_bits=52, decay_bits=12), "lif", "u_bits"),
    ("unknown overflow", lambda: config(fixed_parts(), v_overflow="clip"), "lif", "v_overflow"),
    ("unknown rounding", lambda: config(fixed_parts(), rounding="up"), "lif", "rounding"),
    ("threshold beyond the membrane",
     lambda: param(fixed_parts(), "lif", "v_threshold", [2**15, 8]), "lif", "v_threshold"),
    ("v_reset beyond the membrane", lambda: param(fixed_parts(), "lif", "v_reset", [0, -(2**15)]), "lif", "v_reset"),
    ("bias beyond the membrane", lambda: param(fixed_parts(), "lif", "bias", [2**15, 0]), "lif", "bias"),
    ("v_init beyond the membrane", lambda: param(fixed_parts(), "lif", "v_init", [2**15, 0]), "lif", "v_init"),
    ("u_init beyond the current register", lambda: param(fixed_parts(), "lif", "u_init", [0, 2**15]), "lif", "u_init"),
    ("decay_bits not an integer", lambda: config(fixed_parts(), decay_bits="12"), "lif", "decay_bits"),
    ("u_bits fractional", lambda: config(fixed_parts(), u_bits=15.5), "lif", "u_bits"),
]


@pytest.mark.parametrize("case,parts,node,parameter", POPULATION_CASES, ids=[c[0] for c in POPULATION_CASES])
def test_population_errors(case: str, parts: Callable[[], dict], node: str, parameter: str) -> None:
    with raises_named(ProgramError, node, parameter):
        Program(**parts())


# --- projections ---------------------------------------------------------------------------------------


def sparse(**changes: Any) -> dict:
    return proj(float_parts(), "w_out", **changes)


def conv(**changes: Any) -> dict:
    return proj(float_parts(), "conv", **changes)


PROJECTION_CASES: list[tuple[str, Callable[[], dict], str, str]] = [
    ("missing source", lambda: proj(float_parts(), "w_in", source="nowhere"), "w_in", "source"),
    ("missing target", lambda: proj(float_parts(), "w_in", target="nowhere"), "w_in", "target"),
    ("into an input population",
     lambda: proj(float_parts(), "w_rec", target="in", weight=np.ones((3, 2))), "w_rec", "target"),
    ("unknown kind", lambda: proj(float_parts(), "w_in", kind="full"), "w_in", "kind"),
    ("NaN weight", lambda: proj(float_parts(), "w_in", weight=np.full((2, 3), np.nan)), "w_in", "weight"),
    ("infinite weight", lambda: sparse(weight=np.array([np.inf, 0.0])), "w_out", "weight"),
    ("string weights", lambda: proj(float_parts(), "w_in", weight=np.full((2, 3), "w")), "w_in", "weight"),
    ("fractional fixed weight", lambda: proj(fixed_parts(), "w", weight=np.full((2, 3), 0.5)), "w", "weight"),
    ("dense weight of the wrong shape",
     lambda: proj(float_parts(), "w_in", weight=np.ones((3, 2)), delay=None), "w_in", "weight"),
    ("dense delay of the wrong shape",
     lambda: proj(float_parts(), "w_in", delay=np.zeros((2, 2), int)), "w_in", "delay"),
    ("fractional delay", lambda: proj(float_parts(), "w_in", delay=np.full((2, 3), 1.5)), "w_in", "delay"),
    ("NaN delay", lambda: sparse(delay=np.array([np.nan, 1.0])), "w_out", "delay"),
    ("negative delay", lambda: sparse(delay=np.array([0, -1])), "w_out", "delay"),
    ("negative delay_base", lambda: proj(float_parts(), "w_in", delay_base=-1), "w_in", "delay"),
    ("delay_base not a number", lambda: proj(float_parts(), "w_in", delay_base="one"), "w_in", "delay_base"),
    ("delay beyond MAX_DELAY",
     lambda: proj(float_parts(), "w_in", delay=np.full((2, 3), MAX_DELAY + 1)), "w_in", "delay"),
    ("delay_base beyond MAX_DELAY", lambda: sparse(delay_base=MAX_DELAY), "w_out", "delay"),
    ("zero-delay back edge", lambda: proj(float_parts(), "w_rec", delay_base=0), "w_rec", "delay_base"),
    ("zero-delay edge to an earlier population",
     lambda: {**proj(float_parts(), "w_out", source="out", target="hid"), "outputs": {"y": "out"}},
     "w_out", "delay_base"),
    ("2-D sparse weights", lambda: sparse(weight=np.ones((2, 1))), "w_out", "weight"),
    ("sparse without target_index", lambda: sparse(target_index=None), "w_out", "target_index"),
    ("index shorter than weights", lambda: sparse(source_index=np.array([0])), "w_out", "source_index"),
    ("target index out of range", lambda: sparse(target_index=np.array([0, 2])), "w_out", "target_index"),
    ("negative source index", lambda: sparse(source_index=np.array([-1, 0])), "w_out", "source_index"),
    ("fractional index", lambda: sparse(source_index=np.array([0.5, 0.0])), "w_out", "source_index"),
    ("sparse delay of the wrong length", lambda: sparse(delay=np.array([1])), "w_out", "delay"),
    ("convolution with per-synapse delays", lambda: conv(delay=np.zeros((1, 1, 2, 2), int)), "conv", "delay"),
    ("geometry key missing", lambda: conv(geometry={"in_shape": (1, 3, 3)}), "conv", "geometry"),
    ("geometry not integers", lambda: conv(geometry=conv_geometry(stride=("a", 1))), "conv", "geometry"),
    ("geometry with one stride", lambda: conv(geometry=conv_geometry(stride=(1,))), "conv", "geometry"),
    ("zero stride", lambda: conv(geometry=conv_geometry(stride=(0, 1))), "conv", "geometry"),
    ("zero dilation", lambda: conv(geometry=conv_geometry(dilation=(1, 0))), "conv", "geometry"),
    ("negative padding", lambda: conv(geometry=conv_geometry(padding=((0, -1), (0, 0)))), "conv", "geometry"),
    ("zero groups", lambda: conv(geometry=conv_geometry(groups=0)), "conv", "geometry"),
    ("in_shape not the source's size", lambda: conv(geometry=conv_geometry(in_shape=(1, 2, 3))), "conv", "geometry"),
    ("out_shape not the target's size", lambda: conv(geometry=conv_geometry(out_shape=(1, 4, 1))), "conv", "geometry"),
    ("weight channels do not match", lambda: conv(weight=np.ones((2, 1, 2, 2))), "conv", "weight"),
    ("3-D conv weight", lambda: conv(weight=np.ones((1, 1, 4))), "conv", "weight"),
    ("groups do not divide the channels", lambda: conv(geometry=conv_geometry(groups=2)), "conv", "weight"),
    ("output size inconsistent", lambda: conv(geometry=conv_geometry(padding=((1, 0), (0, 0)))), "conv", "geometry"),
    ("stride beyond the engine's int32", lambda: conv(weight=np.ones((1, 1, 1, 1)), geometry=conv_geometry(
        in_shape=(1, 2, 2), out_shape=(1, 1, 2), stride=(2**40, 1))), "conv", "geometry"),
    ("dilation beyond the engine's int32", lambda: conv(weight=np.ones((1, 1, 1, 1)), geometry=conv_geometry(
        in_shape=(1, 2, 2), out_shape=(1, 2, 2), dilation=(2**40, 1))), "conv", "geometry"),
]


@pytest.mark.parametrize("case,parts,node,parameter", PROJECTION_CASES, ids=[c[0] for c in PROJECTION_CASES])
def test_projection_errors(case: str, parts: Callable[[], dict], node: str, parameter: str) -> None:
    built = parts()
    if case.startswith(("stride beyond", "dilation beyond")):  # a 1x1 kernel from a 2x2 input population
        built = pop(built, "img", shape=(1, 2, 2))
        built["populations"] = [p for p in built["populations"] if p.name != "relay"] + [
            Population("relay", "pass", tuple(built["projections"][3].geometry["out_shape"]))]
    with raises_named(ProgramError, node, parameter):
        Program(**built)


# --- run inputs ---------------------------------------------------------------------------------------


def float_inputs(**changes: Any) -> dict[str, np.ndarray]:
    return {"x": np.ones((2, 4, 3)), "image": np.ones((2, 4, 1, 3, 3)), **changes}


RUN_CASES: list[tuple[str, str, Callable[[], tuple[Any, dict]], type, Any, Any]] = [
    # Without a node to name, the message names the ports ("x", "image") or the shapes instead.
    ("one array for two ports", "float", lambda: (np.ones((2, 4, 3)), {}), SimulationError, None, "'image'"),
    ("missing port", "float", lambda: ({"x": np.ones((2, 4, 3))}, {}), SimulationError, None, "'image'"),
    ("extra port", "float", lambda: (float_inputs(z=np.ones((2, 4, 3))), {}), SimulationError, None, "'z'"),
    ("input without a time axis", "float", lambda: (float_inputs(x=np.ones((2, 3))), {}), SimulationError, "x", None),
    ("input of the wrong shape", "float",
     lambda: (float_inputs(image=np.ones((2, 4, 3, 3))), {}), SimulationError, "image", None),
    ("string input", "float", lambda: (float_inputs(x=np.full((2, 4, 3), "1")), {}), SimulationError, "x", None),
    ("NaN input", "float", lambda: (float_inputs(x=np.full((2, 4, 3), np.nan)), {}), SimulationError, "x", None),
    ("infinite input", "float",
     lambda: (float_inputs(image=np.full((2, 4, 1, 3, 3), -np.inf)), {}), SimulationError, "image", None),
    ("inputs disagree in time", "float",
     lambda: (float_inputs(x=np.ones((2, 5, 3))), {}), SimulationError, None, "(2, 5)"),
    ("fractional fixed input", "fixed", lambda: (np.full((1, 2, 3), 0.5), {}), UnsupportedError, "x", None),
    ("fixed input beyond int64", "fixed", lambda: (np.full((1, 2, 3), 1e30), {}), SimulationError, "x", None),
    ("fixed input at INT64_MIN", "fixed",
     lambda: (np.full((1, 2, 3), np.iinfo(np.int64).min), {}), SimulationError, "x", None),
    ("unsigned fixed input beyond int64", "fixed",
     lambda: (np.full((1, 2, 3), 2**64 - 1, np.uint64), {}), SimulationError, "x", None),
    ("negative steps", "fixed", lambda: (np.ones((1, 2, 3), int), {"steps": -1}), SimulationError, None, "steps"),
    ("unknown counters mode", "fixed",
     lambda: (np.ones((1, 2, 3), int), {"counters": "none"}), SimulationError, None, "counters"),
    ("recording a missing population", "fixed",
     lambda: (np.ones((1, 2, 3), int), {"record": ["ghost"]}), ProgramError, None, "'ghost'"),
    ("counting a missing population", "fixed",
     lambda: (np.ones((1, 2, 3), int), {"count": "ghost"}), ProgramError, None, "'ghost'"),
    ("state of an input", "fixed",
     lambda: (np.ones((1, 2, 3), int), {"record_state": {"in": ("v",)}}), SimulationError, "in", "record_state"),
    ("unknown state variable", "fixed",
     lambda: (np.ones((1, 2, 3), int), {"record_state": {"lif": ("i",)}}), SimulationError, "lif", "record_state"),
]


@pytest.mark.parametrize("case,arithmetic,args,exc,node,named", RUN_CASES, ids=[c[0] for c in RUN_CASES])
def test_run_input_errors(case: str, arithmetic: str, args: Callable, exc: type, node: Any, named: Any) -> None:
    """``named``: the parameter the error names, or (quoted, or a shape) text its message must hold."""
    program = Program(**(float_parts() if arithmetic == "float" else fixed_parts()))
    inputs, kwargs = args()
    parameter = named if named in ("steps", "counters", "record_state") else ANY
    with raises_named(exc, node, parameter) as info:
        run(program, inputs, **kwargs)
    if parameter is ANY and named is not None:
        assert named in str(info.value)


def test_fixed_point_magnitude_overflow_is_refused_before_the_engine_runs() -> None:
    """Large weights times large graded inputs could leave int64 in the accumulator.  The
    weights fit spike inputs, so the error blames the input port and its largest value."""
    program = Program(**proj(fixed_parts(), "w", weight=np.full((2, 3), 2**40)))
    assert run(program, np.ones((1, 2, 3), int)).output.shape == (1, 2, 2)  # spikes: fine
    with raises_named(SimulationError, "x", "inputs") as info:
        run(program, np.full((1, 2, 3), 2**21))
    assert "2097152" in str(info.value) and "'lif'" in str(info.value)
    too_big = Program(**proj(fixed_parts(), "w", weight=np.full((2, 3), 2**61)))  # even spikes overflow
    with raises_named(ProgramError, "lif", "weight"):
        run(too_big, np.ones((1, 2, 3), int))


def test_a_cycle_of_relays_is_refused_in_fixed_point() -> None:
    """Two relays feeding each other can grow without bound: no finite headroom proof."""
    parts = fixed_parts()
    parts["populations"] += [Population("r1", "pass", (2,)), Population("r2", "pass", (2,))]
    parts["projections"] += [Projection("a", "in", "r1", "dense", np.ones((2, 3), int)),
                             Projection("b", "r1", "r2", "dense", np.eye(2, dtype=int)),
                             Projection("c", "r2", "r1", "dense", np.eye(2, dtype=int), delay_base=1)]
    program = Program(**parts)
    with raises_named(ProgramError, "r1", "weight"):
        run(program, np.ones((1, 2, 3), int))


# --- files ---------------------------------------------------------------------------------------------


def lowered_with_placement() -> Program:
    rng = np.random.default_rng(0)
    nodes = {"x": ir.Input((4,)), "w": ir.Linear(rng.normal(size=(5, 4)), delay=rng.integers(0, 3, (5, 4))),
             "lif": ir.make_population(ir.CubaLIF, 5, tau_syn=2.0, tau_mem=4.0, v_threshold=0.3),
             "r": ir.Linear(rng.normal(size=(5, 5))), "o": ir.Output()}
    program = lower(ir.Graph(nodes, [("x", "w"), ("w", "lif"), ("lif", "r"), ("r", "lif"), ("lif", "o")], dt=1.0))
    return program.with_placement(np.arange(int(program.offsets[-1])) % 4, np.array([[0, 0], [1, 0], [0, 1], [1, 1]]))


@pytest.mark.parametrize("make", [lambda: Program(**float_parts()), lambda: Program(**fixed_parts()),
                                  lowered_with_placement],
                         ids=["float", "fixed", "lowered"])
def test_save_and_load_round_trip_runs_identically(tmp_path: Any, make: Callable[[], Program]) -> None:
    program = make()
    save_program(program, tmp_path / "p.npz")
    loaded = load_program(tmp_path / "p.npz")
    rng = np.random.default_rng(3)
    x = {port: (rng.random((2, 6, *program.population(n).shape)) < 0.5).astype(
        np.int64 if program.arithmetic == "fixed" else np.float64) for port, n in program.inputs.items()}
    a, b = run(program, x, record="all"), run(loaded, x, record="all")
    for name in a.recorded:
        np.testing.assert_array_equal(a.recorded[name], b.recorded[name])
    np.testing.assert_array_equal(a.counters.per_population, b.counters.per_population)
    np.testing.assert_array_equal(a.counters.per_core, b.counters.per_core)
    assert [p.name for p in loaded.populations] == [p.name for p in program.populations]
    assert loaded.inputs == program.inputs and loaded.outputs == program.outputs and loaded.dt == program.dt
    for p, q in zip(program.populations, loaded.populations):
        assert ((p.kernel, p.shape, p.spiking, p.reset, dict(p.config))
                == (q.kernel, q.shape, q.spiking, q.reset, dict(q.config)))
        assert sorted(p.params) == sorted(q.params)
        for k in p.params:
            np.testing.assert_array_equal(p.params[k], q.params[k])
    np.testing.assert_array_equal(program.core_of, loaded.core_of)
    np.testing.assert_array_equal(program.core_xy, loaded.core_xy)


def test_unreadable_files_are_program_errors(tmp_path: Any) -> None:
    with pytest.raises(ProgramError, match="missing.npz"):
        load_program(tmp_path / "missing.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip file")
    with pytest.raises(ProgramError, match="junk.npz"):
        load_program(tmp_path / "junk.npz")
    np.savez(tmp_path / "other.npz", weights=np.ones(3))
    with pytest.raises(ProgramError, match="other.npz"):
        load_program(tmp_path / "other.npz")


@pytest.mark.parametrize("shape", [(2.5,), (float("inf"),), ("2",), (True,)])
def test_shape_must_hold_whole_numbers(shape: tuple) -> None:
    """int() would truncate 2.5, overflow on inf (a bare OverflowError) and accept "2"."""
    with raises_named(ProgramError, "out", "shape"):
        Program(**pop(float_parts(), "out", shape=shape))


@pytest.mark.parametrize("base", [1.5, float("inf"), float("nan"), "1"])
def test_delay_base_must_be_a_whole_number(base: Any) -> None:
    with raises_named(ProgramError, "w_rec", "delay_base"):
        Program(**proj(float_parts(), "w_rec", delay_base=base))
