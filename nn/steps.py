"""Run a per-step torch layer on a whole sequence, so it fits between ``spikec.nn`` layers."""

from __future__ import annotations

import torch
from torch import nn

from ..errors import GraphValidationError

__all__ = ["Steps"]


class Steps(nn.Module):
    """``Steps(layer)``: apply ``layer`` (which expects ``(batch, *shape)``) at every time step.

    ``(batch, time, *shape) -> (batch, time, *out_shape)`` by folding time into the batch, so
    ``Steps(nn.Conv2d(...))``, ``Steps(nn.AvgPool2d(2))``, ``Steps(nn.Flatten())`` and
    ``Steps(nn.BatchNorm2d(c))`` do per step what they do in an snnTorch model (BatchNorm
    statistics in training are then over batch, time and space).  ``nn.Linear`` needs no
    wrapper.  ``from_torch`` imports ``Steps(layer)`` as ``layer``.
    """

    def __init__(self, layer: nn.Module) -> None:
        super().__init__()
        self.layer = layer

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() < 2:
            raise GraphValidationError(
                f"expects input (batch, time, ...), got {tuple(x.shape)}", parameter="input"
            )
        batch, steps = x.shape[:2]
        y = self.layer(x.reshape(batch * steps, *x.shape[2:]))
        return y.reshape(batch, steps, *y.shape[1:])
