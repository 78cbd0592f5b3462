"""Every validation path of the IR raises a spikec error that names the node and parameter.

Errors raised while a node is *built* cannot name it (nodes do not know their names), so
those name the parameter only; everything the Graph checks names the node too.
"""

from __future__ import annotations

import numpy as np
import pytest

from spikec import ir
from spikec.errors import GraphValidationError, ShapeError, SimulationError, SpikecError

LIF2 = dict(tau=[2.0, 2.0], r=[1.0, 1.0], v_leak=[0.0, 0.0], v_threshold=[1.0, 1.0], v_reset=[0.0, 0.0])


def _lif(**changes) -> ir.LIF:
    return ir.LIF(**{**LIF2, **changes})


def _fixed(**changes) -> ir.FixedCubaLIF:
    params = dict(du=[1, 1], dv=[1, 1], bias=[0, 0], v_threshold=[10, 10], v_reset=[0, 0])
    params.update(changes)
    return ir.FixedCubaLIF(**params)


def _conv(**kw) -> ir.Conv2d:
    kw.setdefault("weight", np.ones((4, 2, 3, 3)))
    return ir.Conv2d(**kw)


# (id, layer, input shape, error type, parameter); the layer sits at "l0" of input -> l0 -> output
NODE_CASES = [
    ("nan-tau", lambda: _lif(tau=[2.0, np.nan]), (2,), GraphValidationError, "tau"),
    ("inf-threshold", lambda: _lif(v_threshold=[1.0, np.inf]), (2,), GraphValidationError, "v_threshold"),
    ("nan-weight", lambda: ir.Linear(np.array([[np.nan, 1.0]])), (2,), GraphValidationError, "weight"),
    ("inf-bias", lambda: ir.Affine(np.ones((1, 2)), np.array([np.inf])), (2,), GraphValidationError, "bias"),
    ("inf-scale", lambda: ir.Scale(np.array([1.0, np.inf])), (2,), GraphValidationError, "scale"),
    ("nan-threshold-node", lambda: ir.Threshold(np.array([np.nan, 0.0])), (2,), GraphValidationError, "threshold"),
    ("tau-zero", lambda: _lif(tau=[2.0, 0.0]), (2,), GraphValidationError, "tau"),
    ("tau-negative", lambda: _lif(tau=[-1.0, 2.0]), (2,), GraphValidationError, "tau"),
    ("tau-below-dt", lambda: _lif(tau=[2.0, 0.5]), (2,), GraphValidationError, "tau"),
    ("tau-syn-below-dt", lambda: ir.make_population(ir.CubaLIF, 2, tau_syn=0.5, tau_mem=2.0, v_threshold=1.0),
     (2,), GraphValidationError, "tau_syn"),
    ("param-shape", lambda: _lif(v_threshold=[1.0, 1.0, 1.0]), (2,), ShapeError, "v_threshold"),
    ("param-scalar", lambda: _lif(r=1.0), (2,), ShapeError, "r"),
    ("weight-1d", lambda: ir.Linear(np.ones(2)), (2,), ShapeError, "weight"),
    ("delay-shape", lambda: ir.Linear(np.ones((1, 2)), delay=np.zeros((2, 1))), (2,), ShapeError, "delay"),
    ("delay-negative", lambda: ir.Linear(np.ones((1, 2)), delay=[[0, -1]]), (2,), GraphValidationError, "delay"),
    ("affine-delay-negative", lambda: ir.Affine(np.ones((1, 2)), [0.0], delay=[[-2, 0]]), (2,),
     GraphValidationError, "delay"),
    ("affine-bias-shape", lambda: ir.Affine(np.ones((1, 2)), np.zeros(2)), (2,), ShapeError, "bias"),
    ("node-delay-negative", lambda: ir.Delay([1, -1]), (2,), GraphValidationError, "delay"),
    ("sparse-target-range", lambda: ir.SparseLinear((2, 2), [0, 2], [0, 1], [1.0, 1.0]), (2,),
     GraphValidationError, "target"),
    ("sparse-source-range", lambda: ir.SparseLinear((2, 2), [0, 1], [-1, 1], [1.0, 1.0]), (2,),
     GraphValidationError, "source"),
    ("sparse-length", lambda: ir.SparseLinear((2, 2), [0, 1, 1], [0, 1], [1.0, 1.0]), (2,), ShapeError, "target"),
    ("sparse-shape", lambda: ir.SparseLinear((0, 2), [], [], []), (2,), ShapeError, "shape"),
    ("sparse-delay-negative", lambda: ir.SparseLinear((2, 2), [0], [0], [1.0], delay=[-1]), (2,),
     GraphValidationError, "delay"),
    ("conv-weight-dims", lambda: _conv(weight=np.ones((4, 2, 3))), (2, 5, 5), ShapeError, "weight"),
    ("conv-bias-shape", lambda: _conv(bias=np.ones(3)), (2, 5, 5), ShapeError, "bias"),
    ("conv-nan-weight", lambda: _conv(weight=np.full((4, 2, 3, 3), np.nan)), (2, 5, 5), GraphValidationError, "weight"),
    ("conv-stride", lambda: _conv(stride=0), (2, 5, 5), GraphValidationError, "stride"),
    ("conv-dilation", lambda: _conv(dilation=(1, 0)), (2, 5, 5), GraphValidationError, "dilation"),
    ("conv-padding-negative", lambda: _conv(padding=-1), (2, 5, 5), GraphValidationError, "padding"),
    ("conv-groups", lambda: _conv(groups=3), (6, 5, 5), GraphValidationError, "groups"),
    ("conv-groups-zero", lambda: _conv(groups=0), (2, 5, 5), GraphValidationError, "groups"),
    ("conv-input-shape", lambda: _conv(input_shape=(6, 6)), (2, 5, 5), ShapeError, "input_shape"),
    ("conv-empty-output", lambda: _conv(), (2, 2, 2), ShapeError, "weight"),
    ("pool-kernel", lambda: ir.SumPool2d(0), (1, 4, 4), GraphValidationError, "kernel_size"),
    ("pool-padding", lambda: ir.AvgPool2d(2, padding=-1), (1, 4, 4), GraphValidationError, "padding"),
    ("pool-empty", lambda: ir.SumPool2d(5), (1, 4, 4), ShapeError, "kernel_size"),
    ("bn-shape", lambda: ir.BatchNorm(mean=[0.0, 0.0], var=[1.0], gamma=[1.0, 1.0], beta=[0.0, 0.0]), (2,),
     ShapeError, "var"),
    ("bn-var", lambda: ir.BatchNorm(mean=[0.0], var=[-1.0], gamma=[1.0], beta=[0.0], eps=0.0), (1,),
     GraphValidationError, "var"),
    ("bn-nan", lambda: ir.BatchNorm(mean=[np.nan], var=[1.0], gamma=[1.0], beta=[0.0]), (1,),
     GraphValidationError, "mean"),
    ("mbn-li", lambda: ir.MembraneBatchNorm(ir.make_population(ir.LI, 1, tau=2.0), [0.0], [1.0], [1.0], [0.0]),
     (1,), GraphValidationError, "neuron"),
    ("mbn-reset", lambda: ir.MembraneBatchNorm(
        ir.make_population(ir.IF, 1, v_threshold=1.0, reset="subtract"), [0.0], [1.0], [1.0], [0.0]),
     (1,), GraphValidationError, "reset"),
    ("mbn-inner-tau", lambda: ir.MembraneBatchNorm(
        ir.make_population(ir.LIF, 1, tau=0.1, v_threshold=1.0), [0.0], [1.0], [1.0], [0.0]),
     (1,), GraphValidationError, "tau"),
    ("mbn-gamma-shape", lambda: ir.MembraneBatchNorm(
        ir.make_population(ir.IF, 2, v_threshold=1.0), [0.0, 0.0], [1.0, 1.0], [1.0], [0.0, 0.0]),
     (2,), ShapeError, "gamma"),
    ("fixed-decay-bits", lambda: _fixed(decay_bits=0), (2,), GraphValidationError, "decay_bits"),
    ("fixed-decay-bits-high", lambda: _fixed(decay_bits=31), (2,), GraphValidationError, "decay_bits"),
    ("fixed-input-shift", lambda: _fixed(input_shift=-1), (2,), GraphValidationError, "input_shift"),
    ("fixed-du", lambda: _fixed(du=[0, 4097]), (2,), GraphValidationError, "du"),
    ("fixed-dv", lambda: _fixed(dv=[-1, 0]), (2,), GraphValidationError, "dv"),
    ("fixed-u-bits", lambda: _fixed(u_bits=1), (2,), GraphValidationError, "u_bits"),
    ("fixed-v-bits-int64", lambda: _fixed(v_bits=52), (2,), GraphValidationError, "v_bits"),
    ("fixed-overflow", lambda: _fixed(u_overflow="clip"), (2,), GraphValidationError, "u_overflow"),
    ("fixed-rounding", lambda: _fixed(rounding="up"), (2,), GraphValidationError, "rounding"),
    ("fixed-threshold-range", lambda: _fixed(v_bits=8, v_threshold=[128, 1]), (2,), GraphValidationError,
     "v_threshold"),
    ("fixed-param-shape", lambda: _fixed(bias=[0, 0, 0]), (2,), ShapeError, "bias"),
    ("flatten-dims", lambda: ir.Flatten(start_dim=3), (2, 2), GraphValidationError, "start_dim"),
    ("input-edge-shape", lambda: ir.Linear(np.ones((1, 3))), (2,), ShapeError, None),
    ("population-shape", lambda: _lif(), (3,), ShapeError, None),
    ("delay-node-shape", lambda: ir.Delay([0, 1, 2]), (2,), ShapeError, None),
    ("conv-channels", lambda: _conv(), (3, 5, 5), ShapeError, None),
    ("pool-rank", lambda: ir.SumPool2d(2), (4, 4), ShapeError, None),
]


@pytest.mark.parametrize("layer, in_shape, exc, parameter", [c[1:] for c in NODE_CASES], ids=[c[0] for c in NODE_CASES])
def test_node_errors_name_node_and_parameter(chain, raises_named, layer, in_shape, exc, parameter):
    with raises_named(exc, "l0", parameter):
        chain(layer(), in_shape=in_shape)


def test_valid_chain_builds(chain):
    assert chain(_lif(), in_shape=(2,)).shapes["l0"] == ((2,), (2,))


def test_output_declared_shape(chain, raises_named):
    with raises_named(ShapeError, "output"):
        chain(_lif(), in_shape=(2,), out_shape=(3,))


def test_input_shape_positive(raises_named):
    with raises_named(ShapeError, "input", "shape"):
        ir.Graph({"input": ir.Input((0,)), "output": ir.Output()}, [("input", "output")])


# --- construction-time errors (the node has no name yet) ------------------------------------

BUILD_CASES = [
    ("reset", lambda: _lif(reset="hard")),
    ("reset", lambda: ir.make_population(ir.LIF, 2, tau=2.0, v_threshold=1.0, reset="zero")),
    ("tau", lambda: ir.make_population(ir.LIF, 2, v_threshold=1.0)),
    ("v_threshold", lambda: ir.make_population(ir.LIF, 2, tau=2.0, v_threshold=[1.0, 2.0, 3.0])),
    ("beta", lambda: ir.make_population(ir.LIF, 2, tau=2.0, v_threshold=1.0, beta=0.9)),
    ("padding", lambda: _conv(padding="full")),
    ("padding", lambda: _conv(padding=[[1, 1]])),
    ("stride", lambda: _conv(stride=(1, 1, 1))),
    ("delay", lambda: ir.Linear(np.ones((1, 2)), delay=[[0.5, 1.0]])),
    ("delay", lambda: ir.Delay([np.nan])),
    ("target", lambda: ir.SparseLinear((2, 2), [0.5], [0], [1.0])),
    ("du", lambda: _fixed(du=[0.5, 1])),
    ("bias", lambda: _fixed(bias=[np.inf, 0])),
    ("weight", lambda: ir.Linear([["a", "b"]])),
    ("tau", lambda: ir.make_population(ir.LIF, 2, tau="slow", v_threshold=1.0)),
    ("tau", lambda: ir.LIF(tau=[[1.0], [1.0, 2.0]], r=1, v_leak=0, v_threshold=1, v_reset=0)),
    ("delay", lambda: ir.Delay(["a"])),
    ("mean", lambda: ir.BatchNorm(["x"], [1.0], [1.0], [0.0])),
    ("edges", lambda: ir.Graph(_nodes(), [("input", "lif"), ("lif",)], dt=1.0)),
    ("edges", lambda: ir.Graph(_nodes(), [("input", "lif", "output")], dt=1.0)),
]


@pytest.mark.parametrize("parameter, build", BUILD_CASES, ids=[f"{p}-{i}" for i, (p, _) in enumerate(BUILD_CASES)])
def test_build_errors_name_parameter(raises_named, parameter, build):
    with raises_named(GraphValidationError, None, parameter):
        build()


# --- graph structure ---------------------------------------------------------------------


def _nodes(**extra):
    return {"input": ir.Input(2), "lif": _lif(), "output": ir.Output(), **extra}


BASE_EDGES = [("input", "lif"), ("lif", "output")]


@pytest.mark.parametrize("dt", [0.0, -1e-3, float("nan"), float("inf"), "fast", None])
def test_bad_dt(raises_named, dt):
    with raises_named(GraphValidationError, None, "dt"):
        ir.Graph(_nodes(), BASE_EDGES, dt=dt)


STRUCTURE_CASES = [
    ("dangling", _nodes(), BASE_EDGES + [("lif", "nowhere")], "nowhere"),
    ("duplicate", _nodes(), BASE_EDGES + [("input", "lif")], "lif"),
    ("into-input", _nodes(), BASE_EDGES + [("lif", "input")], "input"),
    ("from-output", _nodes(lif2=_lif()), BASE_EDGES + [("output", "lif2")], "output"),
    ("no-incoming", _nodes(lif2=_lif()), BASE_EDGES, "lif2"),
    ("unreachable", _nodes(a=_lif(), b=_lif()), BASE_EDGES + [("a", "b"), ("b", "a")], "a"),
    ("not-a-node", {**_nodes(), "lif": "LIF"}, BASE_EDGES, "lif"),
]


@pytest.mark.parametrize("nodes, edges, node", [c[1:] for c in STRUCTURE_CASES], ids=[c[0] for c in STRUCTURE_CASES])
def test_structure_errors(raises_named, nodes, edges, node):
    with raises_named(GraphValidationError, node):
        ir.Graph(nodes, edges, dt=1.0)


def test_no_input_or_output():
    with pytest.raises(GraphValidationError, match="no Input"):
        ir.Graph({"lif": _lif(), "output": ir.Output()}, [("lif", "output")], dt=1.0)
    with pytest.raises(GraphValidationError, match="no Output"):
        ir.Graph({"input": ir.Input(2), "lif": _lif()}, [("input", "lif")], dt=1.0)


def test_empty_node_name():
    with pytest.raises(GraphValidationError):
        ir.Graph({"": ir.Input(2), "output": ir.Output()}, [("", "output")], dt=1.0)


def test_summed_inputs_must_agree(raises_named):
    nodes = {"input": ir.Input(2), "a": ir.Linear(np.ones((3, 2))), "lif": _lif(), "output": ir.Output()}
    edges = [("input", "a"), ("input", "lif"), ("a", "lif"), ("lif", "output")]
    with raises_named(ShapeError, "lif"):
        ir.Graph(nodes, edges, dt=1.0)


def test_recurrent_edge_shape(raises_named):
    nodes = {"input": ir.Input(2), "lif": _lif(), "rec": ir.Linear(np.ones((3, 2))), "output": ir.Output()}
    edges = [("input", "lif"), ("lif", "rec"), ("rec", "lif"), ("lif", "output")]
    with raises_named(ShapeError, "lif"):
        ir.Graph(nodes, edges, dt=1.0)


def test_with_node_unknown(chain, raises_named):
    g = chain(_lif(), in_shape=(2,))
    with raises_named(GraphValidationError, "nope"):
        g.with_node("nope", _lif())


def test_every_error_is_a_spikec_error():
    for exc in (GraphValidationError, ShapeError, SimulationError):
        assert issubclass(exc, SpikecError)


# --- simulate() input checks -----------------------------------------------------------------


def test_simulate_input_errors(chain, raises_named):
    g = chain(_lif(), in_shape=(2,))
    with raises_named(SimulationError, "input"):
        ir.simulate(g, np.zeros((3, 2)))  # no batch axis
    with raises_named(SimulationError, "input"):
        ir.simulate(g, np.zeros((1, 3, 3)))
    with raises_named(SimulationError, "input"):
        ir.simulate(g, np.full((1, 3, 2), np.nan))
    with raises_named(SimulationError, "input"):
        ir.simulate(g, np.full((1, 3, 2), "a"))
    with raises_named(SimulationError, None, "mode"):
        ir.simulate(g, np.zeros((1, 3, 2)), mode="double")
    with raises_named(SimulationError, None, "steps"):
        ir.simulate(g, np.zeros((1, 3, 2)), steps=-1)
    with raises_named(SimulationError, "ghost"):
        ir.simulate(g, np.zeros((1, 3, 2)), record="ghost")
    with pytest.raises(SimulationError):
        ir.simulate(g, {"other": np.zeros((1, 3, 2))})


def test_several_inputs_and_outputs(raises_named):
    nodes = {"a": ir.Input(2), "b": ir.Input(2), "lif": _lif(), "o1": ir.Output(), "o2": ir.Output()}
    g = ir.Graph(nodes, [("a", "lif"), ("b", "lif"), ("lif", "o1"), ("lif", "o2")], dt=1.0)
    with pytest.raises(SimulationError):
        ir.simulate(g, np.zeros((1, 3, 2)))  # which input?
    with pytest.raises(SimulationError):
        ir.simulate(g, {"a": np.zeros((1, 3, 2)), "b": np.zeros((2, 3, 2))})
    res = ir.simulate(g, {"a": np.ones((1, 3, 2)), "b": np.ones((1, 3, 2))})
    with pytest.raises(SimulationError):
        res.output
    np.testing.assert_array_equal(res.outputs["o1"], res.outputs["o2"])
