"""Every validation error of the IR: the right spikec error type, naming the node and the
parameter, for bad values (NaN, inf, signs, ranges), bad shapes, bad graph structure and bad
arguments to simulate().

Errors raised while a node is *built* cannot name it (nodes do not know their names), so
those name the parameter only; everything the Graph checks names the node too.  What each
simulation mode refuses is in test_fixed_point.py.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from spikec import ir
from spikec.errors import GraphValidationError, ShapeError, SimulationError, SpikecError, UnsupportedError

NAN, INF = float("nan"), float("inf")


def pop(cls, n=3, **kw):
    return ir.make_population(cls, n, **kw)


FLOAT_NEURONS = {
    "LIF": lambda: pop(ir.LIF, tau=4.0, v_threshold=1.0),
    "CubaLIF": lambda: pop(ir.CubaLIF, tau_syn=2.0, tau_mem=4.0, v_threshold=1.0),
    "IF": lambda: pop(ir.IF, v_threshold=1.0),
    "LI": lambda: pop(ir.LI, tau=4.0),
    "CubaLI": lambda: pop(ir.CubaLI, tau_syn=2.0, tau_mem=4.0),
    "Integrator": lambda: pop(ir.Integrator),
    "Threshold": lambda: pop(ir.Threshold, threshold=1.0),
}
NEURON_PARAMS = [
    (kind, f.name)
    for kind, make in FLOAT_NEURONS.items()
    for f in dataclasses.fields(make())
    if f.name != "reset"
]


def fixed(n=3, **kw):
    params = dict(du=[1024] * n, dv=[512] * n, bias=[0] * n, v_threshold=[100] * n, v_reset=[0] * n)
    params.update(kw)
    return ir.FixedCubaLIF(**params)


# --- neuron parameters ---------------------------------------------------------------------


@pytest.mark.parametrize("bad", [NAN, INF, -INF])
@pytest.mark.parametrize("kind,param", NEURON_PARAMS)
def test_non_finite_neuron_parameter_is_named(chain, raises_named, kind, param, bad):
    node = FLOAT_NEURONS[kind]()
    value = np.array(getattr(node, param))
    value[1] = bad
    with raises_named(GraphValidationError, "l0", param):
        chain(node.replace(**{param: value}), in_shape=(3,))


@pytest.mark.parametrize("kind,param", [(k, p) for k, p in NEURON_PARAMS if p.startswith("tau")])
@pytest.mark.parametrize("bad", [0.0, -2.0])
def test_non_positive_time_constant(chain, raises_named, kind, param, bad):
    node = FLOAT_NEURONS[kind]()
    value = np.full(3, 4.0)
    value[2] = bad
    with raises_named(GraphValidationError, "l0", param) as info:
        chain(node.replace(**{param: value}), in_shape=(3,))
    assert "> 0" in str(info.value)


@pytest.mark.parametrize("kind,param", [(k, p) for k, p in NEURON_PARAMS if p.startswith("tau")])
def test_time_constant_below_dt(chain, raises_named, kind, param):
    node = FLOAT_NEURONS[kind]()
    with raises_named(GraphValidationError, "l0", param) as info:
        chain(node.replace(**{param: np.array([4.0, 0.99, 4.0])}), in_shape=(3,))
    assert "dt" in str(info.value) and info.value.limit is not None
    # tau == dt is the edge of forward Euler's stable range (alpha = 0) and is allowed.
    chain(node.replace(**{param: np.array([4.0, 1.0, 4.0])}), in_shape=(3,))
    chain(node.replace(**{param: np.array([4.0, 1e-3, 4.0])}), in_shape=(3,), dt=1e-3)


# The first field defines the population's shape, so a mismatch is reported on the others.
@pytest.mark.parametrize(
    "kind,param", [(k, p) for k, p in NEURON_PARAMS if p != dataclasses.fields(FLOAT_NEURONS[k]())[0].name]
)
def test_parameter_of_another_shape_is_never_broadcast(chain, raises_named, kind, param):
    node = FLOAT_NEURONS[kind]()
    for bad in (np.ones(2), np.ones((3, 1)), np.float64(1.0)):
        with raises_named(ShapeError, "l0", param):
            chain(node.replace(**{param: bad}), in_shape=(3,))


def test_unknown_reset_mode(raises_named):
    with pytest.raises(GraphValidationError) as info:
        pop(ir.LIF, tau=4.0, v_threshold=1.0, reset="zero")
    assert info.value.parameter == "reset" and "subtract_next" in str(info.value)
    with raises_named(GraphValidationError, None, "reset"):
        ir.LIF(tau=[2.0], r=[1.0], v_leak=[0.0], v_threshold=[1.0], v_reset=[0.0], reset="hard")
    with pytest.raises(GraphValidationError) as info:
        fixed(reset="soft")
    assert info.value.parameter == "reset"


def test_make_population_errors():
    with pytest.raises(GraphValidationError) as info:
        ir.make_population(ir.LIF, 3, tau=4.0)
    assert info.value.parameter == "v_threshold"
    with pytest.raises(GraphValidationError) as info:
        ir.make_population(ir.LIF, 3, tau=np.ones(2), v_threshold=1.0)
    assert info.value.parameter == "tau"
    with pytest.raises(GraphValidationError) as info:
        ir.make_population(ir.LIF, 3, tau=4.0, v_threshold=1.0, beta=0.9)
    assert info.value.parameter == "beta"
    assert ir.make_population(ir.LIF, (2, 3), tau=4.0, v_threshold=1.0).shape == (2, 3)


@pytest.mark.parametrize(
    "parameter, build",
    [
        ("weight", lambda: ir.Linear([["a", "b"]])),
        ("tau", lambda: ir.make_population(ir.LIF, 2, tau="slow", v_threshold=1.0)),
        ("tau", lambda: ir.LIF(tau=[[1.0], [1.0, 2.0]], r=1, v_leak=0, v_threshold=1, v_reset=0)),
        ("delay", lambda: ir.Delay(["a"])),
        ("mean", lambda: ir.BatchNorm(["x"], [1.0], [1.0], [0.0])),
    ],
    ids=["weight-strings", "tau-string", "tau-ragged", "delay-strings", "mean-strings"],
)
def test_values_that_are_not_numbers_name_the_parameter(raises_named, parameter, build):
    """Not a bare numpy error: a spikec error naming the parameter (the node has no name yet)."""
    with raises_named(GraphValidationError, None, parameter):
        build()


def test_population_receiving_wrong_shape(chain, raises_named):
    with raises_named(ShapeError, "l0"):
        chain(pop(ir.LIF, 3, tau=4.0, v_threshold=1.0), in_shape=(4,))


# --- membrane batch-norm ----------------------------------------------------------------------


def mbn(neuron=None, **kw):
    params = dict(neuron=neuron or pop(ir.LIF, (2, 3), tau=4.0, v_threshold=1.0),
                  mean=np.zeros(2), var=np.ones(2), gamma=np.ones(2), beta=np.zeros(2))
    params.update(kw)
    return ir.MembraneBatchNorm(**params)


def test_membrane_batchnorm_errors(chain, raises_named):
    ok = dict(in_shape=(2, 3))
    chain(mbn(), **ok)
    with raises_named(GraphValidationError, "l0", "neuron"):
        chain(mbn(pop(ir.LI, (2, 3), tau=4.0)), **ok)
    for mode in ("subtract", "subtract_next"):
        with raises_named(GraphValidationError, "l0", "reset"):
            chain(mbn(pop(ir.LIF, (2, 3), tau=4.0, v_threshold=1.0, reset=mode)), **ok)
    # The wrapped neuron's own parameters are checked under the wrapper's name.
    with raises_named(GraphValidationError, "l0", "tau"):
        chain(mbn(pop(ir.LIF, (2, 3), tau=0.5, v_threshold=1.0)), **ok)
    for param in ("mean", "var", "gamma", "beta"):
        with raises_named(GraphValidationError, "l0", param):
            chain(mbn(**{param: np.array([0.0, NAN])}), **ok)
        with raises_named(ShapeError, "l0", param):
            chain(mbn(**{param: np.ones(3)}), **ok)
    with raises_named(GraphValidationError, "l0", "var"):
        chain(mbn(var=np.array([1.0, -1.0])), **ok)
    with raises_named(GraphValidationError, "l0", "var"):
        chain(mbn(var=np.zeros(2), eps=0.0), **ok)
    with raises_named(GraphValidationError, "l0", "var"):
        chain(mbn(eps=NAN), **ok)
    with raises_named(ShapeError, "l0"):
        chain(mbn(), in_shape=(3, 2))


def test_batchnorm_errors(chain, raises_named):
    def bn(**kw):
        p = dict(mean=np.zeros(2), var=np.ones(2), gamma=np.ones(2), beta=np.zeros(2))
        p.update(kw)
        return ir.BatchNorm(**p)

    chain(bn(), in_shape=(2, 5))
    for param in ("mean", "var", "gamma", "beta"):
        with raises_named(GraphValidationError, "l0", param):
            chain(bn(**{param: np.array([INF, 0.0])}), in_shape=(2, 5))
    with raises_named(ShapeError, "l0", "mean"):
        chain(bn(mean=np.zeros((2, 1))), in_shape=(2, 5))
    with raises_named(ShapeError, "l0", "gamma"):
        chain(bn(gamma=np.ones(3)), in_shape=(2, 5))
    with raises_named(GraphValidationError, "l0", "var"):
        chain(bn(var=np.array([1.0, -2.0])), in_shape=(2, 5))
    with raises_named(ShapeError, "l0"):
        chain(bn(), in_shape=(5, 2))


# --- projections -------------------------------------------------------------------------------


def test_linear_errors(chain, raises_named):
    w = np.ones((2, 3))
    with raises_named(ShapeError, "l0", "weight"):
        chain(ir.Linear(np.ones(3)), in_shape=(3,))
    with raises_named(GraphValidationError, "l0", "weight"):
        chain(ir.Linear(np.array([[1.0, NAN, 0.0], [0.0, 0.0, 0.0]])), in_shape=(3,))
    with raises_named(ShapeError, "l0", "delay"):
        chain(ir.Linear(w, delay=np.ones((3, 2), int)), in_shape=(3,))
    with raises_named(GraphValidationError, "l0", "delay") as info:
        chain(ir.Linear(w, delay=np.array([[0, 1, -1], [0, 0, 0]])), in_shape=(3,))
    assert "-1" in str(info.value)
    with raises_named(ShapeError, "l0"):
        chain(ir.Linear(w), in_shape=(2,))


@pytest.mark.parametrize("bad", [1.5, NAN, INF])
@pytest.mark.parametrize(
    "build",
    [
        lambda d: ir.Linear(np.ones((1, 2)), delay=[d]),
        lambda d: ir.Affine(np.ones((1, 2)), np.zeros(1), delay=[d]),
        lambda d: sparse(delay=[d[0], d[1], 0]),
        lambda d: ir.Delay(d),
    ],
    ids=["Linear", "Affine", "SparseLinear", "Delay"],
)
def test_delays_must_be_whole_numbers(build, bad):
    """A delay of 1.5 steps used to be truncated to 1 without a word."""
    assert build(np.array([2.0, 0.0])).delay.dtype == np.int64
    with pytest.raises(GraphValidationError) as info:
        build(np.array([1.0, bad]))
    assert info.value.parameter == "delay"


def test_affine_errors(chain, raises_named):
    w = np.ones((2, 3))
    with raises_named(GraphValidationError, "l0", "bias"):
        chain(ir.Affine(w, np.array([0.0, NAN])), in_shape=(3,))
    with raises_named(ShapeError, "l0", "bias"):
        chain(ir.Affine(w, np.zeros(3)), in_shape=(3,))
    with raises_named(GraphValidationError, "l0", "weight"):
        chain(ir.Affine(np.full((2, 3), INF), np.zeros(2)), in_shape=(3,))
    with raises_named(GraphValidationError, "l0", "delay"):
        chain(ir.Affine(w, np.zeros(2), delay=-np.ones((2, 3), int)), in_shape=(3,))


def sparse(**kw):
    p = dict(shape=(2, 3), target=[0, 1, 1], source=[0, 2, 1], weight=[1.0, 2.0, 3.0])
    p.update(kw)
    return ir.SparseLinear(**p)


def test_sparse_errors(chain, raises_named):
    chain(sparse(), in_shape=(3,))
    for param, bad in [("target", [0, 2, 1]), ("target", [0, -1, 1]), ("source", [0, 3, 1]), ("source", [-5, 0, 0])]:
        with raises_named(GraphValidationError, "l0", param) as info:
            chain(sparse(**{param: bad}), in_shape=(3,))
        assert info.value.limit is not None
    with raises_named(ShapeError, "l0", "target"):
        chain(sparse(target=[0, 1]), in_shape=(3,))
    with raises_named(ShapeError, "l0", "source"):
        chain(sparse(source=[0, 1, 1, 1]), in_shape=(3,))
    with raises_named(ShapeError, "l0"):
        chain(sparse(weight=np.ones((3, 1))), in_shape=(3,))
    with raises_named(ShapeError, "l0", "shape"):
        chain(sparse(shape=(2, 3, 1)), in_shape=(3,))
    with raises_named(ShapeError, "l0", "shape"):
        chain(sparse(shape=(0, 3), target=[], source=[], weight=[]), in_shape=(3,))
    with raises_named(GraphValidationError, "l0", "weight"):
        chain(sparse(weight=[1.0, NAN, 0.0]), in_shape=(3,))
    with raises_named(ShapeError, "l0", "delay"):
        chain(sparse(delay=[1, 2]), in_shape=(3,))
    with raises_named(GraphValidationError, "l0", "delay"):
        chain(sparse(delay=[1, -2, 0]), in_shape=(3,))
    with raises_named(ShapeError, "l0"):
        chain(sparse(), in_shape=(2,))
    with pytest.raises(GraphValidationError) as info:
        sparse(target=[0.5, 1, 1])
    assert info.value.parameter == "target"


def test_scale_errors(chain, raises_named):
    with raises_named(GraphValidationError, "l0", "scale"):
        chain(ir.Scale(np.array([1.0, NAN])), in_shape=(2,))
    with raises_named(ShapeError, "l0"):
        chain(ir.Scale(np.ones(2)), in_shape=(3,))


def test_delay_node_errors(chain, raises_named):
    with raises_named(GraphValidationError, "l0", "delay"):
        chain(ir.Delay(np.array([0, -1])), in_shape=(2,))
    with raises_named(ShapeError, "l0"):
        chain(ir.Delay(np.array([0, 1])), in_shape=(3,))


# --- convolutions, pooling, flatten ----------------------------------------------------------------


def conv2(**kw):
    p = dict(weight=np.ones((4, 2, 3, 3)))
    p.update(kw)
    return ir.Conv2d(**p)


def test_conv_errors(chain, raises_named):
    ok = dict(in_shape=(2, 8, 8))
    chain(conv2(), **ok)
    with raises_named(ShapeError, "l0", "weight"):
        chain(conv2(weight=np.ones((4, 2, 3))), **ok)
    with raises_named(ShapeError, "l0", "weight"):
        chain(ir.Conv1d(np.ones((4, 2, 3, 3))), in_shape=(2, 8))
    w = np.ones((4, 2, 3, 3))
    w[1, 1, 0, 2] = NAN
    with raises_named(GraphValidationError, "l0", "weight"):
        chain(conv2(weight=w), **ok)
    with raises_named(GraphValidationError, "l0", "bias"):
        chain(conv2(bias=np.array([0.0, 0.0, INF, 0.0])), **ok)
    with raises_named(ShapeError, "l0", "bias"):
        chain(conv2(bias=np.zeros(2)), **ok)
    for param in ("stride", "dilation"):
        with raises_named(GraphValidationError, "l0", param):
            chain(conv2(**{param: (1, 0)}), **ok)
        with raises_named(GraphValidationError, "l0", param):
            chain(conv2(**{param: -1}), **ok)
    for padding in (-1, (0, -1), ((0, 0), (1, -2))):
        with raises_named(GraphValidationError, "l0", "padding"):
            chain(conv2(padding=padding), **ok)
    with raises_named(GraphValidationError, "l0", "groups"):
        chain(conv2(groups=0), **ok)
    with raises_named(GraphValidationError, "l0", "groups"):
        chain(conv2(weight=np.ones((4, 1, 3, 3)), groups=3), in_shape=(3, 8, 8))
    # Channel count and rank of what arrives.
    with raises_named(ShapeError, "l0"):
        chain(conv2(), in_shape=(3, 8, 8))
    with raises_named(ShapeError, "l0"):
        chain(conv2(weight=np.ones((4, 1, 3, 3)), groups=2), in_shape=(4, 8, 8))
    with raises_named(ShapeError, "l0"):
        chain(conv2(), in_shape=(2, 8))
    with raises_named(ShapeError, "l0", "input_shape"):
        chain(conv2(input_shape=(8, 9)), **ok)
    with raises_named(ShapeError, "l0", "weight"):
        chain(conv2(), in_shape=(2, 2, 8))
    with raises_named(ShapeError, "l0", "weight"):
        chain(conv2(dilation=4), in_shape=(2, 8, 8))


@pytest.mark.parametrize(
    "kw,param",
    [
        (dict(stride=(1, 2, 3)), "stride"),
        (dict(dilation=(1, 1, 1)), "dilation"),
        (dict(padding="full"), "padding"),
        (dict(padding=(1, 2, 3)), "padding"),
        (dict(padding=((1, 1),)), "padding"),
        (dict(padding=((1, 1, 1), (0, 0, 0))), "padding"),
        (dict(input_shape=(1, 2, 3)), "input_shape"),
    ],
)
def test_conv_construction_errors(kw, param):
    """Malformed arguments fail where the node is built (it has no name yet)."""
    with pytest.raises(GraphValidationError) as info:
        conv2(**kw)
    assert info.value.parameter == param


def test_pool_errors(chain, raises_named):
    for cls in (ir.SumPool2d, ir.AvgPool2d):
        chain(cls(2), in_shape=(2, 4, 4))
        with raises_named(GraphValidationError, "l0", "kernel_size"):
            chain(cls((2, 0)), in_shape=(2, 4, 4))
        with raises_named(GraphValidationError, "l0", "kernel_size"):
            chain(cls(2, stride=0), in_shape=(2, 4, 4))
        with raises_named(GraphValidationError, "l0", "padding"):
            chain(cls(2, padding=-1), in_shape=(2, 4, 4))
        with raises_named(ShapeError, "l0"):
            chain(cls(2), in_shape=(4, 4))
        with raises_named(ShapeError, "l0", "kernel_size"):
            chain(cls(5), in_shape=(2, 4, 4))
        with pytest.raises(GraphValidationError) as info:
            cls((2, 2, 2))
        assert info.value.parameter == "kernel_size"


@pytest.mark.parametrize("start,end", [(3, -1), (0, 3), (2, 1), (-4, -1), (1, -3)])
def test_flatten_out_of_range(chain, raises_named, start, end):
    with raises_named(GraphValidationError, "l0", "start_dim"):
        chain(ir.Flatten(start, end), in_shape=(2, 3, 4))


# --- inputs and outputs --------------------------------------------------------------------------


def test_input_and_output_shapes(chain, raises_named):
    for bad in ((), (3, 0), (-1,)):
        with raises_named(ShapeError, "input", "shape"):
            chain(ir.Scale(np.ones(3)), in_shape=bad)
    with raises_named(ShapeError, "output"):
        chain(ir.Scale(np.ones(3)), in_shape=(3,), out_shape=(4,))
    g = chain(ir.Scale(np.ones(3)), in_shape=3, out_shape=3)
    assert g.out_shape("output") == (3,) and g.shapes["l0"] == ((3,), (3,))


# --- fixed-point neurons -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kw,param",
    [
        (dict(du=[0, 4097, 0]), "du"),
        (dict(du=[-1, 0, 0]), "du"),
        (dict(dv=[0, 0, 5000]), "dv"),
        (dict(dv=[-1, 0, 0]), "dv"),
        (dict(decay_bits=0), "decay_bits"),
        (dict(decay_bits=31), "decay_bits"),
        (dict(decay_bits=-3), "decay_bits"),
        (dict(input_shift=-1), "input_shift"),
        (dict(input_shift=31), "input_shift"),
        (dict(u_bits=1), "u_bits"),
        (dict(v_bits=63), "v_bits"),
        (dict(u_bits=52, decay_bits=12), "u_bits"),
        (dict(v_bits=40, decay_bits=23), "v_bits"),
        (dict(u_overflow="clip"), "u_overflow"),
        (dict(v_overflow="saturating"), "v_overflow"),
        (dict(rounding="up"), "rounding"),
        (dict(v_bits=8, v_threshold=[127, 128, 0]), "v_threshold"),
        (dict(v_bits=8, v_reset=[0, -128, 0]), "v_reset"),
        (dict(v_bits=8, bias=[200, 0, 0], v_threshold=[0, 0, 0]), "bias"),
    ],
)
def test_fixed_point_ranges(chain, raises_named, kw, param):
    with raises_named(GraphValidationError, "l0", param) as info:
        chain(fixed(**kw), in_shape=(3,))
    assert info.value.limit is not None or info.value.fix is not None


def test_fixed_point_accepts_the_edges_of_its_ranges(chain):
    chain(fixed(du=[0, 4096, 1], dv=[4096, 0, 7], v_bits=8, v_threshold=[127, -127, 0], v_reset=[-127, 0, 0],
                u_bits=2, decay_bits=12, input_shift=30), in_shape=(3,))
    chain(fixed(du=[0, 2, 1], dv=[0, 2, 1], decay_bits=1, u_bits=61, v_bits=61), in_shape=(3,))


def test_fixed_point_shapes_and_values(chain, raises_named):
    with raises_named(ShapeError, "l0", "dv"):
        chain(fixed(dv=[1, 2]), in_shape=(3,))
    for param in ("du", "dv", "bias", "v_threshold", "v_reset"):
        for bad in ([0.5, 1, 2], [NAN, 0, 0], [0, INF, 0]):
            with pytest.raises(GraphValidationError) as info:
                fixed(**{param: np.array(bad)})
            assert info.value.parameter == param
    # Integral floats are integers.
    node = fixed(v_threshold=np.array([3.0, 4.0, 5.0]))
    assert node.v_threshold.dtype == np.int64 and node.v_threshold.tolist() == [3, 4, 5]


# --- graph structure ---------------------------------------------------------------------------------


def three():
    return {"in": ir.Input((2,)), "s": ir.Scale(np.ones(2)), "out": ir.Output()}


@pytest.mark.parametrize("dt", [0.0, -1e-3, NAN, INF, "fast", None])
def test_graph_dt(raises_named, dt):
    with raises_named(GraphValidationError, None, "dt"):
        ir.Graph(three(), [("in", "s"), ("s", "out")], dt=dt)


def test_graph_structure_errors(raises_named):
    edges = [("in", "s"), ("s", "out")]
    ir.Graph(three(), edges)
    with raises_named(GraphValidationError, "ghost"):
        ir.Graph(three(), edges + [("s", "ghost")])
    with raises_named(GraphValidationError, "ghost"):
        ir.Graph(three(), edges + [("ghost", "out")])
    with raises_named(GraphValidationError, "out") as info:
        ir.Graph(three(), edges + [("s", "out")])
    assert "twice" in str(info.value)
    with raises_named(GraphValidationError, "in"):
        ir.Graph(three(), edges + [("s", "in")])
    with raises_named(GraphValidationError, "out"):
        ir.Graph({**three(), "s2": ir.Scale(np.ones(2))}, edges + [("out", "s2")])
    with raises_named(GraphValidationError, None) as info:
        ir.Graph({"s": ir.Scale(np.ones(2)), "out": ir.Output()}, [("s", "out")])
    assert "no Input" in str(info.value)
    with raises_named(GraphValidationError, None) as info:
        ir.Graph({"in": ir.Input((2,)), "s": ir.Scale(np.ones(2))}, [("in", "s")])
    assert "no Output" in str(info.value)
    with raises_named(GraphValidationError, "s2") as info:
        ir.Graph({**three(), "s2": ir.Scale(np.ones(2))}, edges)
    assert "incoming" in str(info.value)
    with raises_named(GraphValidationError, "s"):
        ir.Graph({**three(), "s": np.ones(2)}, edges)
    with raises_named(GraphValidationError, None):
        ir.Graph({**three(), "": ir.Scale(np.ones(2))}, edges + [("in", "")])


@pytest.mark.parametrize("edges", [[("in", "s"), ("s",)], [("in", "s", "out")]], ids=["one-name", "three-names"])
def test_edges_must_be_pairs(raises_named, edges):
    with raises_named(GraphValidationError, None, "edges"):
        ir.Graph(three(), edges)


def test_unreachable_cycle(raises_named):
    """a <-> b feed each other, so both have inputs, but nothing drives them."""
    nodes = {**three(), "a": ir.Scale(np.ones(2)), "b": ir.Scale(np.ones(2))}
    edges = [("in", "s"), ("s", "out"), ("a", "b"), ("b", "a"), ("b", "out")]
    with pytest.raises(GraphValidationError) as info:
        ir.Graph(nodes, edges)
    assert info.value.node in ("a", "b") and "reached" in str(info.value)


def test_inputs_of_one_node_must_agree(raises_named):
    nodes = {"x": ir.Input((2,)), "y": ir.Input((3,)), "sum": ir.Scale(np.ones(2)), "out": ir.Output()}
    with raises_named(ShapeError, "sum"):
        ir.Graph(nodes, [("x", "sum"), ("y", "sum"), ("sum", "out")])


def test_recurrent_edge_shape(raises_named):
    nodes = {
        "in": ir.Input((2,)),
        "lif": pop(ir.LIF, 2, tau=4.0, v_threshold=1.0),
        "rec": ir.Linear(np.ones((3, 2))),
        "out": ir.Output(),
    }
    with raises_named(ShapeError, "lif"):
        ir.Graph(nodes, [("in", "lif"), ("lif", "rec"), ("rec", "lif"), ("lif", "out")])


def test_with_node_unknown_name(raises_named):
    g = ir.Graph(three(), [("in", "s"), ("s", "out")])
    with raises_named(GraphValidationError, "nope"):
        g.with_node("nope", ir.Scale(np.ones(2)))
    with raises_named(ShapeError, "s"):
        g.with_node("s", ir.Scale(np.ones(3)))


def test_every_error_is_a_spikec_error():
    assert issubclass(ShapeError, GraphValidationError) and issubclass(GraphValidationError, SpikecError)
    assert issubclass(SimulationError, SpikecError) and issubclass(UnsupportedError, SpikecError)


# --- simulate() arguments ----------------------------------------------------------------------------


def test_simulate_argument_errors(chain, raises_named):
    g = chain(ir.Scale(np.ones(2)), in_shape=(2,))
    x = np.zeros((1, 3, 2))
    with raises_named(SimulationError, None, "mode"):
        ir.simulate(g, x, mode="analog")
    with raises_named(SimulationError, None, "steps"):
        ir.simulate(g, x, steps=-1)
    for bad in (np.zeros((3, 2)), np.zeros((1, 3, 3)), np.zeros((1, 3, 2, 1))):  # no batch axis, wrong shapes
        with raises_named(SimulationError, "input"):
            ir.simulate(g, bad)
    with raises_named(SimulationError, "input"):
        ir.simulate(g, np.full((1, 3, 2), "a"))
    with raises_named(SimulationError, "input"):
        ir.simulate(g, np.full((1, 3, 2), NAN))
    with pytest.raises(SimulationError):
        ir.simulate(g, {"nope": x})
    with pytest.raises(SimulationError):
        ir.simulate(g, {"input": x, "extra": x})
    for record in ("ghost", ["ghost"]):
        with raises_named(SimulationError, "ghost"):
            ir.simulate(g, x, record=record)
    with raises_named(UnsupportedError, "input"):
        ir.simulate(g, np.full((1, 3, 2), 0.5), mode="fixed")


def test_several_inputs_and_outputs():
    nodes = {"a": ir.Input(2), "b": ir.Input(2), "lif": pop(ir.LIF, 2, tau=4.0, v_threshold=1.0),
             "o1": ir.Output(), "o2": ir.Output()}
    g = ir.Graph(nodes, [("a", "lif"), ("b", "lif"), ("lif", "o1"), ("lif", "o2")], dt=1.0)
    with pytest.raises(SimulationError):
        ir.simulate(g, np.zeros((1, 3, 2)))  # which input?
    with pytest.raises(SimulationError):
        ir.simulate(g, {"a": np.zeros((1, 3, 2)), "b": np.zeros((2, 3, 2))})  # batches differ
    res = ir.simulate(g, {"a": np.ones((1, 3, 2)), "b": np.ones((1, 3, 2))})
    with pytest.raises(SimulationError):
        res.output  # which output?
    np.testing.assert_array_equal(res.outputs["o1"], res.outputs["o2"])
