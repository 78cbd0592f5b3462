"""The C engine's ``xylo`` kernel against targets/xylo/reference.py (verified spike for spike
against SynSense's xylosim): spikes and membranes equal on random int8 networks and on the
arithmetic's corners; threads, batches, storage and files change nothing; bad parameters are
refused by name.  Also run against the sanitized engine (``make test-asan``)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from spikec.compiler.passes.base import PassRecord
from spikec.errors import ProgramError
from spikec.runtime.engine import run
from spikec.runtime.program import Population, Program, Projection, load_program, save_program
from spikec.targets.xylo.lower import XyloMapping, plain_mapping, read_xylo
from spikec.targets.xylo.program import xylo_program
from spikec.targets.xylo.reference import XyloNet, simulate

HIDDEN_STATE = {"hidden": ["v"], "output": ["v"]}


def _net(rng: np.random.Generator, n_in: int, n_hid: int, n_out: int, rec: float, shifts=(0, 0, 0), *,
         dash_hi: int = 8, thr_hi: int = 2000) -> XyloNet:
    w_rec = rng.integers(-128, 128, (n_hid, n_hid, 2)) * (rng.random((n_hid, n_hid, 2)) < rec)
    return XyloNet(rng.integers(-128, 128, (n_in, n_hid, 2)), w_rec, rng.integers(-128, 128, (n_hid, n_out)),
                   rng.integers(0, dash_hi, (n_hid, 2)), rng.integers(0, dash_hi, n_hid),
                   rng.integers(0, thr_hi, n_hid), rng.integers(-128, 128, n_hid), rng.integers(0, dash_hi, n_out),
                   rng.integers(0, dash_hi, n_out), rng.integers(0, thr_hi, n_out), rng.integers(-128, 128, n_out),
                   *shifts)


def _raster(rng: np.random.Generator, batch: int, steps: int, n_in: int, p: float = 0.25,
            most: int = 20) -> np.ndarray:
    """Event counts; up to 20 per channel, beyond Xylo's 15 (the cap is part of what is compared)."""
    return rng.integers(0, most + 1, (batch, steps, n_in)) * (rng.random((batch, steps, n_in)) < p)


def _engine(program: Program, x: np.ndarray, **kw):
    """Run for one step more than the input: the program's first hop takes a step."""
    hidden = [p.name for p in program.populations if p.kernel == "xylo" and p.name != "output"]
    state = {h: ["v"] for h in hidden} | {"output": ["v"]}
    return run(program, {"input": x}, x.shape[1] + 1, record=hidden, record_state=state, **kw), hidden


def _assert_equal_to_reference(net: XyloNet, x: np.ndarray, mapping: XyloMapping | None = None, **kw) -> None:
    program = xylo_program(mapping or plain_mapping(net))
    res, hidden = _engine(program, x, **kw)
    raster = np.zeros((x.shape[0], x.shape[1] + 1, x.shape[2]), np.int64)
    raster[:, 1:] = x
    ref = simulate(net, raster, record_v=True)
    np.testing.assert_array_equal(np.concatenate([res.recorded[h] for h in hidden], axis=2), ref.hidden)
    np.testing.assert_array_equal(np.concatenate([res.state[h]["v"] for h in hidden], axis=2), ref.v_hidden)
    np.testing.assert_array_equal(res.output, ref.output)
    np.testing.assert_array_equal(res.state["output"]["v"], ref.v_output)


# -- equal to the reference --------------------------------------------------------------------------------------

@pytest.mark.parametrize("rec, shifts, dash_hi, thr_hi", [
    (0.0, (0, 0, 0), 8, 2000),     # feed-forward
    (0.2, (1, 2, 0), 8, 2000),     # recurrent, both synapses, weight shifts
    (0.5, (2, 0, 1), 16, 2000),    # every decay shift 0..15
    (0.1, (7, 7, 7), 3, 300),      # saturation everywhere, fast decays, multi-spikes
    (0.3, (0, 3, 2), 1, 50),       # decay shift 0 only: registers clear in one step; v = -2**15 wraps
])
def test_random_int8_networks_equal_the_reference(rec, shifts, dash_hi, thr_hi) -> None:
    rng = np.random.default_rng(int(rec * 100) + sum(shifts))
    net = _net(rng, 16, 48, 8, rec, shifts, dash_hi=dash_hi, thr_hi=thr_hi)
    x = _raster(rng, 3, 60, 16)
    ref = simulate(net, np.pad(x, ((0, 0), (1, 0), (0, 0))))
    assert ref.hidden.sum() > 0 and ref.output.sum() > 0
    _assert_equal_to_reference(net, x)


def test_hidden_neurons_split_over_populations_keep_xylos_source_order() -> None:
    # Three hidden populations with recurrent edges both ways (back edges included): the engine
    # adds the events population by population, which is Xylo's hidden-index order.
    rng = np.random.default_rng(11)
    net = _net(rng, 8, 30, 4, 0.6, (0, 6, 1), thr_hi=400)
    mapping = XyloMapping(net, "input", ("a", "b", "c"), (7, 13, 10), "output", PassRecord("xylo_map"))
    _assert_equal_to_reference(net, _raster(rng, 2, 50, 8, p=0.5), mapping)


def test_per_source_saturation_in_source_order() -> None:
    # Three sources of +127 << 7 saturate at 32767 before a -128 << 7 arrives (the unsaturated sum is
    # 32384); the current then decays by one (16383 >> 15 is 0).
    w = np.array([[[127, 0]], [[127, 0]], [[127, 0]], [[-128, 0]]])
    net = XyloNet(w, [[[0, 0]]], [[0]], [[15, 15]], [15], [32767], [0], [0], [0], [1], [0], shift_in=7)
    res, _ = _engine(xylo_program(plain_mapping(net)), np.array([[[1, 1, 1, 1]]]))
    assert res.state["hidden"]["v"][0, 1, 0] == 32767 - 16384 - 1
    _assert_equal_to_reference(net, np.array([[[1, 1, 1, 1], [0, 0, 0, 0]]]))


def test_the_negated_decay_of_minus_32768_wraps() -> None:
    # A saturated negative current (slow: dash_syn 15) and bias -128 take v to -2**15 in one step.  With
    # dash_mem = 0, -decay(v) = 2**15 does not fit 16 bits and wraps to -2**15, so the membrane stays at
    # -2**15 for good (a saturating negation would pull it back up to -1 + bias).
    net = XyloNet([[[-128, 0]]], [[[0, 0]]], [[0]], [[15, 15]], [0], [100], [-128], [0], [0], [1], [0],
                  shift_in=7)
    x = np.zeros((1, 8, 1), np.int64)
    x[0, 0] = 15
    res, _ = _engine(xylo_program(plain_mapping(net)), x)
    assert res.state["hidden"]["v"][0, 1:, 0].tolist() == [-32768] * 8
    _assert_equal_to_reference(net, x)


@pytest.mark.parametrize("threshold, want", [(0, 31), (1, 31), (1000, 8), (8128, 1), (8129, 0)])
def test_up_to_31_spikes_a_step_delivered_as_count_times_weight(threshold: int, want: int) -> None:
    # One input event of 127 << 7 = 16256, decayed by 16256 >> 1: i = 8128 = v after the step, which
    # fires floor(8128 / threshold) spikes, at most 31 (threshold 0: 31 every step, v unchanged).  The
    # readout (weight 100, dash 15) receives count x 100 the step after, less its decay of one.
    net = XyloNet([[[127, 0]]], [[[0, 0]]], [[100]], [[1, 1]], [15], [threshold], [0], [15], [15], [32767], [0],
                  shift_in=7)
    x = np.zeros((1, 3, 1), np.int64)
    x[0, 0] = 1
    res, _ = _engine(xylo_program(plain_mapping(net)), x)
    assert res.recorded["hidden"][0, 1, 0] == want
    assert res.state["hidden"]["v"][0, 1, 0] == 8128 - want * threshold
    if threshold:
        assert res.state["output"]["v"][0, 2, 0] == max(want * 100 - 1, 0)
    else:
        assert res.recorded["hidden"][0, :, 0].tolist() == [31] * 4
    _assert_equal_to_reference(net, x)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), n_in=st.integers(1, 6), n_hid=st.integers(1, 12), n_out=st.integers(1, 4),
       rec=st.sampled_from([0.0, 0.3, 1.0]), shifts=st.tuples(*[st.integers(0, 7)] * 3),
       dash_hi=st.integers(1, 16), thr_hi=st.sampled_from([1, 50, 5000, 32768]), p=st.sampled_from([0.1, 0.6, 1.0]),
       parts=st.integers(1, 3))
def test_any_network_equals_the_reference(seed, n_in, n_hid, n_out, rec, shifts, dash_hi, thr_hi, p, parts) -> None:
    rng = np.random.default_rng(seed)
    net = _net(rng, n_in, n_hid, n_out, rec, shifts, dash_hi=dash_hi, thr_hi=thr_hi)
    # The hidden neurons in up to three populations (consecutive index ranges, as compile makes them).
    cuts = np.unique(np.concatenate([[0, n_hid], rng.integers(1, n_hid, parts - 1) if n_hid > 1 else []]).astype(int))
    names = tuple(f"h{k}" for k in range(cuts.size - 1))
    mapping = XyloMapping(net, "input", names, tuple(np.diff(cuts).tolist()), "output", PassRecord("xylo_map"))
    _assert_equal_to_reference(net, _raster(rng, 2, 25, n_in, p=p), mapping)


# -- the run does not change the result --------------------------------------------------------------------------

def test_threads_batches_storage_and_files_change_nothing(tmp_path) -> None:
    rng = np.random.default_rng(3)
    net = _net(rng, 16, 64, 8, 0.05, (1, 2, 0), thr_hi=600)
    program = xylo_program(plain_mapping(net))
    assert {j.kind for j in program.projections} == {"dense", "sparse"}
    x = _raster(rng, 20, 40, 16)
    one, _ = _engine(program, x, threads=1)        # several samples per C call: queues reset between them
    many, _ = _engine(program, x, threads=3)
    alone = [_engine(program, x[b:b + 1], threads=1)[0] for b in (0, 7, 19)]
    for a, b in ((one, many),):
        np.testing.assert_array_equal(a.recorded["hidden"], b.recorded["hidden"])
        np.testing.assert_array_equal(a.state["output"]["v"], b.state["output"]["v"])
        np.testing.assert_array_equal(a.counters.per_population, b.counters.per_population)
    for k, b in enumerate((0, 7, 19)):
        np.testing.assert_array_equal(alone[k].recorded["hidden"][0], one.recorded["hidden"][b])
    # All dense, all sparse, and through a file: the same spikes.
    dense = dataclasses.replace(program, projections=tuple(_as_dense(j, program) for j in program.projections))
    sparse = dataclasses.replace(program, projections=tuple(_as_sparse(j) for j in program.projections))
    save_program(program, tmp_path / "xylo.npz")
    for other in (dense, sparse, load_program(tmp_path / "xylo.npz")):
        np.testing.assert_array_equal(_engine(other, x)[0].recorded["hidden"], one.recorded["hidden"])
    _assert_equal_to_reference(net, x)


def _as_dense(j: Projection, program: Program) -> Projection:
    if j.kind == "dense":
        return j
    w = np.zeros((program.population(j.target).size, program.population(j.source).size), np.int64)
    w[j.target_index, j.source_index] = j.weight
    return Projection(j.name, j.source, j.target, "dense", w, delay_base=j.delay_base, geometry=j.geometry)


def _as_sparse(j: Projection) -> Projection:
    if j.kind == "sparse":
        return j
    tgt, src = np.nonzero(np.ones_like(j.weight))        # zero weights kept: they add nothing either
    return Projection(j.name, j.source, j.target, "sparse", j.weight[tgt, src], delay_base=j.delay_base,
                      target_index=tgt, source_index=src, geometry=j.geometry)


def test_the_program_reads_back_as_the_net() -> None:
    net = _net(np.random.default_rng(4), 5, 9, 3, 0.5, (3, 1, 2))
    back = read_xylo(xylo_program(plain_mapping(net))).net
    for f in dataclasses.fields(XyloNet):
        np.testing.assert_array_equal(getattr(back, f.name), getattr(net, f.name), err_msg=f.name)


# -- counters ----------------------------------------------------------------------------------------------------

def test_counters_count_firing_neurons_as_one_event_each() -> None:
    rng = np.random.default_rng(8)
    net = _net(rng, 6, 20, 3, 0.3, (2, 1, 0), thr_hi=200)
    program = xylo_program(plain_mapping(net))
    x = _raster(rng, 2, 30, 6, p=0.5)
    res, _ = _engine(program, x)
    c = res.counters
    names = list(c.populations)
    hid = res.recorded["hidden"]
    spikes = c.per_population[..., names.index("hidden"), c.column("spikes")]
    assert hid.max() > 1                                           # bursts happened
    np.testing.assert_array_equal(spikes, np.count_nonzero(hid, axis=2))
    fan = np.count_nonzero(net.w_rec, axis=(1, 2)) + np.count_nonzero(net.w_out, axis=1)
    synops = c.per_population[..., names.index("hidden"), c.column("synops")]
    np.testing.assert_array_equal(synops, ((hid > 0) * fan).sum(axis=2))
    updates = c.per_population[..., names.index("hidden"), c.column("nu_active")] + \
        c.per_population[..., names.index("hidden"), c.column("nu_idle")]
    assert np.all(updates == 20)
    # Input events are counted as the program receives them (their cap is the projection's).
    np.testing.assert_array_equal(c.per_population[:, :30, names.index("input"), c.column("spikes")],
                                  np.count_nonzero(x, axis=2))


# -- validation --------------------------------------------------------------------------------------------------

def _one_neuron(**changes) -> Program:
    params = {"dash_syn": [1], "dash_mem": [2], "threshold": [10], "bias": [0]}
    params.update(changes.pop("params", {}))
    pop = dict(name="h", kernel="xylo", shape=(1,), params=params, spiking=True, reset="subtract",
               config={"max_spikes": 31})
    pop.update(changes.pop("pop", {}))
    proj = dict(name="in->h", source="in", target="h", kind="dense", weight=[[3]], delay_base=1,
                geometry={"synapse": 0, "max_events": 15})
    proj.update(changes.pop("proj", {}))
    return Program(1e-3, changes.pop("arithmetic", "fixed"), (Population("in", "input", (1,)), Population(**pop)),
                   (Projection(**proj),), {"in": "in"}, {"out": "h"})


@pytest.mark.parametrize("changes, parameter", [
    ({"params": {"dash_syn": [16]}}, "dash_syn"),
    ({"params": {"dash_mem": [-1]}}, "dash_mem"),
    ({"params": {"threshold": [-1]}}, "threshold"),
    ({"params": {"bias": [40000]}}, "bias"),
    ({"params": {"v_threshold": [3]}}, "v_threshold"),
    ({"pop": {"reset": "value"}}, "reset"),
    ({"pop": {"spiking": False}}, "spiking"),
    ({"pop": {"config": {"max_spikes": 32}}}, "max_spikes"),
    ({"pop": {"config": {"decay_bits": 12}}}, "config"),
    ({"proj": {"geometry": {"synapse": 1, "max_events": 15}}}, "synapse"),
    ({"proj": {"geometry": {"synapse": 0}}}, "geometry"),
    ({"proj": {"geometry": {"synapse": 0, "max_events": 0}}}, "max_events"),
    ({"proj": {"geometry": {"synapse": 0, "max_events": 15, "weight_shift": 16}}}, "weight_shift"),
    ({"proj": {"weight": [[128]], "geometry": {"synapse": 0, "max_events": 15, "weight_shift": 8}}}, "weight"),
    ({"proj": {"weight": [[2**61]], "geometry": {"synapse": 0, "max_events": 15, "weight_shift": 15}}}, "weight"),
    ({"proj": {"delay": [[2]]}}, "delay"),
    ({"arithmetic": "float"}, "kernel"),
])
def test_bad_parameters_are_refused_by_name(changes, parameter: str) -> None:
    _one_neuron()   # the base program is valid
    with pytest.raises(ProgramError) as info:
        _one_neuron(**changes)
    assert info.value.parameter == parameter and info.value.node in ("h", "in->h")
    assert info.value.limit or info.value.fix or parameter in ("v_threshold", "config")


def test_a_second_current_takes_synapse_one_and_128_shifted_by_seven_is_refused_only_past_16_bits() -> None:
    program = _one_neuron(params={"dash_syn2": [3]}, proj={"weight": [[-128]], "geometry": {
        "synapse": 1, "max_events": 15, "weight_shift": 8}})
    assert program.projections[0].geometry == {"synapse": 1, "weight_shift": 8, "max_events": 15}
    with pytest.raises(ProgramError):
        _one_neuron(params={"dash_syn2": [3]}, proj={"weight": [[-128]], "geometry": {
            "synapse": 1, "max_events": 15, "weight_shift": 9}})
    with pytest.raises(ProgramError) as info:
        _one_neuron(proj={"kind": "crossbar"})
    assert info.value.parameter in ("kind", "geometry")
