"""The compile flow targets share: the compiler's passes under the chip's spec and options, relays
on recurrent loops dissolved onto an always-on neuron (:mod:`.always_on`), then the chip's timing,
with the target's name and pipeline depth recorded in the program."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from ..compiler.mapping import map_program
from ..compiler.passes.base import Change, PassRecord
from ..compiler.pipeline import Compiled, compile_graph
from ..compiler.timing import pipeline_depth
from ..errors import UnsupportedError
from ..hardware import HardwareSpec
from ..ir.graph import Graph
from ..runtime.program import Program
from .always_on import LoweredBiases, lower_biases, split_to_fit
from .options import Options
from .protocol import Timing

__all__ = ["compile_for", "finish_for"]


def compile_for(graph: Graph, spec: HardwareSpec, options: Options, *, target: str, timing: Timing,
                calibration: Any = None) -> Compiled:
    """``graph`` through the shared passes under ``spec`` with the compiler knobs of ``options``,
    every synaptic hop taking ``timing.steps_per_hop`` steps."""
    compiled = compile_graph(graph, spec, arithmetic=options.arithmetic, weight_bits=options.weight_bits,
                             per_channel=options.per_channel, calibration=calibration, passes=options.passes)
    return finish_for(compiled, spec, options, target=target, timing=timing)


def finish_for(compiled: Compiled, spec: HardwareSpec, options: Options, *, target: str, timing: Timing) -> Compiled:
    """The chip's part of :func:`compile_for` on a program the passes (or a target's own lowering)
    made: biases the chip cannot hold onto an always-on neuron, the hop timing, relays refused on
    loops, and the target's name, options and pipeline depth in the metadata."""
    records = list(compiled.records)
    bits = options.weight_bits or spec.value("weight_bits") or 64
    lowered = lower_biases(compiled.program, steps_per_hop=timing.steps_per_hop, split=split_to_fit(bits),
                           max_delay=spec.value("max_delay") if timing.steps_per_hop else None)
    program = lowered.program
    if lowered.changed and any(r.name == "map" for r in records):
        mapped = map_program(program, spec)     # the populations changed: map them again
        program = mapped.program
        records = [mapped.record if r.name == "map" else r for r in records]
    if lowered.changed or lowered.head_start:
        records.append(_record(lowered, target))
    if timing.steps_per_hop:
        _refuse_relays_on_loops(program, target)
    # The options travel with the program, so a price or a report can read the knobs it was built with.
    program = dataclasses.replace(program, metadata={**program.metadata, "target": target, "options": options.as_dict(),
                                                     "pipeline_depth": pipeline_depth(program, lowered.source)})
    return Compiled(compiled.graph, program, tuple(records))


def _record(lowered: LoweredBiases, target: str) -> PassRecord:
    changes = tuple(Change(name, "relay dissolved: its synapses go straight to the population it fed", {})
                    for name in lowered.dissolved) + tuple(
        Change(b.target, f"{b.origin}: {int(np.count_nonzero(b.value))} synapse(s) from the always-on neuron "
                         f"'{lowered.source}', from graph step {b.start} "
                         f"(chip step {b.start + lowered.shifts[b.target]})",
               {"bias_synapses": int(np.count_nonzero(b.value))})
        for b in lowered.biases) + tuple(Change(name, what, {}) for name, what in lowered.notes())
    return PassRecord("always_on", changes, {"target": target, "relays_dissolved": len(lowered.dissolved),
                                             "always_on_neurons": int(lowered.source is not None),
                                             "bias_synapses": lowered.synapses()})


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
                fix="fuse the chain the relay stands for in the model (one linear map per edge), or give the "
                    "recurrent projection no bias")
