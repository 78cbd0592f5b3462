"""Every synapse of a projection as flat lists, whatever its storage (dense, sparse, conv).

What a target needs to rebuild a projection in another form (a sparse matrix for Lava, rows
for a SpiNNaker core): source and target index, weight and per-synapse delay (``delay_base``
excluded), in a fixed order: dense row-major by target, sparse as stored, conv by kernel tap,
then (output channel, input channel), then output position.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .program import Program, Projection

__all__ = ["SynapseList", "expand", "program_synapses"]


@dataclass(frozen=True)
class SynapseList:
    source: np.ndarray
    target: np.ndarray
    weight: np.ndarray
    delay: np.ndarray


def expand(j: Projection, n_src: int, n_dst: int) -> SynapseList:
    """All synapses of ``j`` (zero weights included; filter on ``weight != 0`` if needed)."""
    if j.kind in ("dense", "crossbar"):
        dst, src = np.divmod(np.arange(n_src * n_dst, dtype=np.int64), n_src)
        delay = j.delay.reshape(-1) if j.delay is not None else np.zeros(dst.size, np.int64)
        return SynapseList(src, dst, j.weight.reshape(-1), delay)
    if j.kind == "sparse":
        delay = j.delay if j.delay is not None else np.zeros(j.weight.size, np.int64)
        return SynapseList(j.source_index, j.target_index, j.weight, delay)
    g = j.geometry
    (cin, hin, win), (cout, hout, wout) = g["in_shape"], g["out_shape"]
    cin_g, cout_g = cin // g["groups"], cout // g["groups"]
    kh, kw = j.weight.shape[2:]
    oy, ox = np.meshgrid(np.arange(hout), np.arange(wout), indexing="ij")
    co = np.repeat(np.arange(cout), cin_g)
    ci = np.tile(np.arange(cin_g), cout)
    c = (co // cout_g) * cin_g + ci  # the input channel each (co, ci) weight reads
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for ky in range(kh):
        for kx in range(kw):
            iy = oy * g["stride"][0] - g["padding"][0][0] + ky * g["dilation"][0]
            ix = ox * g["stride"][1] - g["padding"][1][0] + kx * g["dilation"][1]
            ok = (iy >= 0) & (iy < hin) & (ix >= 0) & (ix < win)
            pos_in, pos_out = (iy * win + ix)[ok], (oy * wout + ox)[ok]
            parts.append(((c[:, None] * (hin * win) + pos_in[None, :]).reshape(-1),
                          (co[:, None] * (hout * wout) + pos_out[None, :]).reshape(-1),
                          np.repeat(j.weight[co, ci, ky, kx], pos_in.size)))
    if not parts:
        empty = np.zeros(0, np.int64)
        return SynapseList(empty, empty, j.weight.reshape(-1)[:0], empty)
    src, dst, w = (np.concatenate(x) for x in zip(*parts))
    return SynapseList(src.astype(np.int64), dst.astype(np.int64), w, np.zeros(src.size, np.int64))


def program_synapses(program: Program) -> tuple[np.ndarray, np.ndarray]:
    """(source unit, target unit) of every non-zero synapse of ``program``, as global unit
    indices (population offset + index), all projections concatenated."""
    pre, post = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    for j in program.projections:
        s = expand(j, program.population(j.source).size, program.population(j.target).size)
        keep = s.weight != 0
        pre.append(s.source[keep] + program.offsets[program.index[j.source]])
        post.append(s.target[keep] + program.offsets[program.index[j.target]])
    return np.concatenate(pre), np.concatenate(post)
