"""Train a small recurrent spiking net on scikit-learn's 8x8 digits: 64 -> 64 recurrent LIF -> 10 LIF.

The digits and their rate code are those of ``data/train_digits.py`` (same split, same seed,
same Bernoulli code, so ``data/digits_test.npz`` holds this model's held-out spikes too).
The hidden layer reads the input and, one step late, its own spikes (``rec -> lif`` is the
graph's recurrent edge); it resets to 0, as Loihi 2 can.  :mod:`spikec.nn` has no recurrent
layer, so the loop below runs the hidden layer's IR update (``LIF.coefficients``, surrogate
spike of :func:`spikec.nn.neurons.spike`) by hand; the IR graph is built from the trained
weights, checked spike for spike against the reference simulator, and written as NIR::

    python data/train_rnn_digits.py        # writes data/rnn_digits.nir (about a minute on 2 cores)

Everything is seeded.  This model is used by ``tests/compiler/test_calibrate.py``.
"""

from __future__ import annotations

import numpy as np
import torch
from spikec import ir
from spikec.api import decode_rate
from spikec.compiler.frontends.nir_io import write_nir
from spikec.nn import LIF
from spikec.nn.neurons import spike
from train_digits import arguments, encode, split, train  # same folder: the same data and loop

DT = 1e-3
TAU = 10e-3
HIDDEN = 64


class RecurrentDigits(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.w_in = torch.nn.Linear(64, HIDDEN, bias=False)
        self.w_rec = torch.nn.Linear(HIDDEN, HIDDEN, bias=False)
        torch.nn.init.normal_(self.w_rec.weight, 0.0, 0.3 / HIDDEN ** 0.5)
        self.w_out = torch.nn.Linear(HIDDEN, 10, bias=False)
        self.readout = LIF(10, tau=TAU, threshold=1.0, dt=DT, reset="value")
        self.coef = self.hidden_node().coefficients(DT)

    def hidden_node(self) -> ir.LIF:
        return ir.make_population(ir.LIF, HIDDEN, tau=TAU, r=TAU / DT, v_threshold=1.0, v_reset=0.0, reset="value")

    def hidden(self, x: torch.Tensor) -> torch.Tensor:
        alpha = torch.as_tensor(self.coef["alpha"], dtype=x.dtype)
        gain = torch.as_tensor(self.coef["gain"], dtype=x.dtype)
        batch, steps = x.shape[:2]
        v = x.new_zeros((batch, HIDDEN))
        z = x.new_zeros((batch, HIDDEN))
        drive_in = self.w_in(x)
        out = []
        for t in range(steps):
            v = alpha * v + gain * (drive_in[:, t] + self.w_rec(z))
            z = spike(v - 1.0)
            v = v * (1.0 - z.detach())
            out.append(z)
        return torch.stack(out, dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.readout(self.w_out(self.hidden(x)))

    def to_graph(self) -> ir.Graph:
        w = {k: getattr(self, k).weight.detach().double().numpy() for k in ("w_in", "w_rec", "w_out")}
        nodes = {"input": ir.Input(64), "w_in": ir.Linear(w["w_in"]), "lif": self.hidden_node(),
                 "w_rec": ir.Linear(w["w_rec"]), "w_out": ir.Linear(w["w_out"]),
                 "readout": self.readout.to_ir(), "output": ir.Output()}
        edges = [("input", "w_in"), ("w_in", "lif"), ("lif", "w_rec"), ("w_rec", "lif"), ("lif", "w_out"),
                 ("w_out", "readout"), ("readout", "output")]
        return ir.Graph(nodes, edges, dt=DT)


def main() -> None:
    args = arguments(__doc__.split("\n\n")[0])
    torch.manual_seed(args.seed)
    torch.set_num_threads(1)
    rng = np.random.default_rng(args.seed)
    x_train, x_test, y_train, y_test = split(args.seed)
    test_spikes = encode(x_test, args.steps, rng)
    model = RecurrentDigits()
    train_s = train(model, 3e-3, x_train, y_train, test_spikes, y_test, args, rng)

    graph = model.to_graph()
    assert ("w_rec", "lif") in graph.back_edges, graph.back_edges
    ref = ir.simulate(graph, test_spikes, dtype=np.float64).output
    with torch.no_grad():
        same = float(np.mean(ref == model.double()(torch.from_numpy(test_spikes).double()).numpy()))
    ref_acc = float(np.mean(decode_rate(ref) == y_test))
    f32_acc = float(np.mean(decode_rate(ir.simulate(graph, test_spikes).output) == y_test))
    print(f"float accuracy: spikec reference float64 {ref_acc:.4f}, float32 {f32_acc:.4f}; "
          f"output spikes identical to torch: {same:.6f}")
    graph = graph.replace(metadata={**graph.metadata, "float_test_accuracy": f32_acc, "steps": args.steps,
                                    "train_seconds": round(train_s, 1)})
    args.out.mkdir(parents=True, exist_ok=True)
    write_nir(graph, args.out / "rnn_digits.nir")
    print(f"wrote {args.out / 'rnn_digits.nir'}")


if __name__ == "__main__":
    main()
