"""The compile flow targets share: the compiler's passes under the chip's spec and options, then
the chip's timing, with the target's name and pipeline depth recorded in the program."""

from __future__ import annotations

import dataclasses
from typing import Any

from ..compiler.pipeline import Compiled, compile_graph
from ..compiler.timing import hop_latency, pipeline_depth
from ..hardware import HardwareSpec
from ..ir.graph import Graph
from .options import Options
from .protocol import Timing

__all__ = ["compile_for"]


def compile_for(graph: Graph, spec: HardwareSpec, options: Options, *, target: str, timing: Timing,
                calibration: Any = None) -> Compiled:
    """``graph`` through the shared passes under ``spec`` with the compiler knobs of ``options``,
    every synaptic hop taking ``timing.steps_per_hop`` steps."""
    compiled = compile_graph(graph, spec, arithmetic=options.arithmetic, weight_bits=options.weight_bits,
                             per_channel=options.per_channel, calibration=calibration, passes=options.passes)
    program = hop_latency(compiled.program, timing.steps_per_hop)
    # The options travel with the program, so a price or a report can read the knobs it was built with.
    program = dataclasses.replace(program, metadata={**program.metadata, "target": target, "options": options.as_dict(),
                                                     "pipeline_depth": pipeline_depth(program)})
    return Compiled(compiled.graph, program, compiled.records)
