"""Per-neuron fan-out tables: what one event of a neuron costs, precomputed for the counters.

For each source neuron the engine needs, without touching its synapses: how many non-zero
synapses it drives (SOP), how many synapse words are read, and the messages its event
becomes under the placement: one per destination core holding at least one of its non-zero
synapses, local if that core is its own, otherwise routed X-Y over the mesh (hops along x
and y counted apart, because chips such as Loihi price them differently).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from ..errors import SimulationError
from .program import Program, Projection
from .synapses import expand

__all__ = ["FanoutTable", "fanout_tables", "engine_fanout_tables", "source_order", "synapse_coo", "message_pairs",
           "hops_xy"]

# Column order of FanoutTable.totals (csrc/engine.h SK_F_*, compared by tests/runtime/test_c_tables.py).
TOTAL_COLUMNS = ("syn", "words", "local", "remote", "hops_x", "hops_y", "hops_max")
# An entry of the engine's tables counts one source's synapse words on one core, so 32 bits hold
# it exactly unless a single neuron reads more words than that (refused).
_INT32_MAX = 2**31 - 1


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


def source_order(source: np.ndarray) -> np.ndarray | None:
    """The stable order that sorts synapses by source, or None when they already are (a fill in
    source order, the common case, then costs one comparison pass instead of a sort)."""
    if source.size < 2 or bool(np.all(source[1:] >= source[:-1])):
        return None
    return np.argsort(source, kind="stable")


def _by_source(j: Projection, n_src: int, n_dst: int) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray]:
    """(row_ptr, col, nz) of ``j``'s synapse words by source: CSR, or (None, None, nz) for a dense
    (n_src, n_dst) block of words."""
    if j.kind in ("dense", "crossbar"):
        return None, None, np.ascontiguousarray(j.weight.T != 0).view(np.uint8)
    s = expand(j, n_src, n_dst) if j.kind == "conv" else None
    src, dst, w = (s.source, s.target, s.weight) if s is not None else (j.source_index, j.target_index, j.weight)
    order = source_order(src)
    if order is not None:
        src, dst, w = src[order], dst[order], w[order]
    row_ptr = np.searchsorted(src, np.arange(n_src + 1)).astype(np.int64, copy=False)
    return row_ptr, dst.astype(np.int32), (w != 0).view(np.uint8)


def engine_fanout_tables(program: Program, engine: Any,
                         csr: Mapping[str, tuple[np.ndarray, np.ndarray, np.ndarray]] | None = None
                         ) -> list[FanoutTable]:
    """:func:`fanout_tables` built by the C engine (``engine``: its cffi module) in one pass over
    the synapses, without the sort: the same totals and entries, each source's entries in the
    order their cores first appear rather than by core (the engine only sums them).

    ``csr`` may give, by projection name, a sparse projection's (row_ptr, col, non-zero) by
    source already built (the engine's own synapse layout), so they are not built twice."""
    csr = csr or {}
    ffi, lib = engine.ffi, engine.lib
    offsets, pops = program.offsets, program.populations
    core_of = program.core_of.astype(np.int32)
    xy = np.ascontiguousarray(program.core_xy, np.int64)
    tables = []
    for k, pop in enumerate(pops):
        n = pop.size
        own = np.ascontiguousarray(core_of[offsets[k]: offsets[k] + n])
        keep: list[np.ndarray] = [own, xy]

        def ptr_of(arr: np.ndarray, ctype: str) -> Any:
            keep.append(arr)
            return ffi.cast(ctype + " *", ffi.from_buffer(arr))

        outs = [j for j in program.projections if j.source == pop.name]
        parts = ffi.new("sk_fan_part[]", max(1, len(outs)))
        read = np.zeros(n, np.int64)  # synapse words each source reads: its entries are at most these
        for q, j in enumerate(outs):
            t = program.index[j.target]
            n_dst = pops[t].size
            row_ptr, col, nz = csr[j.name] if j.name in csr else _by_source(j, n, n_dst)
            parts[q].dense, parts[q].n_dst = int(row_ptr is None), n_dst
            parts[q].nz = ptr_of(nz, "uint8_t")
            parts[q].dst_core = ptr_of(np.ascontiguousarray(core_of[offsets[t]: offsets[t] + n_dst]), "int32_t")
            if row_ptr is not None:
                parts[q].row_ptr, parts[q].col = ptr_of(row_ptr, "int64_t"), ptr_of(col, "int32_t")
            read += n_dst if row_ptr is None else np.diff(row_ptr)
        totals = np.zeros((n, len(TOTAL_COLUMNS)), np.int64)
        ptr = np.zeros(n + 1, np.int64)
        # Room for the most entries there can be; pages never written are never touched.
        room = max(1, int(np.minimum(read, program.n_cores).sum()))
        if read.size and int(read.max()) > _INT32_MAX:
            raise SimulationError(f"a neuron reads {int(read.max())} synapse words, beyond the engine's 32-bit "
                                  "fan-out entries", node=pop.name, limit=_INT32_MAX,
                                  fix="split the population's outgoing projections")
        core, syn, words = np.empty(room, np.int32), np.empty(room, np.int32), np.empty(room, np.int32)
        code = lib.sk_fanout(n, program.n_cores, len(outs), parts, ptr_of(own, "int32_t"), ptr_of(xy, "int64_t"),
                             ptr_of(totals, "int64_t"), ptr_of(ptr, "int64_t"), room, ptr_of(core, "int32_t"),
                             ptr_of(syn, "int32_t"), ptr_of(words, "int32_t"))
        if code:  # -2, a short room, would be a bug here: refused rather than written past
            raise SimulationError("the C engine could not build the fan-out tables "
                                  f"({'out of memory' if code == -1 else 'entry bound exceeded'})", node=pop.name,
                                  fix="free memory or run a smaller program")
        used = int(ptr[-1])
        core, syn, words = core[:used], syn[:used], words[:used]
        tables.append(FanoutTable(totals, ptr, core, syn, words))
    return tables
