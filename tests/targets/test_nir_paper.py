"""The NIR paper's own networks (tests/data/nir/paper, from github.com/neuromorphs/NIR at 7232ada)
on every chip: the Sinabs N-MNIST CNN and the two snnTorch Braille RNNs compile for Loihi 2 and
SpiNNaker2, on Loihi 2 run bit for bit alike on Lava and on the C emulator, and on both chips'
emulators equal their quantized graph, shifted by the chip's hops.

Inputs are seeded random stand-ins (the data sets are not in the repository): N-MNIST-shaped
frames (2, 34, 34) at 5 % per pixel and step, dt = 1 (Sinabs counts steps, 1 ms frames);
Braille-shaped spikes (12 taxels, 256 steps of dt = 1e-4 s as the paper's README says) at 10 %
per taxel and step, which gives a hidden-layer rate near the paper's recorded activity (about
1 %).

Three rungs, each exact where it can be:

- the emulator runs each population ``h`` steps behind the quantized graph's fixed-point
  reference (``h``: hops from the input), spike for spike, biases into decaying currents
  included (the always-on neuron, targets/loihi2/compile.py);
- Lava's bit-accurate models equal the emulator in every spike of every population;
- float model vs the chip's fixed point (8-bit weights), 20 stand-in samples, measured:
  Braille with bias: hidden layer 99.1 % of spikes equal, output 62.5 %, predicted class
  13/20 (the output layer runs at 35 % and its bias quantizes to about 5 weight steps: 1 %
  noise on that bias alone already moves 11 % of its spikes in float); Braille without bias:
  99.8 % / 98.9 %, class 17/20; CNN: 99.5 / 97.6 / 93.0 / 96.5 / 96.2 % per layer, class 10/20
  (random frames give near-ties between output units, so the class is a weak figure here).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from spikec.api import load
from spikec.ir import decode_rate, simulate
from spikec.runtime import run
from spikec.targets.always_on import ALWAYS_ON
from spikec.targets.always_on import chip_shifts as _shifts
from spikec.targets.loihi2 import TARGET as LOIHI2
from spikec.targets.loihi2 import lava_available, run_lava
from spikec.targets.spinnaker2 import TARGET as SPINNAKER2

PAPER = Path(__file__).resolve().parents[1] / "data" / "nir" / "paper"
needs_lava = pytest.mark.skipif(not lava_available() and os.environ.get("CI") != "true",
                                reason="no Lava environment (make lava); CI=true makes this a failure")

# file -> (dt, input shape, steps, spike probability)
MODELS = {
    "cnn": ("cnn_sinabs.nir", 1.0, (2, 34, 34), 30, 0.05),
    "braille_bias": ("braille_noDelay_bias_zero.nir", 1e-4, (12,), 256, 0.1),
    "braille_subtract": ("braille_noDelay_noBias_subtract.nir", 1e-4, (12,), 256, 0.1),
}


def stand_in(name: str, batch: int, seed: int = 1) -> np.ndarray:
    _, _, shape, steps, p = MODELS[name]
    return (np.random.default_rng(seed).random((batch, steps) + shape) < p).astype(np.int64)


@pytest.fixture(scope="module")
def graphs() -> dict:
    return {k: load(str(PAPER / f), dt=dt) for k, (f, dt, *_) in MODELS.items()}


@pytest.fixture(scope="module")
def loihi2(graphs: dict) -> dict:
    return {k: LOIHI2.compile(g) for k, g in graphs.items()}


def neurons(program) -> list[str]:
    return [p.name for p in program.populations if p.kernel == "cuba_fixed" and not p.name.startswith(ALWAYS_ON)]


def emulator(program, x: np.ndarray, steps: int) -> dict[str, np.ndarray]:
    rec = run(program, {"input": x}, steps, record=[p.name for p in program.populations
                                                     if p.kernel != "input"]).recorded
    return {k: v.reshape(v.shape[0], v.shape[1], -1) for k, v in rec.items()}


def test_cnn_fuses_its_pool_chains_and_fits_both_chips(graphs: dict, loihi2: dict) -> None:
    compiled = loihi2["cnn"]
    fuse = next(r for r in compiled.records if r.name == "fuse_linear")
    assert fuse.figures["chains_fused"] == 2 and fuse.figures["chains_kept"] == 0
    program = compiled.program
    assert all(p.kernel != "pass" for p in program.populations)      # the refusal was a SumPool relay
    assert program.neuron_count() == 8970 and program.metadata["pipeline_depth"] == 5
    # 137,595 stored weights (1,098,909 connections; the fused 6x6 convolution holds 4,608) on 4 cores
    assert program.synapse_count() == 137_595 and program.n_cores <= 4
    s2 = SPINNAKER2.compile(graphs["cnn"]).program
    assert s2.neuron_count() == 8970 and all(p.kernel != "pass" for p in s2.populations)


@pytest.mark.parametrize("name", ["braille_bias", "braille_subtract"])
def test_braille_compiles_for_both_chips(name: str, graphs: dict, loihi2: dict) -> None:
    program = loihi2[name].program
    assert all(p.kernel != "pass" for p in program.populations)      # the biased recurrent relay is gone
    has_source = any(p.name == ALWAYS_ON for p in program.populations)
    assert has_source == (name == "braille_bias")
    hidden = 38 if name == "braille_bias" else 40
    assert neurons(program) == ["lif1.lif", "lif2"] and program.neuron_count() == hidden + 7 + has_source
    # SpiNNaker2 holds a bias into a decaying current, but a relay on the loop would be a hop more:
    # the relay is dissolved there too and only its bias comes from an always-on neuron.
    s2 = SPINNAKER2.compile(graphs[name])
    assert all(p.kernel != "pass" for p in s2.program.populations)
    assert any(p.name == ALWAYS_ON for p in s2.program.populations) == (name == "braille_bias")
    assert any(r.name == "always_on" for r in s2.records) == (name == "braille_bias")


@pytest.fixture(scope="module")
def spinnaker2(graphs: dict) -> dict:
    return {k: SPINNAKER2.compile(graphs[k]) for k in ("braille_bias", "braille_subtract")}


def assert_shifted_reference(name: str, compiled) -> None:
    """The emulator equals the compiled graph's fixed-point reference, each population shifted by
    its hops, spike for spike (and every population spikes)."""
    program = compiled.program
    x = stand_in(name, 3)
    steps = x.shape[1]
    emu = emulator(program, x, steps + program.metadata["pipeline_depth"])
    ref = simulate(compiled.graph, {"input": x}, mode="fixed", record=neurons(program)).recorded
    shifts = _shifts(program, ALWAYS_ON)
    for n in neurons(program):
        want = ref[n].reshape(3, steps, -1)
        assert np.array_equal(emu[n][:, shifts[n]:shifts[n] + steps], want), n
        assert want.sum() > 0, n


@pytest.mark.parametrize("name", ["braille_bias", "braille_subtract"])
def test_spinnaker2_emulator_is_its_fixed_point_graph_shifted_by_its_hops(name: str, spinnaker2: dict) -> None:
    # The rung that caught the relay on the loop: with it, 35 % of the output spikes differed.
    assert_shifted_reference(name, spinnaker2[name])


@pytest.mark.parametrize("name", sorted(MODELS))
def test_emulator_is_the_fixed_point_graph_shifted_by_its_hops(name: str, loihi2: dict) -> None:
    assert_shifted_reference(name, loihi2[name])


@needs_lava
@pytest.mark.parametrize("name", sorted(MODELS))
def test_lava_equals_the_emulator_spike_for_spike(name: str, loihi2: dict) -> None:
    program = loihi2[name].program
    x = stand_in(name, 2 if name == "cnn" else 4, seed=2)
    steps = x.shape[1] + program.metadata["pipeline_depth"]
    ours = emulator(program, x, steps)
    theirs = run_lava(program, {"input": x}, steps, timeout=600).spikes
    assert sorted(theirs) == sorted(ours)
    for n in ours:
        mismatch = np.argwhere(theirs[n] != ours[n])
        assert mismatch.size == 0, f"population {n}: first mismatch (sample, step, neuron) {mismatch[0]}"
    assert all(ours[n].sum() > 0 for n in neurons(program))


# measured (see the module docstring): per-layer spike agreement floors and class agreement floors
AGREEMENT = {"cnn": ({"1": 0.99, "3": 0.97, "6": 0.92, "10": 0.96, "12": 0.95}, 8),
             "braille_bias": ({"lif1.lif": 0.985, "lif2": 0.6}, 11),
             "braille_subtract": ({"lif1.lif": 0.995, "lif2": 0.98}, 15)}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_float_model_and_chip_agree_on_stand_in_inputs(name: str, graphs: dict, loihi2: dict) -> None:
    program = loihi2[name].program
    x = stand_in(name, 20)
    steps = x.shape[1]
    emu = emulator(program, x, steps + program.metadata["pipeline_depth"])
    ref = simulate(graphs[name], {"input": x.astype(np.float64)}, dtype=np.float64, record=neurons(program)).recorded
    shifts = _shifts(program, ALWAYS_ON)
    floors, classes = AGREEMENT[name]
    chip = {n: emu[n][:, shifts[n]:shifts[n] + steps].reshape(ref[n].shape) for n in neurons(program)}
    for n, floor in floors.items():
        assert float(np.mean(chip[n] == ref[n])) >= floor, n
    out = neurons(program)[-1]
    assert int(np.sum(decode_rate(chip[out]) == decode_rate(ref[out]))) >= classes
