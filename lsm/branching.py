r"""Edge-of-chaos tuning: the branching factor of a reservoir's spikes, and the weight scale that sets it.

The branching factor follows NALSM (Ivanov & Michmizos, "Increasing liquid state machine
performance with edge-of-chaos dynamics organized by astrocyte-modulated plasticity", NeurIPS 2021;
they keep it near 1 and report 97.61 % on MNIST, 97.51 % on N-MNIST): the mean number of
*descendant* spikes per *ancestor* spike.  A spike of neuron :math:`i` at step :math:`t` is an
ancestor; its descendants are the spikes at step :math:`t + 1` (the recurrent edge's one-step
delay) of the neurons :math:`j` that :math:`i` excites (:math:`W_{ji} > 0`; an inhibitory or
zero synapse cannot cause a spike):

.. math::  \sigma = \frac{\sum_t \sum_{i,j} z_i[t]\, [W_{ji} > 0]\, z_j[t+1]}{\sum_{t < T-1} \sum_i z_i[t]}

:math:`\sigma < 1` is a subcritical (fading) reservoir, :math:`\sigma > 1` a supercritical
(chaotic) one.  With zero recurrent weights :math:`\sigma = 0`; scaling the recurrent weights up
raises it (on average; a spike count is a random variable).

:func:`tune_branching` finds the recurrent weight scale whose :math:`\sigma` on the given input is
within ``tolerance`` of ``target``: it brackets the target by doubling the scale, then bisects on a
log scale, measuring each candidate on a backend (by default the C engine, whose spikes equal the
reference simulator's for these graphs, 15 times faster).

Spikes the input alone drives also meet by chance: a neuron with :math:`k` excitatory targets
firing at rate :math:`r` per step "has" about :math:`k r` descendants without any recurrent
weight.  :func:`tune_branching` first measures that chance level (:math:`\sigma` at scale 0,
counted over the structural synapses) and refuses a target it cannot resolve: a reservoir whose
input drive alone reaches the target needs a weaker input or sparser recurrence, not a smaller
recurrent scale (a bisection would otherwise "succeed" by rounding the recurrent weights away).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from ..errors import SimulationError
from .reservoir import Reservoir
from .states import run_reservoir

__all__ = ["branching_factor", "tune_branching", "Tuning"]


def branching_factor(spikes: np.ndarray, reservoir: Reservoir, *, structural: bool = False) -> float:
    """:math:`\\sigma` of ``spikes`` ``(samples, steps, n_neurons)`` of ``reservoir`` (module
    docstring); 0 when no neuron spiked before the last step.  ``structural`` counts every synapse
    whose *unit* weight is excitatory, whatever the scale (the chance level of :func:`tune_branching`)."""
    spikes = np.asarray(spikes)
    if spikes.ndim != 3 or spikes.shape[2] != reservoir.n_neurons:
        raise SimulationError(f"spikes of shape {spikes.shape}", parameter="spikes",
                              fix=f"(samples, steps, {reservoir.n_neurons}) reservoir spikes")
    excite = reservoir.rec_unit > 0 if structural else reservoir.recurrent_weights > 0
    n = reservoir.n_neurons
    # M[i, j] = 1 where i excites j (a duplicate pair counts once: one possible cause).
    m = np.zeros((n, n), np.float32)
    m[reservoir.rec_source[excite], reservoir.rec_target[excite]] = 1.0
    total = float(spikes[:, :-1].sum(dtype=np.int64))
    if total == 0.0:
        return 0.0
    descendants = 0.0
    for s in range(0, spikes.shape[0], 64):  # a few samples at a time: (rows, n) float32 blocks
        ancestors = spikes[s:s + 64, :-1].reshape(-1, n).astype(np.float32)
        later = spikes[s:s + 64, 1:].reshape(-1, n).astype(np.float32)
        descendants += float(np.einsum("ij,ij->", ancestors @ m, later, dtype=np.float64))
    return descendants / total


@dataclass(frozen=True)
class Tuning:
    """The tuned reservoir, its branching factor, and every (scale, sigma) tried, in order."""

    reservoir: Reservoir
    branching: float
    target: float
    history: tuple[tuple[float, float], ...]


def tune_branching(reservoir: Reservoir, inputs: np.ndarray, *, target: float = 1.0, tolerance: float = 0.1,
                   max_iterations: int = 30, backend: str = "emulator", chip: str | None = None,
                   options: Mapping[str, Any] | None = None) -> Tuning:
    """Scale ``reservoir``'s recurrent weights until its branching factor on ``inputs`` is within
    ``tolerance`` of ``target`` (module docstring); raises when no scale gets there.  Each try runs
    on ``backend`` (``"reference"``, or the C engine as an ideal chip by default, or compiled for
    ``chip`` with ``options``: :func:`~.states.run_reservoir`)."""

    def spikes(r: Reservoir) -> np.ndarray:
        return run_reservoir(r, inputs, target=chip, backend=backend, options=options).spikes

    if not (isinstance(target, (int, float)) and np.isfinite(target) and target > 0):
        raise SimulationError(f"target={target!r}", parameter="target", limit="> 0",
                              fix="a branching factor such as 1.0 (the edge of chaos)")
    if not (isinstance(tolerance, (int, float)) and 0 < tolerance < target):
        raise SimulationError(f"tolerance={tolerance!r}", parameter="tolerance", limit=f"0 < tolerance < {target}",
                              fix="e.g. 0.1")
    history: list[tuple[float, float]] = []

    def measure(scale: float) -> tuple[Reservoir, float]:
        r = reservoir.with_scale(scale)
        sigma = branching_factor(spikes(r), r)
        history.append((scale, sigma))
        return r, sigma

    chance = branching_factor(spikes(reservoir.with_scale(0.0)), reservoir, structural=True)
    if chance > target - tolerance:
        raise SimulationError(f"the input alone gives a chance branching factor of {chance:.3f}, not below the "
                              f"target {target:g} - {tolerance:g}", parameter="branching",
                              fix="lower input_scale (--input-scale) or the recurrent density (p_recurrent, or "
                                  "the grid topology), or aim higher")
    scale = reservoir.scale if reservoir.scale > 0 else 1.0
    r, sigma = measure(scale)
    lo = hi = None
    for _ in range(max_iterations):
        if abs(sigma - target) <= tolerance:
            return Tuning(r, sigma, float(target), tuple(history))
        if sigma < target:
            lo = scale
        else:
            hi = scale
        scale = scale * 2.0 if hi is None else scale / 2.0 if lo is None else float(np.sqrt(lo * hi))
        r, sigma = measure(scale)
    if abs(sigma - target) <= tolerance:
        return Tuning(r, sigma, float(target), tuple(history))
    best = min(history, key=lambda h: abs(h[1] - target))
    raise SimulationError(f"no recurrent weight scale gave a branching factor within {tolerance:g} of {target:g} "
                          f"(closest: {best[1]:.3f} at scale {best[0]:.4g}, {len(history)} tries)",
                          parameter="branching", fix="give more input samples to measure on, a wider tolerance, "
                                                     "or another target; a reservoir without excitatory "
                                                     "recurrent synapses cannot branch at all")
