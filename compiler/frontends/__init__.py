"""spikec.compiler.frontends: importers from NIR files and PyTorch modules into ir.Graph."""

from __future__ import annotations

from typing import Any

from .nir_io import from_nir, read_nir, to_nir, write_nir

__all__ = ["from_nir", "read_nir", "to_nir", "write_nir", "from_torch"]


def from_torch(model: Any, *, input_shape: Any, dt: float | None = None) -> Any:
    """:func:`spikec.compiler.frontends.torch_import.from_torch`, imported on first use so that
    importing this package does not import torch."""
    from .torch_import import from_torch as convert

    return convert(model, input_shape=input_shape, dt=dt)
