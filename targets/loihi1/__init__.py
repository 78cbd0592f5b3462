"""spikec.targets.loihi1: Intel Loihi (1st generation), priced with Davies et al. 2018, Table 2.

It compiles through the shared passes under Loihi's published limits, one step per synaptic
hop; there is no Lava export (Lava models Loihi 2: see ``spikec.targets.loihi2``).  The
numbers live in :mod:`spikec.hardware.loihi`, which Loihi 2 borrows from as well.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from ...compiler.pipeline import Compiled
from ...hardware.loihi import LOIHI1_COSTS, LOIHI1_SPEC
from ...ir.graph import Graph
from ...runtime.cost import CostTable
from ..options import Options, weight_bits_option
from ..pipeline import compile_for
from ..protocol import ONE_STEP_PER_HOP, Target

__all__ = ["LOIHI1", "LOIHI1_SPEC", "Loihi1Options", "TARGET"]

LOIHI1 = CostTable(name="Loihi (Davies 2018, Table 2)", **LOIHI1_COSTS)


@dataclass(frozen=True)
class Loihi1Options(Options):
    target: ClassVar[str] = "loihi1"

    weight_bits: int | None = weight_bits_option(LOIHI1_SPEC.weight_bits)


def _compile(graph: Graph, options: Options, calibration: Any) -> Compiled:
    return compile_for(graph, LOIHI1_SPEC, options, target="loihi1", timing=ONE_STEP_PER_HOP, calibration=calibration)


TARGET = Target("loihi1", LOIHI1_SPEC, _compile, costs=LOIHI1, options=Loihi1Options,
                summary="Intel Loihi (2018): 128 cores, 8-bit weights; Davies 2018 Table 2 energies")
