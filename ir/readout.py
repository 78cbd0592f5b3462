"""How a network's output is read as a class: the rate code every spikec model uses."""

from __future__ import annotations

import numpy as np

__all__ = ["decode_rate"]


def decode_rate(output: np.ndarray) -> np.ndarray:
    """Class per sample of ``output`` ``(batch, time, *shape)``: the output unit with the most
    spikes (or the largest summed value for non-spiking outputs) over time; ties go to the
    lowest index."""
    totals = output.reshape(output.shape[0], output.shape[1], -1).sum(axis=1)
    return np.argmax(totals, axis=1)
