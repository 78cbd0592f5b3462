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
from ..hardware import Sourced
from ..runtime.cost import CostTable, Estimate, estimate
from ..runtime.counters import Counters
from ..hardware import HardwareSpec


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
    """``costs`` is a :class:`CostTable` (priced by :func:`spikec.runtime.cost.estimate`) or a
    target's own constants with ``price(counters, program) -> Estimate``."""

    name: str
    spec: HardwareSpec
    costs: Any
    compile: Callable[..., Any]
    backends: tuple[str, ...] = field(default=("emulator",))
    price_fn: Callable[..., Estimate] | None = None
    overrides: tuple[str, ...] = ()          # co-design what-ifs ``compile`` accepts (e.g. "chips")
    notes_fn: Callable[..., list[str]] | None = None  # target-specific lines for a run's report

    def price(self, counters: Counters, program: Any) -> Estimate:
        """Energy and latency of a run of ``program`` on this chip."""
        if self.price_fn is not None:
            return self.price_fn(counters, program)
        return estimate(counters, self.costs)

    def notes(self, counters: Counters, program: Any) -> list[str]:
        """What a report of a run on this chip should add (tick overruns on SpiNNaker2, say)."""
        return self.notes_fn(counters, program) if self.notes_fn is not None else []

    def compile_with(self, graph: Any, what_if: dict[str, Any], **options: Any) -> Any:
        """``compile`` with the co-design overrides that are set; one this target lacks is refused."""
        given = {k: v for k, v in what_if.items() if v is not None}
        for k in given:
            if k not in self.overrides:
                raise UnsupportedError(f"{self.name} has no '{k}' override", parameter=k,
                                       fix=f"this target takes {list(self.overrides) or 'none'}")
        return self.compile(graph, **given, **options)

    def constants(self) -> dict[str, Sourced]:
        """Every constant the price uses, by name, with its source."""
        if isinstance(self.costs, CostTable):
            return {name: getattr(self.costs, name) for name in self.costs.sources()}
        return dict(self.costs.constants())


# Name -> "module:attribute" of its Target.
TARGETS = {"loihi1": "spikec.targets.loihi:TARGET", "loihi2": "spikec.targets.loihi2:TARGET",
           "spinnaker2": "spikec.targets.spinnaker2:TARGET"}


def get_target(name: str) -> Target:
    if name not in TARGETS:
        raise UnsupportedError(f"no target named {name!r}", parameter="--target", fix=f"use one of {sorted(TARGETS)}")
    module, attr = TARGETS[name].split(":")
    return getattr(importlib.import_module(module), attr)
