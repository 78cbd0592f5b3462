r"""Per-neuron axonal delay: :math:`y_i[t] = x_i[t - d_i]` (zero before step 0)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .node import Node, Shape, check_nonnegative_int, expect_shape, frozen_int_array

__all__ = ["Delay"]


@dataclass(frozen=True, eq=False)
class Delay(Node):
    """``delay`` holds whole time steps, one per element of the input."""

    delay: np.ndarray

    def __post_init__(self) -> None:
        object.__setattr__(self, "delay", frozen_int_array(self.delay, "delay"))

    def check(self, name: str, dt: float) -> None:
        check_nonnegative_int(name, "delay", self.delay)

    def infer_shape(self, name: str, in_shape: Shape | None) -> Shape:
        expect_shape(name, in_shape, tuple(self.delay.shape), f"delay of shape {self.delay.shape}")
        return tuple(self.delay.shape)

    def max_delay(self) -> int:
        return int(self.delay.max()) if self.delay.size else 0
