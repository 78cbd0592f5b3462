"""The CUBA benchmark network, shared by every simulator in ``bench/cuba.py``.

One network definition, one synapse list and one initial state, drawn once from a fixed seed,
so that spikec, Brian2 and Lava integrate *the same* equations from the same start.  The
canonical per-step update (forward Euler, dt = 0.1 ms, voltages in mV shifted so that the reset
value is 0) is, for every neuron j::

    I_j[t] = a_I * I_j[t-1] + sum_i W_ji * s_i[t-1]     (a spike acts one step later)
    v_j[t] = a_v * v_j[t-1] + I_j[t] + b
    s_j[t] = v_j[t] > theta;  if s_j[t]: v_j[t] = 0

with a_I = 1 - dt/tau_syn, a_v = 1 - dt/tau_m, b = (E_L - V_r) * dt/tau_m, and W_ji = w_e or w_i
(in mV, already multiplied by dt/tau_m) depending on whether i is excitatory.  Initial state:
v[-1] = ``v_init``, I[-1] = 0, no spike at t = -1.  No refractory period.

:func:`reference_run` is a plain NumPy implementation of exactly these equations.  It is the
ground truth that the other simulators' spike trains are compared against.  Its floating-point
order of operations is part of the definition, so that a bit-exact engine can match it:

* the synaptic input of a step is summed into a zeroed accumulator, each target's inputs in
  ascending presynaptic index: ``acc_j = ((0 + W_j,i1) + W_j,i2) + ...`` with i1 < i2 < ...;
* then ``I = a_I * I + acc`` and ``v = (a_v * v + I) + b`` (left to right), then ``v > theta``.

The module only needs NumPy (1.24+ or 2.x) because it is imported by the Brian2 runner (Python
3.13 venv) and by the Lava runner (Python 3.10 venv, numpy<2) as well as by spikec's side.
"""

from __future__ import annotations

import dataclasses
import os
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: The seed every run of the benchmark uses unless told otherwise.
DEFAULT_SEED = 20240607

# Brian2's CUBA example, with voltages shifted by V_r = -60 mV:
# E_L = -49 mV -> 11 mV, V_t = -50 mV -> 10 mV, reset -60 mV -> 0.
# we = 60*0.27/10 mV and wi = -20*4.5/10 mV are the example's jumps of the synaptic variable;
# seen in the canonical form (I = g*dt/tau_m) they are multiplied by dt/tau_m.
_FROZEN_ARRAYS = ("pre", "post", "weight", "v_init")


@dataclass(frozen=True, eq=False)
class CubaNet:
    """A CUBA network: constants, synapse list and initial voltages.

    All voltages are in mV, times in ms, plain float64.  ``pre``/``post``/``weight`` are
    sorted by (pre, post); ``weight`` is the canonical W (mV per step, i.e. including the
    dt/tau_m factor).  Arrays are read-only so that no simulator can perturb the shared copy.
    """

    n: int
    n_exc: int
    p_conn: float
    seed: int
    dt_ms: float
    tau_m_ms: float
    tau_syn_ms: float
    theta_mv: float
    el_minus_vr_mv: float
    we_mv: float
    wi_mv: float
    pre: np.ndarray = field(repr=False)
    post: np.ndarray = field(repr=False)
    weight: np.ndarray = field(repr=False)
    v_init: np.ndarray = field(repr=False)

    def __post_init__(self) -> None:
        for name in _FROZEN_ARRAYS:
            arr = np.ascontiguousarray(getattr(self, name))
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)
        if not (self.pre.shape == self.post.shape == self.weight.shape):
            raise ValueError("pre, post and weight must have the same length")
        if self.v_init.shape != (self.n,):
            raise ValueError(f"v_init must have shape ({self.n},)")

    # Derived constants.  Each is computed by one fixed float expression so that every
    # simulator that takes it from here uses the very same double.
    @property
    def dt_over_tau_m(self) -> float:
        """dt / tau_m, the factor that turns the ODE's terms into per-step increments."""
        return self.dt_ms / self.tau_m_ms

    @property
    def a_v(self) -> float:
        """Membrane decay per step, 1 - dt/tau_m."""
        return 1.0 - self.dt_ms / self.tau_m_ms

    @property
    def a_i(self) -> float:
        """Synaptic-current decay per step, 1 - dt/tau_syn."""
        return 1.0 - self.dt_ms / self.tau_syn_ms

    @property
    def b(self) -> float:
        """Sourced drive per step, (E_L - V_r) * dt/tau_m, in mV."""
        return self.el_minus_vr_mv * self.dt_over_tau_m

    @property
    def w_e(self) -> float:
        """Canonical excitatory weight (mV added to I per presynaptic spike)."""
        return self.we_mv * self.dt_over_tau_m

    @property
    def w_i(self) -> float:
        """Canonical inhibitory weight (negative)."""
        return self.wi_mv * self.dt_over_tau_m

    @property
    def n_syn(self) -> int:
        """Number of synapses."""
        return int(self.pre.shape[0])

    def out_degree(self) -> np.ndarray:
        """Number of outgoing synapses of each neuron (length n, int64)."""
        return np.bincount(self.pre, minlength=self.n).astype(np.int64)

    def indptr(self) -> np.ndarray:
        """CSR row pointer over ``pre`` (the synapse list is sorted by pre)."""
        ptr = np.zeros(self.n + 1, dtype=np.int64)
        np.cumsum(self.out_degree(), out=ptr[1:])
        return ptr

    def steps_for(self, model_seconds: float) -> int:
        """Number of dt steps in ``model_seconds`` of model time."""
        return int(round(model_seconds * 1000.0 / self.dt_ms))

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the network to an ``.npz`` file that :func:`load` reads back exactly."""
        scalars = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                   if f.name not in _FROZEN_ARRAYS}
        np.savez(path, pre=self.pre, post=self.post, weight=self.weight, v_init=self.v_init,
                 **{k: np.asarray(v) for k, v in scalars.items()})

    @staticmethod
    def load(path: str | os.PathLike[str]) -> CubaNet:
        """Read a network written by :meth:`save`."""
        with np.load(path) as z:
            kw: dict[str, Any] = {}
            for f in dataclasses.fields(CubaNet):
                val = z[f.name]
                if f.name in _FROZEN_ARRAYS:
                    kw[f.name] = val.copy()
                elif val.dtype.kind in "iu":
                    kw[f.name] = int(val)
                else:
                    kw[f.name] = float(val)
        return CubaNet(**kw)


def make_net(seed: int = DEFAULT_SEED, n: int = 4000, exc_fraction: float = 0.8,
             p_conn: float = 0.02, dt_ms: float = 0.1) -> CubaNet:
    """Draw a CUBA network.

    Every ordered pair (i -> j), i != j, is connected independently with probability
    ``p_conn``; neurons ``0 .. n_exc-1`` are excitatory.  ``v_init`` is uniform in
    [0, theta) mV.  The same ``seed`` always gives the same network.
    """
    rng = np.random.default_rng(seed)
    theta = 10.0
    v_init = rng.uniform(0.0, theta, size=n)
    # Bernoulli draws row block by row block: the full n x n matrix of uniforms would be
    # 128 MB at n = 4000.  The block size is fixed so that the network depends on the seed only.
    pres: list[np.ndarray] = []
    posts: list[np.ndarray] = []
    block = 256
    for start in range(0, n, block):
        rows = min(block, n - start)
        mask = rng.random((rows, n)) < p_conn
        mask[np.arange(rows), start + np.arange(rows)] = False  # no autapses
        r, c = np.nonzero(mask)  # row-major, so sorted by (pre, post)
        pres.append(r + start)
        posts.append(c)
    pre = np.concatenate(pres).astype(np.int32)
    post = np.concatenate(posts).astype(np.int32)
    n_exc = int(round(exc_fraction * n))
    net_kw = dict(n=n, n_exc=n_exc, p_conn=p_conn, seed=seed, dt_ms=dt_ms, tau_m_ms=20.0,
                  tau_syn_ms=5.0, theta_mv=theta, el_minus_vr_mv=11.0, we_mv=1.62, wi_mv=-9.0)
    proto = CubaNet(pre=pre[:0], post=post[:0], weight=np.zeros(0), v_init=v_init, **net_kw)
    weight = np.where(pre < n_exc, proto.w_e, proto.w_i).astype(np.float64)
    return CubaNet(pre=pre, post=post, weight=weight, v_init=v_init, **net_kw)


def expected_work(net: CubaNet, spike_counts: np.ndarray, steps: int) -> dict[str, int]:
    """Work a run did: ``neuron_updates`` = n * steps, ``syn_events`` = sum over spikes of
    the spiking neuron's out-degree (spikes of the last step included)."""
    counts = np.asarray(spike_counts, dtype=np.int64)
    return {"neuron_updates": int(net.n) * int(steps),
            "syn_events": int(np.dot(counts, net.out_degree()))}


def reference_run(net: CubaNet, steps: int, record: bool = False) -> dict[str, Any]:
    """Integrate the canonical equations with NumPy for ``steps`` steps.

    Returns ``wall_s``, ``spikes``, ``rate_hz``, ``spike_counts`` and, with ``record``,
    ``spike_steps``/``spike_ids`` (int64, in step order, ids ascending within a step) plus
    the final ``v`` and ``I``.
    """
    n = net.n
    indptr = net.indptr()
    post = net.post.astype(np.intp)
    weight = net.weight
    a_v, a_i, b, theta = net.a_v, net.a_i, net.b, net.theta_mv
    v = net.v_init.astype(np.float64).copy()
    cur = np.zeros(n)
    counts = np.zeros(n, dtype=np.int64)
    fired = np.zeros(0, dtype=np.intp)
    rec_steps: list[np.ndarray] = []
    rec_ids: list[np.ndarray] = []
    t0 = time.perf_counter()
    for t in range(steps):
        if fired.size:
            starts = indptr[fired]
            lens = indptr[fired + 1] - starts
            # synapse indices of all spiking rows, rows in ascending pre order, without a
            # Python loop: offset each row's start by its position in the concatenation
            tot = int(lens.sum())
            idx = np.repeat(starts - (np.cumsum(lens) - lens), lens) + np.arange(tot)
            # bincount adds in index order from 0.0: acc_j = ((0 + w1) + w2) + ..., pre ascending
            acc = np.bincount(post[idx], weights=weight[idx], minlength=n)
            cur *= a_i
            cur += acc
        else:
            cur *= a_i  # a_I*I + 0.0 == a_I*I exactly, so the empty sum is skipped
        v *= a_v
        v += cur
        v += b
        fired = np.flatnonzero(v > theta)
        if fired.size:
            v[fired] = 0.0
            counts[fired] += 1
            if record:
                rec_steps.append(np.full(fired.size, t, dtype=np.int64))
                rec_ids.append(fired.astype(np.int64))
    wall = time.perf_counter() - t0
    out: dict[str, Any] = summarize(net, steps, counts, wall)
    if record:
        out["spike_steps"] = (np.concatenate(rec_steps) if rec_steps
                              else np.zeros(0, dtype=np.int64))
        out["spike_ids"] = (np.concatenate(rec_ids) if rec_ids
                            else np.zeros(0, dtype=np.int64))
        out["v"] = v
        out["I"] = cur
    return out


def summarize(net: CubaNet, steps: int, counts: np.ndarray, wall_s: float) -> dict[str, Any]:
    """The result dict every runner returns: wall_s, spikes, rate_hz, spike_counts."""
    counts = np.asarray(counts, dtype=np.int64)
    model_s = steps * net.dt_ms / 1000.0
    spikes = int(counts.sum())
    return {"wall_s": float(wall_s), "spikes": spikes,
            "rate_hz": spikes / (net.n * model_s) if model_s > 0 else 0.0,
            "spike_counts": counts}


def first_divergence(steps_a: np.ndarray, ids_a: np.ndarray,
                     steps_b: np.ndarray, ids_b: np.ndarray, n_steps: int) -> dict[str, Any]:
    """Compare two spike rasters.

    Returns ``first_diff_step`` (the first step whose set of spiking neurons differs, or None
    if the rasters are identical over ``n_steps``), ``matching_spikes`` (spikes of a strictly
    before that step, i.e. the identical prefix) and the total counts of both.
    """
    a = np.lexsort((ids_a, steps_a))
    b = np.lexsort((ids_b, steps_b))
    sa, ia = np.asarray(steps_a)[a], np.asarray(ids_a)[a]
    sb, ib = np.asarray(steps_b)[b], np.asarray(ids_b)[b]
    m = min(sa.size, sb.size)
    neq = np.flatnonzero((sa[:m] != sb[:m]) | (ia[:m] != ib[:m]))
    if neq.size:
        k = int(neq[0])
        first = int(min(sa[k], sb[k]))
    elif sa.size != sb.size:
        k = m
        first = int(sa[m]) if sa.size > m else int(sb[m])
    else:
        return {"first_diff_step": None, "matching_spikes": int(sa.size),
                "spikes_a": int(sa.size), "spikes_b": int(sb.size)}
    return {"first_diff_step": first, "matching_spikes": int(np.count_nonzero(sa < first)),
            "spikes_a": int(sa.size), "spikes_b": int(sb.size)}
