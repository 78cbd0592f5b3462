"""Compile a graph for SpiNNaker2: the shared passes under the derived spec, the PE SRAM budget
enforced exactly, multicast keys, routing tables per chip, and their compression."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from ...compiler.passes.base import Change, PassRecord
from ...compiler.passes.mapping import map_program
from ...compiler.pipeline import Compiled
from ...errors import ResourceLimitError
from ...ir.graph import Graph
from ...runtime.program import Program
from ...runtime.synapses import program_synapses
from ..target import compile_timed
from .chip import SPINNAKER2_CHIP, PeMemory, Spinnaker2Chip, pe_memory, spinnaker2_spec
from .routing import (CompressionResult, KeyAllocation, assign_keys, build_tables, check_delivery, compress,
                      destinations_from_synapses)

__all__ = ["compile_spinnaker2", "pe_index", "route_program", "Routing"]

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


def compile_spinnaker2(
    graph: Graph,
    *,
    weight_bits: int | None = None,
    calibration: np.ndarray | Mapping[str, np.ndarray] | None = None,
    arithmetic: str = "fixed",
    per_channel: bool = False,
    chips: int | None = None,
    pes_per_chip: int | None = None,
    neurons_per_pe: int | None = None,
    chip: Spinnaker2Chip = SPINNAKER2_CHIP,
) -> Compiled:
    """``graph`` compiled for SpiNNaker2 (see :mod:`.chip` for the format): quantized, mapped onto
    PEs under their SRAM, timed one step per hop, with compressed multicast routing tables that
    are checked to deliver every source's spikes to exactly its destination PEs.  ``chips``,
    ``pes_per_chip`` and ``neurons_per_pe`` are co-design what-ifs."""
    overrides = {"chips": chips, "pes_per_chip": pes_per_chip, "neurons_per_pe": neurons_per_pe}
    spec = spinnaker2_spec(chip, **overrides)
    compiled = compile_timed(graph, spec, target="spinnaker2", arithmetic=arithmetic, weight_bits=weight_bits,
                             per_channel=per_channel, calibration=calibration)
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
