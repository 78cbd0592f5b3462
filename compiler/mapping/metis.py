"""The graph METIS partitions, and the call: METIS k-way on the symmetrised unit graph (edge
weight = summed rate of its sources, the standard edge-cut proxy for multicast traffic), with
vertex weights for whichever of neurons / synapse memory binds.  A graph of more than
``_DIRECT_PAIRS`` synapse pairs is first contracted into blocks of consecutive units (about
16 per core; each block keeps its heaviest edges), so METIS sees tens of thousands of
vertices whatever the network's size.

The parts METIS returns may break per-core limits (it balances one weight, approximately):
:mod:`.partition` repairs them.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ...hardware import HardwareSpec
from . import tuning
from .net import _IDX, _limit, _Net


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
    rows = max(1, tuning._CHUNK_CELLS // nb)
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

    direct = net.src.size <= tuning._DIRECT_PAIRS
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
        kwargs["vweights"] = (np.minimum(vweights, 2**30 // max(1, nv)).astype(np.int32)
                              if int(vweights.sum()) >= 2**31 else vweights.astype(np.int32))
    _, parts = pymetis.part_graph(min(k, nv), pymetis.CSRAdjacency(xadj, adjncy), **kwargs)
    parts = np.asarray(parts, _IDX)
    if b > 1:
        parts = parts[np.arange(net.n, dtype=_IDX) // b]
    order = np.argsort(parts, kind="stable")
    bounds = np.searchsorted(parts[order], np.arange(k + 1))
    return [order[bounds[i]:bounds[i + 1]] for i in range(k)], k
