"""The one exception hierarchy of spikec.

Every error names what went wrong in terms a user can act on: the node, the parameter,
the value or limit seen, and what to do about it.  Each field is optional because some
errors (a missing file, say) have no node, but the message always reads as a sentence.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "SpikecError",
    "ModelImportError",
    "GraphValidationError",
    "ShapeError",
    "ResourceLimitError",
    "UnsupportedError",
    "SimulationError",
    "ProgramError",
    "BackendError",
    "SpecError",
    "OutputError",
]


class SpikecError(Exception):
    """Base class of every error spikec raises on purpose."""

    def __init__(
        self,
        message: str,
        *,
        node: str | None = None,
        parameter: str | None = None,
        limit: Any = None,
        fix: str | None = None,
    ) -> None:
        self.node = node
        self.parameter = parameter
        self.limit = limit
        self.fix = fix
        self.detail = message
        super().__init__(self._format())

    def _format(self) -> str:
        where = ""
        if self.node is not None and self.parameter is not None:
            where = f"node '{self.node}', parameter '{self.parameter}': "
        elif self.node is not None:
            where = f"node '{self.node}': "
        elif self.parameter is not None:
            where = f"parameter '{self.parameter}': "
        text = where + self.detail
        if self.limit is not None:
            text += f" (limit: {self.limit})"
        if self.fix:
            text += f". Fix: {self.fix}"
        return text


class ModelImportError(SpikecError):
    """A model file or object could not be turned into a spikec graph."""


class GraphValidationError(SpikecError):
    """A graph or node breaks an IR rule (bad parameter value, dangling edge, ...)."""


class ShapeError(GraphValidationError):
    """Shapes along an edge, or between a node's parameters, do not agree."""


class ResourceLimitError(SpikecError):
    """A network does not fit the hardware it is compiled for."""


class UnsupportedError(SpikecError):
    """A feature exists in the input but spikec (or the chosen target) cannot express it."""


class SimulationError(SpikecError):
    """Inputs handed to a simulator or runtime are unusable."""


class ProgramError(SpikecError):
    """A runtime Program (the flat form the C engine runs) is malformed or inconsistent."""


class BackendError(SpikecError):
    """An external toolchain a target runs on (Lava) is missing or failed."""


class SpecError(SpikecError):
    """A hardware number, spec, cost table or target option is invalid (no source, out of range)."""


class OutputError(SpikecError):
    """An output file cannot be written (a missing directory, a directory in the way, no permission, disk full)."""
