"""Binary neural networks in PyTorch: binarized weights and ±1 activations, trained with the
straight-through estimator, in the form :mod:`spikec.compiler.frontends.bnn` imports.

A model is a ``torch.nn.Sequential`` of :class:`BinaryLinear` layers, each but the last followed
by ``torch.nn.BatchNorm1d`` and :class:`Sign`; inputs are ``{0, 1}`` (read as ``-1, +1``).  The
last :class:`BinaryLinear` gives integer class scores (``argmax`` is the class).

    sign(x) = +1 if x >= 0 else -1,   d sign / dx := 1[|x| <= 1]  (straight-through)
"""

from __future__ import annotations

import torch

__all__ = ["BinaryLinear", "Sign", "binarize", "bnn_mlp"]


class _SignSTE(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]  # noqa: ANN001
        ctx.save_for_backward(x)
        return torch.where(x >= 0, torch.ones_like(x), -torch.ones_like(x))

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:  # type: ignore[override]  # noqa: ANN001
        (x,) = ctx.saved_tensors
        return grad * (x.abs() <= 1).to(grad.dtype)


def binarize(x: torch.Tensor) -> torch.Tensor:
    """``sign`` with ``sign(0) = +1`` forward and the straight-through gradient backward."""
    return _SignSTE.apply(x)


class Sign(torch.nn.Module):
    """The ±1 activation."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return binarize(x)


class BinaryLinear(torch.nn.Linear):
    """``y = sign(W) a`` with latent float weights ``W`` (no bias: the BatchNorm after it carries one).
    ``binary_input``: the layer reads ``{0, 1}`` data as ``2x - 1``."""

    def __init__(self, in_features: int, out_features: int, *, binary_input: bool = False) -> None:
        super().__init__(in_features, out_features, bias=False)
        self.binary_input = binary_input

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = 2 * x - 1 if self.binary_input else x
        return torch.nn.functional.linear(a, binarize(self.weight))


def bnn_mlp(sizes: tuple[int, ...]) -> torch.nn.Sequential:
    """A BNN multilayer perceptron over ``{0, 1}`` inputs: ``sizes = (inputs, hidden..., classes)``."""
    layers: list[torch.nn.Module] = []
    for k, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(BinaryLinear(a, b, binary_input=k == 0))
        if k < len(sizes) - 2:
            layers += [torch.nn.BatchNorm1d(b), Sign()]
    return torch.nn.Sequential(*layers)
