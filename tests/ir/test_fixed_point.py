"""FixedCubaLIF against an independent plain-Python-int implementation of ir/fixed.py's
docstring, bit for bit, and the float/fixed mode boundaries of the simulator."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spikec import ir
from spikec.errors import UnsupportedError

# --- the reference: one neuron at a time, Python ints (unbounded, so no hidden wrap) -----


def _rho(p: int, bits: int, rounding: str) -> int:
    """Drop ``bits`` fraction bits of ``p``."""
    if rounding == "floor":
        return p // (1 << bits)  # Python's // rounds toward -inf
    sign = -1 if p < 0 else 1
    mag = abs(p)
    if rounding == "nearest":
        mag += 1 << (bits - 1)
    return sign * (mag // (1 << bits))


def _fit(p: int, bits: int, how: str) -> int:
    """Keep ``p`` in a signed ``bits``-bit register."""
    if how == "saturate":
        lim = 2 ** (bits - 1) - 1
        return max(-lim, min(lim, p))
    mod = 2**bits
    p %= mod
    return p - mod if p >= mod // 2 else p


def _reference(cfg: dict, per: list[dict], x: list[list[int]]) -> list[list[int]]:
    """Outputs (z, or v when not spiking) for input currents ``x[t][i]``."""
    D = cfg["decay_bits"]
    out = []
    state = [{"u": 0, "v": 0, "z": 0} for _ in per]
    for xt in x:
        row = []
        for i, p in enumerate(per):
            s = state[i]
            u = _fit(_rho(s["u"] * (2**D - p["du"]), D, cfg["rounding"]) + xt[i] * 2 ** cfg["input_shift"],
                     cfg["u_bits"], cfg["u_overflow"])
            v = _rho(s["v"] * (2**D - p["dv"]), D, cfg["rounding"]) + u + p["bias"]
            if cfg["reset"] == "subtract_next":
                v -= p["thr"] * s["z"]
            v = _fit(v, cfg["v_bits"], cfg["v_overflow"])
            s["u"] = u
            if not cfg["spiking_output"]:
                s["v"] = v
                row.append(v)
                continue
            z = 1 if v > p["thr"] else 0
            if cfg["reset"] == "value" and z:
                v = p["v_reset"]
            elif cfg["reset"] == "subtract":
                v -= p["thr"] * z
            s["v"], s["z"] = v, z
            row.append(z)
        out.append(row)
    return out


@st.composite
def fixed_cases(draw):
    decay_bits = draw(st.integers(1, 14))
    u_bits = draw(st.integers(4, 24))
    v_bits = draw(st.integers(4, 24))
    cfg = {
        "decay_bits": decay_bits,
        "u_bits": u_bits,
        "v_bits": v_bits,
        "input_shift": draw(st.integers(0, 6)),
        "rounding": draw(st.sampled_from(["toward_zero", "floor", "nearest"])),
        "u_overflow": draw(st.sampled_from(["saturate", "wrap"])),
        "v_overflow": draw(st.sampled_from(["saturate", "wrap"])),
        "reset": draw(st.sampled_from(["value", "subtract", "subtract_next", "none"])),
        "spiking_output": draw(st.booleans()),
    }
    n_in = draw(st.integers(1, 4))
    n_out = draw(st.integers(1, 4))
    steps = draw(st.integers(1, 12))
    vmax = 2 ** (v_bits - 1) - 1
    small = st.integers(-min(vmax, 2**10), min(vmax, 2**10))
    per = [
        {
            "du": draw(st.integers(0, 2**decay_bits)),
            "dv": draw(st.integers(0, 2**decay_bits)),
            "bias": draw(small),
            "thr": draw(st.integers(0, min(vmax, 2**10))),
            "v_reset": draw(small),
        }
        for _ in range(n_out)
    ]
    w = draw(st.lists(st.lists(st.integers(-200, 200), min_size=n_in, max_size=n_in), min_size=n_out, max_size=n_out))
    spikes = draw(st.lists(st.lists(st.integers(0, 1), min_size=n_in, max_size=n_in), min_size=steps, max_size=steps))
    return cfg, per, w, spikes


def _fixed_graph(cfg: dict, per: list[dict], w) -> ir.Graph:
    neuron = ir.FixedCubaLIF(
        du=[p["du"] for p in per], dv=[p["dv"] for p in per], bias=[p["bias"] for p in per],
        v_threshold=[p["thr"] for p in per], v_reset=[p["v_reset"] for p in per], **cfg,
    )
    w = np.asarray(w, dtype=np.int64)
    nodes = {"input": ir.Input(w.shape[1]), "w": ir.Linear(w), "lif": neuron, "output": ir.Output()}
    return ir.Graph(nodes, [("input", "w"), ("w", "lif"), ("lif", "output")], dt=1e-3)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fixed_cases())
def test_fixed_cubalif_bit_exact(case):
    cfg, per, w, spikes = case
    g = _fixed_graph(cfg, per, w)
    res = ir.simulate(g, np.asarray(spikes, dtype=np.int64)[None])
    assert res.mode == "fixed"
    x = [[sum(w[j][i] * s[i] for i in range(len(s))) for j in range(len(per))] for s in spikes]
    assert res.output.dtype == np.int64
    assert res.output[0].tolist() == _reference(cfg, per, x)


def test_reference_helpers_by_hand():
    # the reference's own arithmetic, checked on numbers worked out on paper
    assert [_rho(p, 2, "toward_zero") for p in (7, -7, 6, -6)] == [1, -1, 1, -1]
    assert [_rho(p, 2, "floor") for p in (7, -7, 6, -6)] == [1, -2, 1, -2]
    assert [_rho(p, 2, "nearest") for p in (7, -7, 6, -6, 5, -5)] == [2, -2, 2, -2, 1, -1]
    assert [_fit(p, 4, "saturate") for p in (9, -9, 7, -8)] == [7, -7, 7, -7]
    assert [_fit(p, 4, "wrap") for p in (8, -9, 7, -8, 16)] == [-8, 7, 7, -8, 0]


def test_fixed_lif_by_hand():
    # decay_bits 1: du = 2 (current decays fully: a LIF), dv = 1 (v halves, toward zero)
    # input 5 each step, bias 0, threshold 8, reset value -> v: 5, 2+5=7, 3+5=8 (not > 8), 4+5=9 spike
    cfg = dict(decay_bits=1, u_bits=8, v_bits=8, input_shift=0, rounding="toward_zero",
               u_overflow="wrap", v_overflow="saturate", reset="value", spiking_output=True)
    per = [{"du": 2, "dv": 1, "bias": 0, "thr": 8, "v_reset": 0}]
    g = _fixed_graph(cfg, per, [[5]])
    out = ir.simulate(g, np.ones((1, 5, 1), dtype=np.int64)).output[0, :, 0]
    assert out.tolist() == [0, 0, 0, 1, 0]
    assert _reference(cfg, per, [[5]] * 5) == [[0], [0], [0], [1], [0]]


def test_fixed_saturation_and_wrap_by_hand():
    # v_bits 4 (range +-7), no decay (dv=0), input 3/step, no spikes (threshold 7 never exceeded)
    base = dict(decay_bits=2, u_bits=8, v_bits=4, input_shift=0, rounding="floor",
                u_overflow="wrap", reset="none", spiking_output=False)
    per = [{"du": 4, "dv": 0, "bias": 0, "thr": 7, "v_reset": 0}]
    sat = _fixed_graph({**base, "v_overflow": "saturate"}, per, [[3]])
    wrap = _fixed_graph({**base, "v_overflow": "wrap"}, per, [[3]])
    x = np.ones((1, 4, 1), dtype=np.int64)
    assert ir.simulate(sat, x).output[0, :, 0].tolist() == [3, 6, 7, 7]
    assert ir.simulate(wrap, x).output[0, :, 0].tolist() == [3, 6, -7, -4]


def test_fixed_input_shift_and_integer_float_inputs():
    cfg = dict(decay_bits=4, u_bits=16, v_bits=16, input_shift=3, rounding="toward_zero",
               u_overflow="wrap", v_overflow="saturate", reset="none", spiking_output=False)
    per = [{"du": 16, "dv": 16, "bias": 1, "thr": 100, "v_reset": 0}]
    g = _fixed_graph(cfg, per, [[2]])
    # u = 2 << 3 = 16, v = 0 + 16 + 1; float inputs holding whole numbers are accepted
    out = ir.simulate(g, np.array([[[1.0], [0.0]]])).output[0, :, 0]
    assert out.tolist() == [17, 1]


# --- mode boundaries -------------------------------------------------------------------------


def _fixed_neuron(n: int) -> ir.FixedCubaLIF:
    return ir.FixedCubaLIF(du=[4096] * n, dv=[0] * n, bias=[0] * n, v_threshold=[10] * n, v_reset=[0] * n)


def test_fixed_mode_rejects_float_neuron(chain, raises_named):
    g = chain(ir.Linear(np.ones((1, 1), dtype=np.int64)), _fixed_neuron(1),
              ir.Linear(np.ones((1, 1), dtype=np.int64)), ir.make_population(ir.LIF, 1, tau=2.0, v_threshold=1.0),
              in_shape=(1,))
    with raises_named(UnsupportedError, "l3"):
        ir.simulate(g, np.ones((1, 2, 1)))


def test_fixed_mode_rejects_float_only_nodes(chain, raises_named):
    pool = chain(ir.AvgPool2d(2), ir.Flatten(), _fixed_neuron(1), in_shape=(1, 2, 2))
    with raises_named(UnsupportedError, "l0"):
        ir.simulate(pool, np.ones((1, 2, 1, 2, 2)), mode="fixed")
    bn = chain(ir.BatchNorm(mean=[0.0], var=[1.0], gamma=[1.0], beta=[0.0]), _fixed_neuron(1), in_shape=(1,))
    with raises_named(UnsupportedError, "l0"):
        ir.simulate(bn, np.ones((1, 2, 1)))
    mbn = chain(
        ir.MembraneBatchNorm(ir.make_population(ir.IF, 1, v_threshold=1.0),
                             mean=[0.0], var=[1.0], gamma=[1.0], beta=[0.0]),
        in_shape=(1,),
    )
    with raises_named(UnsupportedError, "l0"):
        ir.simulate(mbn, np.ones((1, 2, 1)), mode="fixed")


def test_fixed_mode_rejects_fractional_weights_and_inputs(chain, raises_named):
    g = chain(ir.Linear(np.array([[0.5]])), _fixed_neuron(1), in_shape=(1,))
    with raises_named(UnsupportedError, "l0", "weight"):
        ir.simulate(g, np.ones((1, 2, 1)))
    aff = chain(ir.Affine(np.array([[1.0]]), np.array([0.25])), _fixed_neuron(1), in_shape=(1,))
    with raises_named(UnsupportedError, "l0", "bias"):
        ir.simulate(aff, np.ones((1, 2, 1)))
    ok = chain(ir.Linear(np.array([[2.0]])), _fixed_neuron(1), in_shape=(1,))  # whole floats are fine
    assert ir.simulate(ok, np.ones((1, 2, 1))).mode == "fixed"
    with raises_named(UnsupportedError, "input"):
        ir.simulate(ok, np.full((1, 2, 1), 0.5))


def test_float_mode_rejects_fixed_neuron(chain, raises_named):
    g = chain(ir.Linear(np.ones((1, 1), dtype=np.int64)), _fixed_neuron(1), in_shape=(1,))
    with raises_named(UnsupportedError, "l1"):
        ir.simulate(g, np.ones((1, 2, 1)), mode="float")
