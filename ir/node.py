"""Base class of IR nodes and the parameter checks every node family shares.

A node is a frozen dataclass whose array fields are read-only numpy arrays.  Nodes do not
know their own name: a :class:`~spikec.ir.graph.Graph` calls :meth:`Node.check` with the
name it files the node under, so every error can name the node.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Iterator

import numpy as np

from ..errors import GraphValidationError, ShapeError

Shape = tuple[int, ...]


def _is_frozen(value: Any, dtype: Any) -> bool:
    return (isinstance(value, np.ndarray) and dtype is not None and value.dtype == np.dtype(dtype)
            and not value.flags.writeable and value.flags.owndata)


def frozen_array(value: Any, dtype: Any, param: str | None = None) -> np.ndarray:
    """Copy ``value`` into a read-only array of ``dtype`` (nodes share no mutable state).

    An array this function made (read-only, owning its data, already of ``dtype``) is shared,
    not copied: nodes derived from nodes (a pass replacing one field) then hold one copy of
    the untouched arrays, which at 10^8 synapses is gigabytes."""
    if _is_frozen(value, dtype):
        return value
    _refuse_complex(value, param)
    try:
        arr = np.array(value, dtype=dtype, copy=True)
    except (TypeError, ValueError) as exc:  # e.g. a string or a ragged list: not a bare numpy error
        raise GraphValidationError(f"cannot be read as numbers ({exc})", parameter=param) from None
    arr.flags.writeable = False
    return arr


def _refuse_complex(value: Any, param: str | None) -> None:
    """A complex array cast to float loses its imaginary part with only a warning: refuse it.
    (The node's name is added by whoever knows it: Graph, the NIR and npz readers.)"""
    try:
        if not np.iscomplexobj(value):
            return
    except (TypeError, ValueError):
        return  # ragged or not numbers: frozen_array's own conversion names that
    arr = np.asarray(value)
    imag = np.abs(arr.imag)
    first = arr.reshape(-1)[int(np.argmax(imag))] if arr.size else 0j
    raise GraphValidationError(
        f"has the complex dtype {arr.dtype} (values such as {complex(first)!r}); spikec's parameters are real "
        "and a cast would drop the imaginary part silently",
        parameter=param,
        fix="pass real values (take .real, or abs(), explicitly if that is what is meant)",
    )


def frozen_int_array(value: Any, param: str) -> np.ndarray:
    """Like :func:`frozen_array` in int64, but a non-integer or non-finite float is an error:
    a delay of 2.7 steps or an index of NaN must not be truncated silently."""
    if _is_frozen(value, np.int64):
        return value
    arr = frozen_array(value, None, param)
    if arr.dtype.kind == "f" and (not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr))):
        raise GraphValidationError("must hold whole numbers", parameter=param, fix="round the values first")
    return frozen_array(arr, np.int64, param)


@dataclass(frozen=True, eq=False)
class Node:
    """A computation in the spiking graph.

    Subclasses declare their parameters as dataclass fields, convert them in
    ``__post_init__`` with :func:`frozen_array`, check them in :meth:`check`, and say what
    shape they produce in :meth:`infer_shape`.
    """

    def check(self, name: str, dt: float) -> None:
        """Raise a :class:`GraphValidationError` naming ``name`` if a parameter is unusable."""

    def infer_shape(self, name: str, in_shape: Shape | None) -> Shape:
        """Output shape for an input of ``in_shape`` (``None`` only for :class:`Input`)."""
        raise NotImplementedError

    @property
    def kind(self) -> str:
        return type(self).__name__

    def arrays(self) -> Iterator[tuple[str, np.ndarray]]:
        """The node's array-valued parameters, by field name."""
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, np.ndarray):
                yield f.name, value

    def parameter_count(self) -> int:
        return int(sum(a.size for _, a in self.arrays()))

    def replace(self, **changes: Any) -> "Node":
        """A copy with some fields changed (validated again when put in a graph)."""
        return dataclasses.replace(self, **changes)


# --- checks shared by node families -------------------------------------------------------


def check_finite(name: str, param: str, arr: np.ndarray) -> None:
    if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise GraphValidationError(
            f"{bad} value(s) are NaN or infinite",
            node=name,
            parameter=param,
            fix="replace them with finite numbers (a NaN usually comes from a diverged training run)",
        )


def check_positive(name: str, param: str, arr: np.ndarray) -> None:
    check_finite(name, param, arr)
    if np.any(arr <= 0):
        raise GraphValidationError(
            f"must be > 0, smallest value is {arr.min()!r}",
            node=name,
            parameter=param,
            fix="time constants and scales of this kind are positive; check the sign convention of the exporter",
        )


def check_nonnegative_int(name: str, param: str, arr: np.ndarray) -> None:
    if arr.size and arr.min() < 0:
        raise GraphValidationError(
            f"must be >= 0, smallest value is {int(arr.min())}",
            node=name,
            parameter=param,
            fix="delays count time steps and cannot be negative",
        )


def check_same_shape(name: str, params: dict[str, np.ndarray], shape: Shape) -> None:
    """Every per-neuron parameter has exactly the population's shape (no silent broadcast)."""
    for param, arr in params.items():
        if arr.shape != shape:
            raise ShapeError(
                f"has shape {arr.shape} but the population has shape {shape}",
                node=name,
                parameter=param,
                fix="give one value per neuron, or build the node with make_population() to broadcast a scalar",
            )


def expect_shape(name: str, in_shape: Shape | None, expected: Shape, what: str) -> None:
    if in_shape != expected:
        raise ShapeError(
            f"receives input of shape {in_shape} but {what} expects {expected}",
            node=name,
            fix="check the edge into this node; insert a Flatten or fix the layer sizes",
        )
