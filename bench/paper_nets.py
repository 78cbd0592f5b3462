"""Compile time of the NIR paper's networks (tests/data/nir/paper) for every built-in target.

    .venv/bin/python bench/paper_nets.py

Issue 12 measured the Sinabs CNN's SpiNNaker2 compile at 38 s (two SRAM refits around a SumPool
relay) against ~45 s for a 10^6-neuron Loihi compile; fuse_linear removes the relay.  Printed per
network and target: neurons, stored weights, cores, compile seconds, or the refusal.
"""

from __future__ import annotations

import time
from pathlib import Path

import spikec

PAPER = Path(__file__).resolve().parents[1] / "tests" / "data" / "nir" / "paper"
NETS = {"cnn_sinabs.nir": 1.0, "braille_noDelay_bias_zero.nir": 1e-4, "braille_noDelay_noBias_subtract.nir": 1e-4}


def main() -> None:
    print(f"{'network':<38} {'target':<11} {'neurons':>8} {'weights':>9} {'cores':>6} {'compile s':>10}")
    for name, dt in NETS.items():
        graph = spikec.load(PAPER / name, dt=dt)
        for target in spikec.api.target_names():
            t0 = time.perf_counter()
            try:
                program = spikec.compile(graph, target).program
            except spikec.SpikecError as exc:
                print(f"{name:<38} {target:<11} refused: {str(exc)[:70]}")
                continue
            took = time.perf_counter() - t0
            print(f"{name:<38} {target:<11} {program.neuron_count():>8,} {program.synapse_count():>9,} "
                  f"{program.n_cores:>6} {took:>10.2f}")


if __name__ == "__main__":
    main()
