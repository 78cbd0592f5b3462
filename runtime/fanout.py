"""Per-neuron fan-out tables: what one event of a neuron costs, precomputed for the counters.

For each source neuron the engine needs, without touching its synapses: how many non-zero
synapses it drives (SOP), how many synapse words are read, and the messages its event
becomes under the placement: one per destination core holding at least one of its non-zero
synapses, local if that core is its own, otherwise routed X-Y over the mesh (hops along x
and y counted apart, because chips such as Loihi price them differently).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .program import Program, Projection
from .synapses import expand

__all__ = ["FanoutTable", "fanout_tables", "synapse_coo", "message_pairs", "hops_xy"]

# Column order of FanoutTable.totals (csrc/engine.h SK_F_*, compared by tests/runtime/test_c_tables.py).
TOTAL_COLUMNS = ("syn", "words", "local", "remote", "hops_x", "hops_y", "hops_max")


@dataclass(frozen=True)
class FanoutTable:
    """Fan-out of one population: per-neuron ``totals`` (size, 7) and, per neuron ``i``, the
    entries ``ptr[i]:ptr[i+1]`` of (destination ``core``, ``syn``, ``words``)."""

    totals: np.ndarray
    ptr: np.ndarray
    core: np.ndarray
    syn: np.ndarray
    words: np.ndarray


def synapse_coo(j: Projection, n_src: int, n_dst: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(source, target, non-zero) of every synapse word the engine reads for ``j``."""
    if j.kind in ("dense", "crossbar"):  # source-major: the keys of a layer-order fill come out sorted
        src, dst = np.divmod(np.arange(n_src * n_dst, dtype=np.int64), n_dst)
        return src, dst, (j.weight.T.reshape(-1) != 0)
    s = expand(j, n_src, n_dst)
    return s.source, s.target, s.weight != 0


def message_pairs(src: np.ndarray, dst_core: np.ndarray, n_cores: int, *,
                  counts: bool = False) -> tuple[np.ndarray, ...]:
    """The messages of one event of every source: the distinct (source, destination core) pairs
    of the synapses ``src[i] -> a unit on core dst_core[i]``, sorted by source then core (the
    multicast rule: one message per destination core, however many synapses it holds there).
    With ``counts``, also how many of the synapses each pair stands for.

    One sort of packed int64 keys: the mapping calls this on 10^8 synapses, where argsort or
    ``np.unique(return_inverse=True)`` would take several times longer."""
    key = np.asarray(src, np.int64) * n_cores
    key += dst_core
    if key.size > 1 and not np.all(key[1:] >= key[:-1]):  # a fill in layer order gives sorted keys
        key.sort()
    first = np.ones(key.size, bool)
    np.not_equal(key[1:], key[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    u, c = np.divmod(key[starts], n_cores)
    if not counts:
        return u, c
    return u, c, np.diff(np.append(starts, key.size))


def hops_xy(xy: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """X and Y hops of an X-Y route from core ``a`` to core ``b`` (element-wise) on a mesh
    whose cores sit at ``xy``: the Manhattan distance, per axis."""
    x, y = xy[:, 0], xy[:, 1]     # 1-D gathers: several times faster than gathering rows of xy
    return np.abs(x[b] - x[a]), np.abs(y[b] - y[a])


def fanout_tables(program: Program) -> list[FanoutTable]:
    """One :class:`FanoutTable` per population, in execution order."""
    n_cores = program.n_cores
    xy = program.core_xy
    offsets = program.offsets
    outgoing: dict[str, list[Projection]] = {p.name: [] for p in program.populations}
    for j in program.projections:
        outgoing[j.source].append(j)
    tables = []
    for k, pop in enumerate(program.populations):
        n = pop.size
        own = program.core_of[offsets[k]: offsets[k] + n]
        srcs, cores, nzs = [], [], []
        for j in outgoing[pop.name]:
            t = program.index[j.target]
            src, dst, nz = synapse_coo(j, n, program.populations[t].size)
            srcs.append(np.asarray(src, np.int64))
            cores.append(program.core_of[offsets[t] + dst])
            nzs.append(nz)
        if srcs:
            src_all, core_all, nz = np.concatenate(srcs), np.concatenate(cores), np.concatenate(nzs)
            # words: every synapse read; syn and the message itself: the non-zero ones only
            wu, wc, words = message_pairs(src_all, core_all, n_cores, counts=True)
            src, core, s_syn = message_pairs(src_all[nz], core_all[nz], n_cores, counts=True)
            s_words = words[np.searchsorted(wu * n_cores + wc, src * n_cores + core)]
        else:
            src = core = s_syn = s_words = np.zeros(0, np.int64)
        ptr = np.searchsorted(src, np.arange(n + 1)).astype(np.int64)
        local = core == own[src]
        dx, dy = hops_xy(xy, own[src], core)
        d = np.stack([dx, dy], axis=1)
        d[local] = 0
        totals = np.zeros((n, len(TOTAL_COLUMNS)), np.int64)
        for col, values in enumerate((s_syn, s_words, local, ~local, d[:, 0], d[:, 1])):
            totals[:, col] = np.bincount(src, weights=values, minlength=n).astype(np.int64)
        hops = d.sum(axis=1)
        if hops.size:
            np.maximum.at(totals[:, 6], src, hops)
        tables.append(FanoutTable(totals, ptr, core.astype(np.int32), s_syn, s_words))
    return tables
