"""The engine's crossbar projection kernel (csrc/engine.c, ``xb_mvm``): its arithmetic against a
NumPy model of the same periphery, its counters against closed forms, its counter-based RNG,
and what program validation refuses.  (C code: this file also runs under ASan/UBSan.)"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from spikec.errors import ProgramError
from spikec.runtime import COUNTERS, Population, Program, Projection, run
from spikec.runtime.program import load_program, save_program

C = {name: i for i, name in enumerate(COUNTERS)}


def periphery(**over) -> dict:
    base = {"tile_rows": 128, "tile_cols": 128, "in_bits": 1, "in_lsb": 1.0, "adc_bits": 24, "adc_lsb": 1.0,
            "read_sigma": 0.0, "seed": 0}
    return {**base, **over}


def program(w: np.ndarray, geometry: dict, *, arithmetic: str = "float", core_of: np.ndarray | None = None,
            n_cores: int | None = None) -> Program:
    """Input (n_src) -> crossbar -> pass relay (n_dst); the relay's graded output is the MVM."""
    n_dst, n_src = w.shape
    pops = (Population("x", "input", (n_src,)), Population("y", "pass", (n_dst,)))
    proj = Projection("xb", "x", "y", "crossbar", w, geometry=geometry)
    xy = None
    if core_of is not None:
        xy = np.stack([np.arange(n_cores), np.zeros(n_cores, np.int64)], axis=1)
    return Program(1e-3, arithmetic, pops, (proj,), {"in": "x"}, {"out": "y"}, core_of=core_of, core_xy=xy)


def model(w: np.ndarray, x: np.ndarray, g: dict) -> tuple[np.ndarray, int]:
    """NumPy model of one noiseless step: sign-magnitude bit-serial DAC, per-tile-block column
    sums, ADC round-half-away and clip, shift-and-add.  Returns the output and the clip count."""
    n_dst, n_src = w.shape
    in_max = 2 ** g["in_bits"] - 1
    mag = np.floor(np.abs(x) / g["in_lsb"] + 0.5)
    clips = int((mag > in_max).sum())
    code = np.minimum(mag, in_max).astype(np.int64)
    sign = np.where(x < 0, -1.0, 1.0)
    qmax = 2.0 ** (g["adc_bits"] - 1) - 1
    out = np.zeros(n_dst)
    for r in range(0, n_src, g["tile_rows"]):
        for bit in range(g["in_bits"]):
            on = ((code[r:r + g["tile_rows"]] >> bit) & 1).astype(bool)
            if not on.any():
                continue
            s = (w[:, r:r + g["tile_rows"]][:, on] * sign[r:r + g["tile_rows"]][on]).sum(axis=1)
            q = np.sign(s) * np.floor(np.abs(s) / g["adc_lsb"] + 0.5)
            clips += int((np.abs(q) > qmax).sum())
            out += np.clip(q, -qmax, qmax) * g["adc_lsb"] * g["in_lsb"] * 2.0**bit
    return out, clips


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**31), st.integers(1, 40), st.integers(1, 12), st.integers(1, 9), st.integers(1, 4),
       st.integers(2, 10))
def test_noiseless_kernel_equals_the_numpy_model(seed, n_src, n_dst, rows, in_bits, adc_bits) -> None:
    rng = np.random.default_rng(seed)
    # Weights on a 1/8 grid, sums stay exact in double whatever the order of addition.
    w = rng.integers(-8, 9, (n_dst, n_src)) / 8.0
    lsb = float(rng.choice([0.25, 1, 3]))
    g = periphery(tile_rows=rows, in_bits=in_bits, in_lsb=0.25, adc_bits=adc_bits, adc_lsb=lsb)
    x = rng.integers(-2**in_bits - 1, 2**in_bits + 2, (3, 1, n_src)) * 0.25
    res = run(program(w, g), {"in": x}, steps=2)
    for b in range(3):
        want, clips = model(w, x[b, 0], g)
        np.testing.assert_array_equal(res.output[b, 0], want)
        assert res.counters.per_population[b, 0, 0, C["clips"]] == clips


def test_counters_equal_the_closed_forms_of_a_256x200_matrix_on_128x128_tiles() -> None:
    """200 targets on two cores (128 + 72), 256 source rows: 2 x 2 = 4 tiles.  A step with every
    input active (one bit) reads each tile once: DAC pulses = its rows, conversions = its columns
    (with 8 columns per ADC, ceil(128 / 8) = 16 ADCs per tile, each converting 8 columns in turn:
    16 x 8 = 128 conversions per tile read of a full tile), cell reads = 2 x rows x columns."""
    rng = np.random.default_rng(1)
    w = rng.normal(size=(200, 256))
    core_of = np.concatenate([np.zeros(256, np.int64), np.ones(128, np.int64), np.full(72, 2)])
    prog = program(w, periphery(), core_of=core_of, n_cores=3)
    x = np.zeros((2, 3, 256))
    x[:, 0] = 1.0                    # step 0: every row
    x[1, 1, :100] = 1.0              # sample 1, step 1: rows 0..99 (row block 0 only)
    res = run(prog, {"in": x}, steps=3)
    tiles = res.counters.per_tile["xb"]
    assert tiles.shape == (2, 4, len(COUNTERS))   # tile = row block * 2 + column group
    cols = np.array([128, 72, 128, 72])
    np.testing.assert_array_equal(tiles[0, :, C["xb_reads"]], [1, 1, 1, 1])
    np.testing.assert_array_equal(tiles[0, :, C["dac"]], [128] * 4)
    np.testing.assert_array_equal(tiles[0, :, C["adc"]], cols)
    np.testing.assert_array_equal(tiles[0, :, C["cell_reads"]], 2 * 128 * cols)
    assert math.ceil(128 / 8) * 8 == tiles[0, 0, C["adc"]]
    np.testing.assert_array_equal(tiles[1, :, C["xb_reads"]], [2, 2, 1, 1])
    np.testing.assert_array_equal(tiles[1, :, C["dac"]], [228, 228, 128, 128])
    np.testing.assert_array_equal(tiles[1, :, C["cell_reads"]], 2 * np.array([228, 228, 128, 128]) * cols)
    # Per core (the tile's column group) and per source population, the same events.
    core = res.counters.per_core.sum(axis=(0, 1))
    np.testing.assert_array_equal(core[1:, C["adc"]], [5 * 128, 5 * 72])   # 5 reads of each column group
    pop = res.counters.per_population.sum(axis=(0, 1))[0]
    assert pop[C["adc"]] == tiles[..., C["adc"]].sum() == 400 + 600   # sample 0: 2 tiles x 200; sample 1: + 200
    assert pop[C["dac"]] == tiles[..., C["dac"]].sum() and pop[C["cell_reads"]] == tiles[..., C["cell_reads"]].sum()
    assert pop[C["clips"]] == 0


def test_fixed_point_crossbar_with_unit_lsbs_is_the_integer_product() -> None:
    rng = np.random.default_rng(2)
    w = rng.integers(-15, 16, (30, 70)).astype(np.float64)
    x = rng.integers(-5, 6, (4, 3, 70))
    res = run(program(w, periphery(in_bits=3), arithmetic="fixed"), {"in": x}, steps=3)
    np.testing.assert_array_equal(res.output, np.einsum("ji,bti->btj", w.astype(np.int64), x))
    assert res.output.dtype == np.int64


def test_read_noise_is_reproducible_per_sample_and_step_and_has_its_sigma() -> None:
    """Counter-based: a sample's noise depends on (seed, sample, step, ...) only, so threads,
    chunks and reruns give the same numbers; its spread is read_sigma * sqrt(2 x active rows)."""
    w = np.zeros((50, 4))
    g = periphery(read_sigma=0.5, adc_lsb=1 / 64, adc_bits=20)
    x = np.ones((40, 25, 4))
    prog = program(w, g)
    a = run(prog, {"in": x}, threads=1).output
    b = run(prog, {"in": x}, threads=4).output
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(run(prog, {"in": x[:7]}).output, a[:7])
    std = a.std()
    assert abs(std / (0.5 * math.sqrt(2 * 4)) - 1) < 0.02
    assert abs(a.mean()) < 0.05
    other = run(program(w, {**g, "seed": 1}), {"in": x}).output
    assert not np.array_equal(other, a)
    assert not np.array_equal(a[0], a[1])   # samples draw apart


def test_adc_clipping_is_counted_per_tile_and_core() -> None:
    w = np.full((3, 10), 1.0)
    res = run(program(w, periphery(adc_bits=3)), {"in": np.ones((1, 1, 10))}, steps=1)
    np.testing.assert_array_equal(res.output[0, 0], [3.0, 3.0, 3.0])       # 10 clipped to 2**2 - 1
    assert res.counters.per_tile["xb"][0, 0, C["clips"]] == 3
    assert res.counters.per_core[0, 0, :, C["clips"]].sum() == 3


def test_a_crossbar_program_saves_and_loads(tmp_path) -> None:
    w = np.random.default_rng(3).normal(size=(5, 6))
    prog = program(w, periphery(read_sigma=0.1, in_bits=2, in_lsb=0.5))
    save_program(prog, tmp_path / "p.npz")
    back = load_program(tmp_path / "p.npz")
    x = np.random.default_rng(4).random((2, 4, 6))
    np.testing.assert_array_equal(run(back, {"in": x}).output, run(prog, {"in": x}).output)


@pytest.mark.parametrize("over, parameter", [
    ({"adc_bits": 1}, "adc_bits"), ({"in_bits": 17}, "in_bits"), ({"adc_lsb": 0.0}, "adc_lsb"),
    ({"read_sigma": float("nan")}, "read_sigma"), ({"tile_rows": 2.5}, "tile_rows"), ({"seed": -1}, "seed"),
    ({"adc_bits": 48, "adc_lsb": 1e6}, "adc_bits"),
])
def test_bad_periphery_settings_are_refused_by_name(over, parameter) -> None:
    with pytest.raises(ProgramError) as info:
        program(np.ones((2, 3)), periphery(**over))
    assert info.value.parameter == parameter and info.value.node == "xb"


def test_validation_refuses_missing_settings_delays_and_fractional_fixed_lsbs() -> None:
    g = periphery()
    del g["seed"]
    with pytest.raises(ProgramError, match="missing"):
        program(np.ones((2, 3)), g)
    with pytest.raises(ProgramError) as info:
        program(np.ones((2, 3)), periphery(adc_lsb=0.5), arithmetic="fixed")
    assert info.value.parameter == "adc_lsb"
    pops = (Population("x", "input", (3,)), Population("y", "pass", (2,)))
    with pytest.raises(ProgramError) as info:
        Program(1e-3, "float", pops, (Projection("xb", "x", "y", "crossbar", np.ones((2, 3)), np.ones((2, 3)),
                                                 geometry=periphery()),), {"in": "x"}, {"out": "y"})
    assert info.value.parameter == "delay"


def test_a_core_with_more_targets_than_tile_columns_is_refused_when_run() -> None:
    prog = program(np.ones((5, 3)), periphery(tile_cols=4))
    with pytest.raises(ProgramError) as info:
        run(prog, {"in": np.ones((1, 1, 3))})
    assert info.value.parameter == "core_of" and info.value.node == "xb"
