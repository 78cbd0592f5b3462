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


def compile_timed(graph: Any, spec: HardwareSpec, *, target: str, **options: Any) -> Any:
    """The shared passes under ``spec``, then the chip's one-step-per-hop timing
    (:mod:`spikec.compiler.timing`); the program's metadata names the target and the pipeline
    depth (the extra steps a run needs for the last input to reach the outputs)."""
    import dataclasses

    from ..compiler.pipeline import Compiled, compile_graph
    from ..compiler.timing import hop_latency, pipeline_depth

    compiled = compile_graph(graph, spec, **options)
    program = hop_latency(compiled.program)
    program = dataclasses.replace(program, metadata={**program.metadata, "target": target,
                                                     "pipeline_depth": pipeline_depth(program)})
    return Compiled(compiled.graph, program, compiled.records)

__all__ = ["Target", "TARGETS", "get_target", "compile_timed"]


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
