"""Batched NumPy array operations behind the reference simulator (no state, no graph)."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = ["windows", "conv", "pool"]


def windows(
    x: np.ndarray,
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    padding: tuple[tuple[int, int], ...],
    dilation: tuple[int, ...],
) -> np.ndarray:
    """View ``x`` (batch, C, *spatial) as (batch, C, *out_spatial, *kernel) windows."""
    n = len(kernel)
    xp = np.pad(x, ((0, 0), (0, 0), *padding))
    extent = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    view = sliding_window_view(xp, extent, axis=tuple(range(2, 2 + n)))
    index = (slice(None), slice(None)) + tuple(slice(None, None, s) for s in stride) + tuple(
        slice(None, None, d) for d in dilation
    )
    return view[index]


def conv(
    x: np.ndarray,
    weight: np.ndarray,
    bias: np.ndarray,
    stride: tuple[int, ...],
    padding: tuple[tuple[int, int], ...],
    dilation: tuple[int, ...],
    groups: int,
) -> np.ndarray:
    """N-d grouped cross-correlation, PyTorch's convolution semantics."""
    n = weight.ndim - 2
    win = windows(x, weight.shape[2:], stride, padding, dilation)  # (B, C, *O, *K)
    b = x.shape[0]
    out_sp = win.shape[2 : 2 + n]
    cin_g = weight.shape[1]
    cout_g = weight.shape[0] // groups
    # (B, G, Cin_g, *O, *K) against (G, Cout_g, Cin_g, *K)
    win = win.reshape(b, groups, cin_g, *out_sp, *weight.shape[2:])
    w = weight.reshape(groups, cout_g, cin_g, *weight.shape[2:])
    o_axes = "".join("hwd"[i] for i in range(n))
    k_axes = "".join("ijk"[i] for i in range(n))
    y = np.einsum(f"bgc{o_axes}{k_axes},goc{k_axes}->bgo{o_axes}", win, w, optimize=True)
    y = y.reshape(b, weight.shape[0], *out_sp)
    return y + bias.reshape((1, -1) + (1,) * n)


def pool(
    x: np.ndarray,
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    padding: tuple[tuple[int, int], ...],
) -> np.ndarray:
    """Sum over each (zero-padded) window."""
    win = windows(x, kernel, stride, padding, (1,) * len(kernel))
    return win.sum(axis=tuple(range(-len(kernel), 0)))
