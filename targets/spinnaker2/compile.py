"""Compile a graph for SpiNNaker2: the shared passes under the derived spec, the PE SRAM budget
enforced exactly, multicast keys, routing tables per chip, and their compression."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar, Mapping

import numpy as np

from ...compiler.mapping import map_program
from ...compiler.passes.base import Change, PassRecord
from ...compiler.pipeline import Compiled
from ...errors import ResourceLimitError
from ...ir.graph import Graph
from ...runtime.program import Program
from ...runtime.synapses import program_synapses
from ..options import Options, option, weight_bits_option
from ..pipeline import compile_for
from ..protocol import ONE_STEP_PER_HOP
from .cost import SPINNAKER2_COSTS
from .routing import (
    CompressionResult,
    KeyAllocation,
    assign_keys,
    build_tables,
    check_delivery,
    compress,
    destinations_from_synapses,
)
from .spec import SPINNAKER2_CHIP, PeMemory, Spinnaker2Chip, pe_memory, spinnaker2_spec

__all__ = ["Spinnaker2Options", "compile_spinnaker2", "pe_index", "route_program", "Routing"]

_PER_NEURON = SPINNAKER2_CHIP.neuron_bytes.value + SPINNAKER2_CHIP.input_buffer_bytes.value
_MOST_NEURONS = (SPINNAKER2_CHIP.sram_per_pe.value - SPINNAKER2_CHIP.fixed_bytes.value - 1) // _PER_NEURON


@dataclass(frozen=True)
class Spinnaker2Options(Options):
    """SpiNNaker2's co-design what-ifs, on top of the compiler's knobs."""

    target: ClassVar[str] = "spinnaker2"

    weight_bits: int | None = weight_bits_option(SPINNAKER2_CHIP.weight_bits)
    chips: int | None = option(None, type="int", unit="chips", low=1, source=SPINNAKER2_CHIP.chips_per_board.source
                               + " (boards tile; default: as many as the network needs)",
                               help="chips available (a what-if; default: as many as needed)",
                               none_means="as needed")
    pes_per_chip: int | None = option(None, type="int", unit="PEs", low=1, source=SPINNAKER2_CHIP.pes_per_chip.source,
                                      help="processing elements per chip (default: 152)")
    neurons_per_pe: int | None = option(
        None, type="int", unit="neurons", low=1, high=_MOST_NEURONS,
        source=f"{SPINNAKER2_CHIP.neurons_per_pe.source}; at most what the SRAM holds after code "
               f"({_MOST_NEURONS} x {_PER_NEURON} B)", help="most neurons one PE runs (default: 256)")
    tick_us: float = option(
        SPINNAKER2_COSTS.tick_s.value * 1e6, type="float", unit="us", low=1.0, high=1e6,
        source=f"{SPINNAKER2_COSTS.tick_s.source}; any tick works whose PE work fits in it (the run reports "
               "overruns and the shortest tick that fits)",
        help="wall-clock time per model step (real time: the model's dt)")


_SRAM_ROUNDS = 6


def pe_index(program: Program, pes_per_chip: int, mesh_x: int) -> np.ndarray:
    """Global PE number (chip * pes_per_chip + local PE) of every core of a placed program:
    the mapping lays chips side by side along x."""
    x, y = program.core_xy[:, 0], program.core_xy[:, 1]
    return (x // mesh_x) * pes_per_chip + y * mesh_x + x % mesh_x


def _fit_sram(program: Program, chip: Spinnaker2Chip, overrides: Mapping[str, Any]) -> tuple[Program, PeMemory, dict]:
    """Re-map with a tighter synapse budget until every PE's exact bytes fit its SRAM (rows and
    table entries are what the partitioner's synapse count leaves out)."""
    budget = chip.sram_per_pe.value
    spec = spinnaker2_spec(chip, **overrides)
    for rounds in range(_SRAM_ROUNDS + 1):
        mem = pe_memory(program, chip)
        worst = int(np.argmax(mem.total))
        if mem.total[worst] <= budget:
            return program, mem, {"sram_rounds": rounds, "max_sram_bytes": int(mem.total.max()),
                             "synapses_per_pe_limit": spec.value("synapses_per_core")}
        if rounds == _SRAM_ROUNDS:
            break
        tighter = int(spec.value("synapses_per_core") * budget / mem.total[worst] * 0.97)
        spec = spinnaker2_spec(chip, **overrides, synapses_per_pe=max(1, tighter))
        program = map_program(program, spec).program
    raise ResourceLimitError(
        f"PE {worst} needs {int(mem.total[worst])} bytes (neurons {int(mem.neurons[worst])}, synapse words "
        f"{int(mem.synapses[worst])}, row headers {int(mem.rows[worst])}, table {int(mem.table[worst])}, fixed "
        f"{mem.fixed}) after {_SRAM_ROUNDS} tighter partitions", node=f"PE {worst}", parameter="sram_per_pe",
        limit=budget, fix="use fewer neurons per PE (neurons_per_pe) or a sparser network")


@dataclass(frozen=True)
class Routing:
    """Keys, compressed tables and the destination PEs of every source PE of a placed program."""

    keys: KeyAllocation
    result: CompressionResult
    destinations: Mapping[int, np.ndarray]
    chips: int


def route_program(program: Program, pes_per_chip: int, mesh_x: int, entries: int) -> Routing:
    """Multicast keys and compressed routing tables of ``program``, checked to deliver every
    source PE's spikes to exactly its destination PEs."""
    unit_pe = pe_index(program, pes_per_chip, mesh_x)[program.core_of]
    alloc = assign_keys(unit_pe)
    dests = destinations_from_synapses(unit_pe, *program_synapses(program))
    n_chips = int(unit_pe.max(initial=0)) // pes_per_chip + 1
    tables = build_tables(alloc, dests, pes_per_chip=pes_per_chip, width=n_chips, height=1)
    result = compress(tables, entries)
    check_delivery(result.tables, alloc, dests)
    return Routing(alloc, result, dests, n_chips)


def compile_spinnaker2(graph: Graph, options: Options | None = None, calibration: Any = None, *,
                       chip: Spinnaker2Chip = SPINNAKER2_CHIP) -> Compiled:
    """``graph`` compiled for SpiNNaker2 (see :mod:`.spec` for the format): quantized, mapped onto
    PEs under their SRAM, timed one step per hop, with compressed multicast routing tables that
    are checked to deliver every source's spikes to exactly its destination PEs.  ``chips``,
    ``pes_per_chip`` and ``neurons_per_pe`` (:class:`Spinnaker2Options`) are co-design what-ifs."""
    opts = options if options is not None else Spinnaker2Options()
    chips = getattr(opts, "chips", None)
    overrides = {"chips": chips, "pes_per_chip": getattr(opts, "pes_per_chip", None),
                 "neurons_per_pe": getattr(opts, "neurons_per_pe", None)}
    spec = spinnaker2_spec(chip, **overrides)
    compiled = compile_for(graph, spec, opts, target="spinnaker2", timing=ONE_STEP_PER_HOP, calibration=calibration)
    program, mem, sram = _fit_sram(compiled.program, chip, overrides)
    per_chip = spec.value("mesh_x") * spec.value("mesh_y")
    routing = route_program(program, per_chip, spec.value("mesh_x"), chip.router_entries.value)
    if chips is not None and routing.chips > chips:
        raise ResourceLimitError(f"needs {routing.chips} chips", parameter="chips", limit=chips,
                                 fix=f"compile for chips >= {routing.chips}")
    figures = {"chips": routing.chips, **routing.result.summary()}
    program = dataclasses.replace(program, metadata={**program.metadata, "chips": routing.chips,
                                                     "pes_per_chip": per_chip})
    used = np.unique(program.core_of)
    changes = (Change("PEs", f"{used.size} PEs on {routing.chips} chip(s); SRAM per PE "
                             f"{int(mem.total[used].min())}..{int(mem.total[used].max())} of "
                             f"{chip.sram_per_pe.value} bytes", {"pes": int(used.size), **sram}),
               Change("routers", f"{figures['entries_before']} routing entries before compression, "
                                 f"{figures['entries_after']} after (max per chip {figures['max_before']} -> "
                                 f"{figures['max_after']} of {figures['entries_limit']})", figures))
    record = PassRecord("spinnaker2", changes, {**figures, **sram, "pes": int(used.size)})
    return Compiled(compiled.graph, program, compiled.records + (record,))
