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

- :func:`partition` (``method="metis"``): METIS k-way on the symmetrised unit graph (edge
  weight = summed rate of its sources, the standard edge-cut proxy for multicast traffic),
  with vertex weights for whichever of neurons / synapse memory binds.  A graph of more than
  ``_DIRECT_PAIRS`` synapse pairs is first contracted into blocks of consecutive units (about
  16 per core; each block keeps its heaviest edges), so METIS sees tens of thousands of
  vertices whatever the network's size.  Then every per-core limit is enforced by refilling a
  violating part greedily (in index order) into cores that fit.  ``method="sequential"`` is
  the baseline most toolchains use: fill cores in population (layer) order under the same
  limits.
- :func:`place`: cores onto ``mesh_x x mesh_y`` chips tiled side by side along x (as many as
  needed, at most ``chips``): a greedy traffic-ordered chain laid along a generalised Hilbert
  curve, refined by best-improvement pairwise swaps (moves to empty slots included) on
  ``sum traffic(c1, c2) x hops(c1, c2)``.  Beyond ``_DENSE_CORES`` cores (no dense core x core
  matrix) the cores are laid along the curve in the order of their units' mean index.
  ``method="sequential"``: row by row in core order.
- :func:`refine`: once cores have places, single units move between cores (Fiduccia-Mattheyses
  style, in batches of independent moves, with swaps where cores are full) where the exact
  multicast hop-weighted traffic drops and every limit still holds: what METIS' edge cut and
  a core-level placement cannot see (a message is per destination *core*, and its cost is the
  hop distance).  Rounds alternate with core swaps and stop at the budget or when three of
  them gained less than ``_STALL`` of the traffic; beyond ``_REFINE_CELLS`` (unit or synapse
  pair) x core cells per round there are none.
- :func:`route`: X-Y routes; per-core routing table = distinct destination cores, input axons
  = distinct source units; link loads and hop totals; checked against the spec.

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

import math
import time
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Mapping

import numpy as np

from ...errors import ResourceLimitError
from ...runtime.fanout import hops_xy, message_pairs, synapse_coo
from ...runtime.program import Program
from ...hardware import HardwareSpec
from .base import Change, PassRecord

__all__ = [
    "MappingResult", "CoreStats", "partition", "place", "refine", "route", "map_program", "traffic", "core_stats",
    "chips_needed", "LIMITS",
]

LIMITS = ("neurons_per_core", "synapses_per_core", "fan_in_per_core", "fan_out_per_core")
_IDX = np.int64
# Above this many distinct synapse pairs METIS gets a graph of unit blocks, not of units: on a
# 2-core machine METIS takes ~5 s per 10M pairs and several times their size in memory.
_DIRECT_PAIRS = 4_000_000
# Above this many cores the dense core x core matrices of the placement (8 bytes x cores^2,
# three of them) are not built.
_DENSE_CORES = 4096
# Cells of one dense chunk when block-to-block weights are summed (bincount, then top-k per row).
_CHUNK_CELLS = 1 << 24
# Unit moves evaluate every (unit, core) and (synapse pair, core) cell per round: above this
# many cells they are skipped (a 10^6-unit net on 10^3 cores would need 10^11).
_REFINE_CELLS = 60_000_000
# Unit moves stop when their last three rounds gained less than this share of the traffic,
# core swaps when their last sweep did.
_STALL = 2e-3


@dataclass(frozen=True)
class MappingResult:
    """The program with its new ``core_of`` / ``core_xy`` and the record of the mapping."""

    program: Program
    record: PassRecord


@dataclass(frozen=True)
class CoreStats:
    """Per-core resource use (arrays over cores) under one assignment."""

    neurons: np.ndarray
    synapses: np.ndarray
    fan_in: np.ndarray
    fan_out: np.ndarray

    def of(self, limit: str) -> np.ndarray:
        """The array of ``limit`` (a name of :data:`LIMITS`)."""
        return getattr(self, limit.replace("_per_core", ""))


# --- the flat synapse structure ----------------------------------------------------------------------


def _ptr(sorted_idx: np.ndarray, n: int) -> np.ndarray:
    """CSR row pointers of a sorted row-index array."""
    ptr = np.zeros(n + 1, _IDX)
    np.cumsum(np.bincount(sorted_idx, minlength=n), out=ptr[1:])
    return ptr


@dataclass(frozen=True)
class _Net:
    """Every non-zero synapse as a global (source, target) pair, deduplicated, plus per-unit
    synapse counts (repeated pairs count as several synapses of memory)."""

    n: int
    src: np.ndarray        # unique (src, dst) pairs, sorted by src then dst
    dst: np.ndarray
    insyn: np.ndarray      # non-zero synapses targeting each unit
    names: tuple[str, ...] = ()
    offsets: np.ndarray = field(default_factory=lambda: np.zeros(1, _IDX))

    def unit_name(self, i: int) -> str:
        k = int(np.searchsorted(self.offsets, i, side="right") - 1)
        return f"{self.names[k]}[{i - int(self.offsets[k])}]"

    @cached_property
    def out_ptr(self) -> np.ndarray:
        """Pairs of unit i: ``out_ptr[i]:out_ptr[i+1]`` (the pairs are sorted by source)."""
        return _ptr(self.src, self.n)

    @cached_property
    def in_csr(self) -> tuple[np.ndarray, np.ndarray]:
        """(pointers, sources) of the pairs sorted by target: built on first use only (fan-in
        checks and unit moves need it), by one key sort."""
        key = self.dst * self.n
        key += self.src
        key.sort()
        dst, src = np.divmod(key, self.n)
        del key
        return _ptr(dst, self.n), src


def _net(program: Program) -> _Net:
    off = np.asarray(program.offsets, _IDX)
    n = int(off[-1])
    keys = []
    insyn = np.zeros(n, _IDX)
    for j in program.projections:
        s, t = program.index[j.source], program.index[j.target]
        src, dst, nz = synapse_coo(j, program.populations[s].size, program.populations[t].size)
        # one packed key per synapse, built in place (a projection may hold 10^8 synapses)
        key = np.asarray(src, _IDX)[nz]
        dst = np.asarray(dst, _IDX)[nz]
        dst += off[t]
        insyn += np.bincount(dst, minlength=n)
        key += off[s]
        key *= n
        key += dst
        del dst
        keys.append(key)
    key = (keys[0] if len(keys) == 1 else np.concatenate(keys)) if keys else np.zeros(0, _IDX)
    del keys
    key = _uniq(key, in_place=True)
    src, dst = np.divmod(key, n) if n else (key, key)
    return _Net(n, src, dst, insyn, tuple(p.name for p in program.populations), off)


def _rates(program: Program, rates: Any) -> np.ndarray:
    """Events per step of every unit: None (1 each), one array over all units, or a mapping
    population -> scalar or array (populations left out: 1)."""
    n = int(program.offsets[-1])
    if rates is None:
        return np.ones(n)
    if isinstance(rates, Mapping):
        out = np.ones(n)
        for name, r in rates.items():
            k = program.index.get(name)
            if k is None:
                raise ResourceLimitError(f"rates name population {name!r}, which does not exist", parameter="rates",
                                         fix=f"use names from {sorted(program.index)}")
            size = program.populations[k].size
            arr = np.broadcast_to(np.asarray(r, np.float64).reshape(-1) if np.ndim(r) else np.float64(r), (size,))
            out[program.offsets[k]: program.offsets[k] + size] = arr
    else:
        out = np.asarray(rates, np.float64).reshape(-1)
        if out.shape != (n,):
            raise ResourceLimitError(f"rates have {out.size} values for {n} units", parameter="rates",
                                     fix="give one rate per unit (in Program.offsets order) or a mapping per population")
    if not np.all(np.isfinite(out)) or np.any(out < 0):
        raise ResourceLimitError("rates must be finite and >= 0", parameter="rates")
    return out


def _uniq(a: np.ndarray, *, in_place: bool = False) -> np.ndarray:
    """Sorted distinct values (sort-based: numpy 2's hash-based np.unique is several times slower here)."""
    if in_place:
        a.sort()
    else:
        a = np.sort(a)
    if a.size < 2:
        return a
    keep = np.empty(a.size, bool)
    keep[0] = True
    np.not_equal(a[1:], a[:-1], out=keep[1:])
    return a[keep]


def _limit(spec: HardwareSpec, name: str) -> int | None:
    v = spec.value(name)
    return None if v is None else int(v)


# --- per-core figures ------------------------------------------------------------------------------------


class _Cores:
    """One assignment of units to cores and what follows from it, each computed once: the
    messages (distinct source unit, destination core pairs) and the per-core statistics."""

    def __init__(self, net: _Net, core_of: np.ndarray, n_cores: int) -> None:
        self.net = net
        self.core_of = np.asarray(core_of, _IDX)
        self.n_cores = n_cores

    @cached_property
    def pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """Unique (source unit, destination core) pairs, sorted: the messages of one event of each unit."""
        return message_pairs(self.net.src, self.core_of[self.net.dst], self.n_cores)

    @cached_property
    def stats(self) -> CoreStats:
        net, core_of, n_cores = self.net, self.core_of, self.n_cores
        neurons = np.bincount(core_of, minlength=n_cores).astype(_IDX)
        synapses = np.bincount(core_of, weights=net.insyn, minlength=n_cores).astype(_IDX)
        u, c = self.pairs
        fan_in = np.bincount(c, minlength=n_cores).astype(_IDX)
        own = core_of[u]
        remote = own != c
        cc = _uniq(own[remote] * n_cores + c[remote])
        fan_out = np.bincount(cc // n_cores, minlength=n_cores).astype(_IDX)
        return CoreStats(neurons, synapses, fan_in, fan_out)

    def slices(self, r: np.ndarray) -> Any:
        """(source core, destination core, rate) of the messages, in slices of at most
        ``_CHUNK_CELLS``: a random net of 10^8 synapses has nearly as many messages, and
        every temporary over all of them would cost 0.8 GB."""
        u, c = self.pairs
        for lo in range(0, u.size, _CHUNK_CELLS):
            uu = u[lo:lo + _CHUNK_CELLS]
            yield self.core_of[uu], c[lo:lo + _CHUNK_CELLS], r[uu]

    def traffic(self, xy: np.ndarray, r: np.ndarray) -> dict[str, float]:
        """Local and remote messages and X / Y hops per step under places ``xy`` (the last
        answer is kept: the stages ask again for the same places and rates)."""
        if self.__dict__.get("_last_key") == (id(xy), id(r)):
            return dict(self.__dict__["_last"][2])
        out = dict.fromkeys(("local", "messages", "hops_x", "hops_y"), 0.0)
        for own, dest, w in self.slices(r):
            remote = own != dest
            dx, dy = hops_xy(xy, own, dest)
            out["local"] += float(w[~remote].sum())
            out["messages"] += float(w[remote].sum())
            out["hops_x"] += float(w @ dx)
            out["hops_y"] += float(w @ dy)
        out["hops"] = out["hops_x"] + out["hops_y"]
        self.__dict__["_last_key"], self.__dict__["_last"] = (id(xy), id(r)), (xy, r, out)  # xy, r kept: ids stay theirs
        return dict(out)


def core_stats(program: Program) -> CoreStats:
    """Per-core use of every limited resource under ``program``'s placement."""
    return _Cores(_net(program), program.core_of, program.n_cores).stats


def _check(stats: CoreStats, spec: HardwareSpec, *, stage: str) -> None:
    for name in LIMITS:
        lim = _limit(spec, name)
        if lim is None:
            continue
        use = stats.of(name)
        bad = np.flatnonzero(use > lim)
        if bad.size:
            c = int(bad[0])
            raise ResourceLimitError(
                f"{stage}: core {c} needs {int(use[c])} for {name} ({bad.size} core(s) over)", parameter=name,
                limit=f"{lim} ({getattr(spec, name).source})",
                fix="choose a target with larger cores or reduce the network's connectivity")


def traffic(program: Program, rates: Any = None) -> dict[str, float]:
    """Messages and hops per step under ``program``'s placement, as the engine counts them:
    ``local`` / ``messages`` (remote) / ``hops_x`` / ``hops_y`` / ``hops`` for one event of
    every unit weighted by ``rates`` (see :func:`_rates`; spike counts of a run give the
    run's exact counters)."""
    net = _net(program)
    r = _rates(program, rates)
    return _Cores(net, program.core_of, program.n_cores).traffic(np.asarray(program.core_xy, _IDX), r)


# --- partition -------------------------------------------------------------------------------------------


class _Filler:
    """Greedy fill of an ordered list of units into cores that meet every limit."""

    def __init__(self, net: _Net, spec: HardwareSpec) -> None:
        self.net = net
        self.lim = {k: _limit(spec, k) for k in LIMITS}
        self.spec = spec

    @staticmethod
    def _gather(ptr: np.ndarray, vals: np.ndarray, members: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(position in members, value) of every CSR entry of ``members``."""
        lo, hi = ptr[members], ptr[members + 1]
        cnt = hi - lo
        pos = np.repeat(np.arange(members.size), cnt)
        start = np.repeat(lo - np.concatenate([[0], np.cumsum(cnt)[:-1]]), cnt)
        return pos, vals[start + np.arange(pos.size)]

    @staticmethod
    def _prefix_cap(pos: np.ndarray, key: np.ndarray, lim: int) -> int:
        """Longest prefix whose distinct ``key`` count stays <= lim (entries ordered by pos):
        the position where the (lim+1)-th distinct key first appears.  One sort of keys packed
        with their positions (argsort-based np.unique is several times slower)."""
        if key.size == 0:
            return 1 << 62
        bits = int(pos.max()).bit_length()
        packed = np.asarray(key, _IDX) << bits
        packed |= pos
        packed.sort()
        first = np.ones(packed.size, bool)
        np.not_equal(packed[1:] >> bits, packed[:-1] >> bits, out=first[1:])
        firstpos = packed[first] & ((1 << bits) - 1)   # each key's first position
        if firstpos.size <= lim:
            return 1 << 62
        return int(np.partition(firstpos, lim)[lim])

    def chunks(self, members: np.ndarray, core_of: np.ndarray | None = None) -> list[np.ndarray]:
        """Split ``members`` (in order) greedily into groups that fit; ``core_of`` (current
        assignment, units outside ``members``) enables the fan-out limit."""
        lim, out, start, m = self.lim, [], 0, members.size
        cum = np.cumsum(self.net.insyn[members])
        inside = None
        if core_of is not None and lim["fan_out_per_core"] is not None:
            inside = np.zeros(self.net.n, bool)
            inside[members] = True
        while start < m:
            end = m if lim["neurons_per_core"] is None else min(m, start + lim["neurons_per_core"])
            if lim["synapses_per_core"] is not None:
                base = cum[start - 1] if start else 0
                end = min(end, int(np.searchsorted(cum, base + lim["synapses_per_core"], side="right")))
            window = members[start:end]
            length = window.size
            if lim["fan_in_per_core"] is not None and length:
                in_ptr, in_src = self.net.in_csr
                pos, s = self._gather(in_ptr, in_src, window)
                length = min(length, self._prefix_cap(pos, s, lim["fan_in_per_core"]))
            if inside is not None and length:
                pos, d = self._gather(self.net.out_ptr, self.net.dst, window)
                out_of = ~inside[d]
                length = min(length, self._prefix_cap(pos[out_of], core_of[d[out_of]], lim["fan_out_per_core"]))
            if length <= 0:
                self._too_big(int(members[start]))
            out.append(members[start:start + length])
            start += length
        return out

    def _too_big(self, unit: int) -> None:
        net, lim = self.net, self.lim
        in_ptr = net.in_csr[0]
        fan_in = int(in_ptr[unit + 1] - in_ptr[unit])
        for name, need in (("neurons_per_core", 1), ("synapses_per_core", int(net.insyn[unit])),
                           ("fan_in_per_core", fan_in), ("fan_out_per_core", 1)):
            if lim[name] is not None and need > lim[name]:
                raise ResourceLimitError(
                    f"unit {net.unit_name(unit)} alone needs {need} for {name}; no core can hold it, on any number of chips",
                    node=net.unit_name(unit), parameter=name, limit=f"{lim[name]} ({getattr(self.spec, name).source})",
                    fix="split the neuron's inputs over relay neurons, or choose a target with larger cores")
        raise ResourceLimitError(f"unit {net.unit_name(unit)} alone sends to more other cores than a routing table holds, "
                                 "given where its targets were put (fan-out is repaired by splitting cores only)", node=net.unit_name(unit),
                                 parameter="fan_out_per_core", limit=lim["fan_out_per_core"],
                                 fix="choose a target with a larger routing table")


def _refill(filler: _Filler, groups: list[np.ndarray], stats_ok: np.ndarray | None) -> list[np.ndarray]:
    out: list[np.ndarray] = []
    for g, grp in enumerate(groups):
        if stats_ok is not None and stats_ok[g]:
            out.append(grp)
        else:
            out.extend(filler.chunks(grp))
    return out


def _assign(groups: list[np.ndarray], n: int) -> np.ndarray:
    core_of = np.empty(n, _IDX)
    for c, grp in enumerate(groups):
        core_of[grp] = c
    return core_of


def _fits(stats: CoreStats, lim: Mapping[str, int | None], names: tuple[str, ...]) -> np.ndarray:
    ok = np.ones(stats.neurons.size, bool)
    for name in names:
        if lim[name] is not None:
            ok &= stats.of(name) <= lim[name]
    return ok


def _enforce(filler: _Filler, groups: list[np.ndarray], n: int) -> tuple[_Cores, int]:
    """Refill groups over a limit; then split cores over the fan-out limit until none is.
    Returns the assignment and how many groups were refilled."""
    lim = filler.lim
    groups = [g for g in groups if g.size]
    cores = _Cores(filler.net, _assign(groups, n), len(groups))
    ok = _fits(cores.stats, lim, LIMITS[:3])
    repaired = int((~ok).sum())
    if repaired:
        groups = _refill(filler, groups, ok)
        cores = _Cores(filler.net, _assign(groups, n), len(groups))
    rounds = 0
    while lim["fan_out_per_core"] is not None:
        bad = np.flatnonzero(cores.stats.fan_out > lim["fan_out_per_core"])
        if not bad.size:
            break
        rounds += 1
        if rounds > 50:
            _check(cores.stats, filler.spec, stage="partition")
        badset = set(bad.tolist())
        new: list[np.ndarray] = []
        for c, grp in enumerate(groups):
            new.extend(filler.chunks(grp, cores.core_of) if c in badset else [grp])
        groups = new
        cores = _Cores(filler.net, _assign(groups, n), len(groups))
    return cores, repaired


def _parts_count(net: _Net, spec: HardwareSpec, fill: float) -> tuple[int, np.ndarray | None]:
    """(parts, per-unit vertex weights or None for unit weights): as many parts as the binding
    one of neurons / synapse memory needs at ``fill`` of the per-core capacity."""
    ncap, scap = _limit(spec, "neurons_per_core"), _limit(spec, "synapses_per_core")
    total_syn = int(net.insyn.sum())
    k_neu = math.ceil(net.n / ncap) if ncap else 1
    k_syn = math.ceil(total_syn / scap) if scap else 1
    if scap and k_syn > k_neu:
        vweights = net.insyn + 1
        k = math.ceil(int(vweights.sum()) / (scap * fill))
    else:
        vweights = None
        k = math.ceil(net.n / (ncap * fill)) if ncap else 1
    return max(1, min(k, net.n)), vweights


def _metis_csr(key: np.ndarray, wsum: np.ndarray, nv: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """METIS' symmetric CSR (xadj, adjncy, eweights) from distinct undirected edges
    ``key = lo * nv + hi`` (lo < hi) with float weights, scaled to integers >= 1 whose total
    stays within int32."""
    u, v = np.divmod(key, nv)
    top = float(wsum.max()) if wsum.size else 1.0
    scale = min(1000.0, (2**30) / max(1.0, 2.0 * float(wsum.sum()) / max(top, 1e-300))) / max(top, 1e-300)
    ew = np.maximum(1, np.rint(wsum * scale)).astype(np.int64)
    rows = np.concatenate([u, v])
    cols = np.concatenate([v, u])
    ews = np.concatenate([ew, ew])
    order = np.lexsort((cols, rows))
    rows, cols, ews = rows[order], cols[order], ews[order]
    xadj = np.searchsorted(rows, np.arange(nv + 1)).astype(np.int32)
    adjncy = cols.astype(np.int32)
    eweights = ews.astype(np.int32)
    if adjncy.size:  # what METIS takes on trust
        assert not np.any(rows == cols) and eweights.min() >= 1 and xadj[-1] == adjncy.size
    return xadj, adjncy, eweights


def _unit_graph(net: _Net, r: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Symmetric, loop-free unit graph: edge {u, v} weighs the rates of the directed pairs it merges."""
    n = net.n
    loop = net.src == net.dst
    a, b, w = net.src[~loop], net.dst[~loop], r[net.src[~loop]]
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    key, inv = np.unique(lo * n + hi, return_inverse=True)
    wsum = np.bincount(inv.reshape(-1), weights=w, minlength=key.size)
    return _metis_csr(key, wsum, n)


def _block_graph(net: _Net, r: np.ndarray, b: int, degree: int = 48) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The graph of blocks of ``b`` consecutive units: block-to-block weights (summed source
    rates of the pairs between them) in dense chunks of rows, each block keeping its
    ``degree`` heaviest edges (a structured net's traffic is in those; a random net's has
    none worth keeping), then symmetrised."""
    nb = -(-net.n // b)
    rows = max(1, _CHUNK_CELLS // nb)
    bounds = np.searchsorted(net.src, np.minimum(np.arange(0, nb + rows, rows), nb) * b)
    keys, weights = [], []
    for i, a in enumerate(range(0, nb, rows)):
        h = min(rows, nb - a)
        s, d = net.src[bounds[i]:bounds[i + 1]], net.dst[bounds[i]:bounds[i + 1]]
        cell = (s // b - a) * nb + d // b
        w = np.bincount(cell, weights=r[s], minlength=h * nb).reshape(h, nb)
        w[np.arange(h), np.arange(a, a + h)] = 0.0
        row, col = _heaviest(w, degree)
        ww = w[row, col]
        row += a
        keys.append(np.minimum(row, col) * nb + np.maximum(row, col))
        weights.append(ww)
    key, inv = np.unique(np.concatenate(keys), return_inverse=True)
    wsum = np.bincount(inv.reshape(-1), weights=np.concatenate(weights), minlength=key.size)
    return _metis_csr(key, wsum, nb)


def _heaviest(w: np.ndarray, degree: int) -> tuple[np.ndarray, np.ndarray]:
    """(row, column) of the non-zero cells of ``w`` that are among the ``degree`` heaviest of
    their row (ties broken by column): one sort of (row, inverted weight, column) packed
    into int64 keys, over the non-zero cells only."""
    row, col = np.nonzero(w)
    if row.size == 0 or np.bincount(row).max() <= degree:
        return row.astype(_IDX), col.astype(_IDX)
    h, nb = w.shape
    cb, rb = max(1, (nb - 1).bit_length()), max(1, (h - 1).bit_length())
    wb = 62 - cb - rb                       # bits left for the weight (only ranks it within its row)
    vals = w[row, col]
    top = (1 << wb) - 1
    key = row.astype(_IDX) << (wb + cb)
    key |= (top - np.rint(vals * (top / vals.max())).astype(_IDX)) << cb
    key |= col
    key.sort()
    row, col = key >> (wb + cb), key & ((1 << cb) - 1)
    start = np.searchsorted(row, np.arange(h))
    keep = np.arange(row.size) - start[row] < degree
    return row[keep], col[keep]


def _metis_groups(net: _Net, r: np.ndarray, spec: HardwareSpec) -> tuple[list[np.ndarray], int]:
    import pymetis

    direct = net.src.size <= _DIRECT_PAIRS
    # Blocks are coarse grains: METIS cannot balance them to the unit, so leave more slack.
    fill = 0.97 if direct else 0.9
    k, vweights = _parts_count(net, spec, fill)
    if k == 1:
        return [np.arange(net.n, dtype=_IDX)], 1
    if direct:
        b, (xadj, adjncy, eweights) = 1, _unit_graph(net, r)
    else:
        b = max(1, net.n // min(max(16 * k, 4096), 1 << 16))   # ~16 blocks per core, at most 65,536
        xadj, adjncy, eweights = _block_graph(net, r, b)
        block = np.arange(net.n, dtype=_IDX) // b
        vweights = np.bincount(block, weights=vweights).astype(_IDX) if vweights is not None else np.bincount(block)
    nv = xadj.size - 1
    # The imbalance METIS may use is the room the fill left (a tighter one, like ufactor=10,
    # made it scatter parts and double the cut); 0.9 of it, as METIS overshoots slightly.
    opts = pymetis.Options(ufactor=max(1, int(900 * (1 / fill - 1))), seed=1)
    kwargs: dict[str, Any] = {"eweights": eweights, "options": opts}
    if vweights is not None:
        kwargs["vweights"] = np.minimum(vweights, 2**30 // max(1, nv)).astype(np.int32) if int(vweights.sum()) >= 2**31 else vweights.astype(np.int32)
    _, parts = pymetis.part_graph(min(k, nv), pymetis.CSRAdjacency(xadj, adjncy), **kwargs)
    parts = np.asarray(parts, _IDX)
    if b > 1:
        parts = parts[np.arange(net.n, dtype=_IDX) // b]
    order = np.argsort(parts, kind="stable")
    bounds = np.searchsorted(parts[order], np.arange(k + 1))
    return [order[bounds[i]:bounds[i + 1]] for i in range(k)], k


def partition(program: Program, spec: HardwareSpec, *, rates: Any = None, method: str = "metis",
              _net_: _Net | None = None) -> MappingResult:
    """Units onto cores under every per-core limit of ``spec`` (see the module docstring).

    The cores are laid out in a row (``core_xy``), to be replaced by :func:`place`."""
    record, cores = _partition(program, spec, r=_rates(program, rates), method=method, net=_net_ or _net(program))
    return MappingResult(program.with_placement(cores.core_of, _row(cores.n_cores)), record)


def _row(n_cores: int) -> np.ndarray:
    return np.stack([np.arange(n_cores), np.zeros(n_cores, _IDX)], axis=1)


def _partition(program: Program, spec: HardwareSpec, *, r: np.ndarray, method: str, net: _Net) -> tuple[PassRecord, _Cores]:
    if method not in ("metis", "sequential"):
        raise ResourceLimitError(f"method={method!r}", parameter="method", fix="use 'metis' or 'sequential'")
    t0 = time.perf_counter()
    filler = _Filler(net, spec)
    if method == "sequential":
        groups, k = filler.chunks(np.arange(net.n, dtype=_IDX)), 0
    else:
        groups, k = _metis_groups(net, r, spec)
    cores, repaired = _enforce(filler, groups, net.n)
    stats = cores.stats
    _check(stats, spec, stage="partition")
    n_cores = cores.n_cores
    t = cores.traffic(_row(n_cores), r)
    figures = {"method": method, "cores": n_cores, "units": net.n, "synapses": int(net.insyn.sum()),
               "messages": t["messages"], "local_messages": t["local"],
               **{f"max_{name}": int(stats.of(name).max()) if n_cores else 0 for name in LIMITS},
               "seconds": time.perf_counter() - t0}
    changes = [Change("program", f"{net.n} units onto {n_cores} cores ({method})", {"cores": n_cores})]
    if method == "metis":
        figures["metis_parts"] = k
        figures["parts_refilled"] = repaired
    return PassRecord("partition", tuple(changes), figures), cores


# --- place -----------------------------------------------------------------------------------------------


def chips_needed(n_cores: int, spec: HardwareSpec) -> int:
    """Chips of ``mesh_x x mesh_y`` cores needed for ``n_cores`` (1 when the mesh is unlimited)."""
    mx, my = _limit(spec, "mesh_x"), _limit(spec, "mesh_y")
    if mx is None or my is None:
        return 1
    per = mx * my
    if per == 0:
        raise ResourceLimitError("the mesh has no cores", parameter="mesh_x", limit=f"{mx} x {my}")
    return max(1, math.ceil(n_cores / per))


def _grid(n_cores: int, spec: HardwareSpec) -> tuple[int, int, int, int]:
    """(chips, mesh width per chip, mesh height, total width)."""
    mx, my = _limit(spec, "mesh_x"), _limit(spec, "mesh_y")
    chips = chips_needed(n_cores, spec)
    limit = _limit(spec, "chips")
    if limit is not None and chips > limit:
        raise ResourceLimitError(
            f"needs {n_cores} cores = {chips} chips of {mx} x {my}, more than the target has", parameter="chips",
            limit=f"{limit} ({spec.chips.source})",
            fix=f"the smallest system that fits has {chips} chips: compile for chips >= {chips}, or shrink the network")
    if mx is not None and my is not None:
        return chips, mx, my, chips * mx
    if mx is not None:
        return 1, mx, max(1, math.ceil(n_cores / mx)), mx
    if my is not None:
        w = max(1, math.ceil(n_cores / my))
        return 1, w, my, w
    w = max(1, math.ceil(math.sqrt(n_cores)))
    return 1, w, max(1, math.ceil(n_cores / w)), w


def _gilbert(w: int, h: int) -> np.ndarray:
    """Generalised Hilbert curve over a w x h rectangle: (w*h, 2) coordinates, each step one hop."""
    out: list[tuple[int, int]] = []

    def sgn(v: int) -> int:
        return (v > 0) - (v < 0)

    def rec(x: int, y: int, ax: int, ay: int, bx: int, by: int) -> None:
        ww, hh = abs(ax + ay), abs(bx + by)
        dax, day, dbx, dby = sgn(ax), sgn(ay), sgn(bx), sgn(by)
        if hh == 1:
            for _ in range(ww):
                out.append((x, y))
                x, y = x + dax, y + day
            return
        if ww == 1:
            for _ in range(hh):
                out.append((x, y))
                x, y = x + dbx, y + dby
            return
        ax2, ay2, bx2, by2 = ax // 2, ay // 2, bx // 2, by // 2
        w2, h2 = abs(ax2 + ay2), abs(bx2 + by2)
        if 2 * ww > 3 * hh:
            if w2 % 2 and ww > 2:
                ax2, ay2 = ax2 + dax, ay2 + day
            rec(x, y, ax2, ay2, bx, by)
            rec(x + ax2, y + ay2, ax - ax2, ay - ay2, bx, by)
        else:
            if h2 % 2 and hh > 2:
                bx2, by2 = bx2 + dbx, by2 + dby
            rec(x, y, bx2, by2, ax2, ay2)
            rec(x + bx2, y + by2, ax, ay, bx - bx2, by - by2)
            rec(x + (ax - dax) + (bx2 - dbx), y + (ay - day) + (by2 - dby), -bx2, -by2, -(ax - ax2), -(ay - ay2))

    if w >= h:
        rec(0, 0, w, 0, 0, h)
    else:
        rec(0, 0, 0, h, w, 0)
    return np.array(out, _IDX).reshape(-1, 2)


def _chain(t: np.ndarray) -> np.ndarray:
    """Greedy linear order: start at the busiest core, then always the core most attached to
    the recent end of the chain (attraction decays along the chain)."""
    n = t.shape[0]
    placed = np.zeros(n, bool)
    order = np.empty(n, _IDX)
    cur = int(np.argmax(t.sum(axis=1))) if n else 0
    pull = np.zeros(n)
    for i in range(n):
        order[i] = cur
        placed[cur] = True
        pull = 0.5 * pull + t[cur]
        if i + 1 < n:
            cand = np.where(placed, -1.0, pull)
            cur = int(np.argmax(cand))
    return order


def _refine(t: np.ndarray, pos: np.ndarray, slots: np.ndarray, budget_s: float) -> tuple[np.ndarray, int]:
    """Best-improvement pairwise swaps (and moves to empty slots) of cores on ``slots``."""
    n, s = t.shape[0], slots.shape[0]
    d = (np.abs(slots[:, None, 0] - slots[None, :, 0]) + np.abs(slots[:, None, 1] - slots[None, :, 1])).astype(np.float64)
    occ = np.full(s, -1, _IDX)
    occ[pos] = np.arange(n)
    m = t @ d[pos]                               # m[a, q] = sum_j t[a, j] * d(q, pos_j)
    t0, swaps = time.perf_counter(), 0
    ar = np.arange(s)
    cost = 0.5 * float(np.sum(m[np.arange(n), pos]))
    # a swap worth less than 10^-4 of an average core's share is noise (on uniform random
    # traffic there are thousands, each costing a dense row update)
    worth = max(1e-9, 1e-4 * cost / max(n, 1))
    for _ in range(20):
        gained = 0.0
        for a in np.argsort(-t.sum(axis=1)):
            pa = pos[a]
            b = occ
            valid = b >= 0
            bb = np.where(valid, b, 0)
            delta = m[a] - m[a, pa]
            delta = delta + np.where(valid, m[bb, pa] - m[bb, ar] + 2.0 * t[a, bb] * d[pa], 0.0)
            delta[pa] = 0.0
            q = int(np.argmin(delta))
            if delta[q] < -worth:
                other = int(occ[q])
                nz = np.flatnonzero(t[:, a])         # core traffic is sparse on big meshes
                m[nz] += np.outer(t[nz, a], d[q] - d[pa])
                if other >= 0:
                    nz = np.flatnonzero(t[:, other])
                    m[nz] += np.outer(t[nz, other], d[pa] - d[q])
                    pos[other] = pa
                occ[pa], occ[q] = other, a
                pos[a] = q
                swaps += 1
                gained -= float(delta[q])
            if time.perf_counter() - t0 > budget_s:
                return pos, swaps
        cost -= gained
        if gained <= _STALL * cost:   # a sweep that gained almost nothing: the next would gain less
            break
    return pos, swaps


def _core_traffic(cores: _Cores, r: np.ndarray) -> np.ndarray:
    """Dense symmetric traffic matrix between cores (rate-weighted messages either way)."""
    n_cores = cores.n_cores
    u, c = cores.pairs
    own = cores.core_of[u]
    m = own != c
    t = np.bincount(own[m] * n_cores + c[m], weights=r[u[m]], minlength=n_cores * n_cores).reshape(n_cores, n_cores)
    return t + t.T


def _slots_of(cores: _Cores, r: np.ndarray, slots: np.ndarray, budget_s: float,
              pos: np.ndarray | None = None) -> tuple[np.ndarray, int]:
    """Slot of every core: a traffic-ordered chain on the curve then swaps (from ``pos`` when
    given); beyond ``_DENSE_CORES`` cores, the order of their units' mean index."""
    n_cores = cores.n_cores
    if n_cores > _DENSE_CORES:
        counts = np.maximum(1, np.bincount(cores.core_of, minlength=n_cores))
        mean = np.bincount(cores.core_of, weights=np.arange(cores.core_of.size, dtype=np.float64), minlength=n_cores)
        pos = np.empty(n_cores, _IDX)
        pos[np.argsort(mean / counts, kind="stable")] = np.arange(n_cores)
        return pos, 0
    t = _core_traffic(cores, r)
    if pos is None:
        pos = np.empty(n_cores, _IDX)
        pos[_chain(t)] = np.arange(n_cores)
    return _refine(t, pos.copy(), slots, budget_s)


def _renumbered(cores: _Cores) -> _Cores:
    """The same assignment without empty cores (the messages are carried over, renumbered)."""
    used = np.flatnonzero(np.bincount(cores.core_of, minlength=cores.n_cores))
    if used.size == cores.n_cores:
        return cores
    new = np.full(cores.n_cores, -1, _IDX)
    new[used] = np.arange(used.size)
    out = _Cores(cores.net, new[cores.core_of], used.size)
    if "pairs" in cores.__dict__:
        u, c = cores.pairs
        out.__dict__["pairs"] = (u, new[c])   # monotone renumbering: still sorted
    return out


def place(program: Program, spec: HardwareSpec, *, rates: Any = None, method: str = "refine",
          budget_s: float = 10.0, _net_: _Net | None = None) -> MappingResult:
    """Cores of ``program`` onto the mesh (see the module docstring); ``budget_s`` bounds the
    swap refinement (beyond ``_DENSE_CORES`` cores there is none)."""
    net = _net_ or _net(program)
    record, cores, xy = _place(program, spec, r=_rates(program, rates), method=method, budget_s=budget_s,
                               cores=_Cores(net, program.core_of, program.n_cores))
    return MappingResult(program.with_placement(cores.core_of, xy), record)


def _place(program: Program, spec: HardwareSpec, *, r: np.ndarray, method: str, budget_s: float,
           cores: _Cores) -> tuple[PassRecord, _Cores, np.ndarray]:
    if method not in ("refine", "sequential"):
        raise ResourceLimitError(f"method={method!r}", parameter="method", fix="use 'refine' or 'sequential'")
    t0 = time.perf_counter()
    cores = _renumbered(cores)
    n_cores = cores.n_cores
    chips, mx, my, width = _grid(n_cores, spec)
    per_chip = mx * my
    swaps = 0
    if method == "sequential":
        c = np.arange(n_cores)
        chip, local = np.divmod(c, per_chip)
        xy = np.stack([chip * mx + local % mx, local // mx], axis=1).astype(_IDX)
    else:
        slots = _gilbert(width, my)
        pos, swaps = _slots_of(cores, r, slots, budget_s)
        xy = slots[pos]
    figures = {"method": method, "cores": n_cores, "chips": chips, "mesh": f"{mx} x {my}", "swaps": swaps,
               "seconds": time.perf_counter() - t0}
    return PassRecord("place", (Change("program", f"{n_cores} cores on {chips} chip(s)"),), figures), cores, xy


# --- unit moves ------------------------------------------------------------------------------------------


class _MoveGains:
    """Exact change of hop-weighted multicast traffic if unit v alone moved to core B, for
    every (v, B): v's own messages now leave from B, and each source u of v stops sending to
    v's old core if v was its only target there, and starts sending to B if it had none there."""

    def __init__(self, net: _Net, r: np.ndarray, dist: np.ndarray) -> None:
        self.net, self.r, self.dist = net, r, dist
        in_ptr, in_src = net.in_csr
        in_dst = np.repeat(np.arange(net.n, dtype=_IDX), np.diff(in_ptr))
        other = in_src != in_dst              # a self-synapse moves with its unit
        self.in_src, self.in_dst = in_src[other], in_dst[other]
        self.in_ptr = _ptr(self.in_dst, net.n)

    def __call__(self, core_of: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(gain, cnt): the (unit, core) gains and how many targets each unit has on each core."""
        net, r, dist = self.net, self.r, self.dist
        n, c = net.n, dist.shape[0]
        cnt = np.bincount(net.src * c + core_of[net.dst], minlength=n * c).reshape(n, c)
        rows = np.arange(n)
        out = (cnt > 0) @ dist * r[:, None]                     # v's messages if v sat on B
        gain = out - out[rows, core_of][:, None]
        join = ((cnt == 0) * dist[core_of] * r[:, None]).astype(np.float32)   # u starts sending to B (float32: gathered per synapse)
        leave = (cnt == 1) * dist[core_of] * r[:, None]          # u stops sending to v's core
        gain -= np.bincount(self.in_dst, weights=leave[self.in_src, core_of[self.in_dst]], minlength=n)[:, None]
        step = max(1, (1 << 22) // max(1, c))
        for lo in range(0, n, step):                            # sum of join over the sources of v, by rows
            hi = min(n, lo + step)
            a, b = self.in_ptr[lo], self.in_ptr[hi]
            if a == b:
                continue
            seg = np.concatenate([join[self.in_src[a:b]], np.zeros((1, c), np.float32)])  # a row past the end: empty rows may start there
            has = np.diff(self.in_ptr[lo:hi + 1]) > 0
            sums = np.add.reduceat(seg, self.in_ptr[lo:hi] - a, axis=0)
            gain[lo:hi] += np.where(has[:, None], sums, 0.0)
        gain[rows, core_of] = 0.0
        return gain, cnt


def _pick_moves(gain: np.ndarray, cnt: np.ndarray, cores: _Cores, lim: Mapping[str, int | None]) -> list[tuple[int, int]]:
    """Improving moves, best first, kept apart (no two touching units: their gains would not
    add up), into cores with room (neurons, synapse memory, input axons) or paired with a
    swap back; (unit, new core) each.  Fan-out, and the fan-in of swaps, are checked after."""
    net, core_of, c = cores.net, cores.core_of, cores.n_cores
    best = np.argmin(gain, axis=1)
    g = gain[np.arange(net.n), best]
    cand = np.flatnonzero(g < -1e-9)
    cand = cand[np.argsort(g[cand], kind="stable")]
    inf = np.iinfo(np.int64).max // 4
    stats = cores.stats
    free_n = np.full(c, inf) if lim["neurons_per_core"] is None else lim["neurons_per_core"] - stats.neurons
    free_s = np.full(c, inf) if lim["synapses_per_core"] is None else lim["synapses_per_core"] - stats.synapses
    free_f = np.full(c, inf) if lim["fan_in_per_core"] is None else lim["fan_in_per_core"] - stats.fan_in
    order = np.argsort(core_of, kind="stable")
    bounds = np.searchsorted(core_of[order], np.arange(c + 1))
    in_ptr, in_src = net.in_csr
    out_ptr = net.out_ptr
    touched = np.zeros(net.n, bool)
    moves: list[tuple[int, int]] = []

    def take(v: int, to: int) -> None:
        moves.append((v, to))
        touched[v] = True
        touched[in_src[in_ptr[v]:in_ptr[v + 1]]] = True
        touched[net.dst[out_ptr[v]:out_ptr[v + 1]]] = True
        free_n[to] -= 1
        free_n[core_of[v]] += 1
        free_s[to] -= net.insyn[v]
        free_s[core_of[v]] += net.insyn[v]

    for v in cand.tolist():
        if touched[v]:
            continue
        a, b = int(core_of[v]), int(best[v])
        new_in = int(np.count_nonzero(cnt[in_src[in_ptr[v]:in_ptr[v + 1]], b] == 0))   # sources new to b
        if free_n[b] >= 1 and free_s[b] >= net.insyn[v] and free_f[b] >= new_in:
            free_f[b] -= new_in
            take(v, b)
            continue
        members = order[bounds[b]:bounds[b + 1]]
        members = members[~touched[members] & (net.insyn[members] <= free_s[a] + net.insyn[v])
                          & (net.insyn[v] <= free_s[b] + net.insyn[members])]
        if not members.size:
            continue
        w = int(members[np.argmin(gain[members, a])])
        if g[v] + gain[w, a] < -1e-9 and not touched[w]:
            take(v, b)
            take(w, a)
    return moves


def _move_units(cores: _Cores, xy: np.ndarray, r: np.ndarray, spec: HardwareSpec,
                budget_s: float) -> tuple[_Cores, int]:
    """Rounds of unit moves (see :class:`_MoveGains`) while hop-weighted traffic drops and
    every limit holds; a round whose moves do not pay off (their gains interact) is halved
    until it does.  Returns the new assignment and the number of units moved."""
    net, c = cores.net, cores.n_cores
    if c < 2 or max(net.n, net.src.size) * c > _REFINE_CELLS:
        return cores, 0
    t0 = time.perf_counter()
    lim = {k: _limit(spec, k) for k in LIMITS}
    dist = np.abs(xy[:, None, :] - xy[None, :, :]).sum(axis=2).astype(np.float64)
    gains = _MoveGains(net, r, dist)
    cost = cores.traffic(xy, r)["hops"]
    history = [cost]
    moved = 0
    while time.perf_counter() - t0 < budget_s:
        if len(history) > 3 and history[-4] - cost < _STALL * cost:
            break                                   # diminishing returns: leave the budget unspent
        moves = _pick_moves(*gains(cores.core_of), cores, lim)
        while moves:
            core_of = cores.core_of.copy()
            idx = np.array(moves, _IDX)
            core_of[idx[:, 0]] = idx[:, 1]
            trial = _Cores(net, core_of, c)
            bad = ~_fits(trial.stats, lim, LIMITS)
            new_cost = trial.traffic(xy, r)["hops"]
            if new_cost < cost - 1e-9 and not bad.any():
                cores, cost = trial, new_cost
                history.append(cost)
                moved += len(moves)
                break
            # drop the moves into or out of a core now over a limit; else (interacting gains) halve
            keep = ~(bad[idx[:, 1]] | bad[cores.core_of[idx[:, 0]]])
            moves = [m for m, k in zip(moves, keep.tolist()) if k] if bad.any() and not keep.all() else moves[: len(moves) // 2]
            if time.perf_counter() - t0 > budget_s:
                moves = []
        if not moves:
            break
    return cores, moved


def refine(program: Program, spec: HardwareSpec, *, rates: Any = None, budget_s: float = 10.0,
           _net_: _Net | None = None) -> MappingResult:
    """Moves of single units between the placed cores of ``program`` (see the module
    docstring), alternated with core swaps on the mesh, while hop-weighted traffic drops and
    every limit of ``spec`` holds; ``budget_s`` bounds the whole."""
    net = _net_ or _net(program)
    record, cores, xy = _refine_placed(program, spec, r=_rates(program, rates), budget_s=budget_s, xy=np.asarray(program.core_xy, _IDX),
                                       cores=_Cores(net, program.core_of, program.n_cores))
    return MappingResult(program.with_placement(cores.core_of, xy), record)


def _refine_placed(program: Program, spec: HardwareSpec, *, r: np.ndarray, budget_s: float, cores: _Cores,
                   xy: np.ndarray) -> tuple[PassRecord, _Cores, np.ndarray]:
    t0 = time.perf_counter()
    before = cores.traffic(xy, r)["hops"]
    moved = swaps = rounds = 0
    if 1 < cores.n_cores <= _DENSE_CORES:
        chips, mx, my, width = _grid(cores.n_cores, spec)
        slots = _gilbert(width, my)
        pos = _slot_index(xy, slots)
        for rounds in range(1, 4):    # units, then cores on the mesh, again while it pays
            left = budget_s - (time.perf_counter() - t0)
            cores, m = _move_units(cores, slots[pos], r, spec, 0.7 * left)
            if m == 0:
                break
            moved += m
            pos, s = _slots_of(cores, r, slots, 0.3 * left, pos)
            swaps += s
            if time.perf_counter() - t0 > budget_s:
                break
        if moved or swaps:
            xy = slots[pos]
    after = cores.traffic(xy, r)["hops"]
    figures = {"units_moved": moved, "core_swaps": swaps, "rounds": rounds, "hops_before": before,
               "hops_after": after, "seconds": time.perf_counter() - t0}
    change = Change("program", f"{moved} unit(s) moved between cores, {swaps} core swap(s)", {"units_moved": moved})
    return PassRecord("refine", (change,), figures), cores, xy


def _slot_index(xy: np.ndarray, slots: np.ndarray) -> np.ndarray:
    """Index in ``slots`` of each core's place."""
    width = int(max(slots[:, 0].max(), xy[:, 0].max())) + 1
    lookup = np.full(width * (int(max(slots[:, 1].max(), xy[:, 1].max())) + 1), -1, _IDX)
    lookup[slots[:, 0] + width * slots[:, 1]] = np.arange(slots.shape[0])
    pos = lookup[xy[:, 0] + width * xy[:, 1]]
    if np.any(pos < 0):
        raise ResourceLimitError("a core sits outside the chips' meshes", parameter="core_xy",
                                 fix="place the program with place() for this spec first")
    return pos


# --- route -----------------------------------------------------------------------------------------------


def route(program: Program, spec: HardwareSpec | None = None, *, rates: Any = None,
          _net_: _Net | None = None) -> MappingResult:
    """X-Y routes of every message: hop totals, per-link loads, per-core routing-table sizes
    (distinct destination cores) and input axons (distinct source units), checked against
    ``spec``'s fan-out / fan-in limits."""
    net = _net_ or _net(program)
    record = _route(program, spec, r=_rates(program, rates), cores=_Cores(net, program.core_of, program.n_cores),
                    xy=np.asarray(program.core_xy, _IDX))
    return MappingResult(program, record)


def _link_load(cores: _Cores, xy: np.ndarray, r: np.ndarray) -> float:
    """Largest rate-weighted load of one directed mesh link under X-Y routing (X first along
    the source's row, then Y along the destination's column): per axis, direction and line a
    difference array over the link positions (+w where a route enters, -w where it leaves;
    a route with no hop on an axis adds and removes w at the same place), summed up."""
    size = int(xy.max(initial=0)) + 2
    x, y = xy[:, 0], xy[:, 1]
    diff = np.zeros((2, 2 * size * size))      # axis; (direction, line, position)
    for own, dest, w in cores.slices(r):
        sx, sy, dx, dy = x[own], y[own], x[dest], y[dest]
        for axis, a, b, line in ((0, sx, dx, sy), (1, sy, dy, dx)):
            cell = ((a > b) * size + line) * size
            diff[axis] += np.bincount(cell + np.minimum(a, b), weights=w, minlength=diff.shape[1])
            diff[axis] -= np.bincount(cell + np.maximum(a, b), weights=w, minlength=diff.shape[1])
    return float(np.cumsum(diff.reshape(4, size, size), axis=2).max(initial=0.0))


def _route(program: Program, spec: HardwareSpec | None, *, r: np.ndarray, cores: _Cores, xy: np.ndarray) -> PassRecord:
    t0 = time.perf_counter()
    n_cores = xy.shape[0]
    stats = cores.stats
    if spec is not None:
        _check(stats, spec, stage="route")
    t = cores.traffic(xy, r)
    load = _link_load(cores, xy, r)
    figures = {"messages": t["messages"], "local_messages": t["local"], "hops": t["hops"], "hops_x": t["hops_x"],
               "hops_y": t["hops_y"], "max_link_load": load,
               "max_routing_table": int(stats.fan_out.max()) if n_cores else 0,
               "max_input_axons": int(stats.fan_in.max()) if n_cores else 0,
               "seconds": time.perf_counter() - t0}
    return PassRecord("route", (), figures)


# --- all of them -----------------------------------------------------------------------------------------


def map_program(program: Program, spec: HardwareSpec, *, rates: Any = None, method: str = "metis",
                budget_s: float = 10.0) -> MappingResult:
    """partition -> place -> refine -> route.  ``method="metis"`` (METIS + Hilbert seed +
    swap refinement + unit moves) or ``"sequential"`` (layer-order fill, row-by-row placement:
    the baseline).  ``budget_s`` bounds the placement's swaps and, again, the unit moves, per
    candidate.  The record's figures: cores, chips, per-step inter-core messages
    (``messages``) and hop-weighted traffic (``hops``) for ``rates`` (1 event per unit per
    step by default), the largest per-core use of every limit, the units moved, and the
    seconds of each stage summed over the candidates (``partition_s`` ... ``route_s``)."""
    t0 = time.perf_counter()
    net = _net(program)
    r = _rates(program, rates)
    best = None
    spent = dict.fromkeys(("partition_s", "place_s", "refine_s", "route_s"), 0.0)
    # METIS cuts few edges but may scatter a structure that layer order already keeps local
    # (a row-major sheet): the order-preserving fill, with the same refined placement, is a
    # second candidate, and the one with less hop-weighted traffic wins.
    for cand in (method,) if method == "sequential" else (method, "sequential"):
        p, cores = _partition(program, spec, r=r, method=cand, net=net)
        pl, cores, xy = _place(program, spec, r=r, method="sequential" if method == "sequential" else "refine",
                               budget_s=budget_s, cores=cores)
        ref = None
        # unit moves gain tens of per cent, not a factor of two: a candidate that far behind is not refined
        if method != "sequential" and (best is None or cores.traffic(xy, r)["hops"] < 2 * best[0][0]):
            ref, cores, xy = _refine_placed(program, spec, r=r, budget_s=budget_s, cores=cores, xy=xy)
        ro = _route(program, spec, r=r, cores=cores, xy=xy)
        for stage, rec in zip(spent, (p, pl, ref, ro)):
            spent[stage] += rec.figures["seconds"] if rec is not None else 0.0
        key = (ro.figures["hops"], ro.figures["messages"])
        if best is None or key < best[0]:    # kept without its messages (10^8 of them at worst)
            best = (key, p, pl, ref, ro, cand, cores.core_of, xy, cores.stats)
        del cores, xy
    _, p, pl, ref, ro, chosen, core_of, xy, stats = best
    del best, net           # the synapse pairs go before the program's arrays are copied once more
    figures = {"method": method, "partition": chosen, "cores": pl.figures["cores"], "chips": pl.figures["chips"],
               **{k: ro.figures[k] for k in ("messages", "local_messages", "hops", "hops_x", "hops_y",
                                              "max_link_load", "max_routing_table", "max_input_axons")},
               **{f"max_{name}": int(stats.of(name).max()) if stats.neurons.size else 0 for name in LIMITS},
               **spent, "units_moved": ref.figures["units_moved"] if ref is not None else 0}
    changes = p.changes + pl.changes + (ref.changes if ref is not None else ())
    final = program.with_placement(core_of, xy)
    figures["seconds"] = time.perf_counter() - t0
    return MappingResult(final, PassRecord("map", changes, figures))
