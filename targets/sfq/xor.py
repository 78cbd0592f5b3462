"""The deep XOR case study of Edwards et al. (Neuromorph. Comput. Eng. 4, 014005, 2024), rate coded.

Three inputs (``x1``, ``x2`` and an always-on bias line) fire at ``rate`` pulses per period when
on.  Three layers of integrate-and-fire neurons (threshold just under one input's worth, reset by
subtraction, so a neuron's rate follows its net input rate):

- layer 1: ``or = x1 + x2``, ``and = x1 + x2 - bias``, ``b = bias`` (a relay);
- layer 2: ``xor = or - 2 and``, ``xnor = b - or + 2 and``;
- layer 3 (outputs): class 0 = ``xnor``, class 1 = ``xor``.

The classification margin of one input pattern is the output rate of its class minus the other
class's (pulses per period); the network's margin is the smallest over the four patterns.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np

from ...ir import IF, Graph, Input, Linear, Output, Reset

__all__ = ["deep_xor", "xor_inputs", "XorMargin", "xor_margin", "PATTERNS"]

PATTERNS = ((0, 0), (0, 1), (1, 0), (1, 1))


def _if(n: int, dt: float) -> IF:
    one = np.ones(n)
    # r = 1/dt: one step's input of weight 1 adds 1 to v; threshold 0.9 fires on a whole input.
    return IF(r=one / dt, v_threshold=0.9 * one, v_reset=0 * one, reset=Reset.SUBTRACT)


def deep_xor(dt: float = 1e-3) -> Graph:
    """The three-layer rate-coded XOR network (module docstring)."""
    w1 = np.array([[1.0, 1.0, 0.0], [1.0, 1.0, -1.0], [0.0, 0.0, 1.0]])
    w2 = np.array([[1.0, -2.0, 0.0], [-1.0, 2.0, 1.0]])
    w3 = np.array([[0.0, 1.0], [1.0, 0.0]])
    nodes = {"in": Input((3,)), "w1": Linear(w1), "l1": _if(3, dt), "w2": Linear(w2), "l2": _if(2, dt),
             "w3": Linear(w3), "l3": _if(2, dt), "out": Output()}
    edges = [("in", "w1"), ("w1", "l1"), ("l1", "w2"), ("w2", "l2"), ("l2", "w3"), ("w3", "l3"), ("l3", "out")]
    return Graph(nodes, edges, dt=dt)


def xor_inputs(*, samples_per_pattern: int = 4, steps: int = 200, rate: float = 0.5,
               seed: int = 0) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Bernoulli pulse trains ``(4 * samples_per_pattern, steps, 3)`` for the four patterns, and
    their XOR labels."""
    rng = np.random.default_rng(seed)
    on = np.array([[a, b, 1] for a, b in PATTERNS for _ in range(samples_per_pattern)], float)
    spikes = (rng.random((on.shape[0], steps, 3)) < rate * on[:, None, :]).astype(np.uint8)
    labels = np.array([a ^ b for a, b in PATTERNS for _ in range(samples_per_pattern)])
    return {"in": spikes}, labels


@dataclass(frozen=True)
class XorMargin:
    """Per pattern, the mean output rates (class 0, class 1); the margin and the accuracy."""

    rates: Mapping[tuple[int, int], tuple[float, float]]
    margin: float
    accuracy: float


def xor_margin(output: np.ndarray, labels: np.ndarray) -> XorMargin:
    """Margin of a run's ``output`` spikes ``(batch, steps, 2)`` on ``labels`` from :func:`xor_inputs`."""
    rate = output.astype(float).mean(axis=1)
    per = len(labels) // len(PATTERNS)
    rates, margins = {}, []
    for k, pattern in enumerate(PATTERNS):
        r = rate[k * per:(k + 1) * per].mean(axis=0)
        rates[pattern] = (float(r[0]), float(r[1]))
        label = pattern[0] ^ pattern[1]
        margins.append(float(r[label] - r[1 - label]))
    correct = np.argmax(rate, axis=1) == labels
    return XorMargin(rates, min(margins), float(correct.mean()))
