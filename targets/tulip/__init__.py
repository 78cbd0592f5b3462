"""spikec.targets.tulip: a TULIP-style BNN ASIC — binary networks (±1 weights and activations)
on SIMD PEs of programmable threshold-logic cells — with its schedule, and energy, latency and
area relative to a MAC-based BNN datapath in the same 40 nm technology.  Its emulator is the C
engine: a binary neuron is a stateless integer threshold neuron."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ...compiler.lower import lower
from ...compiler.mapping import map_program
from ...compiler.passes.base import PassRecord
from ...compiler.pipeline import Compiled
from ...errors import SimulationError, UnsupportedError
from ...hardware import HardwareSpec, Sourced
from ...ir import FixedCubaLIF
from ...ir.graph import Graph
from ...runtime.cost import Estimate
from ...runtime.counters import Counters
from ...runtime.program import Program
from ..options import Options, weight_bits_option
from ..pipeline import compile_for, finish_for
from ..protocol import ONE_STEP_PER_HOP, Target
from .design import TULIP_40NM, TulipDesign, mac_neuron, tulip_neuron
from .schedule import Schedule, bnn_layers, schedule

TULIP_SPEC = HardwareSpec(
    name="TULIP (threshold-logic BNN ASIC, 40 nm)",
    weight_bits=Sourced(3, "binary weights, stored on the engine as +-2 (3-bit signed) on {0, 1} spikes"),
    state_bits=Sourced(16, "[G] 16-bit accumulators (enough for fan-in up to 1024 x 3)"),
    max_delay=Sourced(0, "a BNN has no delays"), mesh_x=Sourced(None, "PEs are scheduled by targets/tulip"),
    mesh_y=Sourced(None, "PEs are scheduled by targets/tulip"), u_overflow="saturate", rounding="floor")


@dataclass(frozen=True)
class TulipOptions(Options):
    """TULIP takes the compiler's knobs only; its weights are binary."""

    target: ClassVar[str] = "tulip"

    weight_bits: int | None = weight_bits_option(TULIP_SPEC.weight_bits)


def _compile(graph: Graph, options: Options, calibration: Any = None) -> Compiled:
    if all(isinstance(n, FixedCubaLIF) for n in graph.neurons().values()):
        compiled = _compile_integer(graph, options)
    else:
        compiled = compile_for(graph, TULIP_SPEC, options, target="tulip", timing=ONE_STEP_PER_HOP,
                               calibration=calibration)
    schedule(compiled.program)   # refuses what is not a BNN, or does not fit
    return compiled


def _compile_integer(graph: Graph, options: Options) -> Compiled:
    """A folded BNN (:func:`spikec.compiler.frontends.bnn.bnn_graph`) is integer already, and the
    quantize pass, mandatory in the shared flow for fixed arithmetic, refuses integer graphs: it is
    lowered and mapped as it is, then timed as :func:`~spikec.targets.pipeline.compile_for` does."""
    if options.arithmetic != "fixed" or options.passes is not None or options.weight_bits is not None:
        raise UnsupportedError("a folded BNN is integer already: it takes no arithmetic, passes or weight_bits "
                               "option", parameter="options", fix="drop those options")
    mapped = map_program(lower(graph, arithmetic="fixed"), TULIP_SPEC)
    lowered = Compiled(graph, mapped.program, (PassRecord("lower", (), {"note": "integer BNN lowered as is"}),
                                               mapped.record))
    return finish_for(lowered, TULIP_SPEC, options, target="tulip", timing=ONE_STEP_PER_HOP)


def _price(counters: Counters, program: Program) -> Estimate:
    if counters.per_population.shape[0] == 0:
        raise SimulationError("the run had no samples; nothing to estimate")
    s = schedule(program)
    constants = TULIP_40NM.constants()
    return Estimate(table="TULIP threshold-logic BNN (40 nm; relative to a MAC BNN)", energy=sum(s.energy.values()),
                    breakdown={f"layer {k} (threshold cells)": v for k, v in s.energy.items()},
                    per_population={p: ({"energy": s.energy[p]} if p in s.energy else {})
                                    for p in counters.populations},
                    latency=s.latency, step_latency=np.array([s.latency]), active_cores=int(TULIP_40NM.pes.value),
                    missing=("static power", "memory reads"), sources={k: c.source for k, c in constants.items()},
                    constants=constants)


def _notes(counters: Counters, program: Program) -> list[str]:
    s = schedule(program)
    return [f"TULIP vs a MAC-based BNN datapath (same 40 nm): {s.energy_ratio:.2f}x less energy, latency "
            f"{s.latency * 1e6:.3g} vs {s.latency_mac * 1e6:.3g} us, area {s.area:.0f} vs {s.area_mac:.0f} FA; "
            f"{s.memory_bits} bits of local memory per PE"]


TARGET = Target("tulip", TULIP_SPEC, _compile, costs=TULIP_40NM, price_fn=_price, options=TulipOptions,
                timing=ONE_STEP_PER_HOP, notes_fn=_notes,
                summary="TULIP-style BNN ASIC: threshold-logic cells in SIMD PEs (40 nm), vs a MAC BNN")

__all__ = ["TARGET", "TULIP_SPEC", "TULIP_40NM", "TulipDesign", "TulipOptions", "Schedule", "schedule",
           "bnn_layers", "mac_neuron", "tulip_neuron"]
