r"""Import a binary neural network (:mod:`spikec.nn.bnn`) as integer threshold layers and as a
spikec graph the C engine runs.

Folding (exact in integers).  A hidden layer computes :math:`h = W a` with :math:`W, a \in \{-1, +1\}`,
then :math:`a' = \mathrm{sign}(\gamma (h - \mu)/\sigma + \beta)` (BatchNorm in eval mode, ``sign(0) = +1``).
For :math:`\gamma > 0` that is :math:`a' = +1 \iff h \ge \tau`, :math:`\tau = \lceil \mu - \beta\sigma/\gamma \rceil`;
for :math:`\gamma < 0` the row of :math:`W` flips sign and :math:`\tau = \lceil \beta\sigma/|\gamma| - \mu\rceil`
(computed as :math:`-h \ge -(\mu - \beta\sigma/\gamma)`); :math:`\gamma = 0` gives a constant output.

On the engine activations are spikes :math:`s \in \{0, 1\}`, :math:`a = 2s - 1`, so
:math:`h = 2 W s - \sum_i W_i`: a projection of weights :math:`2W`, a bias :math:`-\sum_i W_i`, and a
stateless integer neuron (``du = dv = 2**D``: no memory) firing on :math:`h > \tau - 1`.  The last layer's
scores :math:`h` are the membrane of a non-spiking neuron.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ...errors import ModelImportError
from ...ir import FixedCubaLIF, Graph, Input, Linear, Output

__all__ = ["BnnLayer", "BnnNet", "from_bnn", "bnn_graph", "load_bnn", "DECAY_BITS"]

DECAY_BITS = 12


@dataclass(frozen=True, eq=False)
class BnnLayer:
    """``weight`` (out, in) in {-1, +1}; ``threshold`` (out,) integers: ``a = +1 iff W a_in >= threshold``
    (``None`` for the score layer)."""

    weight: np.ndarray
    threshold: np.ndarray | None


@dataclass(frozen=True, eq=False)
class BnnNet:
    """Integer BNN: layers in order; the first reads ``{0, 1}`` data as ±1."""

    layers: tuple[BnnLayer, ...]

    def scores(self, x: np.ndarray) -> np.ndarray:
        """Class scores of ``{0, 1}`` inputs ``(N, in)``: the integer reference."""
        a = 2 * np.asarray(x, np.int64) - 1
        for layer in self.layers:
            h = a @ layer.weight.T
            if layer.threshold is None:
                return h
            a = np.where(h >= layer.threshold, 1, -1)
        raise ModelImportError("the BNN has no score layer", parameter="layers")


def _fold(w: np.ndarray, bn, name: str) -> BnnLayer:  # noqa: ANN001
    gamma = bn.weight.detach().double().numpy()
    beta = bn.bias.detach().double().numpy()
    mu = bn.running_mean.detach().double().numpy()
    sigma = np.sqrt(bn.running_var.detach().double().numpy() + bn.eps)
    w = w.copy()
    tau = np.empty(w.shape[0], np.int64)
    n = w.shape[1]
    for j in range(w.shape[0]):
        if gamma[j] > 0:
            tau[j] = math.ceil(mu[j] - beta[j] * sigma[j] / gamma[j] - 1e-9)
        elif gamma[j] < 0:
            w[j] = -w[j]
            tau[j] = math.ceil(-(mu[j] - beta[j] * sigma[j] / gamma[j]) - 1e-9)
        else:   # a constant: fire always (beta >= 0) or never
            w[j] = 0
            tau[j] = -n - 1 if beta[j] >= 0 else n + 1
    tau = np.clip(tau, -n - 1, n + 1)   # beyond +-n the outcome no longer changes
    return BnnLayer(w, tau)


def from_bnn(model) -> BnnNet:  # noqa: ANN001
    """The integer BNN of a trained ``torch.nn.Sequential`` built like :func:`spikec.nn.bnn.bnn_mlp`."""
    import torch

    from ...nn.bnn import BinaryLinear, Sign

    mods = list(model)
    layers: list[BnnLayer] = []
    k = 0
    while k < len(mods):
        m = mods[k]
        if not isinstance(m, BinaryLinear):
            raise ModelImportError(f"module {k} is a {type(m).__name__}", node=str(k), parameter="module",
                                   fix="build the BNN as BinaryLinear [BatchNorm1d Sign] ... BinaryLinear")
        if m.binary_input != (k == 0):
            raise ModelImportError("only the first layer reads {0, 1} data", node=str(k), parameter="binary_input")
        w = np.where(m.weight.detach().numpy() >= 0, 1, -1).astype(np.int64)
        if k + 2 < len(mods) and isinstance(mods[k + 1], torch.nn.BatchNorm1d) and isinstance(mods[k + 2], Sign):
            layers.append(_fold(w, mods[k + 1], str(k)))
            k += 3
        elif k == len(mods) - 1:
            layers.append(BnnLayer(w, None))
            k += 1
        else:
            raise ModelImportError(f"BinaryLinear {k} is followed by {type(mods[k + 1]).__name__}", node=str(k),
                                   parameter="module", fix="follow each hidden BinaryLinear by BatchNorm1d and Sign")
    return BnnNet(tuple(layers))


def bnn_graph(net: BnnNet, dt: float = 1e-3) -> Graph:
    """The graph the engine runs (see the module docstring): input spikes ``{0, 1}``, one stateless
    integer population per layer, the scores as the last one's membrane."""
    unity = 1 << DECAY_BITS
    nodes: dict = {"input": Input(shape=(net.layers[0].weight.shape[1],))}
    edges = []
    prev = "input"
    for k, layer in enumerate(net.layers):
        n = layer.weight.shape[0]
        fan_in = layer.weight.shape[1]
        score = layer.threshold is None
        bits = max(8, math.ceil(math.log2(3 * fan_in + 2)) + 2)
        nodes[f"w{k}"] = Linear(weight=2 * layer.weight.astype(np.float64))
        nodes[f"n{k}"] = FixedCubaLIF(
            du=np.full(n, unity), dv=np.full(n, unity), bias=-layer.weight.sum(axis=1),
            v_threshold=np.full(n, (1 << (bits - 1)) - 1) if score else layer.threshold - 1,
            v_reset=np.zeros(n, np.int64), spiking_output=not score, decay_bits=DECAY_BITS,
            u_bits=bits, v_bits=bits, u_overflow="saturate", v_overflow="saturate", rounding="floor")
        edges += [(prev, f"w{k}"), (f"w{k}", f"n{k}")]
        prev = f"n{k}"
    nodes["output"] = Output(shape=(net.layers[-1].weight.shape[0],))
    edges.append((prev, "output"))
    return Graph(nodes, tuple(edges), dt=dt, metadata={"model": "bnn"})


def load_bnn(path) -> BnnNet:  # noqa: ANN001
    """An integer BNN saved by ``data/train_bnn_digits.py`` (``weight<k>``, ``threshold<k>``)."""
    with np.load(path) as f:
        n = sum(1 for k in f.files if k.startswith("weight"))
        if n == 0:
            raise ModelImportError(f"{path} holds no 'weight0'", parameter="path", fix="give a BNN .npz")
        layers = []
        for k in range(n):
            w = f[f"weight{k}"].astype(np.int64)
            if not np.isin(w, (-1, 0, 1)).all():
                raise ModelImportError(f"weight{k} holds values other than -1, 0, +1", parameter=f"weight{k}")
            t = f[f"threshold{k}"].astype(np.int64) if f"threshold{k}" in f.files else None
            layers.append(BnnLayer(w, t))
    if layers[-1].threshold is not None or any(layer.threshold is None for layer in layers[:-1]):
        raise ModelImportError(f"{path}: only the last layer may lack thresholds", parameter="threshold")
    return BnnNet(tuple(layers))
