"""Readouts of reservoir states, trained with scikit-learn.

An LSM trains only its readout (Maass et al. 2002); Lin et al. 2025 keep the random reservoir
fixed and train a small digital layer on its spike counts.  :func:`train_readout` fits a
standardised linear classifier on state features:

- ``"ridge"``: ``RidgeClassifier`` (least squares on one-hot targets, L2 ``alpha``): one linear solve;
- ``"logistic"``: multinomial ``LogisticRegression`` (L2, inverse strength ``c``; lbfgs, seeded).

Features are standardised with the training set's mean and deviation (``StandardScaler``); a
neuron that never fires is a constant feature and is left at zero.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, RidgeClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from ..errors import SimulationError, UnsupportedError

__all__ = ["Readout", "train_readout", "READOUTS"]

READOUTS = ("ridge", "logistic")


@dataclass(frozen=True, eq=False)
class Readout:
    """A fitted readout: ``predict(features)`` gives classes, ``accuracy(features, labels)`` a fraction."""

    kind: str
    model: Pipeline

    def predict(self, features: np.ndarray) -> np.ndarray:
        return np.asarray(self.model.predict(_features(features, self.model.n_features_in_)))

    def accuracy(self, features: np.ndarray, labels: np.ndarray) -> float:
        labels = np.asarray(labels)
        predicted = self.predict(features)
        if labels.shape != predicted.shape:
            raise SimulationError(f"{labels.shape[0] if labels.ndim else 0} labels for {predicted.shape[0]} samples",
                                  parameter="labels", fix="one label per sample")
        return float(np.mean(predicted == labels))


def _features(x: Any, width: int | None = None) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] == 0 or (width is not None and x.shape[1] != width):
        raise SimulationError(f"features of shape {x.shape}", parameter="features",
                              fix=f"(samples >= 1, {width if width is not None else 'features'}) state vectors")
    if not np.all(np.isfinite(x)):
        raise SimulationError("features hold non-finite values", parameter="features")
    return x


def train_readout(features: np.ndarray, labels: np.ndarray, *, kind: str = "logistic", alpha: float = 10.0,
                  c: float = 0.1, max_iter: int = 500, seed: int = 0) -> Readout:
    """Fit a ``kind`` readout (module docstring) on ``features`` ``(samples, F)`` and ``labels``."""
    x = _features(features)
    y = np.asarray(labels)
    if y.shape != (x.shape[0],) or y.dtype.kind not in "iu":
        raise SimulationError(f"labels of shape {y.shape} and dtype {y.dtype} for {x.shape[0]} samples",
                              parameter="labels", fix="one integer class per sample")
    if np.unique(y).size < 2:
        raise SimulationError("the training labels hold fewer than two classes", parameter="labels",
                              fix="train on samples of at least two classes")
    for name, value in (("alpha", alpha), ("c", c)):
        if not (isinstance(value, (int, float)) and value > 0 and np.isfinite(value)):
            raise SimulationError(f"{name}={value!r}", parameter=name, limit="> 0", fix="a positive regularisation")
    if kind == "ridge":
        clf: Any = RidgeClassifier(alpha=float(alpha))
    elif kind == "logistic":
        clf = LogisticRegression(C=float(c), max_iter=int(max_iter), random_state=int(seed))
    else:
        raise UnsupportedError(f"unknown readout {kind!r}", parameter="readout", fix=f"use one of {list(READOUTS)}")
    with warnings.catch_warnings():
        # lbfgs stopping at max_iter is still a usable readout; the accuracy says how good.
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = make_pipeline(StandardScaler(), clf).fit(x, y)
    return Readout(kind, model)
