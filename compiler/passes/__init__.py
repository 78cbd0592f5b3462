"""spikec.compiler.passes: pure Graph -> Graph passes (fold_batchnorm, quantize, map_delays, partition)."""

from .base import Change, PassRecord, PassResult
from .fold_batchnorm import fold_batchnorm

__all__ = ["Change", "PassRecord", "PassResult", "fold_batchnorm"]
