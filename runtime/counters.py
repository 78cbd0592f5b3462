"""Hardware counters of a run: what energy and latency are computed from.

The engine counts, per sample, per time step (or summed over the run) and per population
and per core, the quantities of the event-driven cost model (hardware-numbers.md §14a).
Synaptic work is booked to the *source* population (SOP_l of §14a: spikes x effective
fan-out) and to the *destination* core (where the synapse memory is read); messages and
hops to the source; received messages (``msg_in``) to the destination core, where a software
chip (SpiNNaker) spends its per-packet time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import numpy as np

__all__ = ["COUNTERS", "Counters"]

# Order = csrc/engine.h SK_C_* (tests/runtime/test_c_tables.py compares them).
COUNTERS = (
    "synops",        # synaptic events on non-zero weights
    "nu_active",     # neuron updates with non-zero input or state
    "nu_idle",       # neuron updates with nothing to do
    "spikes",        # events emitted (spikes or non-zero graded values)
    "msg_local",     # messages to the sender's own core
    "msg_remote",    # messages to other cores (one per destination core per event)
    "hops_x",        # X-Y routed hops of remote messages, along x
    "hops_y",        # ... along y
    "hops_max",      # longest route taken by any message (a max, not a sum)
    "words",         # synapse memory words read
    "msg_in",        # messages received: per destination core (per source population: = local + remote)
    # Crossbar projections (ReRAM): booked to the source population, each tile's core and the tile.
    "cell_reads",    # devices read: 2 (differential pair) x active rows x columns, per tile read
    "dac",           # row-driver (DAC) pulses: active rows of a tile, per input bit read
    "adc",           # column conversions: a tile's columns, per input bit read
    "xb_reads",      # tile reads: one per tile per input bit plane with an active row
    "clips",         # ADC conversions clipped at full scale, plus inputs clipped by the DAC
)
_MAX = {"hops_max"}


@dataclass(frozen=True)
class Counters:
    """Counter arrays ``(batch, steps or 1, units, len(COUNTERS))`` for populations and cores;
    ``per_tile``: for each crossbar projection, ``(batch, tiles, len(COUNTERS))`` summed over the
    run (tile ``r * groups + g``: source rows block ``r``, target neurons of column group ``g``)."""

    populations: tuple[str, ...]
    per_population: np.ndarray
    per_core: np.ndarray
    per_step: bool
    per_tile: Mapping[str, np.ndarray] = field(default_factory=dict)

    def column(self, name: str) -> int:
        return COUNTERS.index(name)

    def totals(self, by: str = "population") -> dict[str, np.ndarray]:
        """Per counter, an array over populations (``by="population"``) or cores, summed over
        samples and steps (``hops_max``: the maximum)."""
        arr = self.per_population if by == "population" else self.per_core
        return {
            name: (arr[..., i].max(axis=(0, 1)) if name in _MAX else arr[..., i].sum(axis=(0, 1))) if arr.size
            else np.zeros(arr.shape[2], np.int64)
            for i, name in enumerate(COUNTERS)
        }

    def total(self, name: str) -> int:
        """One counter over the whole run, all populations and samples."""
        t = self.totals()[name]
        return int(t.max() if name in _MAX else t.sum()) if t.size else 0

    def by_population(self) -> dict[str, dict[str, int]]:
        """``{population: {counter: total}}``, for reports."""
        t = self.totals()
        return {p: {name: int(t[name][k]) for name in COUNTERS} for k, p in enumerate(self.populations)}
