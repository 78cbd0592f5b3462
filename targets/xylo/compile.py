"""Compile for Xylo Audio 2: the shared passes under Xylo's spec, then the mapping onto the
chip (:func:`.lower.to_xylo`), which refuses what does not fit and records what it rounds, and
the chip's configuration as a program of the engine's ``xylo`` neurons (:mod:`.program`), which
the C engine runs bit-exact with Xylo's arithmetic."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar

from ...compiler.pipeline import Compiled
from ...errors import UnsupportedError
from ...ir.graph import Graph
from ..options import Options, option, weight_bits_option
from ..pipeline import compile_for
from ..protocol import ONE_STEP_PER_HOP
from .lower import to_xylo
from .program import xylo_program
from .spec import XYLO_A2, xylo_spec

__all__ = ["XyloOptions", "compile_xylo", "XYLO_SPEC"]

XYLO_SPEC = xylo_spec()


@dataclass(frozen=True)
class XyloOptions(Options):
    """Xylo's knobs: the master clock the cycle model is checked against, and its margin."""

    target: ClassVar[str] = "xylo"

    weight_bits: int | None = weight_bits_option(XYLO_A2.weight_bits)
    clock_mhz: float = option(XYLO_A2.clock_hz.value / 1e6, type="float", unit="MHz", low=1.0, high=250.0,
                              source=XYLO_A2.clock_hz.source + "; upper bound: spikec's what-if range",
                              help="master clock the per-step cycles must fit in")
    clock_margin: float = option(XYLO_A2.clock_margin.value, type="float", low=0.0, high=4.0,
                                 source=XYLO_A2.clock_margin.source, help="spare fraction of the clock required")


def compile_xylo(graph: Graph, options: Options, calibration: Any = None) -> Compiled:
    """``graph`` for Xylo Audio 2 (fixed-point only: the chip is integer)."""
    if options.arithmetic != "fixed":
        raise UnsupportedError("target xylo: arithmetic 'float'", parameter="arithmetic", limit="fixed",
                               fix="Xylo's core is integer; drop --arithmetic float")
    compiled = compile_for(graph, XYLO_SPEC, options, target="xylo", timing=ONE_STEP_PER_HOP,
                           calibration=calibration)
    mapping = to_xylo(compiled.program)
    generic = dataclasses.replace(compiled.program, metadata={**compiled.program.metadata, "chips": 1})
    return Compiled(compiled.graph, xylo_program(mapping, like=generic), compiled.records + (mapping.record,))
