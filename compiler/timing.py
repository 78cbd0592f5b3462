"""Chip timing of a lowered program: on the event-driven chips spikec targets (Loihi, SpiNNaker)
a spike emitted at step *t* reaches its targets at step *t + 1* at the earliest (Lava's ``Dense``
sends the activation accumulated in the previous step; sPyNNaker's minimum delay is one tick),
while the IR delivers feed-forward projections within the step.  Back edges already take the
step, so the rule is one ``delay_base = 1`` on every projection; a chip with slower hops sets
more (``steps``), one with hops inside the step none (back edges then keep their one step).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from ..runtime.program import Program

__all__ = ["hop_latency", "pipeline_depth"]


def hop_latency(program: Program, steps: int = 1) -> Program:
    """``program`` with every synaptic hop taking ``steps`` steps (``delay_base = steps``; a back
    edge keeps at least the one step it has)."""
    index = program.index

    def base(j: Any) -> int:
        return max(steps, 1) if index[j.source] >= index[j.target] else steps

    projections = tuple(j if j.delay_base == base(j) else dataclasses.replace(j, delay_base=base(j))
                        for j in program.projections)
    meta = dict(program.metadata)
    meta["timing"] = (f"{steps} step(s) per synaptic hop (every projection delay_base={steps})" if steps != 1 else
                      "one step per synaptic hop (every projection delay_base=1)")
    return dataclasses.replace(program, projections=projections, metadata=meta)


def pipeline_depth(program: Program, skip: str | None = None) -> int:
    """Steps an input needs to reach the last population along the longest feed-forward path (its
    longest delay per hop): how many steps past the input's end a run must go to see its effect.
    ``skip``: a population whose synapses carry no input (an always-on bias neuron) and so no path."""
    index = program.index
    depth = np.zeros(len(program.populations), np.int64)
    forward = sorted((j for j in program.projections if index[j.source] < index[j.target] and j.source != skip),
                     key=lambda j: index[j.target])
    for j in forward:
        depth[index[j.target]] = max(depth[index[j.target]], depth[index[j.source]] + j.max_delay())
    return int(depth.max(initial=0))
