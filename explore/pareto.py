"""The Pareto front of a set of points under per-objective directions."""

from __future__ import annotations

from typing import Sequence

import numpy as np

__all__ = ["pareto_mask"]


def pareto_mask(values: np.ndarray, directions: Sequence[str]) -> np.ndarray:
    """Which rows of ``values`` (points x objectives) no other row dominates: another row
    dominates a point when it is at least as good in every objective and better in one.
    ``directions`` holds ``"minimize"`` or ``"maximize"`` per column; rows with a NaN are never
    on the front.  Equal points are all kept (neither dominates the other)."""
    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 2 or v.shape[1] != len(directions):
        raise ValueError(f"values of shape {v.shape} for {len(directions)} objectives")
    sign = np.array([1.0 if d == "minimize" else -1.0 for d in directions])
    cost = v * sign                                   # every column minimised
    valid = ~np.isnan(cost).any(axis=1)
    front = valid.copy()
    for i in np.flatnonzero(valid):
        others = cost[valid]
        dominated = np.all(others <= cost[i], axis=1) & np.any(others < cost[i], axis=1)
        front[i] = not dominated.any()
    return front
