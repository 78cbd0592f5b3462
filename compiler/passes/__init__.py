"""spikec.compiler.passes: pure Graph -> Graph passes (fold_batchnorm, quantize, map_delays, partition)."""

from .base import Change, PassRecord, PassResult
from .fold_batchnorm import fold_batchnorm
from .map_delays import map_delays
from .mapping import MappingResult, map_program, partition, place, route
from .quantize import quantize

__all__ = [
    "Change", "PassRecord", "PassResult", "fold_batchnorm", "map_delays", "quantize",
    "MappingResult", "map_program", "partition", "place", "route",
]
