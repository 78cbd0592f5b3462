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
from typing import Any, Callable, Iterable

import numpy as np

from ...errors import ModelImportError
from .nir_nodes import NodeSpec

__all__ = ["DT_CONVENTIONS", "resolve_dt", "suggest_dt", "guess_producer"]

#: The time step each framework's NIR writer assumes when it turns decays into time constants.
DT_CONVENTIONS = (
    "snnTorch export_to_nir: dt=1e-4 s (tau = dt/(1-beta), r = tau/dt); "
    "Sinabs and Spyx: dt=1 (time constants in steps); "
    "Norse: r = 1 and time constants in seconds, its default dt=1e-3 s; "
    "Rockpool: the module's dt (default 1e-3 s; r = tau*exp(-dt/tau)/dt); "
    "spikec: written into metadata['dt']"
)


def resolve_dt(dt: Any, metadata: dict[str, Any], nodes: Iterable[NodeSpec] = (),
               trial: Callable[[float], str | None] | None = None) -> tuple[float, str]:
    """``(dt, where it came from)``; a :class:`ModelImportError` naming the likely exporter if unknown.

    ``trial(dt)`` imports the graph with a candidate ``dt`` and returns why that fails (None when it
    works): a ``dt`` the message suggests is one that was tried, so following the advice works."""
    if dt is not None:
        value, source = dt, "argument"
    elif metadata.get("dt") is not None:
        value, source = metadata["dt"], "metadata"
    else:
        raise ModelImportError(
            "NIR stores continuous-time constants (seconds) and this graph does not say which time "
            "step they were written for, so they cannot be discretized",
            parameter="dt",
            fix=f"{suggest_dt(list(nodes), trial)} (conventions: {DT_CONVENTIONS})",
        )
    try:
        step = float(np.asarray(value, dtype=np.float64).reshape(-1)[0]) if np.size(value) == 1 else math.nan
    except (TypeError, ValueError):
        step = math.nan
    if not (math.isfinite(step) and step > 0):
        raise ModelImportError(f"dt={value!r} (from the {source}) must be a positive number of seconds", parameter="dt")
    return step, source


def suggest_dt(nodes: list[NodeSpec], trial: Callable[[float], str | None] | None = None) -> str:
    """What to pass as ``dt``: the one exporter convention the parameters fit, if its ``dt`` imports
    (``trial``), else the bound the time constants set."""
    smallest = _smallest_time_constant(nodes)
    bound = (f"pass dt= the time step the exporter used, in seconds and at most the smallest time constant "
             f"{smallest:g}" if smallest is not None else "pass dt= the time step the exporter used")
    guess = guess_producer(nodes)
    if guess is None:
        return f"the parameters fit no exporter's convention; {bound}"
    name, step = guess
    failure = trial(step) if trial is not None else None
    if failure is not None:
        return (f"the parameters look like {name}'s export (dt={step:g}), but importing with dt={step:g} fails "
                f"({failure}); {bound}")
    return f"the parameters match {name}'s export formula{_why(name, step, smallest)}: pass dt={step:g}"


def _why(name: str, step: float, smallest: float | None) -> str:
    """How the magnitudes told two writers of ``r = 1`` apart."""
    if name == "Sinabs":
        return f" (r = 1, time constants of {smallest:g} and more: steps, not seconds)"
    if name == "Norse":
        chosen = "Norse's default step" if step == _NORSE_DT else "a step below the smallest time constant"
        return f" (r = 1, time constants from {smallest:g}: seconds, not steps; {step:g} s is {chosen})"
    return ""


def _smallest_time_constant(nodes: Iterable[NodeSpec]) -> float | None:
    taus = []
    for spec in nodes:
        for key in _TIME_CONSTANTS:
            if key in spec.params:
                p = _params(spec, key)
                if p is not None:
                    taus.append(float(p[0].min()))
    return min(taus) if taus else None


#: NIR fields that are time constants (seconds, or steps for writers whose dt is 1).
_TIME_CONSTANTS = ("tau", "tau_mem", "tau_syn")
#: Norse's default time step (norse.torch's ``dt=0.001``), used when its time constants allow it.
_NORSE_DT = 1e-3


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
    nodes = list(nodes)
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
        return _unit_r(nodes)
    dts = np.concatenate([(tau * _lambert_w(1 / r)).reshape(-1) for tau, r in pairs])
    if close(dts, dts[0]):
        return "Rockpool", float(f"{dts[0]:.4g}")
    return None


def _unit_r(nodes: list[NodeSpec]) -> tuple[str, float] | None:
    """``r = 1`` is written both by Sinabs (time constants in steps, dt = 1) and by Norse (NIR's
    own convention: seconds, so dt is a fraction of the smallest time constant).  The magnitudes
    tell them apart: a 2.5 ms membrane is not 2.5 steps of one second."""
    smallest = _smallest_time_constant(nodes)
    if smallest is None:
        return None
    taus = [float(p[0].max()) for spec in nodes for key in _TIME_CONSTANTS
            if key in spec.params and (p := _params(spec, key)) is not None]
    if smallest >= 1.0:
        return "Sinabs", 1.0
    if max(taus) < 1.0:
        return "Norse", _NORSE_DT if _NORSE_DT <= smallest / 2 else 10.0 ** math.floor(math.log10(smallest / 2))
    return None  # seconds and steps mixed: no convention fits
