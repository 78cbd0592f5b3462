"""How a network's output is read as a class: the rate code every spikec model uses."""

from __future__ import annotations

import numpy as np

from ..errors import SimulationError

__all__ = ["decode_rate"]


def decode_rate(output: np.ndarray) -> np.ndarray:
    """Class per sample of ``output`` ``(batch, time, *shape)``: the output unit with the most
    spikes (or the largest summed value for non-spiking outputs) over time; ties go to the
    lowest index.

    No samples give no classes (an empty array); no time steps or no output units give no
    evidence for any class, which is an error rather than a guess of class 0."""
    output = np.asarray(output)
    if output.ndim < 2:
        raise SimulationError(f"output of shape {output.shape}", parameter="output",
                              fix="pass an output laid out (batch, time, *shape)")
    batch, steps = output.shape[:2]
    units = int(np.prod(output.shape[2:]))
    if batch == 0:
        return np.zeros(0, dtype=np.intp)
    if steps == 0:
        raise SimulationError(f"output of shape {output.shape} has no time steps to read a class from",
                              parameter="steps", fix="run at least one step")
    if units == 0:
        raise SimulationError(f"output of shape {output.shape} has no units to read a class from",
                              parameter="output", fix="read the class from an output with at least one unit")
    totals = output.reshape(batch, steps, units).sum(axis=1)
    return np.argmax(totals, axis=1)
