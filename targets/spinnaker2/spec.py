"""The SpiNNaker2 chip, the software format spikec runs on its PEs, and the spec derived from both.

Numbers and tags: targets/spinnaker2/NUMBERS.md (research notes) and
../shared/reference/hardware-numbers.md §3.  A SpiNNaker2 PE runs neurons as software, so the
neuron arithmetic and the memory layout are spikec's choice, stated here:

- **arithmetic** (:class:`~spikec.ir.FixedCubaLIF`): 32-bit ``u`` and ``v`` (the M4F's register
  width; sPyNNaker's s16.15 ``accum`` is 32 bits too), decays as 16-bit multipliers
  (``decay_bits = 16``: the product of a 32-bit state and the multiplier stays within the
  M4F's 64-bit ``SMULL`` result) dropped with an arithmetic shift (``floor``, what ``>>`` does
  on the ARM), saturating registers (sPyNNaker's input buffers saturate too), 16-bit weights
  (sPyNNaker's synaptic word holds a 16-bit weight);
- **memory per PE** (128 KB SRAM, datasheet v0.03 [S]): a fixed part for code, stack and
  runtime; per neuron its state (u, v and four per-neuron parameters: 6 words) and an input
  buffer of 16 delay slots x 16 bits; synapse rows by source neuron as sPyNNaker stores them
  (3 header words + one 32-bit word per synapse: 16-bit weight, 4-bit delay, index); a master
  population table entry (20 bytes + a 4-byte address word) per source PE.

The partitioner sees this as ``neurons_per_core`` (at most ``neurons_per_pe``) and
``synapses_per_core`` (what the SRAM left after neurons and the fixed part holds at 4 bytes per
synapse); :func:`pe_memory` then counts the exact bytes of every PE (rows and table entries
included), and :mod:`.compile` tightens the synapse budget until every PE fits.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from ...errors import UnsupportedError
from ...hardware import HardwareSpec, Sourced
from ...runtime.program import Program
from ...runtime.synapses import program_synapses

__all__ = ["Spinnaker2Chip", "SPINNAKER2_CHIP", "spinnaker2_spec", "PeMemory", "pe_memory"]

_NUM = "targets/spinnaker2/NUMBERS.md"
_SPINN = "SpiNNakerManchester/SpiNNMachine spinn_machine/version/version_spin2.py"
_SPYNN = "SpiNNakerManchester/sPyNNaker neural_modelling/src/neuron"


@dataclass(frozen=True)
class Spinnaker2Chip:
    """One SpiNNaker2 chip and spikec's software format on its PEs (every number with a source)."""

    pes_per_chip: Sourced = Sourced(152, f"{_SPINN}: CHIPS_PER_BOARD {{(0, 0): 152}}; datasheet v0.03 [C][S]")
    pes_per_qpe: Sourced = Sourced(4, f"{_SPINN}: QUAD_MAP, 38 QPEs x 4 PEs [C]")
    sram_per_pe: Sourced = Sourced(131072, "SpiNNaker2 datasheet v0.03 (2021), Features 1(a): 128 KB per PE [S]")
    router_entries: Sourced = Sourced(16384, f"{_SPINN}: n_router_entries; datasheet Features 2(b), "
                                      "one table per chip [C]")
    chips_per_board: Sourced = Sourced(48, "SpiNNMachine version_248.py: 'Spin2 48 Chips' board [C]")
    neurons_per_pe: Sourced = Sourced(256, "sPyNNaker DEFAULT_MAX_ATOMS_PER_CORE = POP_TABLE_MAX_ROW_LENGTH = 256 [C] "
                                       "(a software choice; py-spinnaker2 sets it per population)")
    fixed_bytes: Sourced = Sourced(32768, f"[U] planning assumption for code + stack + runtime ({_NUM} §2b): "
                                      "the SNN app's memory map is not public")
    neuron_bytes: Sourced = Sourced(24, "spikec's format: u, v, du, dv, bias, threshold as 32-bit words")
    input_buffer_bytes: Sourced = Sourced(32, f"{_SPYNN}/synapses.c ring buffer: "
                                          "16 delay slots x 16-bit per neuron [C]")
    synapse_word_bytes: Sourced = Sourced(4, f"{_SPYNN}/synapse_row.h: one 32-bit word per synapse [C]")
    row_header_bytes: Sourced = Sourced(12, f"{_SPYNN}/synapse_row.h: N_SYNAPSE_ROW_HEADER_WORDS = 3 [C]")
    table_entry_bytes: Sourced = Sourced(24, f"{_SPYNN}/population_table/population_table.h: 20-byte master "
                                         "population table entry + 4-byte address word per source PE [C]")
    max_delay: Sourced = Sourced(15, "sPyNNaker 4 delay bits, 16 slots (spynnaker constants MAX_SUPPORTED_DELAY_TICS "
                                 "= 16 [C]); one slot is the hop's own step")
    weight_bits: Sourced = Sourced(16, f"{_SPYNN}/synapse_row.h: SYNAPSE_WEIGHT_BITS = 16 [C]")
    state_bits: Sourced = Sourced(32, "ARM Cortex-M4F 32-bit registers; sPyNNaker s16.15 accum [C]")
    decay_bits: Sourced = Sourced(16, "spikec's choice: u0.16 decay multipliers (module docstring)")
    # Placement grid of one chip's PEs for the partitioner: 152 slots.  The real QPE grid is 7 x 6
    # with 4 holes (QUAD_MAP); the hop count inside a chip is an approximation (NoC hop energy is
    # not published), the routing tables per chip are exact.
    mesh: tuple[int, int] = field(default=(8, 19))

    def __post_init__(self) -> None:
        if self.mesh[0] * self.mesh[1] != self.pes_per_chip.value:
            raise UnsupportedError(f"mesh {self.mesh} does not hold {self.pes_per_chip.value} PEs", parameter="mesh",
                                   fix="give a mesh whose x * y equals pes_per_chip")


SPINNAKER2_CHIP = Spinnaker2Chip()


def spinnaker2_spec(chip: Spinnaker2Chip = SPINNAKER2_CHIP, *, chips: int | None = None,
                    pes_per_chip: int | None = None, neurons_per_pe: int | None = None,
                    synapses_per_pe: int | None = None) -> HardwareSpec:
    """The :class:`HardwareSpec` the shared passes use, with co-design overrides (a what-if
    chip count, PEs per chip, neurons per PE, or a tighter synapse budget)."""
    if pes_per_chip is not None:
        if pes_per_chip < 1:
            raise UnsupportedError(f"pes_per_chip={pes_per_chip}", parameter="--pes-per-chip", limit=">= 1")
        mx = max(d for d in range(1, int(np.sqrt(pes_per_chip)) + 1) if pes_per_chip % d == 0)
        chip = replace(chip, pes_per_chip=Sourced(pes_per_chip, "what-if override (--pes-per-chip)"),
                       mesh=(mx, pes_per_chip // mx))
    if chips is not None and chips < 1:
        raise UnsupportedError(f"chips={chips}", parameter="--chips", limit=">= 1")
    n = neurons_per_pe if neurons_per_pe is not None else chip.neurons_per_pe.value
    per_neuron = chip.neuron_bytes.value + chip.input_buffer_bytes.value
    room = chip.sram_per_pe.value - chip.fixed_bytes.value - n * per_neuron
    if room <= 0:
        raise UnsupportedError(f"{n} neurons per PE need {n * per_neuron} bytes of state and buffers, more than the "
                               f"{chip.sram_per_pe.value - chip.fixed_bytes.value} bytes left after code",
                               parameter="neurons_per_pe", fix="use fewer neurons per PE")
    syn = room // chip.synapse_word_bytes.value
    if synapses_per_pe is not None:
        syn = min(syn, synapses_per_pe)
    src = f"derived: ({chip.sram_per_pe.value} B SRAM - {chip.fixed_bytes.value} B fixed - {n} neurons x " \
          f"{per_neuron} B) / {chip.synapse_word_bytes.value} B per synapse word"
    return HardwareSpec(
        name="SpiNNaker2",
        neurons_per_core=Sourced(n, chip.neurons_per_pe.source if neurons_per_pe is None else "override"),
        synapses_per_core=Sourced(int(syn), src if synapses_per_pe is None else src + ", tightened to fit rows"),
        weight_bits=chip.weight_bits, state_bits=chip.state_bits, decay_bits=chip.decay_bits,
        max_delay=chip.max_delay,
        mesh_x=Sourced(chip.mesh[0], "placement grid of one chip's PEs "
                       "(approximation, see targets/spinnaker2/spec.py)"),
        mesh_y=Sourced(chip.mesh[1], "placement grid of one chip's PEs "
                       "(approximation, see targets/spinnaker2/spec.py)"),
        chips=Sourced(chips, "what-if override (--chips)") if chips is not None else
        Sourced(None, "boards of 48 chips tile without a fixed limit (SpiNNMachine version_48_chips.py)"),
        u_overflow="saturate", rounding="floor",
    )


@dataclass(frozen=True)
class PeMemory:
    """Bytes each PE's SRAM holds, by part, ``(n_pes,)`` arrays."""

    neurons: np.ndarray
    synapses: np.ndarray
    rows: np.ndarray
    table: np.ndarray
    fixed: int
    total: np.ndarray


def pe_memory(program: Program, chip: Spinnaker2Chip = SPINNAKER2_CHIP) -> PeMemory:
    """Exact SRAM bytes of every PE of a placed program (see the module docstring)."""
    n = program.n_cores
    core = program.core_of
    neurons = np.zeros(n, np.int64)
    for k, pop in enumerate(program.populations):
        if pop.is_neuron:
            np.add.at(neurons, core[program.offsets[k]: program.offsets[k] + pop.size], 1)
    src, dst = program_synapses(program)
    dst_core = core[dst].astype(np.int64)
    syn = np.bincount(dst_core, minlength=n).astype(np.int64)
    # One row per (PE, source neuron) and one table entry per (PE, source PE).
    rows = np.bincount(np.unique(dst_core * (1 << 32) + src) >> 32, minlength=n).astype(np.int64)
    table = np.bincount(np.unique(dst_core * (1 << 32) + core[src]) >> 32, minlength=n).astype(np.int64)
    per_neuron = chip.neuron_bytes.value + chip.input_buffer_bytes.value
    parts = (neurons * per_neuron, syn * chip.synapse_word_bytes.value, rows * chip.row_header_bytes.value,
             table * chip.table_entry_bytes.value)
    used = np.zeros(n, bool)
    used[np.unique(core)] = True
    total = sum(parts) + np.where(used, chip.fixed_bytes.value, 0)
    return PeMemory(*parts, chip.fixed_bytes.value, total)
