"""Two weight distributions, one reservoir recipe: do they give the same accuracy?

Lin et al. (Nature Computational Science 2025) report an N-MNIST LSM with device-sampled (ReRAM)
weights at 89.66 % against 89.11 % with Gaussian weights: a fixed random reservoir does not care
where its randomness comes from.  :func:`compare_weights` checks that claim for any two
distributions (a name or a sampler, e.g. ``get_target("reram").device_weights()``): for each
seed it runs :func:`~.workflow.run_lsm` with both on the same data split and reservoir recipe
(equal size and sparsity: the seed fixes the synapses' positions, only the weights differ) and
returns the per-seed accuracies.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from ..targets.protocol import WeightSampler
from .events import EventSet
from .workflow import load_events, run_lsm

__all__ = ["WeightComparison", "compare_weights"]


@dataclass(frozen=True)
class WeightComparison:
    """Test accuracies per seed with distributions ``a`` and ``b``, and their means' gap (points)."""

    seeds: tuple[int, ...]
    a: tuple[float, ...]
    b: tuple[float, ...]

    @property
    def mean_a(self) -> float:
        return float(np.mean(self.a))

    @property
    def mean_b(self) -> float:
        return float(np.mean(self.b))

    @property
    def gap_points(self) -> float:
        """|mean_a - mean_b| in percentage points."""
        return abs(self.mean_a - self.mean_b) * 100


def compare_weights(a: str | WeightSampler, b: str | WeightSampler = "gaussian", *,
                    seeds: Sequence[int] = (0, 1, 2, 3, 4), data: str | EventSet = "digits",
                    samples: int | None = 600, **lsm: Any) -> WeightComparison:
    """Accuracy of ``a``- and ``b``-weighted reservoirs over ``seeds`` (module docstring);
    ``lsm`` passes further :func:`~.workflow.run_lsm` arguments (``n_neurons``, ``target``, ...)."""
    events = load_events(data, samples=samples)
    acc_a, acc_b = [], []
    for seed in seeds:
        acc_a.append(run_lsm(events, weights=a, seed=int(seed), **lsm).accuracy)
        acc_b.append(run_lsm(events, weights=b, seed=int(seed), **lsm).accuracy)
    return WeightComparison(tuple(int(s) for s in seeds), tuple(acc_a), tuple(acc_b))
