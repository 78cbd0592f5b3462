"""spikec: a hardware-software co-design compiler for neuromorphic chips.

The installed package maps the repository's top-level folders to subpackages:
``spikec.ir`` (the spiking graph IR and its reference simulator), ``spikec.compiler``
(frontends and passes), ``spikec.targets`` (one folder per chip), ``spikec.runtime`` (the C
engine's Python side) and ``spikec.nn`` (PyTorch layers for hardware-ready training).
"""

from .api import bundled_data, bundled_model, evaluate, load, load_dataset
from .errors import (
    GraphValidationError,
    ModelImportError,
    ResourceLimitError,
    ShapeError,
    SimulationError,
    SpikecError,
    UnsupportedError,
)

__version__ = "0.1.0"

__all__ = [
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
    "__version__",
]
