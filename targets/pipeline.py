"""The compile flow targets share: the compiler's passes under the chip's spec and options, then
the chip's timing, with the target's name and pipeline depth recorded in the program."""

from __future__ import annotations

import dataclasses
from typing import Any

from ..compiler.pipeline import Compiled, compile_graph
from ..compiler.timing import hop_latency, pipeline_depth
from ..errors import UnsupportedError
from ..hardware import HardwareSpec
from ..ir.graph import Graph
from ..runtime.program import Program
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
    if timing.steps_per_hop:
        _refuse_relays_on_loops(program, target)
    # The options travel with the program, so a price or a report can read the knobs it was built with.
    program = dataclasses.replace(program, metadata={**program.metadata, "target": target, "options": options.as_dict(),
                                                     "pipeline_depth": pipeline_depth(program)})
    return Compiled(compiled.graph, program, compiled.records)


def _refuse_relays_on_loops(program: Program, target: str) -> None:
    """A relay population (a projection lowered through a ``pass`` population: a bias on a recurrent
    edge, a chain the passes could not fuse) is one more hop; on a loop, the loop then takes a step
    more on the chip than in the model, and the chip would compute something else, silently."""
    import networkx as nx

    g = nx.DiGraph((j.source, j.target) for j in program.projections)
    for component in nx.strongly_connected_components(g):
        looped = len(component) > 1 or any(g.has_edge(n, n) for n in component)
        relays = sorted(n for n in component if looped and program.population(n).kernel == "pass")
        if relays:
            raise UnsupportedError(
                f"relay population '{relays[0]}' sits on a recurrent loop ({', '.join(sorted(component))}): with one "
                f"step per synaptic hop the loop takes a step more on {target} than in the model",
                node=relays[0], parameter="timing", limit="no relay on a loop",
                fix="give the recurrent projection no bias (fold it into the neuron's bias), or compile for loihi2, "
                    "which carries such a bias on an always-on neuron")
