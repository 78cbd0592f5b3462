"""spikec: a hardware-software co-design compiler for neuromorphic chips.

The installed package maps the repository's top-level folders to subpackages:
``spikec.ir`` (the spiking graph IR and its reference simulator), ``spikec.compiler``
(frontends and passes), ``spikec.targets`` (one folder per chip), ``spikec.runtime`` (the C
engine's Python side) and ``spikec.nn`` (PyTorch layers for hardware-ready training).
"""

from .api import (
                  bundled_data,
                  bundled_model,
                  compare,
                  compile,
                  describe,
                  estimate,
                  evaluate,
                  get_target,
                  list_targets,
                  load,
                  load_dataset,
                  load_program,
                  run,
                  save_program,
)
from .errors import (
                  GraphValidationError,
                  ModelImportError,
                  ResourceLimitError,
                  ShapeError,
                  SimulationError,
                  SpecError,
                  SpikecError,
                  UnsupportedError,
)

__version__ = "0.1.0"

__all__ = [
    "compile",
    "run",
    "estimate",
    "compare",
    "list_targets",
    "get_target",
    "describe",
    "save_program",
    "load_program",
    "load",
    "load_dataset",
    "evaluate",
    "bundled_model",
    "bundled_data",
    "SpikecError",
    "ModelImportError",
    "GraphValidationError",
    "ShapeError",
    "ResourceLimitError",
    "UnsupportedError",
    "SimulationError",
    "SpecError",
    "__version__",
]
