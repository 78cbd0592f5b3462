"""The float neuron models of ir/neurons.py (forward Euler in decay form, strict threshold,
four reset modes) and the membrane batch-norm, against sequences computed by hand from the
docstring, plus drawn parameters against a plain-Python loop of the same equations.

Every number is a dyadic fraction, so float64 holds it exactly, results are compared with
``==``, and a membrane that lands exactly on the threshold really is equal to it.
Unless said otherwise: dt = 1, tau = 2 (alpha = 1/2), r = 2 (gain = r dt / tau = 1).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from spikec import ir

MODES = ("value", "subtract", "subtract_next", "none")


def population(cls, n=1, **kw):
    return ir.make_population(cls, n, **kw)


def drive(run, chain, neuron, x, dt=1.0):
    """Feed ``x`` (time, *shape) straight into ``neuron``; returns its output sequence."""
    x = np.asarray(x, dtype=np.float64)
    return run(chain(neuron, in_shape=x.shape[1:], dt=dt), x)


# --- LIF ---------------------------------------------------------------------------------------

# x = 0.25, 1.5, 0.75, 0.5, 1, 1; threshold 1; v_reset 0.25.  v^- = v/2 + x.
LIF_X = [[0.25], [1.5], [0.75], [0.5], [1.0], [1.0]]
LIF_TABLE = {
    # v^-: .25 | .125+1.5=1.625 (spike, v=.25) | .125+.75=.875 | .4375+.5=.9375 | .46875+1=1.46875 (spike, v=.25)
    #      | .125+1=1.125 (spike)
    "value": [0, 1, 0, 0, 1, 1],
    # v^-: .25 | 1.625 (spike, v=.625) | .3125+.75=1.0625 (spike, v=.0625) | .03125+.5=.53125
    #      | .265625+1=1.265625 (spike, v=.265625) | .1328125+1=1.1328125 (spike)
    "subtract": [0, 1, 1, 0, 1, 1],
    # v^-: .25 | 1.625 (spike, v=1.625) | .8125+.75-1=.5625 | .28125+.5=.78125 | .390625+1=1.390625 (spike)
    #      | .6953125+1-1=.6953125
    "subtract_next": [0, 1, 0, 0, 1, 0],
    # v^-: .25 | 1.625 | .8125+.75=1.5625 | .78125+.5=1.28125 | .640625+1=1.640625 | .8203125+1=1.8203125
    "none": [0, 1, 1, 1, 1, 1],
}


@pytest.mark.parametrize("mode", MODES)
def test_lif_reset_modes(run, chain, mode):
    lif = population(ir.LIF, tau=2.0, r=2.0, v_threshold=1.0, v_reset=0.25, reset=mode)
    out = drive(run, chain, lif, LIF_X)
    assert out[:, 0].tolist() == LIF_TABLE[mode]


# x = 4, 0, 0; threshold 1, v_reset 0: one large overshoot.
LIF_OVERSHOOT = {
    "value": [1, 0, 0],  # 4 (spike, v=0) | 0 | 0
    "subtract": [1, 1, 0],  # 4 (v=3) | 1.5 (spike, v=.5) | .25
    "subtract_next": [1, 0, 0],  # 4 (spike) | 2-1 = 1 (not > 1: strict after the subtraction too) | .5
    "none": [1, 1, 0],  # 4 | 2 | 1 (not > 1)
}


@pytest.mark.parametrize("mode", MODES)
def test_lif_reset_modes_after_an_overshoot(run, chain, mode):
    lif = population(ir.LIF, tau=2.0, r=2.0, v_threshold=1.0, reset=mode)
    assert drive(run, chain, lif, [[4.0], [0.0], [0.0]])[:, 0].tolist() == LIF_OVERSHOOT[mode]


def test_lif_leak_and_time_step(run, chain):
    """dt = 0.5, tau = 2: alpha = 0.75; r = 4: gain = 1; v_leak = 2: bias = 0.5."""
    params = dict(tau=2.0, r=4.0, v_leak=2.0)
    # v: 0+1+.5 = 1.5 | 1.125+.5 = 1.625 | 1.21875+.5 = 1.71875
    v = drive(run, chain, population(ir.LI, **params), [[1.0], [0.0], [0.0]], dt=0.5)
    assert v[:, 0].tolist() == [1.5, 1.625, 1.71875]
    # With a threshold of 1.6 the LIF fires at step 1, resets to 0, then 0 + 0 + .5 = .5.
    z = drive(run, chain, population(ir.LIF, v_threshold=1.6, **params), [[1.0], [0.0], [0.0]], dt=0.5)
    assert z[:, 0].tolist() == [0, 1, 0]


def test_lif_with_tau_equal_to_dt_forgets_everything(run, chain):
    """alpha = 0: v^-[t] = r x[t] + v_leak."""
    li = population(ir.LI, tau=1.0, r=3.0, v_leak=0.5)
    assert drive(run, chain, li, [[1.0], [0.0], [-1.0]])[:, 0].tolist() == [3.5, 0.5, -2.5]


def test_float32_is_the_default_dtype(chain):
    lif = population(ir.LIF, tau=2.0, r=2.0, v_threshold=1.0, v_reset=0.25)
    out = ir.simulate(chain(lif, in_shape=(1,)), np.array(LIF_X)[None]).output
    assert out.dtype == np.float32
    assert out[0, :, 0].tolist() == LIF_TABLE["value"]


# --- CubaLIF -----------------------------------------------------------------------------------


def test_cuba_membrane_uses_the_new_current(run, chain):
    """tau_syn = 2, w_in = 2: I = I/2 + x.  tau_mem = 2, r = 2, v_leak = .5: v = v/2 + I + .25."""
    cuba = population(ir.CubaLI, tau_syn=2.0, tau_mem=2.0, r=2.0, w_in=2.0, v_leak=0.5)
    # I: 1, .5, .25, .125
    # v: 0+1+.25 = 1.25 | .625+.5+.25 = 1.375 | .6875+.25+.25 = 1.1875 | .59375+.125+.25 = .96875
    v = drive(run, chain, cuba, [[1.0], [0.0], [0.0], [0.0]])
    assert v[:, 0].tolist() == [1.25, 1.375, 1.1875, 0.96875]


# x = .5, .5, 1, 0, .25, so I = .5, .75, 1.375, .6875, .59375; v^- = v/2 + I; threshold .875.
CUBA_TABLE = {
    # v^-: .5 | .25+.75=1 (spike, v=.25) | .125+1.375=1.5 (spike, v=.25) | .125+.6875=.8125 | .40625+.59375=1 (spike)
    "value": [0, 1, 1, 0, 1],
    # v^-: .5 | 1 (spike, v=.125) | .0625+1.375=1.4375 (spike, v=.5625) | .28125+.6875=.96875 (spike, v=.09375)
    #      | .046875+.59375=.640625
    "subtract": [0, 1, 1, 1, 0],
    # v^-: .5 | 1 (spike) | .5+1.375-.875=1 (spike) | .5+.6875-.875=.3125 | .15625+.59375=.75
    "subtract_next": [0, 1, 1, 0, 0],
    # v^-: .5 | 1 | .5+1.375=1.875 | .9375+.6875=1.625 | .8125+.59375=1.40625
    "none": [0, 1, 1, 1, 1],
}


@pytest.mark.parametrize("mode", MODES)
def test_cubalif_reset_modes(run, chain, mode):
    cuba = population(ir.CubaLIF, tau_syn=2.0, tau_mem=2.0, r=2.0, w_in=2.0, v_threshold=0.875, v_reset=0.25,
                      reset=mode)
    out = drive(run, chain, cuba, [[0.5], [0.5], [1.0], [0.0], [0.25]])
    assert out[:, 0].tolist() == CUBA_TABLE[mode]


# --- IF, integrators, threshold ---------------------------------------------------------------


# r = .5, dt = 1: v^- = v + x/2; threshold 1 (strict); v_reset = -.5.  x = 3, 1, 1, 1, 0.
IF_TABLE = {
    "value": [1, 0, 0, 0, 0],  # 1.5 (v=-.5) | 0 | .5 | 1.0 (not > 1) | 1.0
    "subtract": [1, 0, 1, 0, 0],  # 1.5 (v=.5) | 1.0 | 1.5 (v=.5) | 1.0 | 1.0
    "subtract_next": [1, 0, 1, 0, 0],  # 1.5 | 1.5+.5-1=1 | 1.5 | 1.5+.5-1=1 | 1.0
    "none": [1, 1, 1, 1, 1],  # 1.5 | 2 | 2.5 | 3 | 3
}


@pytest.mark.parametrize("mode", MODES)
def test_if_reset_modes(run, chain, mode):
    neuron = population(ir.IF, r=0.5, v_threshold=1.0, v_reset=-0.5, reset=mode)
    assert drive(run, chain, neuron, [[3.0], [1.0], [1.0], [1.0], [0.0]])[:, 0].tolist() == IF_TABLE[mode]


def test_if_gain_scales_with_dt(run, chain):
    """dv/dt = R I: with dt = 0.25, r = 2 each unit of input adds 0.5."""
    z = drive(run, chain, population(ir.IF, r=2.0, v_threshold=1.0), [[1.0], [1.0], [1.0]], dt=0.25)
    assert z[:, 0].tolist() == [0, 0, 1]  # .5 | 1.0 (not > 1) | 1.5


def test_integrator(run, chain):
    """dt = .5, r = .5: v += x / 4."""
    v = drive(run, chain, population(ir.Integrator, r=0.5), [[1.0], [2.0], [-1.0], [0.0]], dt=0.5)
    assert v[:, 0].tolist() == [0.25, 0.75, 0.5, 0.5]


def test_threshold_is_stateless_and_strict(run, chain):
    thr = ir.Threshold(threshold=np.array([0.0, 0.5, -1.0]))
    x = [[0.0, 0.5, -1.0], [0.1, 0.6, -0.9], [-0.1, 0.4, -1.1], [0.0, 0.5, -1.0]]
    assert drive(run, chain, thr, x).tolist() == [[0, 0, 0], [1, 1, 1], [0, 0, 0], [0, 0, 0]]


@pytest.mark.parametrize(
    "neuron",
    [
        population(ir.LIF, tau=2.0, r=2.0, v_threshold=1.0),
        population(ir.CubaLIF, tau_syn=1.0, tau_mem=2.0, r=2.0, v_threshold=1.0),
        population(ir.IF, r=1.0, v_threshold=1.0),
    ],
    ids=["LIF", "CubaLIF", "IF"],
)
def test_membrane_equal_to_threshold_does_not_spike(run, chain, neuron):
    """v^- == threshold exactly (1.0) is silent; a hair above it fires."""
    assert drive(run, chain, neuron, [[1.0]]).tolist() == [[0.0]]
    assert drive(run, chain, neuron, [[1.0 + 2**-40]]).tolist() == [[1.0]]


# --- per-neuron parameters, shapes, state ------------------------------------------------------


def test_parameters_apply_per_neuron_in_c_order(run, chain):
    """A (2, 2) population: each neuron keeps its own tau and threshold."""
    lif = ir.LIF(
        tau=np.array([[1.0, 2.0], [4.0, 1.0]]),
        r=np.array([[1.0, 2.0], [4.0, 1.0]]),  # gain 1 everywhere
        v_leak=np.zeros((2, 2)),
        v_threshold=np.array([[1.5, 1.5], [1.5, 0.5]]),
        v_reset=np.zeros((2, 2)),
    )
    x = np.ones((3, 2, 2))
    # alpha 0: v = 1 always (never > 1.5, always > .5); alpha .5: 1, 1.5, 1.75 -> fires at 2;
    # alpha .75: 1, 1.75 (fires), then 0 + 1 = 1.
    expected = [[[0, 0], [0, 1]], [[0, 0], [1, 1]], [[0, 1], [0, 1]]]
    assert drive(run, chain, lif, x).tolist() == expected


def test_state_starts_at_zero_on_every_run(run, chain):
    g = chain(population(ir.IF, r=1.0, v_threshold=1.5), in_shape=(1,))
    x = [[1.0], [1.0], [0.0]]
    assert run(g, x).tolist() == run(g, x).tolist() == [[0], [1], [0]]


# --- membrane batch-norm -----------------------------------------------------------------------


def test_membrane_batchnorm_fires_on_the_normalised_membrane(run, chain):
    """IF (gain 1, threshold 1, reset to 0).  BN: a = 2/sqrt(1) = 2, b = 0 - 2*.25 = -.5, so it fires
    when 2v - .5 > 1, i.e. v > .75, where the bare neuron would need v > 1."""
    neuron = population(ir.IF, v_threshold=1.0)
    bn = ir.MembraneBatchNorm(neuron, mean=[0.25], var=[1.0], gamma=[2.0], beta=[0.0], eps=0.0)
    x = [[0.5], [0.5], [0.5], [0.375], [0.5]]
    # v: .5 (BN .5) | 1.0 (BN 1.5, spike, v=0) | .5 | .875 (BN 1.25, spike) | .5
    assert drive(run, chain, bn, x)[:, 0].tolist() == [0, 1, 0, 1, 0]
    assert drive(run, chain, neuron, x)[:, 0].tolist() == [0, 0, 1, 0, 0]  # v: .5 | 1 | 1.5 (spike) | .375 | .875


def test_membrane_batchnorm_negative_gamma_and_channels(run, chain):
    """Two channels of two neurons.  Channel 0: gamma = -1 (fires when -v > .5, i.e. v < -.5);
    channel 1: gamma = 1, beta = .25, var + eps = 4 (fires when v/2 + .25 > .5, i.e. v > .5)."""
    neuron = population(ir.IF, (2, 2), v_threshold=0.5, reset="none")
    bn = ir.MembraneBatchNorm(neuron, mean=[0.0, 0.0], var=[1.0, 3.0], gamma=[-1.0, 1.0], beta=[0.0, 0.25], eps=1.0)
    # eps = 1 also enters: channel 0 has a = -1/sqrt(2).  It fires when v < -.5 sqrt(2) = -.7071.
    x = np.zeros((4, 2, 2))
    x[:, 0, 0] = [-0.5, -0.25, 1.0, 0.0]  # v: -.5 | -.75 (fires) | .25 | .25
    x[:, 0, 1] = [1.0, 1.0, 1.0, 1.0]  # never negative, never fires
    x[:, 1, 0] = [0.25, 0.25, 0.25, -1.0]  # v: .25 | .5 (not > .5) | .75 (fires) | -.25
    x[:, 1, 1] = [-1.0, -1.0, 0.0, 0.0]  # negative, never fires
    out = drive(run, chain, bn, x)
    assert out[:, 0, 0].tolist() == [0, 1, 0, 0]
    assert out[:, 0, 1].tolist() == [0, 0, 0, 0]
    assert out[:, 1, 0].tolist() == [0, 0, 1, 0]
    assert out[:, 1, 1].tolist() == [0, 0, 0, 0]


def test_membrane_batchnorm_mean_is_per_channel(run, chain):
    """IF, threshold 0, one step of input 1 (v = 1): channel 0 (mean 0) sees 1 and fires,
    channel 1 (mean 10) sees -9 and does not."""
    neuron = population(ir.IF, (2, 2), v_threshold=0.0)
    bn = ir.MembraneBatchNorm(neuron, mean=[0.0, 10.0], var=[1.0, 1.0], gamma=[1.0, 1.0], beta=[0.0, 0.0], eps=0.0)
    assert drive(run, chain, bn, np.ones((1, 2, 2)))[0].tolist() == [[1, 1], [0, 0]]


def test_membrane_batchnorm_value_reset_acts_on_the_raw_membrane(run, chain):
    """LIF alpha .5, gain 1, v_reset = .5.  BN: a = 1, b = -1 (mean 1): fires when v - 1 > 0."""
    neuron = population(ir.LIF, tau=2.0, r=2.0, v_threshold=0.0, v_reset=0.5)
    bn = ir.MembraneBatchNorm(neuron, mean=[1.0], var=[1.0], gamma=[1.0], beta=[0.0], eps=0.0)
    # v: 1.5 (fires, v=.5) | .25+.875=1.125 (fires, v=.5) | .25+.5=.75 | .375+.5=.875
    x = [[1.5], [0.875], [0.5], [0.5]]
    assert drive(run, chain, bn, x)[:, 0].tolist() == [1, 1, 0, 0]


# --- drawn parameters against a plain-Python loop of the docstring's equations -------------

quarter = st.integers(-8, 8).map(lambda k: k / 4)
# A LIF with leak and a negative v_reset (alpha 3/4, gain 1/2, bias 1/8, threshold 3/4) in every
# reset mode, always tried: each mode fires and resets several times on this input.
LEAKY = dict(cuba=False, tau_mem=2.0, tau_syn=1.0, r=2.0, v_leak=0.5, w_in=0.0, v_reset=-0.5, thr=0.75,
             x=[1.0, 0.0, 2.0, 2.0, 0.0, 1.0, 3.0, 0.0, 0.0, 1.0])


@settings(max_examples=40, deadline=None)
@given(
    cuba=st.booleans(),
    reset=st.sampled_from(MODES),
    tau_mem=st.sampled_from([1.0, 2.0, 4.0, 8.0]),
    tau_syn=st.sampled_from([1.0, 2.0, 4.0]),
    r=quarter, v_leak=quarter, w_in=quarter, v_reset=quarter,
    thr=st.integers(0, 8).map(lambda k: k / 4),
    x=st.lists(quarter, min_size=1, max_size=15),
)
@example(reset="value", **LEAKY)
@example(reset="subtract", **LEAKY)
@example(reset="subtract_next", **LEAKY)
@example(reset="none", **LEAKY)
def test_float_neuron_matches_python_loop(chain, run, cuba, reset, tau_mem, tau_syn, r, v_leak, w_in, v_reset, thr, x):
    dt = 0.5
    common = dict(r=r, v_leak=v_leak, v_threshold=thr, v_reset=v_reset, reset=reset)
    if cuba:
        node = population(ir.CubaLIF, tau_syn=tau_syn, tau_mem=tau_mem, w_in=w_in, **common)
    else:
        node = population(ir.LIF, tau=tau_mem, **common)
    out = run(chain(node, in_shape=(1,), dt=dt), np.asarray(x, dtype=np.float64)[:, None])[:, 0].tolist()
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
