"""Refine: once cores have places, single units move between cores (Fiduccia-Mattheyses
style, in batches of independent moves, with swaps where cores are full) where the exact
multicast hop-weighted traffic drops and every limit still holds: what METIS' edge cut and
a core-level placement cannot see (a message is per destination *core*, and its cost is the
hop distance).  Rounds alternate with core swaps (:func:`~.place._slots_of`) and stop at the
budget or when three of them gained less than ``_STALL`` of the traffic; beyond
``_REFINE_CELLS`` (unit or synapse pair) x core cells per round there are none.
"""

from __future__ import annotations

import time
from typing import Any, Mapping

import numpy as np

from ...hardware import HardwareSpec
from ...runtime.program import Program
from ..passes.base import Change, PassRecord
from . import tuning
from .cores import _Cores, _fits
from .mesh import _gilbert, _grid, _slot_index
from .net import _IDX, LIMITS, MappingResult, _limit, _Net, _net, _ptr, _rates
from .place import _slots_of


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
        # u starts sending to B (float32: gathered per synapse)
        join = ((cnt == 0) * dist[core_of] * r[:, None]).astype(np.float32)
        leave = (cnt == 1) * dist[core_of] * r[:, None]          # u stops sending to v's core
        gain -= np.bincount(self.in_dst, weights=leave[self.in_src, core_of[self.in_dst]], minlength=n)[:, None]
        step = max(1, (1 << 22) // max(1, c))
        for lo in range(0, n, step):                            # sum of join over the sources of v, by rows
            hi = min(n, lo + step)
            a, b = self.in_ptr[lo], self.in_ptr[hi]
            if a == b:
                continue
            # a row past the end: empty rows may start there
            seg = np.concatenate([join[self.in_src[a:b]], np.zeros((1, c), np.float32)])
            has = np.diff(self.in_ptr[lo:hi + 1]) > 0
            sums = np.add.reduceat(seg, self.in_ptr[lo:hi] - a, axis=0)
            gain[lo:hi] += np.where(has[:, None], sums, 0.0)
        gain[rows, core_of] = 0.0
        return gain, cnt


def _pick_moves(gain: np.ndarray, cnt: np.ndarray, cores: _Cores,
                lim: Mapping[str, int | None]) -> list[tuple[int, int]]:
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
    if c < 2 or max(net.n, net.src.size) * c > tuning._REFINE_CELLS:
        return cores, 0
    t0 = time.perf_counter()
    lim = {k: _limit(spec, k) for k in LIMITS}
    dist = np.abs(xy[:, None, :] - xy[None, :, :]).sum(axis=2).astype(np.float64)
    gains = _MoveGains(net, r, dist)
    cost = cores.traffic(xy, r)["hops"]
    history = [cost]
    moved = 0
    while time.perf_counter() - t0 < budget_s:
        if len(history) > 3 and history[-4] - cost < tuning._STALL * cost:
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
            moves = ([m for m, k in zip(moves, keep.tolist()) if k] if bad.any() and not keep.all()
                     else moves[: len(moves) // 2])
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
    record, cores, xy = _refine_placed(program, spec, r=_rates(program, rates), budget_s=budget_s,
                                       xy=np.asarray(program.core_xy, _IDX),
                                       cores=_Cores(net, program.core_of, program.n_cores))
    return MappingResult(program.with_placement(cores.core_of, xy), record)


def _refine_placed(program: Program, spec: HardwareSpec, *, r: np.ndarray, budget_s: float, cores: _Cores,
                   xy: np.ndarray) -> tuple[PassRecord, _Cores, np.ndarray]:
    t0 = time.perf_counter()
    before = cores.traffic(xy, r)["hops"]
    moved = swaps = rounds = 0
    if 1 < cores.n_cores <= tuning._DENSE_CORES:
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
