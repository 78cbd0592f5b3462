"""Hardware counters: invariants on lowered programs, and a 2x2 mesh counted by hand.

The expected numbers are computed here without spikec.runtime.fanout: a projection's
synapses are recovered from its weights (a convolution's by pushing one-hot inputs through
the reference simulator's convolution), and events from the recorded outputs.
"""

from __future__ import annotations

import numpy as np
import pytest
from spikec import ir
from spikec.compiler.lower import lower
from spikec.ir import ops
from spikec.runtime import COUNTERS, Population, Program, Projection, run

C = {name: i for i, name in enumerate(COUNTERS)}
SUMMED = [n for n in COUNTERS if n != "hops_max"]


# --- programs ---------------------------------------------------------------------------------------


def network(seed: int) -> ir.Graph:
    """Dense with delays and zero weights, sparse with repeated pairs and zero weights, a
    strided grouped convolution with padding, a relay chain, a recurrent edge, graded and
    spiking populations."""
    rng = np.random.default_rng(seed)
    sparse_w = rng.normal(size=10)
    sparse_w[::4] = 0.0
    w_in = rng.normal(size=(6, 5)) * (rng.random((6, 5)) < 0.7)
    conv_w = rng.normal(size=(4, 1, 2, 3)) * (rng.random((4, 1, 2, 3)) < 0.8)
    nodes = {
        "x": ir.Input((5,)),
        "img": ir.Input((2, 4, 5)),
        "w_in": ir.Linear(w_in * 2.0, delay=rng.integers(0, 3, (6, 5))),
        "lif": ir.make_population(ir.LIF, 6, tau=3.0, v_threshold=0.4, reset="subtract"),
        "rec": ir.Linear(rng.normal(size=(6, 6)) * (rng.random((6, 6)) < 0.5)),
        "sp": ir.SparseLinear((4, 6), target=rng.integers(0, 4, 10), source=rng.integers(0, 6, 10), weight=sparse_w,
                              delay=rng.integers(0, 4, 10)),
        "li": ir.make_population(ir.LI, 4, tau=2.0),
        "conv": ir.Conv2d(conv_w, stride=(1, 2), padding=((1, 0), (1, 1)), groups=2),
        "pool": ir.SumPool2d(2, stride=1),
        "if": ir.make_population(ir.IF, (4, 3, 2), v_threshold=0.5),
        "o1": ir.Output(), "o2": ir.Output(), "o3": ir.Output(),
    }
    edges = [("x", "w_in"), ("w_in", "lif"), ("lif", "rec"), ("rec", "lif"), ("lif", "sp"), ("sp", "li"), ("li", "o1"),
             ("img", "conv"), ("conv", "pool"), ("pool", "if"), ("if", "o2"), ("lif", "o3")]
    return ir.Graph(nodes, edges, dt=1.0)


def inputs(seed: int, batch: int = 3, steps: int = 8) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed + 100)
    return {"x": (rng.random((batch, steps, 5)) < 0.5).astype(float),
            "img": (rng.random((batch, steps, 2, 4, 5)) < 0.4) * 1.0}


def fanout_matrices(program: Program, j: Projection) -> tuple[np.ndarray, np.ndarray]:
    """(non-zero synapses, synapse words) between each target and source neuron of ``j``."""
    n_src, n_dst = program.population(j.source).size, program.population(j.target).size
    if j.kind == "dense":
        return (j.weight != 0).astype(np.int64), np.ones((n_dst, n_src), np.int64)
    if j.kind == "sparse":
        nz, words = np.zeros((n_dst, n_src), np.int64), np.zeros((n_dst, n_src), np.int64)
        np.add.at(nz, (j.target_index, j.source_index), (j.weight != 0).astype(np.int64))
        np.add.at(words, (j.target_index, j.source_index), 1)
        return nz, words
    g = j.geometry
    eye = np.eye(n_src).reshape(n_src, *g["in_shape"])
    def through(w: np.ndarray) -> np.ndarray:
        y = ops.conv(eye, w, np.zeros(w.shape[0]), g["stride"], g["padding"], g["dilation"], g["groups"])
        return y.reshape(n_src, n_dst).T.round().astype(np.int64)
    return through((j.weight != 0).astype(float)), through(np.ones(j.weight.shape))


def events(res, program: Program) -> dict[str, np.ndarray]:
    """Per population, (batch, steps, neurons) 0/1 of emitted events."""
    return {p.name: (res.recorded[p.name].reshape(*res.recorded[p.name].shape[:2], -1) != 0).astype(np.int64)
            for p in program.populations}


def placed(program: Program, seed: int) -> Program:
    """A random placement of every neuron on a 3x2 mesh."""
    rng = np.random.default_rng(seed)
    xy = np.array([[x, y] for y in range(2) for x in range(3)])
    return program.with_placement(rng.integers(0, 6, int(program.offsets[-1])), xy)


# --- invariants ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(4))
def test_counters_match_events_and_weights(seed: int) -> None:
    """With the default placement (one core per population, cores in a row at (k, 0)):
    spikes, synops, words, messages and hops from the recorded events and the weights."""
    program = lower(network(seed))
    res = run(program, inputs(seed), record="all")
    ev = events(res, program)
    pc = res.counters.per_population
    idx = program.index
    for k, pop in enumerate(program.populations):
        e = ev[pop.name]
        assert np.array_equal(pc[:, :, k, C["spikes"]], e.sum(-1))
        syn, words, remote, hops, hops_max = (np.zeros(pop.size, np.int64) for _ in range(5))
        local = np.zeros(pop.size, np.int64)
        for dst in {j.target for j in program.projections if j.source == pop.name}:
            nz = sum(fanout_matrices(program, j)[0].sum(0) for j in program.projections
                     if j.source == pop.name and j.target == dst)
            wd = sum(fanout_matrices(program, j)[1].sum(0) for j in program.projections
                     if j.source == pop.name and j.target == dst)
            reached = nz > 0  # one message, and its words read, per destination core reached
            syn += nz
            words += np.where(reached, wd, 0)
            distance = abs(idx[dst] - k)
            if distance == 0:
                local += reached
            else:
                remote += reached
                hops += reached * distance
                hops_max = np.maximum(hops_max, reached * distance)
        for name, per_neuron in (("synops", syn), ("words", words), ("msg_local", local), ("msg_remote", remote),
                                 ("msg_in", local + remote), ("hops_x", hops)):
            assert np.array_equal(pc[:, :, k, C[name]], e @ per_neuron), (pop.name, name)
        assert not pc[:, :, k, C["hops_y"]].any()
        assert np.array_equal(pc[:, :, k, C["hops_max"]], (e * hops_max).max(-1)), pop.name
        neurons = pc[:, :, k, C["nu_active"]] + pc[:, :, k, C["nu_idle"]]
        assert np.all(neurons == (pop.size if pop.is_neuron else 0)), pop.name
    assert pc[..., C["spikes"]].sum() > 0 and pc[..., C["synops"]].sum() > 0


def test_nu_active_covers_every_neuron_left_with_a_non_zero_state() -> None:
    """An update is idle only when its input is zero and it leaves a zero state, so every neuron
    whose membrane is non-zero after the step was counted active (the exact count, which also
    needs the input, is checked by hand on the mesh below)."""
    program = lower(network(0))
    res = run(program, inputs(0), record="all",
              record_state={p.name: ("v", "u") for p in program.populations if p.is_neuron})
    pc = res.counters.per_population
    for k, pop in enumerate(program.populations):
        if not pop.is_neuron:
            continue
        v = res.state[pop.name]["v"].reshape(*pc.shape[:2], -1)
        # Input is not recorded; a neuron with a non-zero state after its update is active.
        assert np.all(pc[:, :, k, C["nu_active"]] >= (v != 0).sum(-1)), pop.name


@pytest.mark.parametrize("seed", range(3))
def test_per_core_sums_equal_per_population_sums(seed: int) -> None:
    program = placed(lower(network(seed)), seed)
    res = run(program, inputs(seed))
    by_pop, by_core = res.counters.per_population, res.counters.per_core
    assert by_core.shape == (*by_pop.shape[:2], 6, len(COUNTERS))
    for name in SUMMED:
        np.testing.assert_array_equal(by_pop[..., C[name]].sum(-1), by_core[..., C[name]].sum(-1), err_msg=name)
    np.testing.assert_array_equal(by_pop[..., C["hops_max"]].max(-1), by_core[..., C["hops_max"]].max(-1))
    assert by_pop[..., C["msg_remote"]].sum() > 0 and by_pop[..., C["hops_y"]].sum() > 0
    totals_pop, totals_core = res.counters.totals(), res.counters.totals(by="core")
    for name in SUMMED:
        assert totals_pop[name].sum() == totals_core[name].sum() == res.counters.total(name)


@pytest.mark.parametrize("seed", range(2))
def test_total_counters_are_the_per_step_sums(seed: int) -> None:
    program = placed(lower(network(seed)), seed)
    step = run(program, inputs(seed), counters="step")
    total = run(program, inputs(seed), counters="total")
    assert total.counters.per_population.shape[1] == 1 and not total.counters.per_step
    for arr_step, arr_total in ((step.counters.per_population, total.counters.per_population),
                                (step.counters.per_core, total.counters.per_core)):
        for name in SUMMED:
            np.testing.assert_array_equal(arr_step[..., C[name]].sum(1), arr_total[:, 0, :, C[name]], err_msg=name)
        np.testing.assert_array_equal(arr_step[..., C["hops_max"]].max(1), arr_total[:, 0, :, C["hops_max"]])
    for port in step.outputs:
        np.testing.assert_array_equal(step.outputs[port], total.outputs[port])


def test_event_counts_are_the_recorded_events_summed_over_time() -> None:
    program = lower(network(1))
    res = run(program, inputs(1), record="all", count="all")
    for name, e in events(res, program).items():
        np.testing.assert_array_equal(res.event_counts[name].reshape(e.shape[0], -1), e.sum(1), err_msg=name)


@pytest.mark.parametrize("arithmetic", ["float", "fixed"])
def test_one_thread_and_several_give_identical_results(arithmetic: str) -> None:
    program = placed(lower(network(2)), 2)
    x = inputs(2, batch=5)
    if arithmetic == "fixed":  # the same network with integer weights and FixedCubaLIF neurons
        program = lower(fixed_network())
        x = {"x": x["x"].astype(np.int64)}
    results = [run(program, x, record="all", record_state={p.name: ("v",) for p in program.populations if p.is_neuron},
                   threads=t) for t in (1, 2, 5)]
    first = results[0]
    for other in results[1:]:
        for name in first.recorded:
            np.testing.assert_array_equal(first.recorded[name], other.recorded[name])
        for name in first.state:
            np.testing.assert_array_equal(first.state[name]["v"], other.state[name]["v"])
        np.testing.assert_array_equal(first.counters.per_population, other.counters.per_population)
        np.testing.assert_array_equal(first.counters.per_core, other.counters.per_core)


def fixed_network() -> ir.Graph:
    rng = np.random.default_rng(7)
    nodes = {
        "x": ir.Input((5,)),
        "w": ir.Linear(rng.integers(-3, 6, (6, 5)), delay=rng.integers(0, 3, (6, 5))),
        "n": ir.FixedCubaLIF(du=np.full(6, 1024), dv=np.full(6, 512), bias=np.zeros(6, int), v_threshold=np.full(6, 6),
                             v_reset=np.zeros(6, int), reset="subtract"),
        "rec": ir.Linear(rng.integers(-2, 3, (6, 6))),
        "o": ir.Output(),
    }
    return ir.Graph(nodes, [("x", "w"), ("w", "n"), ("n", "rec"), ("rec", "n"), ("n", "o")], dt=1.0)


# --- a 2x2 mesh by hand -------------------------------------------------------------------------------


def mesh_program() -> Program:
    """Input neurons x0 on core 0 at (0, 0) and x1 on core 3 at (1, 1); a graded layer a (v = x)
    with a0, a1 on core 1 at (1, 0), a2 on core 2 at (0, 1), a3 on core 3."""
    w = np.array([[1.0, 2.0], [0.0, 3.0], [4.0, 0.0], [0.0, 5.0]])  # (a, x)
    pops = (Population("x", "input", (2,)),
            Population("a", "cuba_float", (4,), {"alpha": np.zeros(4), "gain": np.ones(4), "bias": np.zeros(4)}))
    program = Program(1.0, "float", pops, (Projection("w", "x", "a", "dense", w),), {"x": "x"}, {"a": "a"})
    return program.with_placement(np.array([0, 3, 1, 1, 2, 3]), np.array([[0, 0], [1, 0], [0, 1], [1, 1]]))


def test_messages_and_hops_on_a_2x2_mesh_by_hand() -> None:
    """x0 (core 0) reaches a0 on core 1 (a1's synapse is zero but shares the word row) and a2 on
    core 2, not a3 (zero weight): 2 remote messages, 1 hop along x and 1 along y, 2 synops,
    3 words.  x1 (core 3) reaches a0, a1 on core 1 (1 hop along y) and a3 on its own core:
    1 remote + 1 local message, 3 synops, 3 words."""
    x = np.array([[[1.0, 1.0], [0.0, 1.0], [0.0, 0.0]]])
    res = run(mesh_program(), x, record="all")
    # a = W x: step 0 [3, 3, 4, 5], step 1 [2, 3, 0, 5], step 2 all zero.
    np.testing.assert_array_equal(res.output[0], [[3, 3, 4, 5], [2, 3, 0, 5], [0, 0, 0, 0]])
    pop, core = res.counters.per_population[0], res.counters.per_core[0]

    def row(**kw: int) -> list[int]:
        return [kw.get(name, 0) for name in COUNTERS]

    expect_x = [row(spikes=2, synops=5, words=6, msg_local=1, msg_remote=3, msg_in=4, hops_x=1, hops_y=2, hops_max=1),
                row(spikes=1, synops=3, words=3, msg_local=1, msg_remote=1, msg_in=2, hops_y=1, hops_max=1),
                row()]
    expect_a = [row(spikes=4, nu_active=4), row(spikes=3, nu_active=3, nu_idle=1), row(nu_idle=4)]
    np.testing.assert_array_equal(pop[:, 0], expect_x)
    np.testing.assert_array_equal(pop[:, 1], expect_a)
    # Per core: events and messages at the sender's core, synapse work and received messages at
    # the receiver's.
    expect_core = [
        [row(spikes=1, msg_remote=2, hops_x=1, hops_y=1, hops_max=1),                      # core 0: x0
         row(synops=3, words=4, spikes=2, nu_active=2, msg_in=2),                           # core 1: a0, a1
         row(synops=1, words=1, spikes=1, nu_active=1, msg_in=1),                           # core 2: a2
         row(spikes=2, msg_local=1, msg_remote=1, hops_y=1, hops_max=1, synops=1, words=1, nu_active=1,
             msg_in=1)],                                                                     # core 3
        [row(),
         row(synops=2, words=2, spikes=2, nu_active=2, msg_in=1),
         row(nu_idle=1),
         row(spikes=2, msg_local=1, msg_remote=1, hops_y=1, hops_max=1, synops=1, words=1, nu_active=1, msg_in=1)],
        [row(), row(nu_idle=2), row(nu_idle=1), row(nu_idle=1)],
    ]
    np.testing.assert_array_equal(core, expect_core)
