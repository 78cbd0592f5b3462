"""Weight distributions of a reservoir: a name or a sampler, and the normalisation that makes two
distributions comparable.

A distribution is ``"gaussian"`` (standard normal), ``"uniform"`` (uniform on [-1, 1]) or any
callable ``sampler(rng, n) -> n signed weights`` in any unit
(:data:`spikec.targets.protocol.WeightSampler`); a chip that draws random weights itself (a ReRAM
crossbar's conductance spread) supplies one through ``spikec.api.get_target(name).device_weights``.

:func:`draw` divides a sample by its root mean square, so a Gaussian and a device reservoir of
equal size and sparsity differ only in the *shape* of the distribution; the branching-factor
tuning (:mod:`.branching`) then sets the scale.  This is the comparison of Lin et al.,
"Resistive memory-based zero-shot liquid state machine for multimodal event data learning",
Nature Computational Science (2025): device-sampled vs Gaussian reservoir weights.
"""

from __future__ import annotations

import numpy as np

from ..errors import UnsupportedError
from ..targets.protocol import WeightSampler

__all__ = ["WeightSampler", "gaussian", "uniform", "SOFTWARE", "sampler_for", "draw"]

def gaussian(rng: np.random.Generator, n: int) -> np.ndarray:
    """Standard normal weights (the software reservoir of Lin et al. 2025)."""
    return rng.standard_normal(n)


def uniform(rng: np.random.Generator, n: int) -> np.ndarray:
    """Weights uniform on [-1, 1]."""
    return rng.uniform(-1.0, 1.0, n)


#: The distributions a reservoir knows by name.
SOFTWARE: dict[str, WeightSampler] = {"gaussian": gaussian, "uniform": uniform}


def sampler_for(weights: str | WeightSampler) -> WeightSampler:
    """``weights`` as a sampler: a name of :data:`SOFTWARE`, or a callable as it is."""
    if callable(weights):
        return weights
    if isinstance(weights, str) and weights in SOFTWARE:
        return SOFTWARE[weights]
    raise UnsupportedError(f"unknown weight distribution {weights!r}", parameter="weights",
                           fix=f"use one of {sorted(SOFTWARE)}, a target's device distribution "
                               "(spikec.api.get_target(name).device_weights()), or a callable (rng, n) -> n weights")


def draw(weights: str | WeightSampler, rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` weights from ``weights`` divided by their root mean square (float64, signs kept).

    A sampler that returns the wrong number of values, non-finite values or only zeros is refused
    with its name: a reservoir built on them would be silently wrong."""
    sampler = sampler_for(weights)
    if n == 0:
        return np.zeros(0)
    name = getattr(sampler, "__name__", type(sampler).__name__)
    raw = np.asarray(sampler(rng, n))
    if raw.shape != (n,) or raw.dtype.kind not in "iuf":
        raise UnsupportedError(f"weight sampler {name} returned {raw.dtype} values of shape {raw.shape} for n={n}",
                               parameter="weights", fix="a sampler returns a 1-D array of n real numbers")
    raw = raw.astype(np.float64)
    if not np.all(np.isfinite(raw)):
        raise UnsupportedError(f"weight sampler {name} returned non-finite values", parameter="weights",
                               fix="return finite weights")
    rms = float(np.sqrt(np.mean(raw * raw)))
    if rms == 0.0:
        raise UnsupportedError(f"weight sampler {name} returned only zeros", parameter="weights",
                               fix="a reservoir needs non-zero random weights")
    return raw / rms
