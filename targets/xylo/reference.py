r"""Xylo Audio 2's integer SNN core, step by step, in NumPy: the arithmetic spikec's Xylo
backend runs.  Learned (clean-room) from the published behaviour of SynSense's bit-accurate
simulator ``xylosim`` 0.1.3 (``src/v2``) as rockpool's ``XyloSim`` drives it; checked spike for
spike against it by ``tests/targets/test_xylo_reference.py``.

Registers are 16-bit (``[-2**15, 2**15 - 1]``); every addition *saturates* there, one addition at a
time.  With ``decay(x, s) = x >> s`` (arithmetic shift) replaced by ``sign(x)`` when it is 0 and
``x != 0`` (a decaying register always moves by at least one), one time step is:

1. **deliver** input events of this step (at most 15 per channel), then the hidden spikes of the
   previous step (at most 31 per neuron) to hidden and output neurons: for each source in index
   order, ``i_k <- sat(i_k + n * (w << shift))`` on the target's synapse ``k`` (``n`` repeated
   additions of one sign equal one saturated addition of ``n`` times the weight);
2. **decay** each synaptic current: ``i_k <- i_k - decay(i_k, dash_syn_k)`` (this step's input
   decays too);
3. **integrate**: ``dv = sat(wrap(-decay(v, dash_mem)) + sum_k i_k)``, ``dv = sat(dv + bias)``,
   ``v <- sat(v + dv)``; the negated decay is a 16-bit register too, so ``wrap`` (two's complement)
   turns ``-(-2**15)`` (``v = -2**15`` with ``dash_mem = 0``) back into ``-2**15``;
4. **fire**: while ``v >= threshold`` and fewer than the most spikes (31 hidden, 1 output):
   one more spike, ``v <- v - threshold``.

Hidden neurons have two synaptic currents, output neurons one.  Aliases (a neuron copying its
spikes to another) are not modelled: spikec never maps them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...errors import SimulationError, SpecError

__all__ = ["XyloNet", "XyloRun", "simulate", "decay", "STATE_MIN", "STATE_MAX", "MAX_INPUT_EVENTS",
           "MAX_HIDDEN_SPIKES", "MAX_OUTPUT_SPIKES"]

STATE_MIN, STATE_MAX = -(1 << 15), (1 << 15) - 1
MAX_INPUT_EVENTS = 15     # xylosim MAX_NUM_INP_SPIKES; rockpool XyloSamna.evolve: "up to 15 input events per bin"
MAX_HIDDEN_SPIKES = 31    # xylosim MAX_NUM_SPIKES
MAX_OUTPUT_SPIKES = 1     # xylosim MAX_NUM_OUT_SPIKES
MAX_DASH = 15             # a shift past 15 bits leaves a 16-bit register only its sign


@dataclass(frozen=True, eq=False)
class XyloNet:
    """One Xylo configuration: int8 weights ``w_in (Nin, Nhid, 2)``, ``w_rec (Nhid, Nhid, 2)``
    (last axis: synapse 1 or 2), ``w_out (Nhid, Nout)``; per-neuron bit-shift decays, thresholds
    and biases; one left shift per weight matrix."""

    w_in: np.ndarray
    w_rec: np.ndarray
    w_out: np.ndarray
    dash_syn: np.ndarray        # (Nhid, 2)
    dash_mem: np.ndarray        # (Nhid,)
    threshold: np.ndarray       # (Nhid,)
    bias: np.ndarray            # (Nhid,)
    dash_syn_out: np.ndarray    # (Nout,)
    dash_mem_out: np.ndarray    # (Nout,)
    threshold_out: np.ndarray   # (Nout,)
    bias_out: np.ndarray        # (Nout,)
    shift_in: int = 0
    shift_rec: int = 0
    shift_out: int = 0

    def __post_init__(self) -> None:
        for name in ("w_in", "w_rec", "w_out", "dash_syn", "dash_mem", "threshold", "bias", "dash_syn_out",
                     "dash_mem_out", "threshold_out", "bias_out"):
            arr = np.asarray(getattr(self, name))
            if arr.dtype.kind == "f" and np.any(arr != np.round(arr)):
                raise SpecError("holds non-integer values", parameter=name, fix="quantize it first")
            arr = np.array(arr, np.int64)
            arr.flags.writeable = False
            object.__setattr__(self, name, arr)
        n_in, n_hid, n_out = self.w_in.shape[0], self.w_rec.shape[0], self.w_out.shape[1]
        shapes = {"w_in": (n_in, n_hid, 2), "w_rec": (n_hid, n_hid, 2), "w_out": (n_hid, n_out),
                  "dash_syn": (n_hid, 2), "dash_mem": (n_hid,), "threshold": (n_hid,), "bias": (n_hid,),
                  "dash_syn_out": (n_out,), "dash_mem_out": (n_out,), "threshold_out": (n_out,), "bias_out": (n_out,)}
        for name, shape in shapes.items():
            if getattr(self, name).shape != shape:
                raise SpecError(f"has shape {getattr(self, name).shape}, expected {shape}", parameter=name)
        for name in ("w_in", "w_rec", "w_out", "bias", "bias_out"):
            arr = getattr(self, name)
            if arr.size and (arr.min() < -128 or arr.max() > 127):
                raise SpecError(f"spans [{arr.min()}, {arr.max()}]", parameter=name, limit="int8: -128..127",
                                fix="quantize to 8-bit signed values")
        for name in ("dash_syn", "dash_mem", "dash_syn_out", "dash_mem_out"):
            arr = getattr(self, name)
            if arr.size and (arr.min() < 0 or arr.max() > MAX_DASH):
                raise SpecError(f"spans [{arr.min()}, {arr.max()}]", parameter=name, limit=f"0..{MAX_DASH}")
        for name in ("threshold", "threshold_out"):
            arr = getattr(self, name)
            if arr.size and (arr.min() < 0 or arr.max() > STATE_MAX):
                raise SpecError(f"spans [{arr.min()}, {arr.max()}]", parameter=name, limit=f"0..{STATE_MAX}",
                                fix="a negative threshold would wrap the membrane; use 0..32767")
        for name in ("shift_in", "shift_rec", "shift_out"):
            if not 0 <= int(getattr(self, name)) <= 7:   # int8 << 7 still fits a 16-bit register
                raise SpecError(f"is {getattr(self, name)}", parameter=name, limit="0..7")

    @property
    def sizes(self) -> tuple[int, int, int]:
        """``(inputs, hidden, outputs)``."""
        return self.w_in.shape[0], self.w_rec.shape[0], self.w_out.shape[1]


@dataclass(frozen=True)
class XyloRun:
    """Event counts per step, ``(batch, steps, n)``: input events as delivered (capped at 15),
    hidden and output spikes."""

    inputs: np.ndarray
    hidden: np.ndarray
    output: np.ndarray
    v_hidden: np.ndarray
    v_output: np.ndarray


def decay(x: np.ndarray, dash: np.ndarray) -> np.ndarray:
    """How much a register decays in one step: ``x >> dash``, at least one step toward zero."""
    d = np.right_shift(x, dash)
    return np.where((d == 0) & (x != 0), np.sign(x), d)


def _leak(v: np.ndarray, dash: np.ndarray) -> np.ndarray:
    """``-decay(v, dash)`` held in a 16-bit register (see step 3 of the module docstring)."""
    neg = -decay(v, dash)
    return np.where(neg > STATE_MAX, neg - (1 << 16), neg)


def _sat(x: np.ndarray) -> np.ndarray:
    return np.clip(x, STATE_MIN, STATE_MAX)


def _deliver(i_syn: np.ndarray, counts: np.ndarray, weights: np.ndarray, cap: int) -> np.ndarray:
    """Add each source's events in index order, saturating after each source (see module doc)."""
    counts = np.minimum(counts, cap)
    for src in np.flatnonzero(counts.any(axis=0)):
        i_syn = _sat(i_syn + counts[:, src].reshape((-1,) + (1,) * (i_syn.ndim - 1)) * weights[src])
    return i_syn


def _fire(v: np.ndarray, threshold: np.ndarray, most: int) -> tuple[np.ndarray, np.ndarray]:
    above = v >= threshold
    safe = np.maximum(threshold, 1)
    n = np.where(threshold == 0, most, np.minimum((v - threshold) // safe + 1, most))
    n = np.where(above, n, 0)
    return n, v - n * threshold


def simulate(net: XyloNet, raster: np.ndarray, *, record_v: bool = False) -> XyloRun:
    """Run ``net`` on input event counts ``raster`` ``(batch, steps, Nin)`` (or ``(steps, Nin)``)."""
    raster = np.asarray(raster)
    single = raster.ndim == 2
    if single:
        raster = raster[None]
    n_in, n_hid, n_out = net.sizes
    if raster.ndim != 3 or raster.shape[2] != n_in:
        raise SimulationError(f"input raster has shape {raster.shape}, expected (batch, steps, {n_in})",
                              parameter="input")
    if raster.dtype.kind == "f" and np.any(raster != np.round(raster)) or (raster.size and raster.min() < 0):
        raise SimulationError("input events must be whole counts >= 0", parameter="input")
    raster = raster.astype(np.int64)
    batch, steps = raster.shape[:2]
    w_in = net.w_in << net.shift_in
    w_rec = net.w_rec << net.shift_rec
    w_out = net.w_out << net.shift_out
    i_syn = np.zeros((batch, n_hid, 2), np.int64)
    v = np.zeros((batch, n_hid), np.int64)
    i_out = np.zeros((batch, n_out), np.int64)
    v_out = np.zeros((batch, n_out), np.int64)
    prev = np.zeros((batch, n_hid), np.int64)
    hidden = np.zeros((batch, steps, n_hid), np.int64)
    output = np.zeros((batch, steps, n_out), np.int64)
    vh = np.zeros((batch, steps, n_hid) if record_v else (0,), np.int64)
    vo = np.zeros((batch, steps, n_out) if record_v else (0,), np.int64)
    for t in range(steps):
        i_syn = _deliver(i_syn, raster[:, t], w_in, MAX_INPUT_EVENTS)
        i_syn = _deliver(i_syn, prev, w_rec, MAX_HIDDEN_SPIKES)
        i_out = _deliver(i_out, prev, w_out, MAX_HIDDEN_SPIKES)
        i_syn = i_syn - decay(i_syn, net.dash_syn)
        v = _sat(v + _sat(_sat(_leak(v, net.dash_mem) + i_syn.sum(axis=2)) + net.bias))
        prev, v = _fire(v, net.threshold, MAX_HIDDEN_SPIKES)
        i_out = i_out - decay(i_out, net.dash_syn_out)
        v_out = _sat(v_out + _sat(_sat(_leak(v_out, net.dash_mem_out) + i_out) + net.bias_out))
        out, v_out = _fire(v_out, net.threshold_out, MAX_OUTPUT_SPIKES)
        hidden[:, t], output[:, t] = prev, out
        if record_v:
            vh[:, t], vo[:, t] = v, v_out
    delivered = np.minimum(raster, MAX_INPUT_EVENTS)
    if single:
        delivered, hidden, output = delivered[0], hidden[0], output[0]
        vh, vo = (vh[0], vo[0]) if record_v else (vh, vo)
    return XyloRun(delivered, hidden, output, vh, vo)
