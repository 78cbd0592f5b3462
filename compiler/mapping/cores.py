"""One assignment of units to cores and what follows from it: the messages (multicast: one
per source unit and destination core), the per-core use of every limit, and the traffic they
cost under given places (the engine's traffic model, see the package docstring).

Every stage asks these questions of many assignments, so :class:`_Cores` computes each
answer once and shares it (a net of 10^8 synapses has nearly as many messages).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any, Mapping

import numpy as np

from ...errors import ResourceLimitError
from ...hardware import HardwareSpec
from ...runtime.fanout import hops_xy, message_pairs
from ...runtime.program import Program
from . import tuning
from .net import _IDX, LIMITS, _limit, _Net, _net, _rates, _uniq


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
        for lo in range(0, u.size, tuning._CHUNK_CELLS):
            uu = u[lo:lo + tuning._CHUNK_CELLS]
            yield self.core_of[uu], c[lo:lo + tuning._CHUNK_CELLS], r[uu]

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
        # xy, r kept: ids stay theirs
        self.__dict__["_last_key"], self.__dict__["_last"] = (id(xy), id(r)), (xy, r, out)
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


def _fits(stats: CoreStats, lim: Mapping[str, int | None], names: tuple[str, ...]) -> np.ndarray:
    ok = np.ones(stats.neurons.size, bool)
    for name in names:
        if lim[name] is not None:
            ok &= stats.of(name) <= lim[name]
    return ok
