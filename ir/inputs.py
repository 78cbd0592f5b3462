"""Checking run inputs: one set of rules for the reference simulator and the C engine.

Inputs are ``(batch, time, *shape)`` per named port.  Both simulators refuse the same things
with the same errors: missing or extra ports, wrong shapes, non-numeric data, NaN/inf, and in
integer arithmetic fractional values or magnitudes beyond 2**62 (checked before the int64
conversion, which would wrap 2**64-1 to -1 and turn 1e30 into INT64_MIN).
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from ..errors import SimulationError, UnsupportedError

__all__ = ["check_inputs", "INTEGER_INPUT_LIMIT"]

INTEGER_INPUT_LIMIT = 2.0**62

Shape = tuple[int, ...]


def check_inputs(
    shapes: Mapping[str, Shape],
    inputs: np.ndarray | Mapping[str, np.ndarray],
    *,
    integer: bool,
    dtype: np.dtype,
    owner: str = "graph",
) -> dict[str, np.ndarray]:
    """Validated, contiguous ``dtype`` copies of ``inputs`` for the ports in ``shapes``.

    A bare array is accepted when there is exactly one port.  ``owner`` names what has the
    ports in messages (``"graph"`` or ``"program"``)."""
    names = list(shapes)
    if not isinstance(inputs, Mapping):
        if len(names) != 1:
            raise SimulationError(f"the {owner} has inputs {names}; pass a dict of arrays by name")
        inputs = {names[0]: inputs}
    if set(inputs) != set(names):
        raise SimulationError(f"inputs given for {sorted(inputs)}, the {owner}'s inputs are {sorted(names)}",
                              fix="name every input")
    out: dict[str, np.ndarray] = {}
    lengths = set()
    for n in names:
        arr = np.asarray(inputs[n])
        expected = tuple(shapes[n])
        if arr.ndim != 2 + len(expected) or tuple(arr.shape[2:]) != expected:
            raise SimulationError(
                f"input has shape {arr.shape}, expected (batch, time, {', '.join(map(str, expected))})",
                node=n,
                fix="lay inputs out as (batch, time, *shape); add a batch axis of 1 for one sample",
            )
        if arr.dtype.kind not in "biuf":
            raise SimulationError(f"input dtype {arr.dtype} is not numeric", node=n)
        if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
            raise SimulationError("input holds NaN or infinite values", node=n)
        if integer:
            if arr.dtype.kind == "f" and np.any(arr != np.round(arr)):
                raise UnsupportedError(
                    "fixed-point simulation needs integer inputs (spikes or integer payloads)", node=n,
                    fix="quantize the input or simulate in float mode",
                )
            if arr.size and np.abs(arr.astype(np.float64)).max() >= INTEGER_INPUT_LIMIT:
                raise SimulationError("input values reach 2**62, beyond the integer range", node=n,
                                      limit="|x| < 2**62", fix="quantize the input with a smaller scale")
        out[n] = np.ascontiguousarray(arr, dtype=dtype)
        lengths.add(arr.shape[:2])
    if len(lengths) > 1:
        raise SimulationError(f"inputs disagree in (batch, time): {sorted(lengths)}")
    return out
