"""Lowering to an SFQ netlist: splitter and merger trees in closed form, path balancing and the
clock, the JSON export and listing, what SFQ cannot express, and the kernel's counters equal to
their closed forms on a real run."""

from __future__ import annotations

import json

import numpy as np
import pytest
import spikec
from hypothesis import given, settings
from hypothesis import strategies as st
from spikec import ir
from spikec.errors import ResourceLimitError, UnsupportedError
from spikec.runtime.engine import run as run_engine
from spikec.targets import get_target
from spikec.targets.sfq import PYLSE, SfqOptions, lower_netlist, run_sfq
from spikec.targets.sfq.netlist import tree_shape

SFQ = get_target("sfq")


def dense(weight: np.ndarray, *, neuron: str = "if") -> ir.Graph:
    """in -> Linear(weight) -> IF/CubaLIF -> out."""
    n_out, n_in = weight.shape
    one = np.ones(n_out)
    cell = (ir.IF(r=one, v_threshold=one, v_reset=0 * one) if neuron == "if" else
            ir.CubaLIF(tau_syn=one * 5e-3, tau_mem=one * 1e-2, r=one, v_leak=0 * one, v_threshold=one,
                       v_reset=0 * one, w_in=one))
    return ir.Graph({"in": ir.Input((n_in,)), "w": ir.Linear(weight), "n": cell, "out": ir.Output()},
                    [("in", "w"), ("w", "n"), ("n", "out")], dt=1e-3)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 300))
def test_tree_shape_is_balanced(n: int) -> None:
    nodes, depth = tree_shape(n)
    assert len(nodes) == n - 1
    assert depth.max(initial=0) == int(np.ceil(np.log2(n)))
    leaves = sorted(-1 - c for pair in nodes for c in pair if c < 0)
    assert leaves == (list(range(n)) if n > 1 else [])


@pytest.mark.parametrize("n", [1, 2, 5, 16, 33])
def test_fan_out_and_fan_in_trees_in_closed_form(n: int) -> None:
    opts = {"merger_window_ps": 0.0, "stagger": False}
    out = lower_netlist(SFQ.compile(dense(np.ones((n, 1))), opts).program, SFQ.make_options(opts))
    assert out.cells["splitter"] == n - 1 and out.cells["merger"] == 0
    assert out.jj["splitter"] == PYLSE.splitter.jj.value * (n - 1)
    levels = int(np.ceil(np.log2(n)))
    lib = PYLSE
    slots = SfqOptions().levels_max
    spacing = lib.jtl.delay.value   # window 0: a synapse's pulses one JTL stage apart
    expect = (lib.neuron.delay.value + levels * lib.splitter.delay.value + lib.synapse.delay.value
              + (slots - 1) * spacing)
    assert out.critical_path_s == pytest.approx(expect, abs=1e-15)
    inn = lower_netlist(SFQ.compile(dense(np.ones((1, n))), opts).program, SFQ.make_options(opts))
    assert inn.cells["merger"] == n - 1 and inn.cells["splitter"] == 0
    assert inn.jj["merger"] == PYLSE.merger.jj.value * (n - 1)
    assert inn.period_s == pytest.approx(inn.critical_path_s + lib.dro_setup.value, abs=1e-15)


def test_signs_go_to_separate_trees_and_paths_are_balanced() -> None:
    w = np.array([[1.0, -1.0, 0.5, -0.5, 1.0]])
    program = SFQ.compile(dense(w)).program
    net = lower_netlist(program, SFQ.make_options(None))
    p = net.pulses
    # 3 excitatory leaves -> 2 mergers, 2 inhibitory -> 1
    assert net.cells["merger"] == 3 and net.cells["synapse"] == 5
    roots = np.flatnonzero((p.type == 2) & (p.out0 == p.neuron_cell[0]))
    assert sorted(p.port[roots].tolist()) == [0, 1]
    data = json.loads(net.to_json())
    assert data["format"] == "spikec-sfq-netlist/1" and len(data["cells"]) == p.n_cells
    syn = [c for c in data["cells"] if c["type"] == "synapse"]
    assert all(0.5 * 100 <= c["bias_ua"] <= 0.7 * 100 for c in syn)   # between the never- and always-pass bias
    assert {c["level"] for c in syn} == {8, 15}
    assert {c["bias_ua"] for c in syn if c["level"] == 15} == {70.0}   # full weight: the always-pass bias
    assert [c["input_channel"] for c in data["cells"] if "input_channel" in c] == list(range(5))
    listing = net.listing(limit=3)
    assert f"{net.jj_total} JJ" in listing and "more cells" in listing and "#0      input" in listing


def test_stagger_gives_each_leaf_its_own_slot() -> None:
    k = 6
    program = SFQ.compile(dense(np.ones((1, k)))).program
    on = lower_netlist(program, SFQ.make_options(None))
    off = lower_netlist(program, SFQ.make_options({"stagger": False}))
    window = PYLSE.merger_window.value
    syn = on.pulses.type == 3
    offsets = np.sort(on.pulses.pre_delay_fs[syn] - off.pulses.pre_delay_fs[syn])
    assert offsets.tolist() == [round(i * window * 1e15) for i in range(k)]
    assert on.pulses.spacing_fs == round(k * window * 1e15)
    assert on.jj["jtl"] > off.jj["jtl"] and on.period_s > off.period_s
    # The last pulse of the latest path is the critical path (inputs have no readout delay).
    last = on.path_delay_s.max() + (on.pulses.slots - 1) * on.pulses.spacing_fs * 1e-15
    assert last + PYLSE.neuron.delay.value == pytest.approx(on.critical_path_s, abs=1e-16)
    assert np.ptp(off.path_delay_s) == 0   # balanced: every path the same length


def test_what_sfq_cannot_express_is_refused_by_name() -> None:
    with pytest.raises(UnsupportedError) as info:
        SFQ.compile(dense(np.ones((2, 2)), neuron="cuba"))
    assert info.value.parameter == "du" and info.value.node
    with pytest.raises(ResourceLimitError, match="clock_ghz"):
        SFQ.compile(dense(np.ones((2, 2))), {"clock_ghz": 500.0})
    fast = SFQ.compile(dense(np.ones((2, 2))), {"clock_ghz": 1.0}).program
    assert fast.metadata["sfq"]["period_ps"] == pytest.approx(1000.0)


@pytest.fixture(scope="module")
def digits():
    graph = spikec.load("default")
    return graph, spikec.load_dataset(spikec.bundled_data(), graph).take(4)


def test_ideal_cells_spike_exactly_as_the_engine_runs_the_same_program(digits) -> None:
    graph, data = digits
    program = SFQ.compile(graph, {"merger_window_ps": 0.0}).program
    steps = data.steps + 2
    sfq = run_sfq(program, data.inputs, steps, threads=2)
    ref = run_engine(program, data.inputs, steps, record="all", threads=2)
    np.testing.assert_array_equal(sfq.output, ref.outputs["output"])
    assert sfq.counters.sfq_totals()["collisions"] == 0
    for name in ("spikes", "synops"):
        assert sfq.counters.total(name) == ref.counters.total(name)


def test_counters_equal_their_closed_forms(digits) -> None:
    graph, data = digits
    opts = {"merger_window_ps": 0.0}
    program = SFQ.compile(graph, opts).program
    net = lower_netlist(program, SFQ.make_options(opts))
    steps = data.steps + 2
    run = run_sfq(program, data.inputs, steps)
    ref = run_engine(program, data.inputs, steps, record="all")
    t = run.counters.sfq_totals()
    p = net.pulses
    n_ch = p.input_cell.size
    units = np.concatenate([ref.recorded["input"].reshape(len(data.labels), steps, -1)] +
                           [ref.recorded[n].reshape(len(data.labels), steps, -1) for n in net.neurons], axis=2)
    spikes = units.sum(axis=(0, 1)).astype(np.int64)         # pulses per unit
    fan = net.fan_out
    # level sum per unit, and merger depth per synapse from the tree it sits in
    syn = np.flatnonzero(p.type == 3)
    level_sum = np.zeros(spikes.size, np.int64)
    depth = np.zeros(syn.size, np.int64)
    driver = _drivers(p)
    for k, c in enumerate(syn):
        level_sum[driver[c]] += p.param[c]
        nxt = p.out0[c]
        while p.type[nxt] == 2:
            depth[k] += 1
            nxt = p.out0[nxt]
    assert t["pulses_splitter"] == int(spikes @ np.maximum(fan - 1, 0))
    assert t["switches_splitter"] == 3 * t["pulses_splitter"]
    assert t["pulses_synapse"] == t["fluxons"] == int(spikes @ level_sum)
    assert t["switches_synapse"] == 2 * t["pulses_synapse"]
    per_syn = np.array([spikes[driver[c]] * p.param[c] for c in syn])
    assert t["pulses_merger"] == int(per_syn @ depth) and t["switches_merger"] == 7 * t["pulses_merger"]
    assert t["pulses_neuron"] == int(spikes[n_ch:].sum())
    assert t["switches_neuron"] == 6 * t["pulses_neuron"] + t["fluxons"]
    assert t["switches_jtl"] == 2 * spikes_through(p, syn, spikes, driver)


def spikes_through(p, syn, spikes, driver) -> int:
    """JTL stages crossed: each input pulse of a synapse crosses its delay line once."""
    return int(sum(spikes[driver[c]] * p.pre_jtl[c] for c in syn))


def _drivers(p) -> dict[int, int]:
    """unit (channel, then neuron) driving every cell reached through splitters."""
    n_ch = p.input_cell.size
    out: dict[int, int] = {}
    starts = [(int(c), k) for k, c in enumerate(p.input_cell) if c >= 0]
    starts += [(int(c), n_ch + i) for i, c in enumerate(p.neuron_cell)]
    for cell, unit in starts:
        stack = [int(p.out0[cell])]
        while stack:
            c = stack.pop()
            if c < 0:
                continue
            out[c] = unit
            if p.type[c] == 1:
                stack += [int(p.out0[c]), int(p.out1[c])]
    return out


def test_collisions_without_stagger_and_none_with_it(digits) -> None:
    graph, data = digits
    data = data.take(2)
    off = spikec.run(graph, data, target=SFQ, options={"stagger": False})
    on = spikec.run(graph, data, target=SFQ)
    assert off.result.counters.sfq_totals()["collisions"] > 0
    assert on.result.counters.sfq_totals()["collisions"] == 0
    assert on.estimate.latency > off.estimate.latency


def test_the_export_command_writes_the_netlist(tmp_path, capsys) -> None:
    from spikec.runtime.program import save_program
    from spikec.targets.sfq.__main__ import main

    graph = dense(np.ones((3, 2)))
    save_program(SFQ.compile(graph).program, tmp_path / "p.npz")
    assert main([str(tmp_path / "p.npz"), "--json", str(tmp_path / "n.json"), "--cells", "2"]) == 0
    assert "SFQ netlist" in capsys.readouterr().out
    exported = json.loads((tmp_path / "n.json").read_text())
    assert exported["summary"]["jj"]["splitter"] == 3 * 2 * (3 - 1)   # 2 inputs x (3 - 1) splitters of 3 JJ
    save_program(get_target("loihi1").compile(graph).program, tmp_path / "l.npz")
    assert main([str(tmp_path / "l.npz")]) == 1
    assert "compiled for loihi1" in capsys.readouterr().err
