"""The reram target on the bundled digits model: bit-exact when ideal, device effects when not,
seeded, and priced from its counters by the NeuroSim-style closed forms."""

from __future__ import annotations

import numpy as np
import pytest
import spikec
from spikec import ir
from spikec.runtime import COUNTERS, run
from spikec.targets import get_target
from spikec.targets.reram.cost import RERAM_COSTS, tile_read_time

IDEAL = {"noise_scale": 0.0, "read_noise": 0.0, "adc_bits": 24}
C = {name: i for i, name in enumerate(COUNTERS)}


@pytest.fixture(scope="module")
def digits():
    graph = spikec.load("default")
    data = spikec.load_dataset(spikec.bundled_data(), graph)
    return graph, data


def test_ideal_crossbar_is_bit_exact_with_the_fixed_point_reference(digits) -> None:
    graph, data = digits
    compiled = get_target("reram").compile(graph, IDEAL)
    program = compiled.program
    assert {j.kind for j in program.projections} == {"crossbar"}
    assert all(j.geometry["adc_lsb"] == 1.0 for j in program.projections)
    inputs = {k: v[:120] for k, v in data.inputs.items()}
    depth = program.metadata["pipeline_depth"]
    got = run(program, inputs, steps=data.steps + depth, record="all")
    ref = ir.simulate(compiled.graph, inputs, record=["1", "3"])
    assert isinstance(compiled.graph.nodes["1"], ir.FixedCubaLIF)
    np.testing.assert_array_equal(got.output[:, depth:], ref.output)
    np.testing.assert_array_equal(got.recorded["1"][:, 1:1 + data.steps], ref.recorded["1"])
    assert ref.output.any()


def test_device_noise_is_seeded_and_moves_the_weights_by_sigma(digits) -> None:
    graph, _ = digits
    target = get_target("reram")
    ideal = target.compile(graph, IDEAL).program.projections[0].weight
    a = target.compile(graph).program.projections[0].weight
    np.testing.assert_array_equal(a, target.compile(graph).program.projections[0].weight)
    assert not np.array_equal(a, target.compile(graph, {"device_seed": 1}).program.projections[0].weight)
    np.testing.assert_array_equal(ideal, np.round(ideal))
    # A zero weight is a pair at g_min: wan2022's sigma at g/g_max = 1/17, scaled to g_max = 10 uS,
    # on both devices, in steps of dg = (g_max - g_min) / 15.
    from spikec.targets.reram.devices import device
    from spikec.targets.reram.spec import RERAM_CHIP as chip
    g_min, g_max = chip.g_min, chip.g_max
    sigma = device("wan2022").sigma(np.array([g_min]), g_max)[0]
    dev = (a - ideal)[ideal == 0]
    assert dev.size > 500
    assert abs(dev.std() / (np.sqrt(2) * sigma / ((g_max - g_min) / 15)) - 1) < 0.1


def test_nonidealities_cost_accuracy_in_order_and_are_reported(digits) -> None:
    graph, data = digits
    target = get_target("reram")
    data = data.take(150)
    acc = {}
    for name, opts in {"ideal": IDEAL, "default": {}, "stuck": {"stuck_fraction": 0.3},
                       "adc2": {**IDEAL, "adc_bits": 2}}.items():
        report = spikec.run(graph, data, target=target, options=opts)
        acc[name] = report.accuracy
        if name == "stuck":
            info = target.compile(graph, opts).program.metadata["reram"]
            assert abs(info["stuck_devices"] / info["devices"] - 0.3) < 0.02
        if name == "adc2":
            assert report.result.counters.total("clips") == 0   # full range: coarse, never clipped
    assert acc["ideal"] >= 0.9 and acc["default"] >= 0.9
    assert acc["stuck"] < acc["ideal"] - 0.1 and acc["adc2"] < acc["ideal"] - 0.1


def test_a_narrow_adc_range_clips_and_the_notes_say_so(digits) -> None:
    graph, data = digits
    target = get_target("reram")
    program = target.compile(graph, {"adc_range": 0.01, "adc_bits": 4}).program
    res = run(program, {k: v[:20] for k, v in data.inputs.items()}, steps=data.steps + 2)
    assert res.counters.total("clips") > 0
    assert any("clipped" in line for line in target.notes(res.counters, program))


def test_ir_drop_lowers_every_cell_and_keeps_the_model_working(digits) -> None:
    graph, data = digits
    target = get_target("reram")
    ideal = target.compile(graph, IDEAL).program
    dropped = target.compile(graph, {**IDEAL, "ir_drop": True, "wire_ohm": 5.0}).program
    w0, w1 = ideal.projections[0].weight, dropped.projections[0].weight
    assert not np.array_equal(w0, w1)
    assert np.abs(w1).sum() < np.abs(w0).sum()
    report = spikec.run(graph, data.take(100), target=target, options={**IDEAL, "ir_drop": True, "wire_ohm": 5.0})
    assert report.accuracy >= 0.85


def test_price_is_the_sum_of_counted_events_times_their_constants(digits) -> None:
    graph, data = digits
    target = get_target("reram")
    program = target.compile(graph).program
    res = run(program, {k: v[:10] for k, v in data.inputs.items()}, steps=data.steps + 2)
    est = target.price(res.counters, program)
    info = program.metadata["reram"]
    pop = res.counters.per_population.sum(axis=(0, 1))
    zeta = RERAM_COSTS.zeta.value
    cells = pop[:, C["cell_reads"]].sum() * 0.5**2 * info["g_mean"] * 10e-9 * zeta / 10
    adc = pop[:, C["adc"]].sum() * RERAM_COSTS.e_adc_8bit.value * 2.0 ** (9 - 8) * zeta / 10
    assert est.breakdown["device reads"] == pytest.approx(cells, rel=1e-12)
    assert est.breakdown["ADC conversions"] == pytest.approx(adc, rel=1e-12)
    assert est.energy == pytest.approx(cells + adc, rel=1e-12)
    assert "DAC (row drivers)" in est.missing and "digital neuron updates" in est.missing
    reads = res.counters.per_core[..., C["xb_reads"]].max(axis=2)
    assert est.latency == pytest.approx(reads.sum(axis=1).mean() * tile_read_time(RERAM_COSTS, 8), rel=1e-12)
    assert tile_read_time(RERAM_COSTS, 8) == pytest.approx(10e-9 + 8 / 1.28e9)
    assert all(c.source for c in target.constants().values())


def test_tiles_follow_the_mapping(digits) -> None:
    graph, _ = digits
    program = get_target("reram").compile(graph, {"tile_cols": 32, "tile_rows": 16}).program
    info = program.metadata["reram"]
    # 64 -> 128 -> 10: ceil(64/16) row blocks x the cores holding layer 1, plus ceil(128/16) x those of layer 2.
    cores = lambda name: np.unique(program.core_of[program.offsets[program.index[name]]:  # noqa: E731
                                                   program.offsets[program.index[name] + 1]]).size
    assert cores("1") >= 4
    assert info["tiles"] == 4 * cores("1") + 8 * cores("3")


def test_float_programs_map_weights_onto_levels(digits) -> None:
    graph, data = digits
    report = spikec.run(graph, data.take(100), target="reram", options={"arithmetic": "float"})
    assert report.accuracy >= 0.85


@pytest.mark.parametrize("bits", [3, 5, 9])
def test_fixed_point_adc_lsb_is_the_smallest_power_of_two_whose_full_scale_covers_every_column(digits, bits) -> None:
    graph, _ = digits
    program = get_target("reram").compile(graph, {"adc_bits": bits}).program
    qmax = 2 ** (bits - 1) - 1
    for j in program.projections:
        rows = j.geometry["tile_rows"]
        worst = max(np.abs(j.weight[:, r:r + rows]).sum(axis=1).max() for r in range(0, j.weight.shape[1], rows))
        lsb = j.geometry["adc_lsb"]
        assert lsb == 2.0 ** round(np.log2(lsb)) and lsb >= 1
        assert lsb * qmax >= worst and (lsb == 1 or lsb / 2 * qmax < worst)
