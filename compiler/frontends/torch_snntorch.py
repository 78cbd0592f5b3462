"""snnTorch 1.0 neurons (Leaky, Synaptic, RLeaky, RSynaptic) read from their attributes.

snnTorch updates ``mem = clamp(beta)*mem + input - reset*threshold`` where ``reset`` is the
previous step's spike: the IR's ``subtract_next`` reset.  ``reset_mechanism="zero"`` on Leaky
multiplies the *old* membrane by ``1 - reset`` before the leak: the IR's ``value`` reset.  On
Synaptic, RLeaky and RSynaptic "zero" instead zeroes the whole next membrane, input included,
which no IR neuron does, so it is rejected.

snnTorch has no time step: with ``k = 1 - beta`` the graph's ``dt`` gives ``tau = dt/k`` and
``r = tau/dt``.  ``tau`` and ``r`` are then moved by a few ulps so that the IR's float64
coefficients (``dt/tau``, ``1 - dt/tau``, ``r*dt/tau``) come out as ``alpha == beta`` and
``gain == 1`` exactly wherever a float64 in reach allows it: always ``alpha`` for float32
``beta >= 0.5`` (snnTorch's default dtype), about 90% of other betas, ``gain`` about 95%;
the rest are one ulp off (float32 simulation: exact after rounding).
"""

from __future__ import annotations

from typing import Any, Callable, Iterator

import numpy as np
from torch import nn

from ... import ir
from ...errors import UnsupportedError

__all__ = ["convert", "decay_parameters"]


def _nudged(x0: np.ndarray, ok: Callable[[np.ndarray], np.ndarray], ulps: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """Per element, the float nearest ``x0`` (within ``ulps``) for which ``ok`` holds, else ``x0``."""
    x, done = x0.copy(), ok(x0)
    for n in range(1, ulps + 1):
        for direction in (np.inf, -np.inf):
            cand = x0.copy()
            for _ in range(n):
                cand = np.nextafter(cand, direction)
            good = ~done & ok(cand)
            x[good], done = cand[good], done | good
    return x, done


def _steps(x0: np.ndarray, ulps: int) -> Iterator[np.ndarray]:
    """``x0``, then its neighbours 1, 2, ... ulps below and above, alternating."""
    yield x0
    up, down = x0.copy(), x0.copy()
    for _ in range(ulps):
        up, down = np.nextafter(up, np.inf), np.nextafter(down, -np.inf)
        yield up
        yield down


def decay_parameters(beta: np.ndarray, dt: float) -> tuple[np.ndarray, np.ndarray]:
    """``(tau, r)`` whose IR coefficients (``k = dt/tau``, ``alpha = 1-k``, ``gain = r*k``, all
    float64) give ``alpha == beta`` and ``gain == 1`` exactly wherever a float in reach does;
    ``alpha`` takes precedence.  ``0 <= beta < 1``."""
    beta = np.asarray(beta, dtype=np.float64)
    tau0 = dt / (1.0 - beta)
    tau, r = tau0.copy(), tau0 / dt
    alpha_ok = np.zeros(beta.shape, bool)
    both_ok = np.zeros(beta.shape, bool)
    for cand in _steps(tau0, 64):
        k = dt / cand
        a_ok = (1.0 - k == beta) & (cand >= dt)
        rr, g_ok = _nudged(1.0 / k, lambda x: x * k == 1.0, 3)
        take = (a_ok & g_ok & ~both_ok) | (a_ok & ~alpha_ok)
        tau[take], r[take] = cand[take], rr[take]
        both_ok |= a_ok & g_ok
        alpha_ok |= a_ok
        if both_ok.all():
            break
    return tau, r


def _param(path: str, name: str, value: Any, shape: tuple[int, ...], clamp: bool = False) -> np.ndarray:
    arr = np.asarray(value.detach().cpu().double().numpy() if hasattr(value, "detach") else value, dtype=np.float64)
    if clamp:
        arr = np.clip(arr, 0.0, 1.0)  # snnTorch clamps beta/alpha in every forward
    try:
        return np.broadcast_to(arr, shape).copy()
    except ValueError:
        raise UnsupportedError(
            f"has shape {arr.shape}, which does not broadcast to the population shape {shape}",
            node=path, parameter=name, fix="give one value or one per neuron",
        ) from None


def _check_common(path: str, m: nn.Module, recurrent_or_syn: bool) -> str:
    what = f"snntorch.{type(m).__name__}"
    checks = [
        (bool(getattr(m, "inhibition", False)), "inhibition=True",
         "remove inhibition (winner-take-all is not an IR node)"),
        (bool(getattr(m, "state_quant", False)), "state_quant", "quantize with spikec's quantize pass instead"),
        (not getattr(m, "reset_delay", True), "reset_delay=False", "use the default reset_delay=True"),
        (float(getattr(m, "graded_spikes_factor", 1.0)) != 1.0, "graded_spikes_factor != 1",
         "use graded_spikes_factor=1 (scale the next layer's weights instead)"),
    ]
    for bad, why, fix in checks:
        if bad:
            raise UnsupportedError(f"{what}: {why} is not supported", node=path, fix=fix)
    mech = m.reset_mechanism
    if mech == "zero" and recurrent_or_syn:
        raise UnsupportedError(
            f"{what}: reset_mechanism='zero' zeroes the whole next membrane including its input, "
            "which no IR neuron does", node=path, parameter="reset_mechanism",
            fix="use 'subtract' or 'none' (Leaky's 'zero' is supported)",
        )
    return {"subtract": "subtract_next", "zero": "value", "none": "none"}[mech]


def _population(b: Any, path: str, m: nn.Module, reset: str, synaptic: bool) -> ir.Neuron:
    shape = b.shape
    beta = _param(path, "beta", m.beta, shape, clamp=True)
    thr = _param(path, "threshold", m.threshold, shape)
    common = dict(v_threshold=thr, v_reset=0.0, reset=reset)
    if synaptic:
        alpha = _param(path, "alpha", m.alpha, shape, clamp=True)
        if np.any(alpha == 1.0) or np.any(beta == 1.0):
            raise UnsupportedError(
                "alpha == 1 or beta == 1 (no decay) has no current-based IR neuron", node=path,
                parameter="alpha" if np.any(alpha == 1.0) else "beta", fix="use a decay below 1",
            )
        tau_syn, w_in = decay_parameters(alpha, b.dt)
        tau_mem, r = decay_parameters(beta, b.dt)
        return ir.make_population(ir.CubaLIF, shape, tau_syn=tau_syn, tau_mem=tau_mem, r=r, w_in=w_in, v_leak=0.0,
                                  **common)
    if np.all(beta == 1.0):
        r, _ = _nudged(np.full(shape, 1.0 / b.dt), lambda r: r * b.dt == 1.0)
        return ir.make_population(ir.IF, shape, r=r, **common)
    if np.any(beta == 1.0):
        raise UnsupportedError(
            "mixes beta == 1 (integrate-and-fire) and beta < 1 in one layer", node=path, parameter="beta",
            fix="split the layer, or use beta slightly below 1",
        )
    tau, r = decay_parameters(beta, b.dt)
    return ir.make_population(ir.LIF, shape, tau=tau, r=r, v_leak=0.0, **common)


def _recurrent(path: str, m: nn.Module, shape: tuple[int, ...]) -> ir.Node:
    rec = m.recurrent
    if isinstance(rec, nn.Linear):
        if rec.bias is not None and bool((rec.bias != 0).any()):
            raise UnsupportedError(
                "the recurrent nn.Linear has a non-zero bias: snnTorch adds it from step 0, but the IR's "
                "recurrent (back) edge delivers the previous step's output, zero at step 0",
                node=path, parameter="recurrent.bias",
                fix="create the layer and zero the bias (m.recurrent.bias.data.zero_()) or fold it into the "
                    "bias of the feed-forward layer before it",
            )
        return ir.Linear(weight=rec.weight.detach().cpu().double().numpy())
    if isinstance(rec, nn.Conv2d):
        raise UnsupportedError("convolutional recurrence is not supported", node=path, parameter="recurrent",
                               fix="use all_to_all=True with linear_features, or all_to_all=False")
    return ir.Scale(scale=_param(path, "V", rec.V, shape))


def convert(b: Any, path: str, m: nn.Module) -> bool:
    """Add the IR nodes of snnTorch neuron ``m`` to builder ``b``; False if ``m`` is not one."""
    try:
        import snntorch as snn
    except ImportError:  # snnTorch is optional
        return False
    kinds = {snn.Leaky: (False, False), snn.Synaptic: (True, False), snn.RLeaky: (False, True),
             snn.RSynaptic: (True, True)}
    kind = kinds.get(type(m))
    if kind is None:
        return False
    synaptic, recurrent = kind
    reset = _check_common(path, m, synaptic or recurrent)
    if recurrent:
        b.add_recurrent(path, _population(b, path, m, reset, synaptic), _recurrent(path, m, b.shape))
    else:
        b.add(path, _population(b, path, m, reset, synaptic))
    return True
