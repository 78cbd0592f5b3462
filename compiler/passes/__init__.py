"""spikec.compiler.passes: pure Graph -> Graph passes (fold_batchnorm, fuse_linear, map_delays, quantize).

Mapping onto cores works on the lowered Program, not the graph: see :mod:`spikec.compiler.mapping`."""

from .base import Change, PassRecord, PassResult
from .fold_batchnorm import fold_batchnorm
from .fuse_linear import fuse_linear
from .map_delays import map_delays
from .quantize import quantize

__all__ = ["Change", "PassRecord", "PassResult", "fold_batchnorm", "fuse_linear", "map_delays", "quantize"]
