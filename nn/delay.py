r"""A dense layer with a learnable integer delay per synapse.

.. math:: y_j[t] = \sum_i W_{ji}\, x_i[t - d_{ji}], \qquad d_{ji} \in \{0, \dots, D\}

The delays are stored as a continuous parameter.  The forward pass uses
``clamp(round(delay), 0, D)`` (so it is exactly :class:`spikec.ir.Linear` with ``delay=``);
the backward pass is straight-through: the gradient is that of *linear interpolation* between
the two neighbouring integer delays, i.e. of reading the input at a fractional delay.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from .. import ir
from ..errors import GraphValidationError

__all__ = ["DelayedLinear"]


class DelayedLinear(nn.Module):
    """``(batch, time, in_features) -> (batch, time, out_features)`` with per-synapse delays.

    ``weight`` (out, in) is initialised as ``nn.Linear``'s; ``delay`` (out, in, in time steps)
    uniformly in ``[0, max_delay]``.  There is no bias (a spiking layer's bias is the neuron's
    ``v_leak``).  Train and eval compute the same forward pass.
    """

    def __init__(self, in_features: int, out_features: int, max_delay: int) -> None:
        super().__init__()
        if int(max_delay) < 0:
            raise GraphValidationError(f"max_delay={max_delay} must be >= 0", parameter="max_delay")
        self.in_features, self.out_features, self.max_delay = int(in_features), int(out_features), int(max_delay)
        self.weight = nn.Parameter(torch.empty(out_features, in_features))
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        self.delay = nn.Parameter(torch.rand(out_features, in_features) * max_delay)

    def integer_delay(self) -> torch.Tensor:
        """The delays the forward pass uses (int64, in ``[0, max_delay]``)."""
        return self.delay.detach().round().clamp(0, self.max_delay).long()

    def _selectors(self) -> list[torch.Tensor]:
        """One 0/1 mask per delay value; forward value one-hot(round(d)), gradient of interpolation."""
        d = self.delay.clamp(0, self.max_delay)
        hard = self.integer_delay()
        masks = []
        for k in range(self.max_delay + 1):
            soft = torch.clamp(1.0 - (d - k).abs(), min=0.0)  # linear interpolation weight of delay k
            masks.append((hard == k).to(d.dtype) + (soft - soft.detach()))
        return masks

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 3 or x.shape[2] != self.in_features:
            raise GraphValidationError(
                f"expects input (batch, time, {self.in_features}), got {tuple(x.shape)}", parameter="input"
            )
        steps = x.shape[1]
        y = None
        # Sum over delay values in increasing order, as the IR's reference kernel does.
        for k, mask in enumerate(self._selectors()):
            if k >= steps:
                break
            shifted = torch.cat([x.new_zeros((x.shape[0], k, x.shape[2])), x[:, : steps - k]], dim=1) if k else x
            term = shifted @ (self.weight * mask.to(x.dtype)).T
            y = term if y is None else y + term
        return y

    def to_ir(self) -> ir.Linear:
        """The equivalent :class:`spikec.ir.Linear` (weights float64, integer delays)."""
        return ir.Linear(
            weight=self.weight.detach().cpu().double().numpy(),
            delay=self.integer_delay().cpu().numpy().astype(np.int64),
        )
