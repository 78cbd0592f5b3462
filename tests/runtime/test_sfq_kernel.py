"""The pulse-level SFQ kernel (csrc/sfq.c) on hand-built netlists: merger collisions, splitter
trees, synapse levels and stochastic passing, the clocked neuron against a NumPy model, and
refusal of netlists the C must never see.  Also run under ASan/UBSan (Makefile test-asan)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from spikec.errors import ProgramError, SimulationError
from spikec.runtime.engine import engine_module
from spikec.runtime.sfq import CELL_TYPES, SFQ_COUNTERS, PulseNetlist, run_pulses

JTL, SPLIT, MERGE, SYN, NEURON = range(5)
PS = 1000  # fs


def netlist(cells: list[dict], neurons: list[dict], input_cell: list[int], **kw) -> PulseNetlist:
    """A netlist from per-cell dicts (type, delay, pre, jj, out0, out1, port, param)."""
    col = lambda key, default: np.array([c.get(key, default) for c in cells], np.int64)  # noqa: E731
    nrn = lambda key, default: np.array([n.get(key, default) for n in neurons], np.int64)  # noqa: E731
    args = dict(slots=15, window_fs=8200, spacing_fs=8200, jtl_jj=2)
    args.update(kw)
    return PulseNetlist(
        type=col("type", JTL), delay_fs=col("delay", 0), pre_delay_fs=col("pre", 0), jj=col("jj", 0),
        pre_jtl=col("jtl", 0), out0=col("out0", -1), out1=col("out1", -1), port=col("port", 0),
        param=col("param", 0), neuron_cell=np.array([n["cell"] for n in neurons], np.int64),
        threshold=nrn("threshold", 1000), v_reset=nrn("v_reset", 0), dv=nrn("dv", 0), bias=nrn("bias", 0),
        reset=tuple(n.get("reset", "value") for n in neurons), input_cell=np.array(input_cell, np.int64), **args)


def totals(run) -> dict[str, int]:
    return run.totals()


def test_c_numbering_matches_python() -> None:
    lib = engine_module().lib
    assert [getattr(lib, f"SFQ_{n}") for n in ("JTL", "SPLIT", "MERGE", "SYN", "NEURON")] == list(range(5))
    assert lib.SFQ_NTYPES == len(CELL_TYPES)
    assert lib.SFQ_NCOUNTERS == len(SFQ_COUNTERS)
    for name, col in (("COLLISIONS", "collisions"), ("BLOCKED", "blocked"), ("FLUXONS", "fluxons"),
                      ("EVENTS", "events")):
        assert getattr(lib, f"SFQ_C_{name}") == SFQ_COUNTERS.index(col)
    assert SFQ_COUNTERS[lib.SFQ_C_SWITCH + lib.SFQ_MERGE] == "switches_merger"
    assert SFQ_COUNTERS[lib.SFQ_C_PULSES + lib.SFQ_NEURON] == "pulses_neuron"


def merger_pair(dt_fs: int, window_fs: int) -> dict[str, int]:
    """Two pulses into one merger, ``dt_fs`` apart (a delay line on the second input)."""
    cells = [dict(out0=2), dict(out0=2, pre=dt_fs), dict(type=MERGE, delay=8200, jj=7, out0=3),
             dict(type=NEURON, param=0, jj=6)]
    net = netlist(cells, [dict(cell=3)], [0, 1], window_fs=window_fs)
    return totals(run_pulses(net, np.ones((1, 1, 2), np.uint8), period_fs=100 * PS))


@settings(max_examples=60, deadline=None)
@given(window=st.integers(0, 50 * PS), dt=st.integers(0, 60 * PS))
def test_merger_below_the_window_gives_one_pulse_and_one_collision(window: int, dt: int) -> None:
    t = merger_pair(dt, window)
    if dt < window:
        assert (t["pulses_merger"], t["collisions"], t["fluxons"]) == (1, 1, 1)
    else:
        assert (t["pulses_merger"], t["collisions"], t["fluxons"]) == (2, 0, 2)
    assert t["switches_merger"] == 7 * t["pulses_merger"]


def test_merger_edges_of_the_window_exactly() -> None:
    assert merger_pair(8199, 8200)["collisions"] == 1
    assert merger_pair(8200, 8200)["collisions"] == 0
    assert merger_pair(0, 0)["collisions"] == 0   # ideal merger: simultaneous pulses both pass


def splitter_tree(n: int) -> tuple[list[dict], list[dict], int]:
    """One input driving ``n`` neurons through a balanced splitter tree; its depth."""
    cells: list[dict] = [dict()]
    neurons: list[dict] = []

    def build(k: int) -> tuple[int, int]:
        if k == 1:
            cells.append(dict(type=NEURON, param=len(neurons)))
            neurons.append(dict(cell=len(cells) - 1))
            return len(cells) - 1, 0
        me = len(cells)
        cells.append(dict(type=SPLIT, delay=4300, jj=3))
        left, dl = build((k + 1) // 2)
        right, dr = build(k // 2)
        cells[me].update(out0=left, out1=right)
        return me, 1 + max(dl, dr)

    root, depth = build(n)
    cells[0]["out0"] = root
    return cells, neurons, depth


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8, 13, 64])
def test_a_fan_out_of_n_uses_n_minus_1_splitters_in_ceil_log2_n_levels(n: int) -> None:
    cells, neurons, depth = splitter_tree(n)
    assert depth == int(np.ceil(np.log2(n)))
    net = netlist(cells, neurons, [0], window_fs=0)
    pulses = 3
    t = totals(run_pulses(net, np.ones((1, pulses, 1), np.uint8), period_fs=100 * PS))
    assert sum(c.get("type") == SPLIT for c in cells) == n - 1
    assert t["pulses_splitter"] == (n - 1) * pulses
    assert t["switches_splitter"] == 3 * (n - 1) * pulses
    assert t["fluxons"] == n * pulses and t["collisions"] == 0


def test_the_clock_period_bounds_the_path_a_pulse_may_take() -> None:
    # A pulse that arrives after the next edge is read out one period later.
    cells, neurons, depth = splitter_tree(8)   # 3 splitter levels: 12.9 ps
    for n in neurons:
        n["threshold"] = 0
    inputs = np.zeros((1, 4, 1), np.uint8)
    inputs[0, 0, 0] = 1
    fast = run_pulses(netlist(cells, neurons, [0]), inputs, period_fs=13 * PS).spikes[0, :, 0]
    slow = run_pulses(netlist(cells, neurons, [0]), inputs, period_fs=12 * PS).spikes[0, :, 0]
    edge = run_pulses(netlist(cells, neurons, [0]), inputs, period_fs=12900).spikes[0, :, 0]
    assert fast.tolist() == [0, 1, 0, 0]
    assert slow.tolist() == [0, 0, 1, 0]
    assert edge.tolist() == [0, 0, 1, 0]   # a pulse exactly at an edge is read at the next one


def synapse_net(level: int, slots: int = 15) -> PulseNetlist:
    cells = [dict(out0=1), dict(type=SYN, delay=5700, jj=2, param=level, out0=2), dict(type=NEURON, param=0)]
    return netlist(cells, [dict(cell=2, threshold=10**6)], [0], slots=slots, window_fs=0, spacing_fs=0)


@pytest.mark.parametrize("level", [0, 1, 7, 15])
def test_a_synapse_passes_level_pulses_per_input(level: int) -> None:
    t = totals(run_pulses(synapse_net(level), np.ones((2, 5, 1), np.uint8), period_fs=100 * PS))
    assert t["pulses_synapse"] == t["fluxons"] == 10 * level
    assert t["switches_synapse"] == 2 * 10 * level and t["blocked"] == 0


def test_stochastic_synapses_pass_with_probability_level_over_slots_reproducibly() -> None:
    inputs = np.ones((4, 500, 1), np.uint8)
    runs = [run_pulses(synapse_net(5), inputs, period_fs=200 * PS, stochastic=True, seed=s) for s in (7, 7, 8)]
    a, b, c = (r.totals() for r in runs)
    assert a == b and a != c
    slots = 15 * inputs.sum()
    assert a["pulses_synapse"] + a["blocked"] == slots
    p = a["pulses_synapse"] / slots
    assert abs(p - 5 / 15) < 4 * np.sqrt(p * (1 - p) / slots)
    assert a["switches_synapse"] == 2 * a["pulses_synapse"] + a["blocked"]
    # The draws do not depend on how the batch is split over threads.
    threaded = run_pulses(synapse_net(5), inputs, period_fs=200 * PS, stochastic=True, seed=7, threads=3)
    assert np.array_equal(threaded.counters, runs[0].counters)


def reference_neurons(x: np.ndarray, thr: np.ndarray, dv: np.ndarray, bias: np.ndarray, reset: list[str],
                      v_max: int) -> np.ndarray:
    """The clocked neuron of csrc/sfq.h in NumPy: x (steps, n) fluxons read out at each edge."""
    v = np.zeros(x.shape[1], np.int64)
    out = np.zeros_like(x)
    for t in range(x.shape[0]):
        p = v * (4096 - dv)
        v = np.where(p >= 0, p >> 12, -((-p) >> 12)) + x[t] + bias
        v = np.clip(v, -v_max, v_max)
        z = v > thr
        out[t] = z
        v = np.where(z, np.where(np.array(reset) == "subtract", v - thr, 0), v)
    return out


def test_clocked_neurons_match_the_numpy_model_with_inhibition_leak_and_bias() -> None:
    rng = np.random.default_rng(3)
    n_in, n_out, steps = 6, 5, 40
    w = rng.integers(-4, 5, size=(n_out, n_in))
    cells: list[dict] = [dict() for _ in range(n_in)]
    neuron_cells = []
    for i in range(n_out):
        cells.append(dict(type=NEURON, param=i))
        neuron_cells.append(len(cells) - 1)
    feeds: dict[int, list[int]] = {k: [] for k in range(n_in)}
    for i in range(n_out):
        for k in range(n_in):
            if w[i, k]:
                cells.append(dict(type=SYN, delay=5700, jj=2, param=abs(int(w[i, k])), out0=neuron_cells[i],
                                  port=int(w[i, k] < 0)))
                feeds[k].append(len(cells) - 1)
    for k, targets in feeds.items():   # a fan-out chain of splitters per input
        prev = k
        for j, syn in enumerate(targets):
            if j == len(targets) - 1:
                cells[prev]["out0"] = syn
            else:
                cells.append(dict(type=SPLIT, delay=4300, jj=3, out1=syn))
                cells[prev]["out0"] = len(cells) - 1
                prev = len(cells) - 1
    thr = rng.integers(2, 9, n_out)
    dv = rng.integers(0, 4097, n_out)
    bias = rng.integers(-1, 2, n_out)
    reset = ["value", "subtract", "value", "subtract", "value"]
    neurons = [dict(cell=neuron_cells[i], threshold=int(thr[i]), dv=int(dv[i]), bias=int(bias[i]), reset=reset[i])
               for i in range(n_out)]
    net = netlist(cells, neurons, list(range(n_in)), window_fs=0, spacing_fs=0, v_bits=8)
    x = (rng.random((2, steps, n_in)) < 0.4).astype(np.uint8)
    run = run_pulses(net, x, period_fs=200 * PS, threads=2)
    for b in range(2):
        arrive = np.zeros((steps, n_out), np.int64)
        arrive[1:] = x[b, :-1].astype(np.int64) @ w.T   # one period per hop
        assert np.array_equal(run.spikes[b], reference_neurons(arrive, thr, dv, bias, reset, 127))
    assert run.totals()["pulses_neuron"] == int(run.spikes.sum())


def test_netlists_the_kernel_must_not_see_are_refused_by_name() -> None:
    ok = dict(cells=[dict(out0=1), dict(type=NEURON, param=0)], neurons=[dict(cell=1)], input_cell=[0])
    netlist(**ok)
    with pytest.raises(ProgramError, match="out0"):
        netlist([dict(out0=5), dict(type=NEURON, param=0)], [dict(cell=1)], [0])
    with pytest.raises(ProgramError, match="loop"):
        netlist([dict(out0=1), dict(out0=0), dict(type=NEURON, param=0)], [dict(cell=2)], [0])
    with pytest.raises(ProgramError, match="splitter"):
        netlist([dict(out0=1, out1=1), dict(type=NEURON, param=0)], [dict(cell=1)], [0])
    with pytest.raises(ProgramError, match="port"):
        netlist([dict(out0=1, port=1), dict(type=JTL, out0=2), dict(type=NEURON, param=0)], [dict(cell=2)], [0])
    with pytest.raises(ProgramError, match="level"):
        netlist([dict(out0=1), dict(type=SYN, param=16, out0=2), dict(type=NEURON, param=0)], [dict(cell=2)], [0])
    with pytest.raises(ProgramError, match="neuron"):
        netlist([dict(out0=1), dict(type=NEURON, param=3)], [dict(cell=1)], [0])
    with pytest.raises(ProgramError, match="delay_fs"):
        netlist([dict(out0=1, delay=-1), dict(type=NEURON, param=0)], [dict(cell=1)], [0])
    with pytest.raises(ProgramError, match="threshold"):
        netlist([dict(out0=1), dict(type=NEURON, param=0)], [dict(cell=1, threshold=2**30)], [0])
    with pytest.raises(ProgramError, match="whole number"):
        dataclasses.replace(netlist(**ok), delay_fs=np.array([2.5, 0.0]))
    with pytest.raises(ProgramError, match="overflow"):
        netlist(**ok, v_bits=41, decay_bits=30)
    net = netlist(**ok)
    with pytest.raises(SimulationError, match="overflow"):
        run_pulses(net, np.zeros((1, 2, 1)), period_fs=2**61)
    with pytest.raises(SimulationError, match="0 or 1"):
        run_pulses(net, np.full((1, 2, 1), 2), period_fs=1000)
    with pytest.raises(SimulationError, match="shape"):
        run_pulses(net, np.zeros((1, 2, 3)), period_fs=1000)
    with pytest.raises(SimulationError, match="period_fs"):
        run_pulses(net, np.zeros((1, 2, 1)), period_fs=0)


# --- the whole kernel against a plain-Python event simulation of csrc/sfq.h ---------------------

_M64 = (1 << 64) - 1


def _mix(x: int) -> int:
    x = (x + 0x9E3779B97F4A7C15) & _M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _M64
    return x ^ (x >> 31)


def python_kernel(n: PulseNetlist, inputs: np.ndarray, period: int, stochastic: bool, seed: int):
    """csrc/sfq.h's semantics, one sample at a time, with heapq (ties in scheduling order)."""
    import heapq

    batch, steps, _ = inputs.shape
    spikes = np.zeros((batch, steps, n.n_neurons), np.uint8)
    counts = np.zeros((batch, len(SFQ_COUNTERS)), np.int64)
    v_max = (1 << (n.v_bits - 1)) - 1
    for b in range(batch):
        cnt = counts[b]
        heap: list = []
        seq = [0]
        busy = {}
        draws = [0] * n.n_cells
        v = [0] * n.n_neurons
        acc = [0] * n.n_neurons
        key = _mix(seed ^ _mix(b))

        def send(to: int, port: int, t: int) -> None:
            if to >= 0:
                heapq.heappush(heap, (t + int(n.pre_delay_fs[to]), seq[0], to, port))
                seq[0] += 1

        def emit(c: int, t: int) -> None:
            cnt[int(n.type[c])] += int(n.jj[c])
            cnt[5 + int(n.type[c])] += 1
            send(int(n.out0[c]), int(n.port[c]), t + int(n.delay_fs[c]))
            send(int(n.out1[c]), int(n.port[c]), t + int(n.delay_fs[c]))

        def drain(until: int) -> None:
            while heap and heap[0][0] < until:
                t, _, c, port = heapq.heappop(heap)
                cnt[13] += 1
                cnt[JTL] += int(n.pre_jtl[c]) * n.jtl_jj
                kind = int(n.type[c])
                if kind == MERGE:
                    if t < busy.get(c, -(2**63)):
                        cnt[10] += 1
                        continue
                    busy[c] = t + n.window_fs
                    emit(c, t)
                elif kind == SYN:
                    level = int(n.param[c])
                    if not stochastic:
                        for m in range(level):
                            emit(c, t + m * n.spacing_fs)
                        continue
                    bound = (level << 32) // n.slots
                    for m in range(n.slots):
                        r = _mix(key ^ _mix(((c << 32) ^ draws[c]) & _M64)) >> 32
                        draws[c] += 1
                        if r < bound:
                            emit(c, t + m * n.spacing_fs)
                        else:
                            cnt[11] += 1
                            cnt[SYN] += 1
                elif kind == NEURON:
                    acc[int(n.param[c])] += -1 if port else 1
                    cnt[12] += 1
                    cnt[NEURON] += 1
                else:
                    emit(c, t)

        for t in range(steps):
            now = t * period
            drain(now)
            for i in range(n.n_neurons):
                p = v[i] * ((1 << n.decay_bits) - int(n.dv[i]))
                x = (p >> n.decay_bits) if p >= 0 else -((-p) >> n.decay_bits)
                x += max(-v_max, min(v_max, acc[i])) * (1 << n.input_shift) + int(n.bias[i])
                x = max(-v_max, min(v_max, x))
                acc[i] = 0
                if x > n.threshold[i]:
                    spikes[b, t, i] = 1
                    x = x - int(n.threshold[i]) if n.reset[i] == "subtract" else int(n.v_reset[i])
                    emit(int(n.neuron_cell[i]), now)
                v[i] = x
            for k in range(inputs.shape[2]):
                if inputs[b, t, k]:
                    send(int(n.input_cell[k]), 0, now)
        drain(2**63)
    return spikes, counts


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32), window_ps=st.sampled_from([0.0, 3.0, 8.2]), stagger=st.booleans(),
       stochastic=st.booleans(), levels=st.sampled_from([2, 4, 16]))
def test_the_kernel_equals_a_python_event_simulation(seed, window_ps, stagger, stochastic, levels) -> None:
    from spikec import ir
    from spikec.targets import get_target
    from spikec.targets.sfq import lower_netlist

    rng = np.random.default_rng(seed)
    n_in, n_hid, n_out = 5, 6, 3
    w1 = rng.normal(0, 1, (n_hid, n_in)) * (rng.random((n_hid, n_in)) < 0.7)
    w2 = rng.normal(0, 1, (n_out, n_hid))
    one = lambda k: np.ones(k)  # noqa: E731
    cell = lambda k: ir.LIF(tau=one(k) * 5e-3, r=one(k) * 5, v_leak=0 * one(k), v_threshold=one(k),  # noqa: E731
                            v_reset=0 * one(k))
    graph = ir.Graph({"in": ir.Input((n_in,)), "w1": ir.Linear(w1), "h": cell(n_hid), "w2": ir.Linear(w2),
                      "o": cell(n_out), "out": ir.Output()},
                     [("in", "w1"), ("w1", "h"), ("h", "w2"), ("w2", "o"), ("o", "out")], dt=1e-3)
    opts = {"merger_window_ps": window_ps, "stagger": stagger, "bias_levels": levels, "stochastic": stochastic}
    sfq = get_target("sfq")
    program = sfq.compile(graph, opts).program
    net = lower_netlist(program, sfq.make_options(opts))
    x = (rng.random((2, 12, n_in)) < 0.5).astype(np.uint8)
    period = int(round(net.period_s * 1e15)) // int(rng.integers(1, 3))   # sometimes too short: late pulses
    run = run_pulses(net.pulses, x, period_fs=period, stochastic=stochastic, seed=seed)
    spikes, counts = python_kernel(net.pulses, x, period, stochastic, seed)
    assert np.array_equal(run.spikes, spikes)
    assert np.array_equal(run.counters, counts)
