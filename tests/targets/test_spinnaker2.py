"""SpiNNaker2: the digits model, a conv net and a 100,000-neuron random network compile under
every per-PE and per-router limit, run on the emulator bit for bit like the reference's fixed
point, and the cycle model flags the ticks a PE cannot finish."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import spikec
import spikec.ir as ir
from spikec.api import bundled_data, bundled_model, decode_rate, evaluate, load, load_dataset
from spikec.cli import main
from spikec.compiler.lower import lower
from spikec.errors import ResourceLimitError, UnsupportedError
from spikec.ir.linear import Affine, Linear, SparseLinear
from spikec.runtime import run
from spikec.runtime.synapses import expand
from spikec.targets.always_on import ALWAYS_ON
from spikec.targets.spinnaker2 import SPINNAKER2_CHIP, SPINNAKER2_COSTS, TARGET, overruns, pe_memory, spinnaker2_spec
from spikec.targets.spinnaker2.compile import pe_index, route_program
from spikec.targets.spinnaker2.routing import assign_keys, deliver

torch = pytest.importorskip("torch")
snn = pytest.importorskip("snntorch")
from spikec.compiler.frontends.torch_import import from_torch  # noqa: E402


def random_net(n: int = 100_000, n_in: int = 1000, k_in: int = 8, k_rec: int = 10, seed: int = 0) -> ir.Graph:
    """n LIF neurons, k_in random inputs and k_rec random recurrent synapses each (80 % excitatory)."""
    rng = np.random.default_rng(seed)
    t_in, t_r = np.repeat(np.arange(n), k_in), np.repeat(np.arange(n), k_rec)
    nodes = {
        "in": ir.Input((n_in,)),
        "w_in": ir.SparseLinear((n, n_in), t_in, rng.integers(0, n_in, t_in.size), rng.uniform(0.3, 0.9, t_in.size)),
        "h": ir.make_population(ir.LIF, n, tau=1e-2, v_threshold=0.5),
        "w_rec": ir.SparseLinear((n, n), t_r, rng.integers(0, n, t_r.size),
                                 np.where(rng.random(t_r.size) < 0.8, 0.1, -0.3)),
        "out": ir.Output(),
    }
    return ir.Graph(nodes, [("in", "w_in"), ("w_in", "h"), ("h", "w_rec"), ("w_rec", "h"), ("h", "out")], dt=1e-3)


def conv_net() -> ir.Graph:
    torch.manual_seed(0)
    nn = torch.nn
    model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), snn.Leaky(beta=0.9, threshold=0.5, init_hidden=True),
                          nn.Conv2d(8, 16, 3, stride=2, padding=1),
                          snn.Leaky(beta=0.8, threshold=0.5, init_hidden=True),
                          nn.Flatten(), nn.Linear(256, 10), snn.Leaky(beta=0.9, threshold=0.5, init_hidden=True))
    return from_torch(model.eval(), input_shape=(1, 8, 8))


def check_limits(compiled, limit_entries: int = SPINNAKER2_CHIP.router_entries.value) -> dict:
    """Every limit of the result, recounted here: neurons per PE, SRAM per PE, router entries,
    and every spike of a sample of units reaching exactly the PEs that hold its synapses."""
    program = compiled.program
    spec = spinnaker2_spec()
    counts = np.bincount(program.core_of)
    assert counts.max() <= spec.value("neurons_per_core")
    mem = pe_memory(program)
    assert mem.total.max() <= SPINNAKER2_CHIP.sram_per_pe.value
    figures = compiled.records[-1].figures
    assert figures["max_after"] <= limit_entries and figures["entries_after"] <= figures["entries_before"]
    # Delivery, unit by unit, through the compressed tables the compiler built.
    per_chip = program.metadata["pes_per_chip"]
    pe = pe_index(program, per_chip, spec.value("mesh_x"))[program.core_of]
    alloc = assign_keys(pe)
    tables = route_program(program, per_chip, spec.value("mesh_x"), limit_entries).result.tables
    rng = np.random.default_rng(0)
    for j in program.projections:
        s = expand(j, program.population(j.source).size, program.population(j.target).size)
        keep = s.weight != 0
        src = s.source[keep] + program.offsets[program.index[j.source]]
        dst = s.target[keep] + program.offsets[program.index[j.target]]
        for unit in rng.choice(np.unique(src), size=min(20, np.unique(src).size), replace=False):
            want = set(pe[dst[src == unit]].tolist())
            got = deliver(tables, int(alloc.keys[unit]), int(pe[unit]))
            assert want <= set(got), (j.name, unit)  # a PE may also get it for another synapse of the unit
    return figures


def with_hop_delay(graph: ir.Graph) -> ir.Graph:
    """The graph with one more step on every feed-forward weighted projection: the chip's timing
    expressed in the IR, so the reference simulator computes what the timed program does."""
    nodes = dict(graph.nodes)
    for name, node in graph.nodes.items():
        if isinstance(node, (Linear, Affine, SparseLinear)):
            assert not any((name, s) in graph.back_edges for s in graph.successors(name))
            base = node.delay if node.delay is not None else np.zeros(node.weight.shape, np.int64)
            nodes[name] = dataclasses.replace(node, delay=base + 1)
    return graph.replace(nodes=nodes)


def test_digits_model_fits_and_matches_the_reference_bit_for_bit() -> None:
    graph = load(bundled_model())
    data = load_dataset(bundled_data(), graph)
    compiled = TARGET.compile(graph)
    program = compiled.program
    check_limits(compiled)
    steps = data.steps + program.metadata["pipeline_depth"]
    x = {k: np.pad(v, ((0, 0), (0, steps - data.steps), (0, 0))) for k, v in data.inputs.items()}
    pops = [p.name for p in program.populations if p.is_neuron]
    ours = run(program, x, steps, record=pops).recorded
    ref = ir.simulate(with_hop_delay(compiled.graph), x, mode="fixed", record=pops).recorded
    for name in pops:
        np.testing.assert_array_equal(ours[name].reshape(ref[name].shape), ref[name], err_msg=name)
    out = ours[next(iter(program.outputs.values()))]
    float_acc = evaluate(graph, data, dtype=np.float64).accuracy
    assert abs(float(np.mean(decode_rate(out) == data.labels)) - float_acc) <= 0.01
    assert all(c.config["rounding"] == "floor" and c.config["u_bits"] == 32 for c in program.populations if c.is_neuron)


def test_conv_net_fits_and_its_arithmetic_matches_the_reference() -> None:
    compiled = TARGET.compile(conv_net(), {"pes_per_chip": 16, "neurons_per_pe": 64})
    figures = check_limits(compiled)
    assert figures["pes"] > 1
    x = (np.random.default_rng(0).random((4, 12, 1, 8, 8)) < 0.3).astype(np.int64)
    pops = [p.name for p in compiled.program.populations if p.is_neuron and p.name != ALWAYS_ON]
    ours = run(lower(compiled.graph), {"0": x} if "0" in compiled.graph.inputs else {compiled.graph.inputs[0]: x},
               12, record=pops).recorded
    ref = ir.simulate(compiled.graph, x, mode="fixed", record=pops).recorded
    for name in pops:
        np.testing.assert_array_equal(ours[name].reshape(ref[name].shape), ref[name], err_msg=name)
    timed = run(compiled.program, {compiled.graph.inputs[0]: x}, 14)
    assert timed.output.sum() > 0


def test_100k_neuron_random_network_compiles_fits_and_runs() -> None:
    compiled = TARGET.compile(random_net())
    figures = check_limits(compiled)
    print(f"\n100k random net: {figures}")
    assert figures["pes"] >= 100_000 // 256 and figures["chips"] >= 3
    assert figures["entries_after"] < figures["entries_before"]
    x = (np.random.default_rng(1).random((1, 10, 1000)) < 0.05).astype(np.int64)
    res = run(compiled.program, {"in": x}, 10)
    assert res.output.sum() > 0
    est = TARGET.price(res.counters, compiled.program)
    assert est.energy > 0 and est.latency == pytest.approx(10e-3)


def test_limits_are_named_when_the_network_does_not_fit() -> None:
    with pytest.raises(ResourceLimitError) as info:
        TARGET.compile(random_net(20_000, 100, 4, 4), {"chips": 1, "pes_per_chip": 16})
    assert info.value.parameter == "chips" and "chips >=" in str(info.value)
    with pytest.raises(UnsupportedError) as info2:
        TARGET.compile(random_net(2_000, 100, 4, 4), {"neurons_per_pe": 4000})
    assert info2.value.parameter == "neurons_per_pe"


def test_overrun_names_the_pe_and_the_dominant_term() -> None:
    """2000 inputs all firing into 256 neurons: each PE's synaptic events take longer than 1 ms."""
    rng = np.random.default_rng(0)
    graph = ir.Graph({"in": ir.Input((2000,)), "w": ir.Linear(rng.uniform(0, 0.01, (256, 2000))),
                      "n": ir.make_population(ir.LIF, 256, tau=1e-2, v_threshold=10.0), "out": ir.Output()},
                     [("in", "w"), ("w", "n"), ("n", "out")], dt=1e-3)
    compiled = TARGET.compile(graph)
    res = run(compiled.program, {"in": np.ones((1, 4, 2000), np.int64)}, 4)
    found, total = overruns(res.counters, SPINNAKER2_COSTS)
    assert total > 0 and found[0].dominant == "synaptic events"
    assert f"PE {found[0].pe} overruns step" in found[0].explain()
    assert any("overrunning" in line for line in TARGET.notes(res.counters, compiled.program))


def test_cli_compare_and_what_ifs(capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["compare", "default", "--targets", "loihi2,spinnaker2", "--samples", "20"]) == 0
    out = capsys.readouterr().out
    assert "SpiNNaker2" in out and "Loihi 2" in out
    assert main(["estimate", "default", "--target", "spinnaker2", "--samples", "10", "--pes-per-chip", "4",
                 "--neurons-per-pe", "64"]) == 0
    out = capsys.readouterr().out
    assert "busiest PE tick" in out and "28 nm prototype" in out and "SpiNNaker1 value" in out


def test_neurons_per_pe_range_is_what_the_sram_holds() -> None:
    from spikec.targets.spinnaker2 import Spinnaker2Options

    high = next(i.high for i in Spinnaker2Options.describe() if i.name == "neurons_per_pe")
    assert spinnaker2_spec(neurons_per_pe=int(high)).value("synapses_per_core") >= 0
    with pytest.raises(UnsupportedError, match="neurons per PE need"):
        spinnaker2_spec(neurons_per_pe=int(high) + 1)


def test_the_tick_is_a_what_if_and_the_run_says_which_tick_fits() -> None:
    graph = load(bundled_model())
    data = load_dataset(bundled_data(), graph).take(10)
    slow = spikec.run(graph, data, target="spinnaker2")
    fast = spikec.run(graph, data, target="spinnaker2", options={"tick_us": 700})
    assert fast.estimate.latency == pytest.approx(slow.estimate.latency * 0.7)
    idle = "idle power (chips x time)"
    assert fast.estimate.breakdown[idle] == pytest.approx(slow.estimate.breakdown[idle] * 0.7)
    # the constants an estimate shows are the ones it was computed with
    assert spikec.estimate(graph, "spinnaker2", data, options={"tick_us": 700}).constants["tick_s"].value == 7e-4
    fits = next(line for line in slow.notes if "would fit the busiest PE" in line)
    tick = int(fits.split("--tick-us ")[1].split(")")[0])
    assert 100 < tick < 1000
    assert "0 overrunning" in spikec.run(graph, data, target="spinnaker2", options={"tick_us": tick}).notes[0]
    too_fast = spikec.run(graph, data, target="spinnaker2", options={"tick_us": tick - 2})
    assert "0 overrunning" not in too_fast.notes[0] and any("overruns step" in n for n in too_fast.notes)
