"""The time step a NIR graph was written for.

NIR stores time constants and delays in seconds, and no exporter of 2024-25 records the time
step it assumed (snnTorch, Sinabs, Rockpool and Spyx all leave ``metadata`` empty), yet each
one derives its time constants from a per-step decay with a fixed ``dt``.  spikec therefore
never guesses: ``dt`` is the caller's, or ``metadata["dt"]`` (spikec writes it), or import
stops.  When it stops, the parameters are checked against each exporter's known formula, so
the message can say which framework wrote the file and which ``dt`` it used.
"""

from __future__ import annotations

import math
from typing import Any, Iterable

import numpy as np

from ...errors import ModelImportError
from .nir_nodes import NodeSpec

__all__ = ["DT_CONVENTIONS", "resolve_dt", "guess_producer"]

#: The time step each framework's NIR writer assumes when it turns decays into time constants.
DT_CONVENTIONS = (
    "snnTorch export_to_nir: dt=1e-4 s (tau = dt/(1-beta), r = tau/dt); "
    "Sinabs and Spyx: dt=1 (time constants in steps); "
    "Rockpool: the module's dt (default 1e-3 s; r = tau*exp(-dt/tau)/dt); "
    "spikec: written into metadata['dt']"
)


def resolve_dt(dt: Any, metadata: dict[str, Any], nodes: Iterable[NodeSpec] = ()) -> tuple[float, str]:
    """``(dt, where it came from)``; a :class:`ModelImportError` naming the likely exporter if unknown."""
    if dt is not None:
        value, source = dt, "argument"
    elif metadata.get("dt") is not None:
        value, source = metadata["dt"], "metadata"
    else:
        guess = guess_producer(nodes)
        first = f"the parameters match {guess[0]}'s export formula: pass dt={guess[1]:g}" if guess else (
            "pass dt= the time step the exporter used"
        )
        raise ModelImportError(
            "NIR stores continuous-time constants (seconds) and this graph does not say which time "
            "step they were written for, so they cannot be discretized",
            parameter="dt",
            fix=f"{first} (conventions: {DT_CONVENTIONS})",
        )
    try:
        step = float(np.asarray(value, dtype=np.float64).reshape(-1)[0]) if np.size(value) == 1 else math.nan
    except (TypeError, ValueError):
        step = math.nan
    if not (math.isfinite(step) and step > 0):
        raise ModelImportError(f"dt={value!r} (from the {source}) must be a positive number of seconds", parameter="dt")
    return step, source


def _params(spec: NodeSpec, *keys: str) -> list[np.ndarray] | None:
    try:
        out = [np.asarray(spec.params[k], dtype=np.float64) for k in keys]
    except (KeyError, TypeError, ValueError):
        return None
    return out if all(a.size and np.all(np.isfinite(a)) and np.all(a > 0) for a in out) else None


def _lambert_w(c: np.ndarray) -> np.ndarray:
    """Principal branch of W for c > 0 (u with u e^u = c), by Newton's method."""
    u = np.log1p(c)
    for _ in range(50):
        u = u - (u * np.exp(u) - c) / (np.exp(u) * (u + 1))
    return u


def guess_producer(nodes: Iterable[NodeSpec]) -> tuple[str, float] | None:
    """``(framework, dt)`` if every leaky neuron fits one exporter's formula for ``r``, else None."""
    pairs, saw_if = [], False
    for spec in nodes:
        if spec.kind in ("LIF", "LI"):
            p = _params(spec, "tau", "r")
        elif spec.kind in ("CubaLIF", "CubaLI"):
            p = _params(spec, "tau_mem", "r")
        elif spec.kind == "IF":
            r = _params(spec, "r")
            if r is None or not np.allclose(r[0], 1.0):
                return None
            saw_if = True
            continue
        else:
            continue
        if p is None:
            return None
        pairs.append(p)
    if not pairs:
        return ("Sinabs or Spyx", 1.0) if saw_if else None  # both write IF with r = 1, dt = 1 step
    close = lambda a, b: np.allclose(a, b, rtol=1e-4, atol=0)  # noqa: E731 (exporters write float32)
    if all(close(r * 1e-4, tau) for tau, r in pairs):
        return "snnTorch", 1e-4
    if all(close(r, 1 - 1 / tau) for tau, r in pairs):
        return "Spyx", 1.0
    if all(close(r, 1.0) for _, r in pairs):
        return "Sinabs", 1.0
    dts = np.concatenate([(tau * _lambert_w(1 / r)).reshape(-1) for tau, r in pairs])
    if close(dts, dts[0]):
        return "Rockpool", float(f"{dts[0]:.4g}")
    return None
