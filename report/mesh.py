"""The chip's core mesh as grids: per-core use (neurons, synapse memory, events) and per-link
traffic, laid out at the cores' mesh coordinates (``Program.core_xy``; chips tile side by side).

Traffic follows the engine's model (:mod:`spikec.compiler.mapping`): an event of a unit is one
message per distinct destination core holding one of its synapses (multicast), routed X first
along the source's row, then Y along the destination's column.  A link's load is the number of
messages crossing it per sample, in either direction, from the events a run recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np

from ..compiler.mapping import core_stats
from ..runtime.counters import Counters
from ..runtime.fanout import message_pairs
from ..runtime.program import Program
from ..runtime.synapses import program_synapses

__all__ = ["MeshData", "mesh_data", "link_loads"]


@dataclass(frozen=True)
class MeshData:
    """Grids ``(rows = y, cols = x)``, NaN where no core sits: per-core figures by name, and
    link loads: ``east[y, x]`` between cores (x, y) and (x+1, y), ``north[y, x]`` between
    (x, y) and (x, y+1), messages per sample."""

    shape: tuple[int, int]
    cores: Mapping[str, np.ndarray]
    east: np.ndarray
    north: np.ndarray


def mesh_data(program: Program, counters: Counters, events: np.ndarray, samples: int) -> MeshData:
    """The grids of ``program`` after a run: ``counters`` (per core), ``events`` per unit
    (global unit index, summed over the run's samples and steps), ``samples`` of the run."""
    xy = np.asarray(program.core_xy, np.int64)
    width, height = int(xy[:, 0].max()) + 1, int(xy[:, 1].max()) + 1
    stats = core_stats(program)
    per = max(samples, 1)
    totals = counters.totals(by="core")
    figures = {
        "neurons per core": stats.neurons,
        "synapse memory per core (synapses)": stats.synapses,
        "spikes sent per sample": totals["spikes"] / per,
        "synaptic events per sample": totals["synops"] / per,
    }
    cores = {}
    for name, values in figures.items():
        grid = np.full((height, width), np.nan)
        grid[xy[:, 1], xy[:, 0]] = values
        cores[name] = grid
    east, north = link_loads(program, events / per, (height, width))
    return MeshData((height, width), cores, east, north)


def link_loads(program: Program, rate: np.ndarray, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Messages over each mesh link (see :class:`MeshData`) when unit *i* sends ``rate[i]``
    events.  Difference arrays along each row and column: a route adds its weight where it enters
    a line and takes it off where it leaves, so the cost is one pass over the messages."""
    height, width = shape
    east, north = np.zeros((height, width + 1)), np.zeros((height + 1, width))
    src, dst = program_synapses(program)
    core_of = np.asarray(program.core_of, np.int64)
    if src.size:
        unit, core = message_pairs(src, core_of[dst], program.n_cores)
        own = core_of[unit]
        remote = own != core
        unit, own, core = unit[remote], own[remote], core[remote]
        w = np.asarray(rate, np.float64)[unit]
        xy = np.asarray(program.core_xy, np.int64)
        sx, sy, dx, dy = xy[own, 0], xy[own, 1], xy[core, 0], xy[core, 1]
        # X leg on the source's row sy, from sx to dx; Y leg on the destination's column dx.
        np.add.at(east, (sy, np.minimum(sx, dx)), w)
        np.add.at(east, (sy, np.maximum(sx, dx)), -w)
        np.add.at(north, (np.minimum(sy, dy), dx), w)
        np.add.at(north, (np.maximum(sy, dy), dx), -w)
    east = np.cumsum(east, axis=1)[:, :width]
    north = np.cumsum(north, axis=0)[:height, :]
    # A link exists only between two mesh positions; the last column (row) has none eastward (northward).
    east[:, width - 1] = np.nan
    north[height - 1, :] = np.nan
    return east, north
