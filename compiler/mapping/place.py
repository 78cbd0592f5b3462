"""Place: cores onto ``mesh_x x mesh_y`` chips tiled side by side along x (as many as
needed, at most ``chips``): a greedy traffic-ordered chain laid along a generalised Hilbert
curve (:mod:`.mesh`), refined by best-improvement pairwise swaps (moves to empty slots
included) on ``sum traffic(c1, c2) x hops(c1, c2)``.  Beyond ``_DENSE_CORES`` cores (no dense
core x core matrix) the cores are laid along the curve in the order of their units' mean
index.  ``method="sequential"``: row by row in core order.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from ...errors import ResourceLimitError
from ...hardware import HardwareSpec
from ...runtime.program import Program
from ..passes.base import Change, PassRecord
from . import tuning
from .cores import _Cores
from .mesh import _gilbert, _grid
from .net import _IDX, MappingResult, _Net, _net, _rates


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
    d = (np.abs(slots[:, None, 0] - slots[None, :, 0])
         + np.abs(slots[:, None, 1] - slots[None, :, 1])).astype(np.float64)
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
        if gained <= tuning._STALL * cost:   # a sweep that gained almost nothing: the next would gain less
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
    if n_cores > tuning._DENSE_CORES:
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
