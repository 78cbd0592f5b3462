"""Compiling for SFQ: the shared passes under the bias-level weight width, then the netlist,
whose figures (junctions by cell, critical path, clock) travel in the program's metadata."""

from __future__ import annotations

import dataclasses
from typing import Any

from ...compiler.pipeline import Compiled
from ...errors import UnsupportedError
from ...ir.graph import Graph
from ..options import Options
from ..pipeline import compile_for
from ..protocol import ONE_STEP_PER_HOP
from .netlist import lower_netlist
from .spec import SfqOptions, spec_for

__all__ = ["compile_sfq"]


def compile_sfq(graph: Graph, options: Options, calibration: Any = None) -> Compiled:
    """``graph`` as a rate-coded SFQ program: integer fluxon neurons, synapse levels from the
    bias levels, one clock period per hop."""
    assert isinstance(options, SfqOptions)
    if options.arithmetic != "fixed":
        raise UnsupportedError("target sfq counts fluxons: it has no float arithmetic", parameter="arithmetic",
                               limit="fixed", fix="drop --arithmetic float (merger_window_ps=0 gives ideal cells)")
    compiled = compile_for(graph, spec_for(options), options, target="sfq", timing=ONE_STEP_PER_HOP,
                           calibration=calibration)
    netlist = lower_netlist(compiled.program, options)
    program = dataclasses.replace(compiled.program,
                                  metadata={**compiled.program.metadata, "sfq": netlist.summary()})
    return Compiled(compiled.graph, program, compiled.records)
