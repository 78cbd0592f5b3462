"""Networks of the mapping benchmark (``bench/mapping.py``), shared with its tests
(``tests/compiler/test_mapping.py`` loads this file by path: bench/ is not a package).

- :func:`conv_net`: stacked 3x3 convolutions of LIF layers, lowered from the IR;
- :func:`recurrent_net`: a locally connected recurrent LIF sheet with input and readout,
  lowered from the IR;
- :func:`random_net`: input -> populations with uniformly random sparse synapses, built as a
  runtime Program directly (no structure for a partitioner to find);
- :func:`window_net`: the compile-time scaling net, 10^4..10^6 neurons with 100 random
  synapses each drawn within a window of neighbouring indices (plus a few anywhere), built as
  a Program directly and frugally (int32 indices, float32 weights) so that 10^8 synapses fit.
"""

from __future__ import annotations

import numpy as np
from spikec import ir
from spikec.compiler.lower import lower
from spikec.runtime import Population, Program, Projection

__all__ = ["conv_net", "recurrent_net", "random_net", "window_net"]


def conv_net(seed: int = 0, channels: tuple[int, ...] = (2, 8, 16, 16), hw: int = 32) -> Program:
    """``channels[0] x hw x hw`` input -> 3x3 convolutions (stride 1 first, then 2, padding 1),
    each into a LIF layer (default: 15,360 units)."""
    rng = np.random.default_rng(seed)
    nodes, edges, prev, h = {"x": ir.Input((channels[0], hw, hw))}, [], "x", hw
    for i in range(1, len(channels)):
        stride = 1 if i == 1 else 2
        nodes[f"conv{i}"] = ir.Conv2d(rng.normal(size=(channels[i], channels[i - 1], 3, 3)), stride=stride, padding=1)
        h = (h - 1) // stride + 1
        nodes[f"lif{i}"] = ir.make_population(ir.LIF, (channels[i], h, h), tau=3.0, v_threshold=1.0)
        edges += [(prev, f"conv{i}"), (f"conv{i}", f"lif{i}")]
        prev = f"lif{i}"
    nodes["out"] = ir.Output()
    edges.append((prev, "out"))
    return lower(ir.Graph(nodes, edges, dt=1.0))


def recurrent_net(seed: int = 0, side: int = 64, k: int = 50, radius: int = 3, n_in: int = 64, n_out: int = 10, *,
                  readout_density: float = 0.05, local: bool = True, tau: float = 10.0, v_threshold: float = 1.0,
                  w_scale: float = 0.1) -> Program:
    """A ``side x side`` recurrent LIF sheet (row-major), each neuron driving ``k`` targets
    within ``radius`` steps on a torus and one in ten anywhere (``local=False``: all
    anywhere); topographic input (input unit i drives a band of the sheet); a readout
    reading ``readout_density`` of the sheet."""
    rng = np.random.default_rng(seed)
    n = side * side
    src = np.repeat(np.arange(n), k)
    if local:
        dy, dx = rng.integers(-radius, radius + 1, src.size), rng.integers(-radius, radius + 1, src.size)
        dst = ((src // side + dy) % side) * side + (src % side + dx) % side
        far = rng.random(src.size) < 0.1
        dst[far] = rng.integers(0, n, int(far.sum()))
    else:
        dst = rng.integers(0, n, src.size)
    w_in = np.zeros((n, n_in))
    w_in[np.arange(n), np.arange(n) * n_in // n] = rng.normal(size=n)
    nodes = {
        "x": ir.Input((n_in,)), "w_in": ir.Linear(w_in),
        "sheet": ir.make_population(ir.LIF, n, tau=tau, v_threshold=v_threshold),
        "rec": ir.SparseLinear((n, n), target=dst, source=src, weight=rng.normal(size=src.size) * w_scale),
        "w_out": ir.Linear(rng.normal(size=(n_out, n)) * (rng.random((n_out, n)) < readout_density)),
        "readout": ir.make_population(ir.LIF, n_out, tau=tau, v_threshold=v_threshold), "o": ir.Output(),
    }
    edges = [("x", "w_in"), ("w_in", "sheet"), ("sheet", "rec"), ("rec", "sheet"), ("sheet", "w_out"),
             ("w_out", "readout"), ("readout", "o")]
    return lower(ir.Graph(nodes, edges, dt=1.0))


def _cuba_params(n: int) -> dict[str, np.ndarray]:
    ones = np.ones(n)
    return {"alpha": ones * 0.9, "gain": ones, "bias": ones * 0.0, "v_threshold": ones, "v_reset": ones * 0.0}


def random_net(n: int, per_neuron: int, seed: int = 0, layers: int = 1) -> Program:
    """Input (n/10 units) -> ``layers`` populations of n neurons with ``per_neuron`` random
    synapses each (recurrent when ``layers`` is 1): no structure a partitioner can exploit."""
    rng = np.random.default_rng(seed)
    n_in = max(1, n // 10)
    pops = [Population("in", "input", (n_in,))] + [
        Population(f"p{i}", "cuba_float", (n,), _cuba_params(n), spiking=True, reset="value") for i in range(layers)]
    projs = [Projection("w_in", "in", "p0", "sparse", np.ones(n), target_index=np.arange(n),
                        source_index=rng.integers(0, n_in, n))]
    for i in range(layers):
        src_pop = f"p{i - 1}" if i else "p0"
        m = n * per_neuron
        projs.append(Projection(f"w{i}", src_pop, f"p{i}", "sparse", np.ones(m, np.float32) * 0.01,
                                target_index=rng.integers(0, n, m).astype(np.int32),
                                source_index=rng.integers(0, n, m).astype(np.int32), delay_base=1 if not i else 0))
    return Program(1.0, "float", tuple(pops), tuple(projs), {"in": "in"}, {})


def window_net(n: int, per_neuron: int = 100, seed: int = 0, window: int = 512, far: float = 0.01) -> Program:
    """Input (n/100 units, one synapse per neuron) -> one recurrent population of ``n``
    neurons, each with ``per_neuron`` outgoing synapses to targets drawn uniformly within
    ``window`` indices either side (on a ring) and, with probability ``far``, anywhere:
    distance-dependent random connectivity, as in cortical models, whose locality a mapper
    can find but is not told (the targets are random, the order is the only hint)."""
    rng = np.random.default_rng(seed)
    n_in = max(1, n // 100)
    pops = (Population("in", "input", (n_in,)),
            Population("p0", "cuba_float", (n,), _cuba_params(n), spiking=True, reset="value"))
    m = n * per_neuron
    src = np.repeat(np.arange(n, dtype=np.int32), per_neuron)
    dst = rng.integers(-window, window + 1, m, dtype=np.int32)
    dst += src
    dst %= n
    anywhere = np.flatnonzero(rng.random(m, dtype=np.float32) < far)
    dst[anywhere] = rng.integers(0, n, anywhere.size, dtype=np.int32)
    del anywhere
    projs = (Projection("w_in", "in", "p0", "sparse", np.ones(n, np.float32), target_index=np.arange(n, dtype=np.int32),
                        source_index=(np.arange(n, dtype=np.int64) * n_in // n).astype(np.int32)),
             Projection("rec", "p0", "p0", "sparse", np.full(m, 0.01, np.float32), target_index=dst, source_index=src,
                        delay_base=1))
    return Program(1.0, "float", pops, projs, {"in": "in"}, {})
