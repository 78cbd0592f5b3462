"""A Xylo configuration as an engine program of ``xylo`` populations, and back.

:func:`xylo_program` writes a :class:`~.lower.XyloMapping` as the program the C engine runs:
the input population, one ``xylo`` population per hidden population (two synaptic currents,
up to 31 spikes a step) and the output one (one current, one spike), in Xylo's numbering
order (input, hidden by index, output: the engine adds events in that order, as Xylo does).
Each weight matrix block becomes one projection per synaptic current, one step per hop.
:func:`.lower.read_xylo` reads such a program back into the mapping (what the cycle model prices).
"""

from __future__ import annotations

import numpy as np

from ...runtime.program import Population, Program, Projection
from .lower import XyloMapping
from .reference import MAX_HIDDEN_SPIKES, MAX_INPUT_EVENTS, MAX_OUTPUT_SPIKES

__all__ = ["xylo_program"]

# Below this density a block is stored sparse: Xylo's fan-in of 63 leaves large blocks sparse.
_DENSE_FROM = 0.25


def _block(name: str, src: str, dst: str, w: np.ndarray, synapse: int, shift: int, most: int) -> Projection | None:
    """Weights ``w`` (target, source) as one projection, or None when all are zero."""
    if not np.any(w):
        return None
    geo = {"synapse": synapse, "weight_shift": int(shift), "max_events": most}
    if np.count_nonzero(w) >= _DENSE_FROM * w.size:
        return Projection(name, src, dst, "dense", w, delay_base=1, geometry=geo)
    tgt, s = np.nonzero(w)
    return Projection(name, src, dst, "sparse", w[tgt, s], delay_base=1, target_index=tgt, source_index=s,
                      geometry=geo)


def _neurons(name: str, shape: tuple[int, ...], dash_syn: np.ndarray, dash_mem: np.ndarray, threshold: np.ndarray,
             bias: np.ndarray, most: int) -> Population:
    params = {"dash_syn": dash_syn[:, 0], "dash_mem": dash_mem, "threshold": threshold, "bias": bias}
    if dash_syn.shape[1] == 2:
        params["dash_syn2"] = dash_syn[:, 1]
    return Population(name, "xylo", shape, params, spiking=True, reset="subtract", config={"max_spikes": most})


def xylo_program(mapping: XyloMapping, *, dt: float = 1e-3, like: Program | None = None) -> Program:
    """``mapping`` as a program of xylo populations (see the module docstring).  ``like``: the
    compiled program it came from, whose shapes, ports, neuron placement and metadata it keeps."""
    net = mapping.net
    n_in, n_hid, n_out = net.sizes
    names = (mapping.input, *mapping.hidden, mapping.output)
    shapes = {n: (like.population(n).shape if like is not None else None) for n in names}
    edges = np.cumsum([0, *mapping.hidden_sizes])
    pops = [Population(mapping.input, "input", shapes[mapping.input] or (n_in,))]
    for h, lo, hi in zip(mapping.hidden, edges[:-1], edges[1:]):
        pops.append(_neurons(h, shapes[h] or (int(hi - lo),), net.dash_syn[lo:hi], net.dash_mem[lo:hi],
                             net.threshold[lo:hi], net.bias[lo:hi], MAX_HIDDEN_SPIKES))
    pops.append(_neurons(mapping.output, shapes[mapping.output] or (n_out,), net.dash_syn_out[:, None],
                         net.dash_mem_out, net.threshold_out, net.bias_out, MAX_OUTPUT_SPIKES))
    projs: list[Projection | None] = []
    for h, lo, hi in zip(mapping.hidden, edges[:-1], edges[1:]):
        for k in (0, 1):
            projs.append(_block(f"{mapping.input}->{h}/syn{k + 1}", mapping.input, h, net.w_in[:, lo:hi, k].T, k,
                                net.shift_in, MAX_INPUT_EVENTS))
            for g, glo, ghi in zip(mapping.hidden, edges[:-1], edges[1:]):
                projs.append(_block(f"{g}->{h}/syn{k + 1}", g, h, net.w_rec[glo:ghi, lo:hi, k].T, k, net.shift_rec,
                                    MAX_HIDDEN_SPIKES))
        projs.append(_block(f"{h}->{mapping.output}", h, mapping.output, net.w_out[lo:hi].T, 0, net.shift_out,
                            MAX_HIDDEN_SPIKES))
    kept = tuple(j for j in projs if j is not None)
    if like is None:
        return Program(dt, "fixed", tuple(pops), kept, {"input": mapping.input}, {"output": mapping.output},
                       metadata={"target": "xylo", "pipeline_depth": 1 + len(mapping.hidden)})
    core_of = np.concatenate([like.core_of[like.offsets[like.index[n]]: like.offsets[like.index[n] + 1]]
                              for n in names])
    return Program(like.dt, "fixed", tuple(pops), kept, like.inputs, like.outputs, core_of, like.core_xy,
                   metadata=dict(like.metadata), output_shapes=like.output_shapes)
