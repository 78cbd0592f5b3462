"""Fixed-point mode: FixedCubaLIF bit-exact against an independent plain-Python-int reading of
ir/fixed.py's docstring (drawn cases and hand examples of rounding, overflow and reset), and
the float/fixed boundary of the simulator (what each mode refuses, naming node and parameter).
The range checks of FixedCubaLIF's own parameters are in test_validation.py."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from spikec import ir
from spikec.errors import UnsupportedError

# --- the reference: the docstring's equations, one neuron at a time, in Python ints ----------------
# (unbounded, so no hidden wrap)


def rho(p: int, bits: int, rounding: str) -> int:
    """Drop ``bits`` fraction bits."""
    if rounding == "floor":
        return p // (1 << bits)  # Python's // rounds toward -inf
    magnitude = abs(p)
    if rounding == "nearest":  # half away from zero
        magnitude += 1 << (bits - 1)
    quotient = magnitude // (1 << bits)
    return -quotient if p < 0 else quotient


def keep(p: int, bits: int, how: str) -> int:
    """Fit ``p`` into a signed ``bits``-bit word."""
    if how == "saturate":
        top = 2 ** (bits - 1) - 1
        return min(max(p, -top), top)
    span = 2**bits
    p = p % span
    return p - span if p >= span // 2 else p


def reference(p: dict, weight: list[list[int]], spikes: list[list[list[int]]]) -> list[list[list[int]]]:
    """Outputs [batch][time][neuron] of Linear(weight) -> FixedCubaLIF(p)."""
    unity = 2 ** p["decay_bits"]
    out = []
    for sample in spikes:
        n = len(weight)
        u, v, z = [0] * n, [0] * n, [0] * n
        rows = []
        for s in sample:
            row = []
            for j in range(n):
                x = sum(weight[j][i] * s[i] for i in range(len(s)))
                u[j] = keep(rho(u[j] * (unity - p["du"][j]), p["decay_bits"], p["rounding"])
                            + x * 2 ** p["input_shift"], p["u_bits"], p["u_overflow"])
                vm = rho(v[j] * (unity - p["dv"][j]), p["decay_bits"], p["rounding"]) + u[j] + p["bias"][j]
                if p["reset"] == "subtract_next":
                    vm -= p["v_threshold"][j] * z[j]
                vm = keep(vm, p["v_bits"], p["v_overflow"])
                if not p["spiking_output"]:
                    v[j] = vm
                    row.append(vm)
                    continue
                z[j] = 1 if vm > p["v_threshold"][j] else 0
                if p["reset"] == "value" and z[j]:
                    v[j] = p["v_reset"][j]
                elif p["reset"] == "subtract":
                    v[j] = vm - p["v_threshold"][j] * z[j]
                else:
                    v[j] = vm
                row.append(z[j])
            rows.append(row)
        out.append(rows)
    return out


def test_reference_helpers_by_hand():
    """The reference's own arithmetic, checked on numbers worked out on paper."""
    assert [rho(p, 2, "toward_zero") for p in (7, -7, 6, -6)] == [1, -1, 1, -1]
    assert [rho(p, 2, "floor") for p in (7, -7, 6, -6)] == [1, -2, 1, -2]
    assert [rho(p, 2, "nearest") for p in (7, -7, 6, -6, 5, -5)] == [2, -2, 2, -2, 1, -1]
    assert [keep(p, 4, "saturate") for p in (9, -9, 7, -8)] == [7, -7, 7, -7]
    assert [keep(p, 4, "wrap") for p in (8, -9, 7, -8, 16)] == [-8, 7, 7, -8, 0]


# --- hypothesis: random neurons, weights and spike trains ----------------------------------------


@st.composite
def wide_cases(draw):
    """Any register width int64 allows; one working magnitude for all values (see below)."""
    n_in, n_out = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    D = draw(st.integers(1, 30))
    u_bits = draw(st.integers(2, 62 - D))
    v_bits = draw(st.integers(2, 62 - D))
    unity = 2**D
    vmax = 2 ** (v_bits - 1) - 1
    # One working magnitude 2**e for threshold, reset, bias and input current, so that neurons
    # actually cross their thresholds; e near v_bits makes the membrane overflow.
    e = draw(st.integers(0, v_bits - 1))
    mag = 2**e

    def per_neuron(elements):
        return draw(st.lists(elements, min_size=n_out, max_size=n_out))

    def state(lo, hi):
        return st.integers(max(lo, -vmax), min(hi, vmax))

    decay = st.one_of(st.just(0), st.just(unity), st.integers(0, unity))
    shift = draw(st.integers(0, min(30, e)))
    w_exp = max(0, e - shift - draw(st.integers(-1, 3)))
    p = dict(
        du=per_neuron(decay), dv=per_neuron(decay),
        bias=per_neuron(state(-mag // 2, mag // 2)),
        v_threshold=per_neuron(state(-mag // 4, mag)),
        v_reset=per_neuron(state(-mag, mag)),
        decay_bits=D, u_bits=u_bits, v_bits=v_bits, input_shift=shift,
        rounding=draw(st.sampled_from(["toward_zero", "floor", "nearest"])),
        u_overflow=draw(st.sampled_from(["saturate", "wrap"])),
        v_overflow=draw(st.sampled_from(["saturate", "wrap"])),
        reset=draw(st.sampled_from(["value", "subtract", "subtract_next", "none"])),
        spiking_output=draw(st.booleans()),
    )
    weight = draw(st.lists(st.lists(st.integers(-(2**w_exp), 2**w_exp), min_size=n_in, max_size=n_in),
                           min_size=n_out, max_size=n_out))
    batch, steps = draw(st.integers(1, 2)), draw(st.integers(1, 16))
    payload = draw(st.sampled_from([st.integers(0, 1), st.integers(-2, 3)]))
    spikes = draw(st.lists(st.lists(st.lists(payload, min_size=n_in, max_size=n_in), min_size=steps,
                                    max_size=steps), min_size=batch, max_size=batch))
    return p, weight, spikes


@st.composite
def narrow_cases(draw):
    """Narrow registers and small numbers (D <= 14, 4- to 24-bit words, values up to 2**10,
    weights up to 200, 0/1 spikes): exact halves for the rounding and overflows are common."""
    D = draw(st.integers(1, 14))
    u_bits, v_bits = draw(st.integers(4, 24)), draw(st.integers(4, 24))
    n_in, n_out, steps = draw(st.integers(1, 4)), draw(st.integers(1, 4)), draw(st.integers(1, 12))
    vmax = 2 ** (v_bits - 1) - 1
    small = st.integers(-min(vmax, 2**10), min(vmax, 2**10))

    def per_neuron(elements):
        return draw(st.lists(elements, min_size=n_out, max_size=n_out))

    p = dict(
        du=per_neuron(st.integers(0, 2**D)), dv=per_neuron(st.integers(0, 2**D)), bias=per_neuron(small),
        v_threshold=per_neuron(st.integers(0, min(vmax, 2**10))), v_reset=per_neuron(small),
        decay_bits=D, u_bits=u_bits, v_bits=v_bits, input_shift=draw(st.integers(0, 6)),
        rounding=draw(st.sampled_from(["toward_zero", "floor", "nearest"])),
        u_overflow=draw(st.sampled_from(["saturate", "wrap"])),
        v_overflow=draw(st.sampled_from(["saturate", "wrap"])),
        reset=draw(st.sampled_from(["value", "subtract", "subtract_next", "none"])),
        spiking_output=draw(st.booleans()),
    )
    weight = draw(st.lists(st.lists(st.integers(-200, 200), min_size=n_in, max_size=n_in),
                           min_size=n_out, max_size=n_out))
    spikes = draw(st.lists(st.lists(st.integers(0, 1), min_size=n_in, max_size=n_in), min_size=steps, max_size=steps))
    return p, weight, [spikes]


def build(p, weight):
    n_in = len(weight[0])
    nodes = {"in": ir.Input((n_in,)), "w": ir.Linear(np.array(weight, dtype=np.int64)),
             "lif": ir.FixedCubaLIF(**p), "out": ir.Output()}
    return ir.Graph(nodes, [("in", "w"), ("w", "lif"), ("lif", "out")])


def check_bit_exact(p, weight, spikes):
    res = ir.simulate(build(p, weight), np.array(spikes, dtype=np.int64))
    assert res.mode == "fixed" and res.output.dtype == np.int64
    assert res.output.tolist() == reference(p, weight, spikes)


@settings(max_examples=200, deadline=None)
@given(wide_cases())
def test_fixed_cubalif_is_bit_exact_with_wide_registers(case):
    check_bit_exact(*case)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(narrow_cases())
def test_fixed_cubalif_is_bit_exact_with_narrow_registers(case):
    check_bit_exact(*case)


# --- hand examples of the rounding, overflow and reset rules -------------------------------------


def probe(run, chain, x, **kw):
    """u[t] = rho(u[t-1] * 1, 1) + x[t] (D = 1, du = 1); v = u (dv = 2**D, bias 0), not spiking."""
    params = dict(du=[1], dv=[2], bias=[0], v_threshold=[0], v_reset=[0], decay_bits=1, spiking_output=False)
    params.update(kw)
    g = chain(ir.FixedCubaLIF(**params), in_shape=(1,))
    return run(g, np.array(x, dtype=np.int64)[:, None], dtype=np.int64)[:, 0].tolist()


@pytest.mark.parametrize(
    "rounding,expected",
    [("toward_zero", [-1, -2, 2]), ("floor", [-2, -3, 2]), ("nearest", [-2, -3, 3])],
)
def test_rounding_modes_by_hand(run, chain, rounding, expected):
    """rho(u, 1) of -3, -5, 5: -1.5, -2.5, 2.5 rounded three ways."""
    got = [probe(run, chain, [u, 0], rounding=rounding)[1] for u in (-3, -5, 5)]
    assert got == expected


def test_current_overflow_modes_by_hand(run, chain):
    """A 4-bit current: saturate to [-7, 7]; wrap to [-8, 7]."""
    x = [9, 8, -9]
    assert [probe(run, chain, [v], u_bits=4, u_overflow="saturate")[0] for v in x] == [7, 7, -7]
    assert [probe(run, chain, [v], u_bits=4, u_overflow="wrap")[0] for v in x] == [-7, -8, 7]
    # input_shift multiplies before the overflow: 3 << 2 = 12 -> -4 wrapped.
    assert probe(run, chain, [3], u_bits=4, u_overflow="wrap", input_shift=2) == [-4]


def test_membrane_overflow_modes_by_hand(run, chain):
    """du = 2**D (u = x), dv = 0 (v accumulates): 3 per step in a 4-bit membrane (range +-7)."""
    common = dict(du=[2], dv=[0], u_bits=8, v_bits=4, rounding="floor")
    assert probe(run, chain, [3, 3, 3, 3], v_overflow="saturate", **common) == [3, 6, 7, 7]
    assert probe(run, chain, [3, 3, 3, 3], v_overflow="wrap", **common) == [3, 6, -7, -4]


def test_input_shift_and_bias_by_hand(run, chain):
    """du = dv = 2**D (nothing kept): u = 2 << 3 = 16, v = 16 + bias 1; then v = 0 + 1."""
    assert probe(run, chain, [2, 0], du=[2], dv=[2], bias=[1], input_shift=3, u_bits=16, v_bits=16) == [17, 1]


def test_fixed_lif_by_hand():
    """D = 1: du = 2 (the current decays fully: a LIF), dv = 1 (v halves, toward zero); input 5
    each step, threshold 8, reset to 0: v^- = 5 | 2+5 = 7 | 3+5 = 8 (not > 8) | 4+5 = 9 (spike) | 5."""
    p = dict(du=[2], dv=[1], bias=[0], v_threshold=[8], v_reset=[0], decay_bits=1, u_bits=8, v_bits=8,
             input_shift=0, rounding="toward_zero", u_overflow="wrap", v_overflow="saturate", reset="value",
             spiking_output=True)
    out = ir.simulate(build(p, [[5]]), np.ones((1, 5, 1), dtype=np.int64)).output
    assert out.tolist() == reference(p, [[5]], [[[1]] * 5]) == [[[0], [0], [0], [1], [0]]]


def test_subtract_next_subtracts_inside_the_membrane_overflow(run, chain):
    """du = dv = 2**D: u = x and v^- = O_v(x - 4 z[t-1]) in a saturating 4-bit membrane (max 7).
    Step 1: O_v(9 - 4) = 5 > 4 fires; subtracting after the clamp, 7 - 4 = 3, would not."""
    node = ir.FixedCubaLIF(du=[2], dv=[2], bias=[0], v_threshold=[4], v_reset=[0], decay_bits=1, reset="subtract_next",
                           u_bits=8, v_bits=4, v_overflow="saturate")
    out = run(chain(node, in_shape=(1,)), np.array([[9], [9], [9]]), dtype=np.int64)
    assert out[:, 0].tolist() == [1, 1, 1]


def test_integer_projections_are_exact_in_fixed_mode(chain):
    """Conv, sum pooling, sparse and dense projections with integer weights: fixed mode equals
    float64 mode exactly, in int64."""
    rng = np.random.default_rng(3)
    g = chain(
        ir.Conv2d(rng.integers(-3, 4, size=(2, 1, 3, 3)), rng.integers(-2, 3, size=2), padding=1),
        ir.SumPool2d(2),
        ir.Flatten(),
        ir.Affine(rng.integers(-3, 4, size=(5, 8)).astype(float), np.arange(5.0)),
        ir.SparseLinear((3, 5), target=[0, 1, 2, 2], source=[4, 3, 0, 0], weight=[2, -1, 3, 4], delay=[0, 1, 2, 0]),
        ir.Scale(np.array([1, 2, -1])),
        in_shape=(1, 4, 4),
    )
    x = rng.integers(0, 2, size=(2, 5, 1, 4, 4))
    fixed = ir.simulate(g, x, mode="fixed").output
    assert fixed.dtype == np.int64
    np.testing.assert_array_equal(fixed, ir.simulate(g, x, dtype=np.float64).output)


# --- what each mode refuses -------------------------------------------------------------------------


def lif(n):
    return ir.make_population(ir.LIF, n, tau=4.0, v_threshold=1.0)


def fixed_neuron(n=1):
    return ir.FixedCubaLIF(du=[4096] * n, dv=[0] * n, bias=[0] * n, v_threshold=[10] * n, v_reset=[0] * n)


@pytest.mark.parametrize(
    "layers,in_shape,node,param",
    [
        ([ir.Linear(np.ones((2, 2), int)), lif(2)], (2,), "l1", None),
        ([ir.Threshold(threshold=np.ones(2))], (2,), "l0", None),
        ([ir.make_population(ir.LI, 2, tau=4.0)], (2,), "l0", None),
        ([ir.MembraneBatchNorm(lif(2), mean=[0, 0], var=[1, 1], gamma=[1, 1], beta=[0, 0])], (2,), "l0", None),
        ([ir.AvgPool2d(2)], (1, 2, 2), "l0", None),
        ([ir.BatchNorm(mean=[0.0], var=[1.0], gamma=[1.0], beta=[0.0])], (1, 2), "l0", None),
        ([ir.Linear(np.array([[1.0, 0.5]]))], (2,), "l0", "weight"),
        ([ir.Affine(np.ones((1, 2), int), np.array([0.5]))], (2,), "l0", "bias"),
        ([ir.Conv1d(np.full((1, 1, 2), 0.25))], (1, 3), "l0", "weight"),
        ([ir.Conv1d(np.ones((1, 1, 2)), np.array([0.1]))], (1, 3), "l0", "bias"),
        ([ir.Scale(np.array([1.0, 1.5]))], (2,), "l0", "scale"),
        ([ir.SparseLinear((1, 2), target=[0], source=[1], weight=[0.5])], (2,), "l0", "weight"),
    ],
)
def test_fixed_mode_refuses_float_nodes(chain, raises_named, layers, in_shape, node, param):
    g = chain(*layers, in_shape=in_shape)
    with raises_named(UnsupportedError, node, param):
        ir.simulate(g, np.zeros((1, 2, *in_shape), int), mode="fixed")


def test_a_fixed_neuron_makes_the_whole_graph_fixed(chain, raises_named):
    """Without mode=, a graph holding a FixedCubaLIF runs in fixed mode, so its float parts are
    refused just as with mode='fixed', and whole-number float weights are accepted."""
    one = np.ones((1, 1), dtype=np.int64)
    g = chain(ir.Linear(one), fixed_neuron(), ir.Linear(one), lif(1), in_shape=(1,))
    with raises_named(UnsupportedError, "l3"):
        ir.simulate(g, np.ones((1, 2, 1)))
    bn = chain(ir.BatchNorm(mean=[0.0], var=[1.0], gamma=[1.0], beta=[0.0]), fixed_neuron(), in_shape=(1,))
    with raises_named(UnsupportedError, "l0"):
        ir.simulate(bn, np.ones((1, 2, 1)))
    frac = chain(ir.Linear(np.array([[0.5]])), fixed_neuron(), in_shape=(1,))
    with raises_named(UnsupportedError, "l0", "weight"):
        ir.simulate(frac, np.ones((1, 2, 1)))
    aff = chain(ir.Affine(np.array([[1.0]]), np.array([0.25])), fixed_neuron(), in_shape=(1,))
    with raises_named(UnsupportedError, "l0", "bias"):
        ir.simulate(aff, np.ones((1, 2, 1)))
    ok = chain(ir.Linear(np.array([[2.0]])), fixed_neuron(), in_shape=(1,))
    assert ir.simulate(ok, np.ones((1, 2, 1))).mode == "fixed"


def test_fixed_mode_refuses_non_integer_input(chain, raises_named):
    g = chain(ir.FixedCubaLIF(du=[0], dv=[0], bias=[0], v_threshold=[1], v_reset=[0]), in_shape=(1,))
    with raises_named(UnsupportedError, "input"):
        ir.simulate(g, np.array([[[0.5]]]))
    assert ir.simulate(g, np.array([[[2.0]]])).output.tolist() == [[[1]]]  # whole-number floats are fine


def test_float_mode_refuses_fixed_neurons(chain, raises_named):
    g = chain(ir.FixedCubaLIF(du=[0], dv=[0], bias=[0], v_threshold=[1], v_reset=[0]), in_shape=(1,))
    with raises_named(UnsupportedError, "l0"):
        ir.simulate(g, np.zeros((1, 2, 1)), mode="float")
