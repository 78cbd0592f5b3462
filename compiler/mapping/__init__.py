"""Mapping: partition neurons onto cores, place the cores on the chip mesh, route the spikes.

Works on the lowered :class:`~spikec.runtime.Program` (the only form where neurons are flat):
every unit of every population (neurons, ``pass`` relays and ``input`` units alike) gets a
core, and counts against ``neurons_per_core``; inputs are not set apart, so an input unit can
share a core with the neurons it drives (how the C engine counts it, too).

Traffic model (the engine's: one implementation, :func:`spikec.runtime.fanout.message_pairs`
and :func:`~spikec.runtime.fanout.hops_xy`, serves both): an event of unit *i* becomes one
message per distinct destination core holding one of its non-zero synapses (multicast), local
when that core is its own, otherwise routed X-Y over the mesh, costing the Manhattan distance
in hops.  With per-unit rates *r* (events per step; 1 when unknown) the figures are
``messages = sum_i r_i * remote destination cores of i`` and
``hops = sum_i r_i * sum over them of the hop distance``.

The stages, one module each (every one also callable alone, on a Program):

- :mod:`.partition` (:func:`partition`): units onto cores under every per-core limit, METIS
  (graph built in :mod:`.metis`) or the sequential fill, then limit repair.
- :mod:`.place` (:func:`place`): cores onto the chips' meshes (geometry in :mod:`.mesh`:
  :func:`chips_needed`, the Hilbert curve).
- :mod:`.refine` (:func:`refine`): single units moved between placed cores on the exact
  multicast gain.
- :mod:`.route` (:func:`route`): X-Y routes, link loads, routing-table and input-axon counts.
- :mod:`.driver` (:func:`map_program`): all four, over two partition candidates.

Shared by them: :mod:`.net` (the flat synapse pairs, the rates, :class:`MappingResult`),
:mod:`.cores` (one assignment's messages, per-core statistics and traffic: :func:`traffic`,
:func:`core_stats`) and :mod:`.tuning` (the size thresholds, in one module so that a test can
lower them for every stage at once).

Per-core limits as counted here: ``neurons_per_core`` units on the core;
``synapses_per_core`` non-zero synapses whose target is on the core (a convolution counts
every expanded synapse: a core stores what it receives); ``fan_in_per_core`` distinct source
units with a non-zero synapse into the core; ``fan_out_per_core`` distinct *other* cores the
core's units send to (its routing-table entries).

Memory and time: the flat synapse list is held once, as sorted (source, target) pairs; every
set of distinct pairs is made by sorting packed int64 keys (``argsort`` and
``np.unique(return_inverse)``, 5-10x slower, only below ``_DIRECT_PAIRS``); the messages of an
assignment are computed once and shared by its statistics, traffic and routes, and walked in
slices; no intermediate :class:`Program` is built (each one copies every synapse array).
"""

from __future__ import annotations

from .cores import CoreStats, core_stats, traffic
from .driver import map_program
from .mesh import chips_needed
from .net import LIMITS, MappingResult
from .partition import partition
from .place import place
from .refine import refine
from .route import route

__all__ = [
    "MappingResult", "CoreStats", "partition", "place", "refine", "route", "map_program", "traffic", "core_stats",
    "chips_needed", "LIMITS",
]
