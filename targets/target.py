"""A target: what the CLI and API need to know of one chip, in one place.

``compile`` takes a graph (and ``weight_bits=``, ``calibration=``) and returns a
:class:`~spikec.compiler.pipeline.Compiled` whose program runs on the C engine with the chip's
arithmetic and timing; ``backends`` names the other ways to run that program (``"lava"``).
Targets are looked up by name in :data:`TARGETS` and imported only when used.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Callable

from ..errors import UnsupportedError
from ..runtime.cost import CostTable
from .spec import HardwareSpec

__all__ = ["Target", "TARGETS", "get_target"]


@dataclass(frozen=True)
class Target:
    name: str
    spec: HardwareSpec
    costs: CostTable
    compile: Callable[..., Any]
    backends: tuple[str, ...] = field(default=("emulator",))


# Name -> "module:attribute" of its Target.
TARGETS = {"loihi1": "spikec.targets.loihi:TARGET", "loihi2": "spikec.targets.loihi2:TARGET"}


def get_target(name: str) -> Target:
    if name not in TARGETS:
        raise UnsupportedError(f"no target named {name!r}", parameter="--target", fix=f"use one of {sorted(TARGETS)}")
    module, attr = TARGETS[name].split(":")
    return getattr(importlib.import_module(module), attr)
