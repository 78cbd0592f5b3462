"""Shape-only nodes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import GraphValidationError
from .node import Node, Shape

__all__ = ["Flatten"]


@dataclass(frozen=True, eq=False)
class Flatten(Node):
    """Merge per-sample dimensions ``start_dim..end_dim`` (inclusive, batch excluded,
    negative counts from the end) into one, in C order."""

    start_dim: int = 0
    end_dim: int = -1

    def infer_shape(self, name: str, in_shape: Shape | None) -> Shape:
        assert in_shape is not None
        n = len(in_shape)
        start = self.start_dim + n if self.start_dim < 0 else self.start_dim
        end = self.end_dim + n if self.end_dim < 0 else self.end_dim
        if not (0 <= start <= end < n):
            raise GraphValidationError(
                f"dims {self.start_dim}..{self.end_dim} are out of range for input shape {in_shape}",
                node=name,
                parameter="start_dim",
                fix="dims count per-sample dimensions only (no batch dimension)",
            )
        merged = int(np.prod(in_shape[start : end + 1], dtype=np.int64))
        return (*in_shape[:start], merged, *in_shape[end + 1 :])
