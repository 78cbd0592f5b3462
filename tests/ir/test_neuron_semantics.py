"""The float reference simulator against sequences computed by hand from ir/neurons.py's
docstring (forward Euler in decay form, strict threshold, four reset modes).

dt and tau are chosen so every coefficient is an exact binary fraction (tau = 2*dt gives
alpha = 1/2), so float64 results are compared with ``==``.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spikec import ir

RESETS = ["value", "subtract", "subtract_next", "none"]


def _col(values) -> np.ndarray:
    """A (time, 1) input of one neuron."""
    return np.asarray(values, dtype=np.float64)[:, None]


def _lif_by_hand(x, alpha, gain, bias, thr, v_reset, reset):
    """The module docstring, written out once more for one neuron."""
    v, z_prev, out = 0.0, 0.0, []
    for xt in x:
        vm = alpha * v + gain * xt + bias
        if reset == "subtract_next":
            vm -= thr * z_prev
        z = 1.0 if vm > thr else 0.0
        if reset == "value":
            v = v_reset if z else vm
        elif reset == "subtract":
            v = vm - thr * z
        else:
            v = vm
        z_prev = z
        out.append(z)
    return out


# --- LIF: hand-written sequences ----------------------------------------------------------

# tau = 2 (dt = 1): alpha = 1/2, gain = r/2 = 1, bias = v_leak/2 = 0; threshold 1.5.
# x = 3, 3, 0, 3, 0, 0
# value:          v- = 3 (spike, v=0), 3 (spike, v=0), 0, 3 (spike), 0, 0
# subtract:       v- = 3 -> v=1.5; 0.75+3=3.75 -> 2.25; 1.125 -> no; 0.5625+3=3.5625 -> 2.0625;
#                 1.03125 no; 0.515625 no
# subtract_next:  v- = 3 (spike); 1.5+3-1.5=3 (spike); 1.5+0-1.5=0; 0+3=3 (spike); 1.5-1.5=0; 0
# none:           3, 4.5, 2.25, 4.125, 2.0625, 1.03125 -> spikes 1,1,1,1,1,0
HAND = {
    "value": [1, 1, 0, 1, 0, 0],
    "subtract": [1, 1, 0, 1, 0, 0],
    "subtract_next": [1, 1, 0, 1, 0, 0],
    "none": [1, 1, 1, 1, 1, 0],
}
X_LIF = [3, 3, 0, 3, 0, 0]


@pytest.mark.parametrize("reset", RESETS)
def test_lif_hand_sequence(chain, run, reset):
    lif = ir.make_population(ir.LIF, 1, tau=2.0, r=2.0, v_threshold=1.5, reset=reset)
    assert list(run(chain(lif, in_shape=(1,)), _col(X_LIF))[:, 0]) == HAND[reset]


def test_lif_subtract_differs_from_value_when_membrane_overshoots(chain, run):
    # alpha 1/2, gain 1, threshold 1: x=4 then 0,0.
    # value: 4 (spike, v=0), 0, 0 -> 1,0,0
    # subtract: 4 -> v=3; 1.5 -> spike, v=0.5; 0.25 -> no -> 1,1,0
    # subtract_next: 4 (spike); 2-1=1 (not > 1: strict); 0.5 -> 1,0,0
    # none: 4, 2, 1 -> 1,1,0 (1 is not > 1)
    expected = {"value": [1, 0, 0], "subtract": [1, 1, 0], "subtract_next": [1, 0, 0], "none": [1, 1, 0]}
    for reset, seq in expected.items():
        lif = ir.make_population(ir.LIF, 1, tau=2.0, r=2.0, v_threshold=1.0, reset=reset)
        assert list(run(chain(lif, in_shape=(1,)), _col([4, 0, 0]))[:, 0]) == seq, reset


@pytest.mark.parametrize("reset", RESETS)
def test_lif_with_leak_and_reset_value_matches_reference(chain, run, reset):
    # dt=1, tau=4: alpha 3/4, gain r/4, bias v_leak/4; v_reset = -0.5 for "value".
    x = [1, 0, 2, 2, 0, 1, 3, 0, 0, 1]
    lif = ir.make_population(ir.LIF, 1, tau=4.0, r=2.0, v_leak=0.5, v_threshold=0.75, v_reset=-0.5, reset=reset)
    expected = _lif_by_hand(x, 0.75, 0.5, 0.125, 0.75, -0.5, reset)
    assert sum(expected) > 0
    assert list(run(chain(lif, in_shape=(1,)), _col(x))[:, 0]) == expected


def test_threshold_is_strict(chain, run):
    # IF with r*dt = 1: v- = 1 exactly at threshold 1 does not fire, the next input does.
    neuron = ir.make_population(ir.IF, 1, r=1.0, v_threshold=1.0)
    assert list(run(chain(neuron, in_shape=(1,)), _col([1, 0, 0.5]))[:, 0]) == [0, 0, 1]
    thr = ir.Threshold(threshold=np.array([0.5]))
    assert list(run(chain(thr, in_shape=(1,)), _col([0.5, 0.75, 0.25, -1]))[:, 0]) == [0, 1, 0, 0]


def test_dt_scales_the_coefficients(chain, run):
    # dt = 0.25, tau = 0.5 -> alpha 1/2, gain r*dt/tau = 1/2 (r=1), bias v_leak*dt/tau = 1/2.
    # LI: v1 = 0 + 1 + 0.5 = 1.5; v2 = 0.75 + 0 + 0.5 = 1.25; v3 = 0.625 - 0.5 + 0.5 = 0.625
    li = ir.make_population(ir.LI, 1, tau=0.5, v_leak=1.0)
    g = chain(li, in_shape=(1,), dt=0.25)
    assert list(run(g, _col([2, 0, -1]))[:, 0]) == [1.5, 1.25, 0.625]


# --- non-spiking and current-based models --------------------------------------------------


def test_li_outputs_membrane(chain, run):
    # tau=2, r=1: v = v/2 + x/2 ; x = 4, 0, 2 -> 2, 1, 1.5
    li = ir.make_population(ir.LI, 1, tau=2.0)
    assert list(run(chain(li, in_shape=(1,)), _col([4, 0, 2]))[:, 0]) == [2.0, 1.0, 1.5]


def test_integrator_accumulates(chain, run):
    # dt=0.5, r=2: v += x
    node = ir.Integrator(r=np.array([2.0]))
    assert list(run(chain(node, in_shape=(1,), dt=0.5), _col([1, 2, -0.5]))[:, 0]) == [1.0, 3.0, 2.5]


def test_cubali_uses_the_new_current(chain, run):
    # dt=1, tau_syn=2, w_in=2: I = I/2 + x ; tau_mem=2, r=1: v = v/2 + I/2
    # x = 4, 0, 0: I = 4, 2, 1 ; v = 2, 1+1 = 2, 1 + 0.5 = 1.5
    node = ir.make_population(ir.CubaLI, 1, tau_syn=2.0, tau_mem=2.0, w_in=2.0)
    assert list(run(chain(node, in_shape=(1,)), _col([4, 0, 0]))[:, 0]) == [2.0, 2.0, 1.5]


@pytest.mark.parametrize("reset", RESETS)
def test_cubalif_hand_sequence(chain, run, reset):
    # I = I/2 + x (tau_syn=2, w_in=2); v- = v/2 + I (tau_mem=2, r=2); threshold 2.5.
    # x = 4, 0, 0, 0: I = 4, 2, 1, 0.5
    # value:   v- = 4 (spike, v=0); 2 no; 1+1 = 2 no; 1+0.5 = 1.5 no      -> 1,0,0,0
    # subtract: 4 -> 1.5; 0.75+2 = 2.75 spike -> 0.25; 0.125+1 = 1.125; 0.5625+0.5 -> 1,1,0,0
    # subtract_next: 4 (spike); 2+2-2.5 = 1.5; 0.75+1 = 1.75; 0.875+0.5 -> 1,0,0,0
    # none: 4; 4 (spike); 3 (spike); 2 -> 1,1,1,0
    expected = {"value": [1, 0, 0, 0], "subtract": [1, 1, 0, 0], "subtract_next": [1, 0, 0, 0], "none": [1, 1, 1, 0]}
    node = ir.make_population(ir.CubaLIF, 1, tau_syn=2.0, tau_mem=2.0, r=2.0, w_in=2.0, v_threshold=2.5, reset=reset)
    assert list(run(chain(node, in_shape=(1,)), _col([4, 0, 0, 0]))[:, 0]) == expected[reset]


@pytest.mark.parametrize("reset", RESETS)
def test_if_hand_sequence(chain, run, reset):
    # v- = v + x (r*dt = 1), threshold 1.5, v_reset 0.25
    # x = 1, 1, 1, 1, 0
    # value: 1; 2 spike -> .25; 1.25; 2.25 spike -> .25; .25           -> 0,1,0,1,0
    # subtract: 1; 2 -> .5; 1.5 no (strict); 2.5 -> 1; 1               -> 0,1,0,1,0
    # subtract_next: 1; 2 (spike); 2+1-1.5 = 1.5 no; 2.5 spike; 2.5-1.5 = 1 no -> 0,1,0,1,0
    # none: 1, 2, 3, 4, 4                                               -> 0,1,1,1,1
    expected = {
        "value": [0, 1, 0, 1, 0],
        "subtract": [0, 1, 0, 1, 0],
        "subtract_next": [0, 1, 0, 1, 0],
        "none": [0, 1, 1, 1, 1],
    }
    node = ir.make_population(ir.IF, 1, v_threshold=1.5, v_reset=0.25, reset=reset)
    assert list(run(chain(node, in_shape=(1,)), _col([1, 1, 1, 1, 0]))[:, 0]) == expected[reset]


def test_per_neuron_parameters_are_per_neuron(chain, run):
    lif = ir.LIF(
        tau=np.array([2.0, 4.0]), r=np.array([2.0, 4.0]), v_leak=np.zeros(2),
        v_threshold=np.array([1.5, 0.5]), v_reset=np.zeros(2),
    )
    x = np.array([[1.0, 1.0], [1.0, 1.0]])
    # neuron 0: alpha 1/2, gain 1, threshold 1.5: v- = 1, 1.5 (not > 1.5) -> 0, 0
    # neuron 1: alpha 3/4, gain 1, threshold 0.5: v- = 1 (spike, v = 0), 1 (spike) -> 1, 1
    out = run(chain(lif, in_shape=(2,)), x)
    assert out.tolist() == [[0, 1], [0, 1]]


# --- graph timing ----------------------------------------------------------------------


def test_summed_inputs(run):
    nodes = {
        "input": ir.Input(2),
        "a": ir.Linear(np.array([[1.0, 0.0]])),
        "b": ir.Linear(np.array([[0.0, 2.0]])),
        "li": ir.make_population(ir.Integrator, 1),
        "output": ir.Output(),
    }
    edges = [("input", "a"), ("input", "b"), ("a", "li"), ("b", "li"), ("li", "output")]
    g = ir.Graph(nodes, edges, dt=1.0)
    out = run(g, np.array([[1.0, 1.0], [0.5, 0.0]]))[:, 0]
    assert out.tolist() == [3.0, 3.5]


def test_feed_forward_propagates_within_one_step(chain, run):
    lif = lambda: ir.make_population(ir.IF, 1, v_threshold=0.5)  # noqa: E731
    g = chain(lif(), ir.Linear(np.array([[1.0]])), lif(), ir.Linear(np.array([[1.0]])), lif(), in_shape=(1,))
    assert run(g, _col([1, 0, 0]))[:, 0].tolist() == [1, 0, 0]


def test_back_edge_delivers_previous_step(run):
    # input -> lif -> out; lif -> rec -> lif (rec weight 2).  IF with r*dt = 1, threshold 0.5,
    # reset value 0.  Input 1 at step 0 only.
    # step 0: x = 1 + rec(prev z = 0) = 1 -> v=1 spike -> v=0
    # step 1: x = 0 + 2*z[0] = 2 -> spike
    # step 2: x = 0 + 2*z[1] = 2 -> spike (self-sustaining)
    nodes = {
        "input": ir.Input(1),
        "lif": ir.make_population(ir.IF, 1, v_threshold=0.5),
        "rec": ir.Linear(np.array([[2.0]])),
        "output": ir.Output(),
    }
    g = ir.Graph(nodes, [("input", "lif"), ("lif", "rec"), ("rec", "lif"), ("lif", "output")], dt=1.0)
    assert g.back_edges == {("rec", "lif")}
    res = ir.simulate(g, _col([1, 0, 0])[None], record="rec", dtype=np.float64)
    assert res.output[0, :, 0].tolist() == [1, 1, 1]
    assert res.recorded["rec"][0, :, 0].tolist() == [2, 2, 2]
    # inhibitory recurrence: the spike at step 0 suppresses step 1 only
    g2 = g.with_node("rec", ir.Linear(np.array([[-5.0]])))
    # step0: x=1 -> spike, v=0; step1: x = 1 - 5 = -4 -> v=-4; step2: x = 1 + 0 -> v=-3; ...
    out = ir.simulate(g2, _col([1, 1, 1])[None], dtype=np.float64).output[0, :, 0]
    assert out.tolist() == [1, 0, 0]


def test_back_edge_two_node_loop_with_integrator(run):
    # input -> a(Integrator) -> b(Linear 0.5) -> a: a[t] = a[t-1] + x[t] + 0.5*a[t-1]... with
    # b fed by a in the same step and the back edge delivering b's previous value.
    nodes = {
        "input": ir.Input(1),
        "a": ir.Integrator(r=np.array([1.0])),
        "b": ir.Linear(np.array([[0.5]])),
        "output": ir.Output(),
    }
    g = ir.Graph(nodes, [("input", "a"), ("a", "b"), ("b", "a"), ("a", "output")], dt=1.0)
    # t0: x_a = 1 + 0 -> a = 1, b = 0.5 ; t1: x_a = 0 + 0.5 -> a = 1.5, b = .75 ; t2: a = 2.25
    assert run(g, _col([1, 0, 0]))[:, 0].tolist() == [1.0, 1.5, 2.25]


# --- delays ----------------------------------------------------------------------------


def _impulse(t_len, n, at, which):
    x = np.zeros((t_len, n))
    x[at, which] = 1.0
    return x


def test_linear_per_synapse_delay(chain, run):
    w = np.array([[1.0, 10.0], [100.0, 0.0]])
    d = np.array([[0, 2], [3, 1]])
    g = chain(ir.Linear(w, delay=d), in_shape=(2,))
    out = run(g, _impulse(6, 2, 1, 0) + 2 * _impulse(6, 2, 1, 1))
    expected = np.zeros((6, 2))
    expected[1, 0] += 1.0  # w00 d=0
    expected[3, 0] += 20.0  # w01 d=2
    expected[4, 1] += 100.0  # w10 d=3
    np.testing.assert_array_equal(out, expected)


def test_affine_bias_every_step_and_delays(chain, run):
    g = chain(ir.Affine(np.array([[2.0]]), np.array([0.5]), delay=np.array([[2]])), in_shape=(1,))
    assert run(g, _col([1, 0, 0, 0]))[:, 0].tolist() == [0.5, 0.5, 2.5, 0.5]


def test_sparse_linear_delay_and_duplicates(chain, run):
    sp = ir.SparseLinear(
        shape=(2, 3), target=[0, 0, 1, 1], source=[0, 2, 1, 1], weight=[1.0, 2.0, 3.0, 4.0], delay=[1, 0, 0, 2]
    )
    g = chain(sp, in_shape=(3,))
    x = np.zeros((4, 3))
    x[0] = [1, 1, 1]
    out = run(g, x)
    assert out.tolist() == [[2, 3], [1, 0], [0, 4], [0, 0]]
    np.testing.assert_array_equal(sp.to_dense(), [[1, 0, 2], [0, 7, 0]])


def test_delay_node(chain, run):
    g = chain(ir.Delay(np.array([0, 1, 3])), in_shape=(3,))
    x = np.zeros((5, 3))
    x[0] = [1, 2, 3]
    x[1] = [4, 5, 6]
    out = run(g, x)
    assert out.tolist() == [[1, 0, 0], [4, 2, 0], [0, 5, 0], [0, 0, 3], [0, 0, 6]]


def test_delayed_spike_drives_neuron(chain, run):
    g = chain(ir.Linear(np.array([[1.0]]), delay=np.array([[3]])), ir.make_population(ir.IF, 1, v_threshold=0.5),
              in_shape=(1,))
    assert run(g, _col([1, 0, 0, 0, 0]))[:, 0].tolist() == [0, 0, 0, 1, 0]


def test_steps_longer_than_input_see_zero_input(chain):
    g = chain(ir.Linear(np.array([[1.0]]), delay=np.array([[2]])), in_shape=(1,))
    out = ir.simulate(g, _col([1, 0])[None], steps=4, dtype=np.float64).output[0, :, 0]
    assert out.tolist() == [0, 0, 1, 0]


# --- membrane batch-norm -----------------------------------------------------------------


@pytest.mark.parametrize("gamma", [2.0, -2.0])
def test_membrane_batchnorm_fires_on_normalised_membrane(chain, run, gamma):
    # Integrating IF (v- = v + x), threshold 1, BN(v) = gamma*(v - 1)/sqrt(3+1) + 0.25
    #  = gamma/2 * (v - 1) + 0.25, reset value 0.
    base = ir.make_population(ir.IF, (1, 1), v_threshold=1.0, reset="value")
    bn = ir.MembraneBatchNorm(base, mean=[1.0], var=[3.0], gamma=[gamma], beta=[0.25], eps=1.0)
    g = chain(bn, in_shape=(1, 1))
    x = np.array([1.0, 1.0, 1.0, -3.0, -1.0])[:, None, None]
    out = run(g, x)[:, 0, 0].tolist()
    v, expected = 0.0, []
    for xt in x[:, 0, 0]:
        v = v + xt
        z = gamma / 2 * (v - 1) + 0.25 > 1.0
        expected.append(float(z))
        if z:
            v = 0.0
    assert out == expected
    # gamma = 2: v = 1 -> .25, v = 2 -> 1.25 fires; negative gamma fires on low membranes.
    if gamma > 0:
        assert expected == [0, 1, 0, 0, 0]
    else:
        assert expected == [0, 0, 0, 1, 1]


def test_membrane_batchnorm_per_channel(chain, run):
    base = ir.make_population(ir.IF, (2, 2), v_threshold=0.0)
    bn = ir.MembraneBatchNorm(base, mean=[0.0, 10.0], var=[1.0, 1.0], gamma=[1.0, 1.0], beta=[0.0, 0.0], eps=0.0)
    out = run(chain(bn, in_shape=(2, 2)), np.ones((1, 2, 2)))
    assert out[0].tolist() == [[1, 1], [0, 0]]


def test_float32_default_dtype(chain):
    lif = ir.make_population(ir.LIF, 1, tau=2.0, r=2.0, v_threshold=1.5)
    out = ir.simulate(chain(lif, in_shape=(1,)), _col(X_LIF)[None]).output
    assert out.dtype == np.float32
    assert out[0, :, 0].tolist() == HAND["value"]


def test_tau_equal_to_dt_is_memoryless(chain, run):
    # alpha = 0: v- = r*x + v_leak each step
    li = ir.make_population(ir.LI, 1, tau=0.5, r=3.0, v_leak=1.0)
    assert run(chain(li, in_shape=(1,), dt=0.5), _col([1, 0, 2]))[:, 0].tolist() == [4.0, 1.0, 7.0]


# --- drawn parameters against a plain-Python loop of the docstring's equations -------------

quarter = st.integers(-8, 8).map(lambda k: k / 4)


@settings(max_examples=40, deadline=None)
@given(
    cuba=st.booleans(),
    reset=st.sampled_from(RESETS),
    tau_mem=st.sampled_from([1.0, 2.0, 4.0, 8.0]),
    tau_syn=st.sampled_from([1.0, 2.0, 4.0]),
    r=quarter, v_leak=quarter, w_in=quarter, v_reset=quarter,
    thr=st.integers(0, 8).map(lambda k: k / 4),
    x=st.lists(quarter, min_size=1, max_size=15),
)
def test_float_neuron_matches_python_loop(chain, run, cuba, reset, tau_mem, tau_syn, r, v_leak, w_in, v_reset, thr, x):
    dt = 0.5
    common = dict(r=r, v_leak=v_leak, v_threshold=thr, v_reset=v_reset, reset=reset)
    if cuba:
        node = ir.make_population(ir.CubaLIF, 1, tau_syn=tau_syn, tau_mem=tau_mem, w_in=w_in, **common)
    else:
        node = ir.make_population(ir.LIF, 1, tau=tau_mem, **common)
    out = run(chain(node, in_shape=(1,), dt=dt), _col(x))[:, 0].tolist()
    a_mem, g_mem, b_mem = 1 - dt / tau_mem, r * dt / tau_mem, v_leak * dt / tau_mem
    a_syn, g_syn = 1 - dt / tau_syn, w_in * dt / tau_syn
    i = v = z = 0.0
    expected = []
    for xt in x:
        if cuba:
            i = a_syn * i + g_syn * xt
            vm = a_mem * v + g_mem * i + b_mem
        else:
            vm = a_mem * v + g_mem * xt + b_mem
        if reset == "subtract_next":
            vm -= thr * z
        z = 1.0 if vm > thr else 0.0
        v = v_reset if (reset == "value" and z) else vm - thr * z if reset == "subtract" else vm
        expected.append(z)
    assert out == expected
