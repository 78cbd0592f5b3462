r"""Calibrated scales for :func:`~spikec.compiler.passes.quantize.quantize`.

Without calibration data, quantize gives each population the largest scale :math:`S_0` at which
nothing saturates (from the weights and the registers alone).  With calibration inputs, the
scale is *chosen* by what the quantized net does on them: per population, in execution order,
the candidates :math:`S_0\,2^{k/4}` for :math:`k \in` ``STEPS`` (-4..+4: half to twice
:math:`S_0`, so some candidates saturate a little) are each quantized and simulated in fixed
point, the populations upstream already at their chosen factors (those downstream at
:math:`S_0`), and the one whose population agrees best with the float reference on the
calibration inputs is kept: the fraction of equal spikes for a spiking population, one minus
the relative membrane error for a non-spiking one.  Ties keep the candidate nearest to
:math:`S_0` (:math:`k = 0` first), so calibration never does worse than the default on the
population it is choosing.  **Saturating candidates** (those that clamp more weights, biases or
thresholds than :math:`S_0`) are simulated and reported (``saturating_candidates``: {k: clamps},
next to their agreement) but chosen only with ``allow_saturation`` (quantize's
``calibration_saturation=True``): by default calibration never adds a clamp, so a calibrated
graph saturates exactly as little as the default one (none), and the record shows what a
saturating scale would have gained (force it with ``scales=`` or opt in).  A larger scale keeps
the population's ``input_shift`` (weights past the mantissa saturate; thresholds past their width
too); a smaller one lowers the shared exponent only as far as the mantissas stay in range.
Every clamp is counted in the record as without calibration.

The record gains, per population: ``calibration_step`` (:math:`k`), ``calibration_factor``
(:math:`2^{k/4}`), ``saturating_candidates``, ``agreement_default`` (the population's agreement with every scale at
:math:`S_0`) and ``agreement_candidates`` ({k: agreement} as tried); the summary gains
``calibrated_populations``.  A population named in ``scales=`` is not searched.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping

import numpy as np

from ...errors import UnsupportedError
from ...ir.graph import Graph
from ...ir.simulate import simulate
from .base import Change

__all__ = ["STEPS", "SEARCH_SAMPLES", "calibrate_scales", "step_shift", "step_factor"]

STEPS: tuple[int, ...] = (-4, -3, -2, -1, 0, 1, 2, 3, 4)  # candidate factors 2^(k/4)
# The search simulates the graph once per candidate and population: it scores the first
# SEARCH_SAMPLES calibration samples (the pass's report still uses them all).
SEARCH_SAMPLES = 64
_QUARTER = 4

# build({population: k}) -> (quantized graph, per-neuron scale of each population, changes)
Build = Callable[[Mapping[str, int]], tuple[Graph, Mapping[str, np.ndarray], list[Change]]]


def step_factor(k: int) -> float:
    """The scale factor of calibration step ``k``."""
    return float(2.0 ** (k / _QUARTER))


def step_shift(k: int, shift: int, min_shift: int) -> int:
    """The input_shift at step ``k`` from the default ``shift``: unchanged for ``k >= 0``; for
    ``k < 0`` the smallest shift (not under the chip's own ``min_shift``) whose mantissas
    :math:`S_0 2^{k/4} W / 2^{shift}` still fit where the default's did."""
    if k >= 0:
        return shift
    extra = shift - min_shift
    return min_shift + int(min(extra, max(0, -((-(extra * _QUARTER + k)) // _QUARTER))))


def _first(calibration: Any, n: int) -> Any:
    if isinstance(calibration, Mapping):
        return {k: np.asarray(v)[:n] for k, v in calibration.items()}
    return np.asarray(calibration)[:n]


def _clamped(changes: list[Change], name: str) -> int:
    """How many values of population ``name`` (and its projections) were clamped."""
    return sum(sum(c.figures["saturated"].values()) for c in changes if c.node == name)


def _score(graph: Graph, name: str, ref: np.ndarray, fix: np.ndarray, scale: np.ndarray) -> float:
    """Agreement of the fixed population with the float one: equal spikes, or 1 - relative error."""
    if not ref.size:
        return 1.0
    if graph.nodes[name].spiking:
        return float(np.mean(ref == fix))
    span = float(np.max(np.abs(ref), initial=0.0)) or 1.0
    return 1.0 - float(np.max(np.abs(fix / scale - ref), initial=0.0)) / span


def _scores(graph: Graph, out: Graph, pop_scale: Mapping[str, np.ndarray], ref: Mapping[str, np.ndarray],
            calibration: Any, names: Iterable[str]) -> dict[str, float]:
    names = list(names)
    fix = simulate(out, calibration, record=names, mode="fixed").recorded
    return {n: _score(graph, n, ref[n], fix[n], pop_scale[n]) for n in names}


Calibrated = tuple[Graph, Mapping[str, np.ndarray], list[Change], dict[str, Any]]


def calibrate_scales(graph: Graph, calibration: Any, build: Build, pops: list[str], fixed: Iterable[str] = (),
                     steps: tuple[int, ...] = STEPS, allow_saturation: bool = False) -> Calibrated:
    """Choose a calibration step per population of ``pops`` (execution order), skipping the
    ``fixed`` ones (forced scales).  Returns :func:`build`'s result at the chosen steps, with the
    per-population calibration figures added to the changes, and summary figures."""
    if 0 not in steps:
        raise UnsupportedError("the calibration candidates must include the default scale", parameter="steps",
                               limit="contains 0", fix="add 0 to steps")
    calibration = _first(calibration, SEARCH_SAMPLES)
    ref = simulate(graph, calibration, record=pops, mode="float", dtype=np.float64).recorded
    out, pop_scale, _ = build({})
    before = _scores(graph, out, pop_scale, ref, calibration, pops)
    fixed = set(fixed)
    chosen: dict[str, int] = {}
    tried: dict[str, dict[int, float]] = {}
    saturating: dict[str, dict[int, int]] = {}
    for name in pops:
        if name in fixed:
            continue
        results: dict[int, float] = {}
        clamps: dict[int, int] = {}
        for k in steps:
            out_k, scale_k, changes_k = build({**chosen, name: k})
            clamps[k] = _clamped(changes_k, name)
            if k == 0 and all(v == 0 for v in chosen.values()):
                results[k] = before[name]  # nothing upstream moved: the default run already measured it
            else:
                results[k] = _scores(graph, out_k, scale_k, ref, calibration, [name])[name]
        eligible = {k: v for k, v in results.items() if allow_saturation or clamps[k] <= clamps[0]}
        best = max(eligible.values())
        chosen[name] = min((k for k, v in eligible.items() if v == best), key=lambda k: (abs(k), k))
        tried[name] = results
        saturating[name] = {k: n for k, n in clamps.items() if n > clamps[0]}
    out, pop_scale, changes = build(chosen)
    new = []
    for c in changes:
        figures = dict(c.figures)
        figures["agreement_default"] = before[c.node]
        if c.node in tried:
            k = chosen[c.node]
            figures.update(calibration_step=k, calibration_factor=step_factor(k),
                           agreement_candidates={int(s): v for s, v in tried[c.node].items()},
                           saturating_candidates=saturating[c.node])
            what = c.what + f", calibrated x{step_factor(k):.3g} (step {k:+d})"
        else:
            what = c.what + ", scale forced (not calibrated)"
        new.append(Change(c.node, what, figures))
    summary = {"calibrated_populations": sum(1 for k in chosen.values() if k != 0)}
    return out, pop_scale, new, summary
