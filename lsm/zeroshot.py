r"""Multimodal zero-shot readout: small projection heads trained with a contrastive loss, and class
prototypes from embeddings (the setting of Lin et al., "Resistive memory-based zero-shot liquid
state machine for multimodal event data learning", Nature Computational Science 2025: a fixed
random LSM encoder per modality, trainable projections, classes never seen in training
recognised by their prototype in the other modality).

:func:`train_heads` fits one head per modality (standardise, ``Linear -> ReLU -> Linear``,
L2-normalise) on paired state features of *seen* classes.  The loss is a supervised, symmetric
InfoNCE: for a batch of visual embeddings :math:`a_i` and audio embeddings :math:`b_j`,
:math:`\ell = -\frac{1}{|P(i)|}\sum_{j \in P(i)} \log \frac{e^{a_i\cdot b_j/\tau}}{\sum_k e^{a_i\cdot b_k/\tau}}`
averaged over both directions, where :math:`P(i)` are the batch's samples of :math:`i`'s class.
:func:`prototypes` averages (and re-normalises) one modality's embeddings per class;
:meth:`Heads.classify` assigns each sample of the other modality to the nearest prototype by cosine.
Training is seeded (torch's generator and CPU determinism).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import SimulationError

__all__ = ["Heads", "train_heads", "prototypes"]


@dataclass(frozen=True, eq=False)
class Heads:
    """Two trained projection heads (``a``: first modality, ``b``: second) with their input scaling."""

    a: Any
    b: Any
    scale_a: tuple[np.ndarray, np.ndarray]
    scale_b: tuple[np.ndarray, np.ndarray]

    def embed(self, features: np.ndarray, modality: str) -> np.ndarray:
        """L2-normalised embeddings ``(samples, dim)`` of ``modality`` (``"a"`` or ``"b"``) features."""
        import torch

        if modality not in ("a", "b"):
            raise SimulationError(f"modality {modality!r}", parameter="modality", fix="'a' or 'b'")
        head, (mean, std) = (self.a, self.scale_a) if modality == "a" else (self.b, self.scale_b)
        x = _checked(features, mean.size)
        with torch.no_grad():
            return _project(head, torch.as_tensor((x - mean) / std, dtype=torch.float32)).numpy()

    def classify(self, features: np.ndarray, modality: str, protos: dict[int, np.ndarray]) -> np.ndarray:
        """The class of each sample: the prototype (of the other modality) nearest by cosine."""
        if not protos:
            raise SimulationError("no prototypes", parameter="prototypes", fix="build them with prototypes()")
        classes = np.array(sorted(protos))
        matrix = np.stack([protos[c] for c in classes])
        return classes[np.argmax(self.embed(features, modality) @ matrix.T, axis=1)]


def _checked(x: Any, width: int | None = None) -> np.ndarray:
    arr = np.asarray(x, np.float64)
    if arr.ndim != 2 or arr.shape[0] == 0 or (width is not None and arr.shape[1] != width):
        raise SimulationError(f"features of shape {arr.shape}", parameter="features",
                              fix=f"(samples >= 1, {width or 'F'}) state features")
    return arr


def _project(head: Any, x: Any) -> Any:
    import torch

    return torch.nn.functional.normalize(head(x), dim=1)


def _scaling(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    std = x.std(axis=0)
    return x.mean(axis=0), np.where(std > 0, std, 1.0)


def train_heads(features_a: np.ndarray, features_b: np.ndarray, labels: np.ndarray, *, dim: int = 32,
                hidden: int = 128, epochs: int = 60, batch: int = 64, lr: float = 3e-3, temperature: float = 0.1,
                seed: int = 0) -> Heads:
    """Train the two heads on paired samples (row i of both feature arrays has class ``labels[i]``)."""
    import torch

    xa, xb = _checked(features_a), _checked(features_b)
    y = np.asarray(labels)
    if xa.shape[0] != xb.shape[0] or y.shape != (xa.shape[0],):
        raise SimulationError(f"{xa.shape[0]} and {xb.shape[0]} paired samples with {y.shape} labels",
                              parameter="labels", fix="pair every sample of one modality with one of the other")
    if not (isinstance(temperature, float) and temperature > 0):
        raise SimulationError(f"temperature={temperature!r}", parameter="temperature", limit="> 0")
    threads = torch.get_num_threads()
    # Matrices this small run slower split over threads than on one (and a loaded machine makes
    # it far worse); the caller's setting is restored.
    torch.set_num_threads(1)
    try:
        with torch.random.fork_rng(devices=[]):  # the seed stays inside: the caller's torch RNG is untouched
            return _train(xa, xb, y, dim, hidden, epochs, batch, lr, temperature, seed)
    finally:
        torch.set_num_threads(threads)


def _train(xa: np.ndarray, xb: np.ndarray, y: np.ndarray, dim: int, hidden: int, epochs: int, batch: int, lr: float,
           temperature: float, seed: int) -> Heads:
    import torch

    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    sa, sb = _scaling(xa), _scaling(xb)
    ta = torch.as_tensor((xa - sa[0]) / sa[1], dtype=torch.float32)
    tb = torch.as_tensor((xb - sb[0]) / sb[1], dtype=torch.float32)
    ty = torch.as_tensor(y)
    heads = [torch.nn.Sequential(torch.nn.Linear(x.shape[1], hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, dim))
             for x in (xa, xb)]
    opt = torch.optim.Adam([p for h in heads for p in h.parameters()], lr=lr)
    for _ in range(epochs):
        order = torch.randperm(len(ty), generator=gen)
        for lo in range(0, len(ty), batch):
            idx = order[lo:lo + batch]
            ea, eb = _project(heads[0], ta[idx]), _project(heads[1], tb[idx])
            same = (ty[idx, None] == ty[None, idx]).float()
            logits = ea @ eb.T / temperature
            loss = sum(-(same * torch.log_softmax(m, dim=1)).sum(1).div(same.sum(1)).mean()
                       for m in (logits, logits.T)) / 2
            opt.zero_grad()
            loss.backward()
            opt.step()
    for h in heads:
        h.eval()
    return Heads(heads[0], heads[1], sa, sb)


def prototypes(heads: Heads, features: np.ndarray, labels: np.ndarray, modality: str) -> dict[int, np.ndarray]:
    """Per class, the re-normalised mean embedding of ``modality``'s ``features``."""
    emb = heads.embed(features, modality)
    y = np.asarray(labels)
    if y.shape != (emb.shape[0],):
        raise SimulationError(f"{y.shape} labels for {emb.shape[0]} samples", parameter="labels")
    out = {}
    for c in np.unique(y):
        m = emb[y == c].mean(axis=0)
        out[int(c)] = m / max(float(np.linalg.norm(m)), 1e-12)
    return out
