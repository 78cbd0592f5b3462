"""Partition: units onto cores under every per-core limit of the spec.

``method="metis"``: the parts of :func:`~.metis._metis_groups`, then every per-core limit is
enforced by refilling a violating part greedily (in index order) into cores that fit, and
cores over the fan-out limit are split until none is.  ``method="sequential"`` is the
baseline most toolchains use: fill cores in population (layer) order under the same limits.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from ...errors import ResourceLimitError
from ...hardware import HardwareSpec
from ...runtime.program import Program
from ..passes.base import Change, PassRecord
from .cores import _check, _Cores, _fits
from .metis import _metis_groups
from .net import _IDX, LIMITS, MappingResult, _limit, _Net, _net, _rates


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
                    f"unit {net.unit_name(unit)} alone needs {need} for {name}; "
                    "no core can hold it, on any number of chips",
                    node=net.unit_name(unit), parameter=name,
                    limit=f"{lim[name]} ({getattr(self.spec, name).source})",
                    fix="split the neuron's inputs over relay neurons, or choose a target with larger cores")
        raise ResourceLimitError(f"unit {net.unit_name(unit)} alone sends to more other cores "
                                 "than a routing table holds, given where its targets were put "
                                 "(fan-out is repaired by splitting cores only)", node=net.unit_name(unit),
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


def partition(program: Program, spec: HardwareSpec, *, rates: Any = None, method: str = "metis",
              _net_: _Net | None = None) -> MappingResult:
    """Units onto cores under every per-core limit of ``spec`` (see the module docstring).

    The cores are laid out in a row (``core_xy``), to be replaced by :func:`place`."""
    record, cores = _partition(program, spec, r=_rates(program, rates), method=method, net=_net_ or _net(program))
    return MappingResult(program.with_placement(cores.core_of, _row(cores.n_cores)), record)


def _row(n_cores: int) -> np.ndarray:
    return np.stack([np.arange(n_cores), np.zeros(n_cores, _IDX)], axis=1)


def _partition(program: Program, spec: HardwareSpec, *, r: np.ndarray, method: str,
               net: _Net) -> tuple[PassRecord, _Cores]:
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
