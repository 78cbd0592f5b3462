"""Train the bundled default model: a 64-128-10 LIF network on scikit-learn's 8x8 digits.

The digits ship with scikit-learn, so nothing is downloaded.  Each image is rate-coded: at
every one of ``--steps`` time steps, pixel ``p`` (0..16) spikes with probability ``p / 16``.
The network is trained with spikec's own torch layers (:mod:`spikec.nn`, surrogate
gradient, the IR's exact LIF update), imported with
:func:`~spikec.compiler.frontends.torch_import.from_torch`, checked spike for spike against
the reference simulator, and written as NIR next to its held-out test spikes::

    python data/train_digits.py            # writes data/digits.nir and data/digits_test.npz

The class is the output neuron with the most spikes.  Everything is seeded: the same
script, torch and numpy versions give the same files.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from spikec.api import decode_rate
from spikec.compiler.frontends.nir_io import write_nir
from spikec.compiler.frontends.torch_import import from_torch
from spikec.ir import simulate
from spikec.nn import LIF

DT = 1e-3  # s; with tau = 10 ms the membrane keeps 90 % per step
TAU = 10e-3
HIDDEN = 128


def encode(images: np.ndarray, steps: int, rng: np.random.Generator) -> np.ndarray:
    """Bernoulli rate code: (N, 64) pixel values 0..16 -> (N, steps, 64) spikes in {0, 1}."""
    p = images / 16.0
    return (rng.random((images.shape[0], steps, images.shape[1])) < p[:, None, :]).astype(np.float32)


def build_model() -> torch.nn.Sequential:
    return torch.nn.Sequential(
        torch.nn.Linear(64, HIDDEN, bias=False),
        LIF(HIDDEN, tau=TAU, threshold=1.0, dt=DT, reset="value"),
        torch.nn.Linear(HIDDEN, 10, bias=False),
        LIF(10, tau=TAU, threshold=1.0, dt=DT, reset="value"),
    )


def accuracy(model: torch.nn.Module, spikes: np.ndarray, labels: np.ndarray) -> float:
    with torch.no_grad():
        out = model(torch.from_numpy(spikes)).numpy()
    return float(np.mean(decode_rate(out) == labels))


def arguments(description: str) -> argparse.Namespace:
    """The options both training scripts take (this one and data/train_rnn_digits.py)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    return parser.parse_args()


def split(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """scikit-learn's digits, 80 % / 20 % stratified: x_train, x_test, y_train, y_test."""
    digits = load_digits()
    return train_test_split(digits.data, digits.target, test_size=0.2, random_state=seed, stratify=digits.target)


def train(model: torch.nn.Module, lr: float, x_train: np.ndarray, y_train: np.ndarray, test_spikes: np.ndarray,
          y_test: np.ndarray, args: argparse.Namespace, rng: np.random.Generator) -> float:
    """Adam with a cosine schedule on spike counts, a fresh rate code every epoch; seconds taken."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, args.epochs)
    t0 = time.perf_counter()
    for epoch in range(args.epochs):
        model.train()
        spikes = torch.from_numpy(encode(x_train, args.steps, rng))  # a fresh code every epoch
        target = torch.from_numpy(y_train)
        order = torch.randperm(len(target))
        for i in range(0, len(order), 64):
            idx = order[i : i + 64]
            counts = model(spikes[idx]).sum(dim=1)
            loss = torch.nn.functional.cross_entropy(counts, target[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()
        model.eval()
        if epoch % 5 == 4 or epoch == args.epochs - 1:
            print(f"epoch {epoch + 1:3d}  loss {loss.item():.3f}  "
                  f"test accuracy {accuracy(model, test_spikes, y_test):.4f}")
    seconds = time.perf_counter() - t0
    print(f"trained in {seconds:.1f} s")
    return seconds


def main() -> None:
    args = arguments(__doc__.split("\n\n")[0])
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    x_train, x_test, y_train, y_test = split(args.seed)
    test_spikes = encode(x_test, args.steps, rng)
    model = build_model()
    train(model, 2e-3, x_train, y_train, test_spikes, y_test, args, rng)

    model.eval()
    torch_acc = accuracy(model, test_spikes, y_test)
    graph = from_torch(model.double(), input_shape=(64,), dt=DT)
    ref = simulate(graph, test_spikes, dtype=np.float64).output
    ref_acc = float(np.mean(decode_rate(ref) == y_test))
    with torch.no_grad():
        same = float(np.mean(ref == model(torch.from_numpy(test_spikes).double()).numpy()))
    print(f"float accuracy: torch {torch_acc:.4f}, spikec reference (float64) {ref_acc:.4f}; "
          f"output spikes identical: {same:.6f}")
    f32_acc = float(np.mean(decode_rate(simulate(graph, test_spikes).output) == y_test))
    print(f"spikec reference in float32: {f32_acc:.4f}")

    args.out.mkdir(parents=True, exist_ok=True)
    graph = graph.replace(metadata={**graph.metadata, "float_test_accuracy": f32_acc, "steps": args.steps})
    write_nir(graph, args.out / "digits.nir")
    np.savez_compressed(args.out / "digits_test.npz", spikes=test_spikes.astype(np.uint8),
                        labels=y_test.astype(np.int64))
    print(f"wrote {args.out / 'digits.nir'} and {args.out / 'digits_test.npz'}")


if __name__ == "__main__":
    main()
