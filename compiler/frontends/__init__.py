"""spikec.compiler.frontends: importers from NIR files and PyTorch modules into ir.Graph."""

from .nir_io import from_nir, read_nir, to_nir, write_nir

__all__ = ["from_nir", "read_nir", "to_nir", "write_nir"]
