"""Train the bundled binary network: a 64-128-10 BNN (±1 weights and activations) on
scikit-learn's 8x8 digits, for the tulip target.

Pixels (0..16) are binarized at > 4 into ``{0, 1}`` (read as ±1 by the first layer).  The
network is :func:`spikec.nn.bnn.bnn_mlp` trained with the straight-through estimator; its
BatchNorms are folded into integer thresholds by :func:`spikec.compiler.frontends.bnn.from_bnn`,
checked score for score against the torch model, and the integer layers written as::

    python data/train_bnn_digits.py      # writes data/bnn_digits.npz (about 40 s on 2 busy cores)

Training takes longer than a test may, so the weights are committed.  Everything is seeded:
the same script, torch and numpy versions give the same file.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from spikec.compiler.frontends.bnn import from_bnn
from spikec.nn.bnn import bnn_mlp

SIZES = (64, 128, 10)
PIXEL_THRESHOLD = 4


def split(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Binarized digits, 75 % / 25 % stratified: x_train, x_test, y_train, y_test."""
    x, y = load_digits(return_X_y=True)
    x = (x > PIXEL_THRESHOLD).astype(np.float32)
    return train_test_split(x, y, test_size=0.25, random_state=seed, stratify=y)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "bnn_digits.npz")
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    x_train, x_test, y_train, y_test = split(args.seed)
    model = bnn_mlp(SIZES)
    scale = torch.nn.Parameter(torch.tensor(0.1))   # a positive logit scale: the argmax ignores it
    opt = torch.optim.Adam([*model.parameters(), scale], lr=1e-2)
    xt, yt = torch.from_numpy(x_train), torch.from_numpy(y_train)
    gen = torch.Generator().manual_seed(args.seed)
    t0 = time.perf_counter()
    for _ in range(args.epochs):
        model.train()
        order = torch.randperm(len(xt), generator=gen)
        for i in range(0, len(order), 64):
            idx = order[i:i + 64]
            loss = torch.nn.functional.cross_entropy(model(xt[idx]) * scale, yt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    print(f"trained in {time.perf_counter() - t0:.1f} s")
    model.eval()
    with torch.no_grad():
        torch_scores = model(torch.from_numpy(x_test)).numpy()
    net = from_bnn(model)
    scores = net.scores(x_test)
    if not np.array_equal(scores, torch_scores.astype(np.int64)):
        raise SystemExit("the folded integer BNN disagrees with torch")
    acc = float(np.mean(scores.argmax(axis=1) == y_test))
    print(f"test accuracy {acc:.4f} (torch and the integer reference agree score for score)")
    arrays = {f"weight{k}": layer.weight.astype(np.int8) for k, layer in enumerate(net.layers)}
    arrays.update({f"threshold{k}": layer.threshold.astype(np.int16) for k, layer in enumerate(net.layers)
                   if layer.threshold is not None})
    np.savez_compressed(args.out, **arrays, accuracy=np.float64(acc), seed=np.int64(args.seed))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
