"""Loihi 2: projection biases into decaying currents through the always-on neuron
(targets/loihi2/compile.py), and weights beyond 8 bits that are an 8-bit weight times a power of
two (targets/loihi2/encode.py).  Exact: the emulator runs every population ``h`` steps (its hops
from the input) behind the quantized graph's fixed-point reference, and Lava equals the emulator."""

from __future__ import annotations

import dataclasses
import importlib
import os

import numpy as np
import pytest
import spikec.ir as ir
from hypothesis import given, settings
from hypothesis import strategies as st
from spikec.errors import UnsupportedError
from spikec.runtime import run
from spikec.targets.always_on import ALWAYS_ON
from spikec.targets.always_on import chip_shifts as _shifts
from spikec.targets.loihi2 import TARGET, encode, lava_available, run_lava
from spikec.targets.loihi2.compile import _digits
from spikec.targets.loihi2.encode import _weight_exponent

compile_mod = importlib.import_module("spikec.targets.loihi2.compile")
needs_lava = pytest.mark.skipif(not lava_available() and os.environ.get("CI") != "true",
                                reason="no Lava environment (make lava); CI=true makes this a failure")
DT = 1e-3


def cuba(n: int, **kw) -> ir.Node:
    return ir.make_population(ir.CubaLIF, n, tau_syn=kw.pop("tau_syn", 3e-3), tau_mem=1e-2, v_threshold=0.5, **kw)


def deep_biased_net(bias: float = 0.3) -> ir.Graph:
    """in -> Affine -> CubaLIF(10, + biased recurrent Affine) -> Affine -> CubaLIF(8) -> Affine -> CubaLIF(6)
    -> Affine -> LIF(4): biases into currents 1, 2 and 3 hops deep, one on a recurrent edge, and one into a
    current-less LIF."""
    rng = np.random.default_rng(11)
    nodes = {
        "in": ir.Input((6,)),
        "w1": ir.Affine(rng.normal(0.2, 1.0, (10, 6)), rng.normal(0, bias, 10)),
        "h1": cuba(10),
        "rec": ir.Affine(rng.normal(0, 0.3, (10, 10)), rng.normal(0, bias, 10)),
        "w2": ir.Affine(rng.normal(0.3, 1.5, (8, 10)), rng.normal(0, bias, 8)),
        "h2": cuba(8, tau_syn=5e-3),
        "w3": ir.Affine(rng.normal(0.3, 1.5, (6, 8)), rng.normal(0, bias, 6)),
        "h3": cuba(6),
        "w4": ir.Affine(rng.normal(0, 0.8, (4, 6)), rng.normal(0, bias, 4)),
        "h4": ir.make_population(ir.LIF, 4, tau=1e-2, v_threshold=0.5),
        "out": ir.Output(),
    }
    edges = [("in", "w1"), ("w1", "h1"), ("h1", "rec"), ("rec", "h1"), ("h1", "w2"), ("w2", "h2"), ("h2", "w3"),
             ("w3", "h3"), ("h3", "w4"), ("w4", "h4"), ("h4", "out")]
    return ir.Graph(nodes, edges, dt=DT)


def spikes(shape: tuple[int, ...], seed: int = 0, p: float = 0.5) -> np.ndarray:
    return (np.random.default_rng(seed).random(shape) < p).astype(np.int64)


def engine(program, x: np.ndarray, steps: int) -> dict[str, np.ndarray]:
    pops = [p.name for p in program.populations if p.kernel != "input"]
    rec = run(program, {"in": x}, steps, record=pops).recorded
    return {k: v.reshape(v.shape[0], v.shape[1], -1) for k, v in rec.items()}


def test_biases_into_currents_come_from_the_always_on_neuron_exactly() -> None:
    compiled = TARGET.compile(deep_biased_net())
    program = compiled.program
    names = [p.name for p in program.populations]
    assert names[0] == ALWAYS_ON and "rec" not in names        # the recurrent bias relay is dissolved
    source = [j for j in program.projections if j.source == ALWAYS_ON]
    # h1: its own bias from graph step 0 and the recurrent one from step 1; h2, h3 two and three hops deep;
    # h4 (no current to outlive the step) four hops deep: on its membrane it would start 4 steps early.
    got = sorted((j.target, int(j.delay.min())) for j in source)
    assert got == [("h1", 0), ("h1", 1), ("h2", 1), ("h3", 2), ("h4", 3)]
    assert "input_bias" not in program.population("h4").params
    assert program.metadata["pipeline_depth"] == 4
    x = spikes((3, 40, 6))
    emu = engine(program, x, 44)
    ref = simulate_fixed(compiled, x)
    shifts = _shifts(program, ALWAYS_ON)
    assert shifts == {ALWAYS_ON: 0, "in": 0, "h1": 1, "h2": 2, "h3": 3, "h4": 4}
    for n in ("h1", "h2", "h3", "h4"):
        assert np.array_equal(emu[n][:, shifts[n]:shifts[n] + 40], ref[n].reshape(3, 40, -1)), n
        assert ref[n].sum() > 0
    assert np.all(emu[ALWAYS_ON] == 1)
    text = compiled.records[-1].explain()
    assert "the bias of 'rec' (a recurrent projection, from the next step): 10 synapse(s)" in text
    assert "h4: the bias of its input projections (the population starts 4 chip step(s) before its first input)" \
        in text
    assert "from graph step 1 (chip step 2)" in text


def simulate_fixed(compiled, x: np.ndarray) -> dict[str, np.ndarray]:
    return ir.simulate(compiled.graph, {"in": x}, mode="fixed", record=["h1", "h2", "h3", "h4"]).recorded


def test_without_the_always_on_neuron_the_bias_would_arrive_early() -> None:
    """The delays matter: the same program with the bias synapses undelayed gives other membranes
    (and, on the paper's Braille RNN, other spikes: tests/targets/test_nir_paper.py)."""
    program = TARGET.compile(deep_biased_net()).program
    early = dataclasses.replace(program, projections=tuple(
        dataclasses.replace(j, delay=None) if j.source == ALWAYS_ON else j for j in program.projections))
    x = {"in": spikes((3, 40, 6))}
    state = {"h1": ("v",), "h2": ("v",)}
    a, b = (run(p, x, 44, record_state=state).state for p in (program, early))
    assert not np.array_equal(a["h1"]["v"], b["h1"]["v"]) and not np.array_equal(a["h2"]["v"], b["h2"]["v"])


@needs_lava
def test_lava_equals_the_emulator_with_biases_and_wide_bias_digits() -> None:
    # A bias 10x the weights needs two 7-bit digits: a second connection with weight_exp + 7.
    for bias in (0.3, 3.0):
        program = TARGET.compile(deep_biased_net(bias)).program
        if bias > 1:
            assert any("<<7" in j.name for j in program.projections)
            exps = {c.name: c.weight_exp for c in encode(program).connections}
            assert min(e for name, e in exps.items() if "<<7" in name) > max(e for name, e in exps.items()
                                                                             if "<<" not in name)
        x = spikes((4, 40, 6), seed=5)
        ours = engine(program, x, 44)
        theirs = run_lava(program, {"in": x}, 44, timeout=600).spikes
        for n in ours:
            assert np.array_equal(ours[n], theirs[n]), (bias, n)
        assert ours["h3"].sum() > 0


def test_the_lava_connections_of_the_bias_digits_add_up_to_the_bias() -> None:
    """What each Lava connection adds per always-on spike, weight << weight_exp, summed over a
    population's digit connections, is the program's bias (input_shift 6: no extra shift)."""
    program = TARGET.compile(deep_biased_net(3.0)).program
    net = encode(program)
    wide = 0
    for target in ("h1", "h2", "h3"):
        size = program.population(target).size
        want, got = np.zeros(size), np.zeros(size)
        for j in program.projections:
            if j.source == ALWAYS_ON and j.target == target:
                np.add.at(want, j.target_index, j.weight)
        for c in net.connections:
            if c.source == ALWAYS_ON and c.target == target:
                np.add.at(got, c.dst, c.weight * 2.0 ** c.weight_exp)
        assert np.array_equal(got, want), target
        wide += int(np.sum(np.abs(want) > 127))
    assert wide > 0   # some biases need two digits

def test_a_bias_that_needs_a_longer_delay_than_the_chip_has_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(compile_mod, "MAX_DELAY", 0)
    with pytest.raises(UnsupportedError) as info:
        TARGET.compile(deep_biased_net())
    e = info.value
    assert e.node == "h1" and e.parameter == "input_bias" and "delays <= 0" in str(e.limit)
    assert "1 steps before the graph does" in str(e) and e.fix


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(-(1 << 22), 1 << 22), min_size=1, max_size=6))
def test_bias_digits_sum_to_the_bias_and_each_is_one_lava_weight(values: list[int]) -> None:
    value = np.array(values, np.int64)
    digits = _digits(value)
    total = sum((d for _, d in digits), np.zeros_like(value))
    assert np.array_equal(total, value)
    for shift, d in digits:
        assert shift % 7 == 0 and np.all(d % (1 << shift) == 0) and np.abs(d >> shift).max() <= 127
        assert _weight_exponent("j", d[d != 0], 127, True) <= shift


def test_weight_exponent_is_exact_or_refused() -> None:
    assert _weight_exponent("j", np.array([254, -128]), 127, True) == 1    # 127 and -64, halved exactly
    assert _weight_exponent("j", np.array([100, -5]), 127, True) == 0
    assert _weight_exponent("j", np.array([1000, 8]), 255, False) == 2    # 250 << 2
    with pytest.raises(UnsupportedError, match="no 8-bit weight times a power of two"):
        _weight_exponent("j", np.array([1001]), 255, False)
