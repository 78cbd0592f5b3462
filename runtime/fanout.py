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

__all__ = ["FanoutTable", "fanout_tables", "synapse_coo"]

# Column order of FanoutTable.totals (csrc/engine.h SK_F_*).
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
    if j.kind == "dense":
        src, dst = np.divmod(np.arange(n_src * n_dst, dtype=np.int64), n_dst)
        return src, dst, (j.weight.T.reshape(-1) != 0)
    if j.kind == "sparse":
        return j.source_index, j.target_index, j.weight != 0
    g = j.geometry
    (cin, hin, win), (cout, hout, wout) = g["in_shape"], g["out_shape"]
    groups = g["groups"]
    cin_g, cout_g = cin // groups, cout // groups
    kh, kw = j.weight.shape[2:]
    srcs, dsts, nzs = [], [], []
    oy, ox = np.meshgrid(np.arange(hout), np.arange(wout), indexing="ij")
    co = np.repeat(np.arange(cout), cin_g)
    ci = np.tile(np.arange(cin_g), cout)
    c = (co // cout_g) * cin_g + ci  # the input channel each (co, ci) weight reads
    for ky in range(kh):
        for kx in range(kw):
            iy = oy * g["stride"][0] - g["padding"][0][0] + ky * g["dilation"][0]
            ix = ox * g["stride"][1] - g["padding"][1][0] + kx * g["dilation"][1]
            ok = (iy >= 0) & (iy < hin) & (ix >= 0) & (ix < win)
            pos_in, pos_out = (iy * win + ix)[ok], (oy * wout + ox)[ok]
            srcs.append((c[:, None] * (hin * win) + pos_in[None, :]).reshape(-1))
            dsts.append((co[:, None] * (hout * wout) + pos_out[None, :]).reshape(-1))
            nzs.append(np.repeat(j.weight[co, ci, ky, kx] != 0, pos_in.size))
    if not srcs:
        empty = np.zeros(0, np.int64)
        return empty, empty, np.zeros(0, bool)
    return np.concatenate(srcs), np.concatenate(dsts), np.concatenate(nzs)


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
        keys, syn = [], []
        for j in outgoing[pop.name]:
            t = program.index[j.target]
            src, dst, nz = synapse_coo(j, n, program.populations[t].size)
            key = src * n_cores + program.core_of[offsets[t] + dst]
            keys.append(key)
            syn.append(nz.astype(np.int64))
        if keys:
            key = np.concatenate(keys)
            nz = np.concatenate(syn)
            uniq, inv = np.unique(key, return_inverse=True)
            s_syn = np.bincount(inv, weights=nz, minlength=uniq.size).astype(np.int64)
            s_words = np.bincount(inv, minlength=uniq.size).astype(np.int64)
            keep = s_syn > 0  # no message (and no memory read) where every synapse is zero
            uniq, s_syn, s_words = uniq[keep], s_syn[keep], s_words[keep]
        else:
            uniq = s_syn = s_words = np.zeros(0, np.int64)
        src, core = np.divmod(uniq, n_cores)
        ptr = np.searchsorted(src, np.arange(n + 1)).astype(np.int64)
        local = core == own[src]
        d = np.abs(xy[core] - xy[own[src]])
        d[local] = 0
        totals = np.zeros((n, len(TOTAL_COLUMNS)), np.int64)
        for col, values in enumerate((s_syn, s_words, local, ~local, d[:, 0], d[:, 1])):
            totals[:, col] = np.bincount(src, weights=values, minlength=n).astype(np.int64)
        hops = d.sum(axis=1)
        if hops.size:
            np.maximum.at(totals[:, 6], src, hops)
        tables.append(FanoutTable(totals, ptr, core.astype(np.int32), s_syn, s_words))
    return tables
