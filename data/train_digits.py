"""Train the bundled default model: a 64-128-10 LIF network on scikit-learn's 8x8 digits.

The digits ship with scikit-learn, so nothing is downloaded.  Each image is rate-coded: at
every one of ``--steps`` time steps, pixel ``p`` (0..16) spikes with probability ``p / 16``.
The network is trained in plain PyTorch with a surrogate gradient, using exactly the IR's
LIF update (decay form, value reset to 0, spike iff v > 1), then built as a spikec graph,
checked spike for spike against the reference simulator, and written as NIR next to its
held-out test spikes::

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
from spikec.ir import LIF, Graph, Input, Linear, Output, make_population, simulate

DT = 1e-3  # s; with tau = 10 ms the membrane keeps 90 % per step
TAU = 10e-3
HIDDEN = 128


def encode(images: np.ndarray, steps: int, rng: np.random.Generator) -> np.ndarray:
    """Bernoulli rate code: (N, 64) pixel values 0..16 -> (N, steps, 64) spikes in {0, 1}."""
    p = images / 16.0
    return (rng.random((images.shape[0], steps, images.shape[1])) < p[:, None, :]).astype(np.float32)


class SpikeFn(torch.autograd.Function):
    """Heaviside forward (strict >), fast-sigmoid surrogate backward."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        ctx.save_for_backward(x)
        return (x > 0).to(x.dtype)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        (x,) = ctx.saved_tensors
        return grad / (1.0 + 10.0 * x.abs()) ** 2


class Net(torch.nn.Module):
    """64 -> HIDDEN -> 10, both layers LIF with the IR's update: with alpha = 1 - dt/tau and
    gain r*dt/tau = 1, v = alpha*v + W x; z = v > 1; v = 0 where z."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1 = torch.nn.Linear(64, HIDDEN, bias=False)
        self.fc2 = torch.nn.Linear(HIDDEN, 10, bias=False)
        self.alpha = float(np.float32(1.0 - DT / TAU))

    def _lif(self, currents: torch.Tensor) -> torch.Tensor:
        v = torch.zeros_like(currents[:, 0])
        out = []
        for t in range(currents.shape[1]):
            v = self.alpha * v + currents[:, t]
            z = SpikeFn.apply(v - 1.0)
            v = v * (1.0 - z)  # reset to 0; gradient flows through the kept membrane
            out.append(z)
        return torch.stack(out, dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, time, 64) spikes -> (batch, time, 10) spikes."""
        return self._lif(self.fc2(self._lif(self.fc1(x))))

    def to_graph(self) -> Graph:
        """The same network as a spikec graph (r = tau/dt makes the input gain exactly 1)."""
        lif = lambda n: make_population(LIF, n, tau=TAU, r=TAU / DT, v_threshold=1.0, reset="value")  # noqa: E731
        nodes = {
            "input": Input((64,)),
            "fc1": Linear(self.fc1.weight.detach().double().numpy()),
            "lif1": lif(HIDDEN),
            "fc2": Linear(self.fc2.weight.detach().double().numpy()),
            "lif2": lif(10),
            "output": Output(),
        }
        names = list(nodes)
        return Graph(nodes, list(zip(names, names[1:])), dt=DT)


def accuracy(model: torch.nn.Module, spikes: np.ndarray, labels: np.ndarray) -> float:
    with torch.no_grad():
        out = model(torch.from_numpy(spikes)).numpy()
    return float(np.mean(decode_rate(out) == labels))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    digits = load_digits()
    x_train, x_test, y_train, y_test = train_test_split(
        digits.data, digits.target, test_size=0.2, random_state=args.seed, stratify=digits.target
    )
    test_spikes = encode(x_test, args.steps, rng)

    model = Net()
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
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
            print(f"epoch {epoch + 1:3d}  loss {loss.item():.3f}  test accuracy {accuracy(model, test_spikes, y_test):.4f}")
    print(f"trained in {time.perf_counter() - t0:.1f} s")

    model.eval()
    torch_acc = accuracy(model, test_spikes, y_test)
    graph = model.double().to_graph()
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
    np.savez_compressed(args.out / "digits_test.npz", spikes=test_spikes.astype(np.uint8), labels=y_test.astype(np.int64))
    print(f"wrote {args.out / 'digits.nir'} and {args.out / 'digits_test.npz'}")


if __name__ == "__main__":
    main()
