"""Mapping: partition neurons onto cores, place the cores on the chip mesh, route the spikes.

Works on the lowered :class:`~spikec.runtime.Program` (the only form where neurons are flat):
every unit of every population (neurons, ``pass`` relays and ``input`` units alike) gets a
core, and counts against ``neurons_per_core``; inputs are not set apart, so an input unit can
share a core with the neurons it drives (how the C engine counts it, too).

Traffic model (the engine's, :mod:`spikec.runtime.fanout`): an event of unit *i* becomes one
message per distinct destination core holding one of its non-zero synapses (multicast), local
when that core is its own, otherwise routed X-Y over the mesh, costing the Manhattan distance
in hops.  With per-unit rates *r* (events per step; 1 when unknown) the figures are
``messages = sum_i r_i * remote destination cores of i`` and
``hops = sum_i r_i * sum over them of the hop distance``.

- :func:`partition` (``method="metis"``): METIS k-way on the symmetrised unit graph (edge
  weight = summed rate of its sources, the standard edge-cut proxy for multicast traffic),
  with vertex weights for whichever of neurons / synapse memory binds; then every per-core
  limit is enforced by refilling a violating part greedily (in index order) into cores that
  fit.  ``method="sequential"`` is the baseline most toolchains use: fill cores in
  population (layer) order under the same limits.
- :func:`place`: cores onto ``mesh_x x mesh_y`` chips tiled side by side along x (as many as
  needed, at most ``chips``): a greedy traffic-ordered chain laid along a generalised Hilbert
  curve, refined by best-improvement pairwise swaps (moves to empty slots included) on
  ``sum traffic(c1, c2) x hops(c1, c2)``.  ``method="sequential"``: row by row in core order.
- :func:`route`: X-Y routes; per-core routing table = distinct destination cores, input axons
  = distinct source units; link loads and hop totals; checked against the spec.

Per-core limits as counted here: ``neurons_per_core`` units on the core;
``synapses_per_core`` non-zero synapses whose target is on the core (a convolution counts
every expanded synapse: a core stores what it receives); ``fan_in_per_core`` distinct source
units with a non-zero synapse into the core; ``fan_out_per_core`` distinct *other* cores the
core's units send to (its routing-table entries).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from ...errors import ResourceLimitError
from ...runtime.fanout import synapse_coo
from ...runtime.program import Program
from ...targets.spec import HardwareSpec
from .base import Change, PassRecord

__all__ = [
    "MappingResult", "CoreStats", "partition", "place", "route", "map_program", "traffic", "core_stats",
    "chips_needed", "LIMITS",
]

LIMITS = ("neurons_per_core", "synapses_per_core", "fan_in_per_core", "fan_out_per_core")
_IDX = np.int64


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
        return getattr(self, limit.replace("_per_core", ""))


# --- the flat synapse structure ----------------------------------------------------------------------


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


def _net(program: Program) -> _Net:
    off = program.offsets
    n = int(off[-1])
    srcs, dsts = [], []
    for j in program.projections:
        s, t = program.index[j.source], program.index[j.target]
        src, dst, nz = synapse_coo(j, program.populations[s].size, program.populations[t].size)
        srcs.append(np.asarray(src, _IDX)[nz] + off[s])
        dsts.append(np.asarray(dst, _IDX)[nz] + off[t])
    src = np.concatenate(srcs) if srcs else np.zeros(0, _IDX)
    dst = np.concatenate(dsts) if dsts else np.zeros(0, _IDX)
    insyn = np.bincount(dst, minlength=n).astype(_IDX)
    key = _uniq(src * n + dst)
    src, dst = np.divmod(key, n)
    return _Net(n, src, dst, insyn, tuple(p.name for p in program.populations), np.asarray(off, _IDX))


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


def _uniq(a: np.ndarray) -> np.ndarray:
    """Sorted distinct values (sort-based: numpy 2's hash-based np.unique is several times slower here)."""
    a = np.sort(a)
    return a[np.concatenate([[True], a[1:] != a[:-1]])] if a.size else a


def _limit(spec: HardwareSpec, name: str) -> int | None:
    v = spec.value(name)
    return None if v is None else int(v)


# --- per-core figures ------------------------------------------------------------------------------------


def _pairs_to_cores(net: _Net, core_of: np.ndarray, n_cores: int) -> tuple[np.ndarray, np.ndarray]:
    """Unique (source unit, destination core) pairs: the messages of one event of each unit."""
    key = _uniq(net.src * n_cores + core_of[net.dst])
    return np.divmod(key, n_cores)


def _stats(net: _Net, core_of: np.ndarray, n_cores: int) -> CoreStats:
    neurons = np.bincount(core_of, minlength=n_cores).astype(_IDX)
    synapses = np.bincount(core_of, weights=net.insyn, minlength=n_cores).astype(_IDX)
    u, c = _pairs_to_cores(net, core_of, n_cores)
    fan_in = np.bincount(c, minlength=n_cores).astype(_IDX)
    own = core_of[u]
    remote = own != c
    cc = _uniq(own[remote] * n_cores + c[remote])
    fan_out = np.bincount(cc // n_cores, minlength=n_cores).astype(_IDX)
    return CoreStats(neurons, synapses, fan_in, fan_out)


def core_stats(program: Program) -> CoreStats:
    """Per-core use of every limited resource under ``program``'s placement."""
    return _stats(_net(program), np.asarray(program.core_of, _IDX), program.n_cores)


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
    return _traffic(net, np.asarray(program.core_of, _IDX), np.asarray(program.core_xy, _IDX), r)


def _traffic(net: _Net, core_of: np.ndarray, xy: np.ndarray, r: np.ndarray) -> dict[str, float]:
    u, c = _pairs_to_cores(net, core_of, xy.shape[0])
    own = core_of[u]
    remote = own != c
    d = np.abs(xy[c] - xy[own])
    w = r[u]
    hx, hy = float(w @ d[:, 0]), float(w @ d[:, 1])
    return {"local": float(w[~remote].sum()), "messages": float(w[remote].sum()), "hops_x": hx, "hops_y": hy,
            "hops": hx + hy}


# --- partition -------------------------------------------------------------------------------------------


class _Filler:
    """Greedy fill of an ordered list of units into cores that meet every limit."""

    def __init__(self, net: _Net, spec: HardwareSpec) -> None:
        self.net = net
        self.lim = {k: _limit(spec, k) for k in LIMITS}
        self.spec = spec
        # in-pairs by destination (CSR), out-pairs by source (CSR; net is sorted by src)
        order = np.argsort(net.dst, kind="stable")
        self.in_src = net.src[order]
        self.in_ptr = np.searchsorted(net.dst[order], np.arange(net.n + 1))
        self.out_dst = net.dst
        self.out_ptr = np.searchsorted(net.src, np.arange(net.n + 1))

    @staticmethod
    def _gather(ptr: np.ndarray, vals: np.ndarray, members: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(position in members, value) of every CSR entry of ``members``."""
        lo, hi = ptr[members], ptr[members + 1]
        cnt = hi - lo
        pos = np.repeat(np.arange(members.size), cnt)
        start = np.repeat(lo - np.concatenate([[0], np.cumsum(cnt)[:-1]]), cnt)
        return pos, vals[start + np.arange(pos.size)]

    def _prefix_cap(self, pos: np.ndarray, key: np.ndarray, lim: int) -> int:
        """Longest prefix whose distinct ``key`` count stays <= lim (entries ordered by pos)."""
        if key.size == 0:
            return 1 << 62
        uniq, first = np.unique(key, return_index=True)  # first occurrence in pos order
        if uniq.size <= lim:
            return 1 << 62
        firstpos = np.sort(pos[first])
        return int(firstpos[lim])

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
                pos, s = self._gather(self.in_ptr, self.in_src, window)
                length = min(length, self._prefix_cap(pos, s, lim["fan_in_per_core"]))
            if inside is not None and length:
                pos, d = self._gather(self.out_ptr, self.out_dst, window)
                out_of = ~inside[d]
                pos_o = pos[out_of]
                order = np.argsort(pos_o, kind="stable")
                length = min(length, self._prefix_cap(pos_o[order], core_of[d[out_of]][order], lim["fan_out_per_core"]))
            if length <= 0:
                self._too_big(int(members[start]))
            out.append(members[start:start + length])
            start += length
        return out

    def _too_big(self, unit: int) -> None:
        net, lim = self.net, self.lim
        fan_in = int(self.in_ptr[unit + 1] - self.in_ptr[unit])
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


def _enforce(filler: _Filler, groups: list[np.ndarray], n: int) -> tuple[np.ndarray, int, int]:
    """Refill groups over a limit; then split cores over the fan-out limit until none is."""
    lim = filler.lim
    groups = [g for g in groups if g.size]
    core_of = _assign(groups, n)
    stats = _stats(filler.net, core_of, len(groups))
    ok = _fits(stats, lim, LIMITS[:3])
    repaired = int((~ok).sum())
    if repaired:
        groups = _refill(filler, groups, ok)
        core_of = _assign(groups, n)
        stats = _stats(filler.net, core_of, len(groups))
    rounds = 0
    while lim["fan_out_per_core"] is not None:
        bad = np.flatnonzero(stats.fan_out > lim["fan_out_per_core"])
        if not bad.size:
            break
        rounds += 1
        if rounds > 50:
            _check(stats, filler.spec, stage="partition")
        badset = set(bad.tolist())
        new: list[np.ndarray] = []
        for c, grp in enumerate(groups):
            new.extend(filler.chunks(grp, core_of) if c in badset else [grp])
        groups = new
        core_of = _assign(groups, n)
        stats = _stats(filler.net, core_of, len(groups))
    return core_of, len(groups), repaired


def _metis_groups(net: _Net, r: np.ndarray, spec: HardwareSpec) -> tuple[list[np.ndarray], int]:
    import pymetis

    n = net.n
    ncap, scap = _limit(spec, "neurons_per_core"), _limit(spec, "synapses_per_core")
    total_syn = int(net.insyn.sum())
    k_neu = math.ceil(n / ncap) if ncap else 1
    k_syn = math.ceil(total_syn / scap) if scap else 1
    if scap and k_syn > k_neu:
        vweights = net.insyn + 1
        k = math.ceil(int(vweights.sum()) / (scap * 0.98))
    else:
        vweights = None
        k = math.ceil(n / (ncap * 0.98)) if ncap else 1
    k = max(1, min(k, n))
    if k == 1:
        return [np.arange(n, dtype=_IDX)], 1
    # Symmetric, loop-free, weighted: edge {u, v} weighs the rates of the directed pairs it merges.
    loop = net.src == net.dst
    a, b, w = net.src[~loop], net.dst[~loop], r[net.src[~loop]]
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    key, inv = np.unique(lo * n + hi, return_inverse=True)
    wsum = np.bincount(inv.reshape(-1), weights=w, minlength=key.size)
    u, v = np.divmod(key, n)
    top = float(wsum.max()) if wsum.size else 1.0
    scale = min(1000.0, (2**30) / max(1.0, 2.0 * float(wsum.sum()) / max(top, 1e-300))) / max(top, 1e-300)
    ew = np.maximum(1, np.rint(wsum * scale)).astype(np.int64)
    rows = np.concatenate([u, v])
    cols = np.concatenate([v, u])
    ews = np.concatenate([ew, ew])
    order = np.lexsort((cols, rows))
    rows, cols, ews = rows[order], cols[order], ews[order]
    xadj = np.searchsorted(rows, np.arange(n + 1)).astype(np.int32)
    adjncy = cols.astype(np.int32)
    eweights = ews.astype(np.int32)
    if adjncy.size:  # what METIS takes on trust
        assert not np.any(rows == cols) and eweights.min() >= 1 and xadj[-1] == adjncy.size
    opts = pymetis.Options(ufactor=10, seed=1)
    kwargs: dict[str, Any] = {"eweights": eweights, "options": opts}
    if vweights is not None:
        kwargs["vweights"] = np.minimum(vweights, 2**30 // max(1, n)).astype(np.int32) if int(vweights.sum()) >= 2**31 else vweights.astype(np.int32)
    _, parts = pymetis.part_graph(k, pymetis.CSRAdjacency(xadj, adjncy), **kwargs)
    parts = np.asarray(parts, _IDX)
    order = np.argsort(parts, kind="stable")
    bounds = np.searchsorted(parts[order], np.arange(k + 1))
    return [order[bounds[i]:bounds[i + 1]] for i in range(k)], k


def partition(program: Program, spec: HardwareSpec, *, rates: Any = None, method: str = "metis",
              _net_: _Net | None = None) -> MappingResult:
    """Units onto cores under every per-core limit of ``spec`` (see the module docstring).

    The cores are laid out in a row (``core_xy``), to be replaced by :func:`place`."""
    if method not in ("metis", "sequential"):
        raise ResourceLimitError(f"method={method!r}", parameter="method", fix="use 'metis' or 'sequential'")
    t0 = time.perf_counter()
    net = _net_ or _net(program)
    r = _rates(program, rates)
    filler = _Filler(net, spec)
    if method == "sequential":
        groups, k = filler.chunks(np.arange(net.n, dtype=_IDX)), 0
    else:
        groups, k = _metis_groups(net, r, spec)
    core_of, n_cores, repaired = _enforce(filler, groups, net.n)
    stats = _stats(net, core_of, n_cores)
    _check(stats, spec, stage="partition")
    xy = np.stack([np.arange(n_cores), np.zeros(n_cores, _IDX)], axis=1)
    prog = program.with_placement(core_of, xy)
    t = _traffic(net, core_of, xy, r)
    figures = {"method": method, "cores": n_cores, "units": net.n, "synapses": int(net.insyn.sum()),
               "messages": t["messages"], "local_messages": t["local"],
               **{f"max_{name}": int(stats.of(name).max()) if n_cores else 0 for name in LIMITS},
               "seconds": time.perf_counter() - t0}
    changes = [Change("program", f"{net.n} units onto {n_cores} cores ({method})", {"cores": n_cores})]
    if method == "metis":
        figures["metis_parts"] = k
        figures["parts_refilled"] = repaired
    return MappingResult(prog, PassRecord("partition", tuple(changes), figures))


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


def _core_traffic(net: _Net, core_of: np.ndarray, n_cores: int, r: np.ndarray) -> np.ndarray:
    """Dense symmetric traffic matrix between cores (rate-weighted messages either way)."""
    u, c = _pairs_to_cores(net, core_of, n_cores)
    own = core_of[u]
    m = own != c
    t = np.bincount(own[m] * n_cores + c[m], weights=r[u[m]], minlength=n_cores * n_cores).reshape(n_cores, n_cores)
    return t + t.T


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
    for _ in range(20):
        improved = False
        for a in np.argsort(-t.sum(axis=1)):
            pa = pos[a]
            b = occ
            valid = b >= 0
            bb = np.where(valid, b, 0)
            delta = m[a] - m[a, pa]
            delta = delta + np.where(valid, m[bb, pa] - m[bb, ar] + 2.0 * t[a, bb] * d[pa], 0.0)
            delta[pa] = 0.0
            q = int(np.argmin(delta))
            if delta[q] < -1e-9:
                other = int(occ[q])
                m += np.outer(t[:, a], d[q] - d[pa])
                if other >= 0:
                    m += np.outer(t[:, other], d[pa] - d[q])
                    pos[other] = pa
                occ[pa], occ[q] = other, a
                pos[a] = q
                swaps += 1
                improved = True
            if time.perf_counter() - t0 > budget_s:
                return pos, swaps
        if not improved:
            break
    return pos, swaps


def place(program: Program, spec: HardwareSpec, *, rates: Any = None, method: str = "refine",
          budget_s: float = 10.0, _net_: _Net | None = None) -> MappingResult:
    """Cores of ``program`` onto the mesh (see the module docstring); ``budget_s`` bounds the
    swap refinement (a core count beyond 4096 gets the Hilbert seed only)."""
    if method not in ("refine", "sequential"):
        raise ResourceLimitError(f"method={method!r}", parameter="method", fix="use 'refine' or 'sequential'")
    t0 = time.perf_counter()
    n_cores = program.n_cores
    used = np.unique(program.core_of)
    core_of = np.searchsorted(used, program.core_of).astype(_IDX)   # drop empty cores
    n_cores = used.size
    chips, mx, my, width = _grid(n_cores, spec)
    per_chip = mx * my
    swaps = 0
    if method == "sequential":
        c = np.arange(n_cores)
        chip, local = np.divmod(c, per_chip)
        xy = np.stack([chip * mx + local % mx, local // mx], axis=1).astype(_IDX)
    else:
        net = _net_ or _net(program)
        r = _rates(program, rates)
        slots = _gilbert(width, my)
        if n_cores <= 4096:
            t = _core_traffic(net, core_of, n_cores, r)
            order = _chain(t)
            pos = np.empty(n_cores, _IDX)
            pos[order] = np.arange(n_cores)
            pos, swaps = _refine(t, pos, slots, budget_s)
        else:
            pos = np.arange(n_cores)
        xy = slots[pos]
    prog = program.with_placement(core_of, xy)
    figures = {"method": method, "cores": n_cores, "chips": chips, "mesh": f"{mx} x {my}", "swaps": swaps,
               "seconds": time.perf_counter() - t0}
    return MappingResult(prog, PassRecord("place", (Change("program", f"{n_cores} cores on {chips} chip(s)"),), figures))


# --- route -----------------------------------------------------------------------------------------------


def route(program: Program, spec: HardwareSpec | None = None, *, rates: Any = None,
          _net_: _Net | None = None) -> MappingResult:
    """X-Y routes of every message: hop totals, per-link loads, per-core routing-table sizes
    (distinct destination cores) and input axons (distinct source units), checked against
    ``spec``'s fan-out / fan-in limits."""
    t0 = time.perf_counter()
    net = _net_ or _net(program)
    r = _rates(program, rates)
    core_of, xy = np.asarray(program.core_of, _IDX), np.asarray(program.core_xy, _IDX)
    n_cores = xy.shape[0]
    stats = _stats(net, core_of, n_cores)
    if spec is not None:
        _check(stats, spec, stage="route")
    t = _traffic(net, core_of, xy, r)
    # link loads: X first along the source row, then Y along the destination column
    u, c = _pairs_to_cores(net, core_of, n_cores)
    own = core_of[u]
    m = own != c
    w, s, dd = r[u[m]], xy[own[m]], xy[c[m]]
    max_x = int(xy[:, 0].max()) + 2
    max_y = int(xy[:, 1].max()) + 2
    load = 0.0
    for axis, fixed_xy, other in ((0, s, 1), (1, dd, 0)):
        a, b = s[:, axis], dd[:, axis]
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        size = max_x if axis == 0 else max_y
        line = fixed_xy[:, other]
        for direction in (a < b, a > b):
            diff = np.zeros((max(max_x, max_y) + 1, size + 1))
            np.add.at(diff, (line[direction], lo[direction]), w[direction])
            np.add.at(diff, (line[direction], hi[direction]), -w[direction])
            if diff.size:
                load = max(load, float(np.cumsum(diff, axis=1).max(initial=0.0)))
    figures = {"messages": t["messages"], "local_messages": t["local"], "hops": t["hops"], "hops_x": t["hops_x"],
               "hops_y": t["hops_y"], "max_link_load": load,
               "max_routing_table": int(stats.fan_out.max()) if n_cores else 0,
               "max_input_axons": int(stats.fan_in.max()) if n_cores else 0,
               "seconds": time.perf_counter() - t0}
    return MappingResult(program, PassRecord("route", (), figures))


# --- all three -------------------------------------------------------------------------------------------


def map_program(program: Program, spec: HardwareSpec, *, rates: Any = None, method: str = "metis",
                budget_s: float = 10.0) -> MappingResult:
    """partition -> place -> route.  ``method="metis"`` (METIS + Hilbert seed + swap
    refinement) or ``"sequential"`` (layer-order fill, row-by-row placement: the baseline).
    The record's figures: cores, chips, per-step inter-core messages (``messages``) and
    hop-weighted traffic (``hops``) for ``rates`` (1 event per unit per step by default),
    the largest per-core use of every limit, and the seconds of each stage."""
    t0 = time.perf_counter()
    net = _net(program)
    if method == "sequential":
        p = partition(program, spec, rates=rates, method=method, _net_=net)
        pl = place(p.program, spec, rates=rates, method="sequential", budget_s=budget_s, _net_=net)
        ro = route(pl.program, spec, rates=rates, _net_=net)
        chosen = "sequential"
    else:
        # METIS cuts few edges but may scatter a structure that layer order already keeps local
        # (a row-major sheet): the order-preserving fill, with the same refined placement, is a
        # second candidate, and the one with less hop-weighted traffic wins.
        best = None
        for cand in (method, "sequential"):
            p = partition(program, spec, rates=rates, method=cand, _net_=net)
            pl = place(p.program, spec, rates=rates, method="refine", budget_s=budget_s, _net_=net)
            ro = route(pl.program, spec, rates=rates, _net_=net)
            key = (ro.record.figures["hops"], ro.record.figures["messages"])
            if best is None or key < best[0]:
                best = (key, p, pl, ro, cand)
        _, p, pl, ro, chosen = best
    figures = {"method": method, "partition": chosen, "cores": pl.record.figures["cores"], "chips": pl.record.figures["chips"],
               **{k: ro.record.figures[k] for k in ("messages", "local_messages", "hops", "hops_x", "hops_y",
                                                    "max_link_load", "max_routing_table", "max_input_axons")},
               **{k: v for k, v in p.record.figures.items() if k.startswith("max_")},
               "partition_s": p.record.figures["seconds"], "place_s": pl.record.figures["seconds"],
               "route_s": ro.record.figures["seconds"], "seconds": time.perf_counter() - t0}
    changes = p.record.changes + pl.record.changes
    return MappingResult(pl.program, PassRecord("map", changes, figures))
