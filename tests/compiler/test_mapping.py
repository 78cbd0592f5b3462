"""Mapping (partition -> place -> route): every per-core limit checked on every result, by
counts made here from the weights with plain Python sets; the engine's counters agree with
the traffic estimate; a network too big names the limit and the chips it would need; METIS
beats the sequential-fill baseline on structured nets."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spikec import ir
from spikec.compiler.lower import lower
from spikec.compiler.passes.mapping import LIMITS, chips_needed, map_program, partition, place, route, traffic
from spikec.errors import ResourceLimitError
from spikec.runtime import Population, Program, Projection, run
from spikec.targets.spec import HardwareSpec, Limit


def spec(neurons=None, synapses=None, fan_in=None, fan_out=None, mesh=(4, 4), chips=None) -> HardwareSpec:
    lim = lambda v: Limit(v, "test")  # noqa: E731
    return HardwareSpec("test", neurons_per_core=lim(neurons), synapses_per_core=lim(synapses),
                        fan_in_per_core=lim(fan_in), fan_out_per_core=lim(fan_out),
                        mesh_x=lim(mesh[0] if mesh else None), mesh_y=lim(mesh[1] if mesh else None), chips=lim(chips))


# --- networks ---------------------------------------------------------------------------------------------


def conv_program(seed: int = 0, channels=(2, 4, 8), hw: int = 12) -> Program:
    rng = np.random.default_rng(seed)
    nodes = {"x": ir.Input((channels[0], hw, hw))}
    edges, prev, h = [], "x", hw
    for i in range(1, len(channels)):
        stride = 1 if i == 1 else 2
        nodes[f"conv{i}"] = ir.Conv2d(rng.normal(size=(channels[i], channels[i - 1], 3, 3)), stride=stride, padding=1)
        h = (h - 1) // stride + 1
        nodes[f"lif{i}"] = ir.make_population(ir.LIF, (channels[i], h, h), tau=3.0, v_threshold=1.0)
        edges += [(prev, f"conv{i}"), (f"conv{i}", f"lif{i}")]
        prev = f"lif{i}"
    nodes["out"] = ir.Output()
    edges.append((prev, "out"))
    return lower(ir.Graph(nodes, edges, dt=1.0))


def recurrent_program(seed: int = 0, n_in: int = 40, n: int = 400, n_out: int = 10, k: int = 12,
                      local: bool = True) -> Program:
    """Input -> recurrent LIF sheet (side x side, row-major; each neuron drives ``k`` targets
    within 2 steps on a torus, one in ten anywhere) -> readout."""
    rng = np.random.default_rng(seed)
    side = int(round(np.sqrt(n)))
    n = side * side
    src = np.repeat(np.arange(n), k)
    if local:
        dy, dx = rng.integers(-2, 3, src.size), rng.integers(-2, 3, src.size)
        dst = ((src // side + dy) % side) * side + (src % side + dx) % side
        far = rng.random(src.size) < 0.1
        dst[far] = rng.integers(0, n, int(far.sum()))
    else:
        dst = rng.integers(0, n, src.size)
    w_rec = rng.normal(size=src.size) * 0.3
    w_in = np.zeros((n, n_in))  # topographic input: unit i drives a band of the sheet
    w_in[np.arange(n), np.arange(n) * n_in // n] = rng.normal(size=n)
    w_out = rng.normal(size=(n_out, n)) * (rng.random((n_out, n)) < 0.2)
    nodes = {
        "x": ir.Input((n_in,)),
        "w_in": ir.Linear(w_in),
        "lif": ir.make_population(ir.LIF, n, tau=4.0, v_threshold=0.5),
        "rec": ir.SparseLinear((n, n), target=dst, source=src, weight=w_rec),
        "w_out": ir.Linear(w_out),
        "out_lif": ir.make_population(ir.LIF, n_out, tau=4.0, v_threshold=0.5),
        "o": ir.Output(),
    }
    edges = [("x", "w_in"), ("w_in", "lif"), ("lif", "rec"), ("rec", "lif"), ("lif", "w_out"), ("w_out", "out_lif"),
             ("out_lif", "o")]
    return lower(ir.Graph(nodes, edges, dt=1.0))


def random_program(seed: int, n_pops: int, size: int, density: float) -> Program:
    rng = np.random.default_rng(seed)
    ones = np.ones(size)
    pops = [Population("in", "input", (size,))]
    pops += [Population(f"p{k}", "cuba_float", (size,), {"alpha": ones * 0.5, "gain": ones, "bias": ones * 0.0,
                                                         "v_threshold": ones, "v_reset": ones * 0.0}, spiking=True, reset="value")
             for k in range(n_pops)]
    projs = []
    for k in range(n_pops):
        for s in rng.choice(k + 1, size=min(2, k + 1), replace=False):
            src_name = "in" if s == 0 else f"p{s - 1}"
            m = rng.random((size, size)) < density
            t, so = np.nonzero(m)
            projs.append(Projection(f"j{k}_{s}", src_name, f"p{k}", "sparse", rng.normal(size=t.size),
                                    target_index=t, source_index=so, delay_base=1 if src_name == f"p{k}" else 0))
    return Program(1.0, "float", tuple(pops), tuple(projs), {"in": "in"}, {"o": f"p{n_pops - 1}"})


# --- independent checks ------------------------------------------------------------------------------------


def synapse_lists(program: Program) -> tuple[np.ndarray, np.ndarray]:
    """Global (source, target) of every non-zero synapse, from the weights (convs via one-hot
    inputs through the IR's reference convolution would be slower; use the per-kind layout)."""
    off = program.offsets
    srcs, dsts = [], []
    for j in program.projections:
        s, t = program.index[j.source], program.index[j.target]
        if j.kind == "dense":
            tt, ss = np.nonzero(j.weight)
        elif j.kind == "sparse":
            keep = j.weight != 0
            tt, ss = j.target_index[keep], j.source_index[keep]
        else:
            tt, ss = conv_pairs(j)
        srcs.append(np.asarray(ss) + off[s])
        dsts.append(np.asarray(tt) + off[t])
    return np.concatenate(srcs), np.concatenate(dsts)


def conv_pairs(j: Projection) -> tuple[np.ndarray, np.ndarray]:
    """Target and source of every non-zero conv synapse, by a direct loop (stride/padding, groups=1)."""
    g = j.geometry
    (cin, hin, win), (cout, hout, wout) = g["in_shape"], g["out_shape"]
    assert g["groups"] == 1
    tt, ss = [], []
    for co in range(cout):
        for oy in range(hout):
            for ox in range(wout):
                for ci in range(cin):
                    for ky in range(j.weight.shape[2]):
                        for kx in range(j.weight.shape[3]):
                            iy = oy * g["stride"][0] - g["padding"][0][0] + ky * g["dilation"][0]
                            ix = ox * g["stride"][1] - g["padding"][1][0] + kx * g["dilation"][1]
                            if 0 <= iy < hin and 0 <= ix < win and j.weight[co, ci, ky, kx] != 0:
                                tt.append((co * hout + oy) * wout + ox)
                                ss.append((ci * hin + iy) * win + ix)
    return np.array(tt, np.int64), np.array(ss, np.int64)


def check_limits(program: Program, sp: HardwareSpec, pairs=None) -> dict[str, int]:
    """Every per-core limit, counted with sets; returns the maxima."""
    src, dst = pairs if pairs is not None else synapse_lists(program)
    core = program.core_of
    n_cores = program.n_cores
    neurons = np.bincount(core, minlength=n_cores)
    synapses = np.bincount(core[dst], minlength=n_cores)
    fan_in = [set() for _ in range(n_cores)]
    fan_out = [set() for _ in range(n_cores)]
    for s, d in zip(src.tolist(), dst.tolist()):
        fan_in[core[d]].add(s)
        if core[s] != core[d]:
            fan_out[core[s]].add(int(core[d]))
    use = {"neurons_per_core": neurons, "synapses_per_core": synapses,
           "fan_in_per_core": np.array([len(x) for x in fan_in]), "fan_out_per_core": np.array([len(x) for x in fan_out])}
    for name in LIMITS:
        lim = sp.value(name)
        if lim is not None:
            assert use[name].max() <= lim, (name, use[name].max(), lim)
    # placement: distinct slots, inside the chips' meshes
    xy = program.core_xy
    assert len({tuple(p) for p in xy.tolist()}) == n_cores
    if sp.value("mesh_y") is not None:
        assert xy[:, 1].max() < sp.value("mesh_y")
    if sp.value("chips") is not None and sp.value("mesh_x") is not None:
        assert xy[:, 0].max() < sp.value("mesh_x") * sp.value("chips")
    return {name: int(u.max()) for name, u in use.items()}


def hop_traffic(program: Program, pairs) -> tuple[int, int]:
    """(remote messages, hops) for one event of every unit: one message per (unit, other core)."""
    src, dst = pairs
    core, xy = program.core_of, program.core_xy
    msgs = {(int(s), int(core[d])) for s, d in zip(src.tolist(), dst.tolist()) if core[s] != core[d]}
    hops = sum(int(np.abs(xy[c] - xy[core[s]]).sum()) for s, c in msgs)
    return len(msgs), hops


# --- tests -----------------------------------------------------------------------------------------------


TIGHT = spec(neurons=48, synapses=900, fan_in=160, fan_out=40, mesh=(4, 4))


@pytest.mark.parametrize("method", ["metis", "sequential"])
@pytest.mark.parametrize("which", ["conv", "recurrent"])
def test_every_limit_holds_and_figures_match_a_count_by_hand(method: str, which: str) -> None:
    program = conv_program() if which == "conv" else recurrent_program()
    res = map_program(program, TIGHT, method=method)
    pairs = synapse_lists(program)
    maxima = check_limits(res.program, TIGHT, pairs)
    f = res.record.figures
    for name in LIMITS:
        assert f[f"max_{name}"] == maxima[name]
    msgs, hops = hop_traffic(res.program, pairs)
    assert f["messages"] == msgs and f["hops"] == hops
    assert f["cores"] == res.program.n_cores and f["chips"] == chips_needed(f["cores"], TIGHT)
    assert f["max_routing_table"] == maxima["fan_out_per_core"]
    assert "map" in res.record.explain()


@pytest.mark.parametrize("which", [
    "conv",
    # Issue 4's goal (>= 30 % less hop-weighted traffic than sequential fill) is not met on a
    # locally connected sheet, whose row-major layer order is already local (bench/mapping.py:
    # about 25 %).  Strict: the day it passes, this mark must go.
    pytest.param("recurrent", marks=pytest.mark.xfail(strict=True, reason="recurrent sheet: ~25 % < 30 % goal")),
])
def test_metis_beats_sequential_fill_on_hop_weighted_traffic(which: str) -> None:
    program = conv_program(channels=(2, 8, 8), hw=16) if which == "conv" else recurrent_program(n=900)
    sp = spec(neurons=64, mesh=(4, 4), chips=8)
    base = map_program(program, sp, method="sequential").record.figures
    ours = map_program(program, sp, method="metis").record.figures
    assert ours["hops"] <= 0.7 * base["hops"], (ours["hops"], base["hops"])
    assert ours["messages"] <= base["messages"]


@pytest.mark.parametrize("arithmetic", ["float", "fixed"])
def test_engine_counters_agree_with_the_traffic_estimate(arithmetic: str) -> None:
    """Messages and hops the engine counts in a run = the estimate weighted by each unit's
    events in that run (uniform rates: one event per unit gives the figures of the record)."""
    program = recurrent_program(n=200, n_in=20)
    if arithmetic == "fixed":
        program = quantized(program)
    res = map_program(program, spec(neurons=32, fan_out=16, mesh=(3, 3), chips=3))
    placed = res.program
    rng = np.random.default_rng(1)
    x = (rng.random((2, 30, 20)) < 0.5).astype(float)
    out = run(placed, x, count="all", counters="total")
    events = np.concatenate([out.event_counts[p.name].reshape(2, -1).sum(axis=0) for p in placed.populations])
    assert events.sum() > 100
    est = traffic(placed, rates=events)
    assert est["messages"] == out.counters.total("msg_remote")
    assert est["local"] == out.counters.total("msg_local")
    assert est["hops_x"] == out.counters.total("hops_x") and est["hops_y"] == out.counters.total("hops_y")
    uniform = traffic(placed)
    assert uniform["messages"] == res.record.figures["messages"] and uniform["hops"] == res.record.figures["hops"]


def quantized(program: Program) -> Program:
    """The same structure with integer weights and fixed-point neurons (counters only care
    about which synapses are non-zero)."""
    pops = []
    for p in program.populations:
        if p.is_neuron:
            n = p.size
            z = np.zeros(n, np.int64)
            pops.append(Population(p.name, "cuba_fixed", p.shape, {"du": z + 4095, "dv": z + 400, "bias": z,
                                                                 "v_threshold": z + 64, "v_reset": z},
                                   spiking=True, reset="value"))
        else:
            pops.append(p)
    projs = [Projection(j.name, j.source, j.target, j.kind, np.sign(j.weight) * 80, delay_base=j.delay_base,
                        target_index=j.target_index, source_index=j.source_index, geometry=j.geometry)
             for j in program.projections]
    return Program(program.dt, "fixed", tuple(pops), tuple(projs), program.inputs, program.outputs)


def test_a_network_too_big_names_the_limit_and_the_chips_it_needs() -> None:
    program = recurrent_program(n=400)
    sp = spec(neurons=32, mesh=(2, 2), chips=2)
    with pytest.raises(ResourceLimitError) as err:
        map_program(program, sp)
    e = err.value
    assert e.parameter == "chips"
    cores = partition(program, sp).record.figures["cores"]
    need = chips_needed(cores, sp)
    assert need > 2 and f"{need} chips" in str(e)
    # with that many chips it fits
    res = map_program(program, spec(neurons=32, mesh=(2, 2), chips=need))
    assert res.record.figures["chips"] == need
    check_limits(res.program, spec(neurons=32, mesh=(2, 2), chips=need))


def test_a_unit_that_no_core_can_hold_names_its_limit() -> None:
    program = recurrent_program(n=200)
    for kwargs, name in (({"fan_in": 5}, "fan_in_per_core"), ({"synapses": 3}, "synapses_per_core")):
        for method in ("metis", "sequential"):
            with pytest.raises(ResourceLimitError) as err:
                partition(program, spec(neurons=32, **kwargs), method=method)
            assert err.value.parameter == name and "no core can hold it" in str(err.value)


def test_rates_weight_the_figures_and_steer_the_partition() -> None:
    program = recurrent_program(n=300)
    sp = spec(neurons=40, mesh=(4, 4))
    n = int(program.offsets[-1])
    rates = np.random.default_rng(3).random(n) * 5
    res = map_program(program, sp, rates=rates)
    est = traffic(res.program, rates=rates)
    assert est["hops"] == pytest.approx(res.record.figures["hops"])
    by_pop = traffic(res.program, rates={"lif": 2.0})
    assert by_pop["messages"] > 0
    with pytest.raises(ResourceLimitError):
        traffic(res.program, rates={"nope": 1.0})
    with pytest.raises(ResourceLimitError):
        traffic(res.program, rates=np.ones(3))


def test_stages_compose_and_route_checks_the_spec() -> None:
    program = conv_program()
    sp = spec(neurons=64, fan_out=20, mesh=(4, 4))
    p = partition(program, sp)
    pl = place(p.program, sp)
    ro = route(pl.program, sp)
    assert ro.record.figures["max_link_load"] > 0
    with pytest.raises(ResourceLimitError) as err:
        route(pl.program, spec(neurons=64, fan_out=1))
    assert err.value.parameter == "fan_out_per_core"


def test_no_limits_puts_everything_on_one_core() -> None:
    res = map_program(recurrent_program(n=100), HardwareSpec("emu"))
    assert res.record.figures["cores"] == 1 and res.record.figures["messages"] == 0


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), n_pops=st.integers(1, 3), size=st.integers(5, 60),
       density=st.floats(0.01, 0.3), neurons=st.integers(1, 40), syn=st.integers(20, 400),
       fan_in=st.integers(5, 80), fan_out=st.integers(1, 12), method=st.sampled_from(["metis", "sequential"]))
def test_random_sparse_programs_under_tight_limits(seed, n_pops, size, density, neurons, syn, fan_in, fan_out,
                                                   method) -> None:
    program = random_program(seed, n_pops, size, density)
    sp = spec(neurons=neurons, synapses=syn, fan_in=fan_in, fan_out=fan_out, mesh=(4, 4))
    try:
        res = map_program(program, sp, method=method, budget_s=1.0)
    except ResourceLimitError as e:
        assert e.parameter in LIMITS and e.limit is not None
        return
    check_limits(res.program, sp)
    assert res.record.figures["cores"] >= -(-int(program.offsets[-1]) // neurons)


@pytest.mark.parametrize("which", ["conv", "recurrent", "random"])
def test_the_mapper_is_never_worse_than_sequential_fill(which: str) -> None:
    if which == "conv":
        program = conv_program(channels=(2, 8, 8), hw=16)
    else:
        program = recurrent_program(n=900, local=which == "recurrent")
    sp = spec(neurons=64, mesh=(4, 4), chips=8)
    base = map_program(program, sp, method="sequential").record.figures
    ours = map_program(program, sp, method="metis").record
    assert ours.figures["hops"] <= base["hops"]
    assert ours.figures["partition"] in ("metis", "sequential")
