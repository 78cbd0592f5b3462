"""Graph inputs and outputs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ShapeError
from .node import Node, Shape, expect_shape

__all__ = ["Input", "Output"]


@dataclass(frozen=True, eq=False)
class Input(Node):
    """Where external data enters: one array of ``shape`` per sample and time step."""

    shape: Any

    def __post_init__(self) -> None:
        object.__setattr__(self, "shape", _as_shape(self.shape))

    def check(self, name: str, dt: float) -> None:
        if not self.shape or min(self.shape) < 1:
            raise ShapeError(f"input shape {self.shape} must be non-empty and positive", node=name, parameter="shape")

    def infer_shape(self, name: str, in_shape: Shape | None) -> Shape:
        return self.shape


@dataclass(frozen=True, eq=False)
class Output(Node):
    """A recorded result; ``shape`` is checked against what arrives when given."""

    shape: Any = None

    def __post_init__(self) -> None:
        if self.shape is not None:
            object.__setattr__(self, "shape", _as_shape(self.shape))

    def infer_shape(self, name: str, in_shape: Shape | None) -> Shape:
        if self.shape is not None:
            expect_shape(name, in_shape, self.shape, "the declared output shape")
        assert in_shape is not None
        return in_shape


def _as_shape(shape: Any) -> tuple[int, ...]:
    """``3`` means ``(3,)``: a bare int is the natural way to write a 1-D shape."""
    return (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)
