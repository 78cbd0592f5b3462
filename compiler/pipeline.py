"""The compile pipeline: graph passes in order, lowering, and (when the spec has cores) mapping.

``compile_graph(graph, spec)`` runs fold_batchnorm → map_delays → quantize (when
``arithmetic="fixed"``) → lower → map (partition, place, route onto the spec's cores), and
keeps every pass's record, so ``spikec compile --explain``
can say what each one did.  Every step is also callable alone (``spikec.compiler.passes``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from ..errors import UnsupportedError
from ..ir.graph import Graph
from ..runtime.program import Program
from ..hardware import HardwareSpec
from .lower import lower
from .passes import fold_batchnorm, map_delays, map_program, quantize
from .passes.base import PassRecord

__all__ = ["Compiled", "compile_graph"]


@dataclass(frozen=True)
class Compiled:
    """What compiling produced: the transformed graph, its program and the pass records."""

    graph: Graph
    program: Program
    records: tuple[PassRecord, ...]

    def explain(self) -> str:
        return "\n".join(r.explain() for r in self.records)


def compile_graph(
    graph: Graph,
    spec: HardwareSpec,
    *,
    arithmetic: str = "fixed",
    weight_bits: int | None = None,
    per_channel: bool = False,
    calibration: np.ndarray | Mapping[str, np.ndarray] | None = None,
) -> Compiled:
    """Compile ``graph`` for ``spec``: ``arithmetic="fixed"`` quantizes to the chip's widths,
    ``"float"`` keeps float neurons (an idealised chip, or to see the effect of each pass)."""
    if arithmetic not in ("fixed", "float"):
        raise UnsupportedError(f"arithmetic={arithmetic!r}", parameter="arithmetic", fix="use 'fixed' or 'float'")
    records = []
    step: Any = fold_batchnorm(graph, spec)
    records.append(step.record)
    step = map_delays(step.graph, spec)
    records.append(step.record)
    if arithmetic == "fixed":
        step = quantize(step.graph, spec, weight_bits=weight_bits, per_channel=per_channel, calibration=calibration)
        records.append(step.record)
    program = lower(step.graph, arithmetic=arithmetic)
    records.append(PassRecord("lower", (), {
        "populations": len(program.populations), "projections": len(program.projections),
        "neurons": program.neuron_count(), "synapses": program.synapse_count(),
    }))
    mapped = map_program(program, spec)
    records.append(mapped.record)
    return Compiled(step.graph, mapped.program, tuple(records))
