"""Mapping (partition -> place -> refine -> route): every per-core limit checked on every
result, by counts made here from the weights with plain Python sets; the engine's counters
agree with the traffic estimate; a network too big names the limit and the chips it would
need; the mapper beats the sequential-fill baseline on structured nets, by the issue's 30 %
on the benchmark's recurrent net; graphs too big for METIS at unit level go through blocks."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from spikec.compiler.mapping import LIMITS, chips_needed, map_program, partition, place, refine, route, traffic
from spikec.compiler.mapping import tuning as mapping_pass
from spikec.errors import ResourceLimitError
from spikec.hardware import HardwareSpec, Sourced
from spikec.runtime import Population, Program, Projection, run
from spikec.runtime.fanout import fanout_tables


def _load_nets():
    """bench/mapping_nets.py, the networks the benchmark maps (bench/ is not a package)."""
    path = Path(__file__).resolve().parents[2] / "bench" / "mapping_nets.py"
    module_spec = importlib.util.spec_from_file_location("spikec_bench_mapping_nets", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


NETS = _load_nets()


def spec(neurons=None, synapses=None, fan_in=None, fan_out=None, mesh=(4, 4), chips=None) -> HardwareSpec:
    lim = lambda v: Sourced(v, "test")  # noqa: E731
    return HardwareSpec("test", neurons_per_core=lim(neurons), synapses_per_core=lim(synapses),
                        fan_in_per_core=lim(fan_in), fan_out_per_core=lim(fan_out),
                        mesh_x=lim(mesh[0] if mesh else None), mesh_y=lim(mesh[1] if mesh else None), chips=lim(chips))


# --- networks ---------------------------------------------------------------------------------------------


def conv_program(seed: int = 0, channels=(2, 4, 8), hw: int = 12) -> Program:
    return NETS.conv_net(seed, channels, hw)


def recurrent_program(seed: int = 0, n_in: int = 40, n: int = 400, n_out: int = 10, k: int = 12,
                      local: bool = True) -> Program:
    """Input -> recurrent LIF sheet (side x side, row-major; each neuron drives ``k`` targets
    within 2 steps on a torus, one in ten anywhere) -> readout."""
    return NETS.recurrent_net(seed, int(round(np.sqrt(n))), k, 2, n_in, n_out, readout_density=0.2, local=local,
                              tau=4.0, v_threshold=0.5, w_scale=0.3)


def random_program(seed: int, n_pops: int, size: int, density: float) -> Program:
    rng = np.random.default_rng(seed)
    ones = np.ones(size)
    pops = [Population("in", "input", (size,))]
    pops += [Population(f"p{k}", "cuba_float", (size,), {"alpha": ones * 0.5, "gain": ones, "bias": ones * 0.0,
                                                         "v_threshold": ones, "v_reset": ones * 0.0},
                        spiking=True, reset="value")
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
           "fan_in_per_core": np.array([len(x) for x in fan_in]),
           "fan_out_per_core": np.array([len(x) for x in fan_out])}
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


def test_metis_beats_sequential_fill_on_hop_weighted_traffic_of_a_conv_net() -> None:
    program = conv_program(channels=(2, 8, 8), hw=16)
    sp = spec(neurons=64, mesh=(4, 4), chips=8)
    base = map_program(program, sp, method="sequential").record.figures
    ours = map_program(program, sp, method="metis").record.figures
    assert ours["hops"] <= 0.7 * base["hops"], (ours["hops"], base["hops"])
    assert ours["messages"] <= base["messages"]


def test_issue_goal_on_the_benchmark_recurrent_net() -> None:
    """Issue 4's goal, on bench/mapping.py's own recurrent net and chip: at least 30 % less
    hop-weighted traffic than sequential fill, with every limit held."""
    program = NETS.recurrent_net()
    sp = HardwareSpec("small-core", neurons_per_core=Sourced(256, "bench"), mesh_x=Sourced(8, "bench"),
                      mesh_y=Sourced(8, "bench"))
    base = map_program(program, sp, method="sequential").record.figures
    res = map_program(program, sp, method="metis")
    ours = res.record.figures
    assert ours["hops"] <= 0.7 * base["hops"], (ours["hops"], base["hops"])
    assert ours["messages"] <= base["messages"]
    assert ours["cores"] == base["cores"]
    check_limits(res.program, sp)


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
    by_pop = traffic(res.program, rates={"sheet": 2.0})
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


def test_big_graphs_are_partitioned_through_blocks_under_every_limit(monkeypatch) -> None:
    """Above _DIRECT_PAIRS synapse pairs METIS sees blocks of consecutive units; the limits
    are enforced on units all the same, and the structure is still found."""
    monkeypatch.setattr(mapping_pass, "_DIRECT_PAIRS", 0)
    program = recurrent_program(n=400)
    for sp in (TIGHT, spec(neurons=64, mesh=(4, 4), chips=8)):
        p = partition(program, sp, method="metis")
        check_limits(p.program, sp)
        assert p.record.figures["metis_parts"] >= -(-int(program.offsets[-1]) // sp.value("neurons_per_core"))
    base = map_program(program, sp, method="sequential").record.figures
    ours = map_program(program, sp).record.figures
    assert ours["hops"] <= base["hops"]


def test_unit_moves_lower_the_traffic_and_keep_every_limit() -> None:
    program = recurrent_program(n=400)
    moved = 0
    for sp in (TIGHT, spec(neurons=48, synapses=700, fan_in=120, fan_out=30, mesh=(4, 4))):
        pl = place(partition(program, sp).program, sp)
        before = traffic(pl.program)["hops"]
        ref = refine(pl.program, sp)
        f = ref.record.figures
        assert f["hops_before"] == before and f["hops_after"] == traffic(ref.program)["hops"] <= before
        check_limits(ref.program, sp)
        moved += f["units_moved"]
    assert moved > 0


def test_many_cores_skip_the_dense_matrices(monkeypatch) -> None:
    """Beyond _DENSE_CORES cores placement lays cores along the curve by their units' mean
    index, and beyond _REFINE_CELLS no unit moves: still a valid mapping."""
    monkeypatch.setattr(mapping_pass, "_DENSE_CORES", 4)
    monkeypatch.setattr(mapping_pass, "_REFINE_CELLS", 0)
    program = conv_program()
    res = map_program(program, TIGHT)
    assert res.record.figures["cores"] > 4 and res.record.figures["units_moved"] == 0
    check_limits(res.program, TIGHT)
    msgs, hops = hop_traffic(res.program, synapse_lists(program))
    assert res.record.figures["messages"] == msgs and res.record.figures["hops"] == hops


def test_the_engine_tables_and_the_mapper_share_one_traffic_model() -> None:
    """runtime.fanout's per-neuron tables (what the engine counts) sum to the mapper's figures."""
    res = map_program(conv_program(), spec(neurons=64, fan_out=20, mesh=(4, 4)))
    tables = fanout_tables(res.program)
    totals = np.concatenate([t.totals for t in tables]).sum(axis=0)
    est = traffic(res.program)
    assert totals[3] == est["messages"] and totals[2] == est["local"]
    assert totals[4] == est["hops_x"] and totals[5] == est["hops_y"]


def test_the_largest_link_load_is_that_of_the_routes_walked_hop_by_hop() -> None:
    program = recurrent_program(n=400)
    res = map_program(program, spec(neurons=32, mesh=(3, 3), chips=3))
    core, xy = res.program.core_of, res.program.core_xy
    src, dst = synapse_lists(program)
    load: dict[tuple, int] = {}
    for s, c in {(int(s), int(core[d])) for s, d in zip(src.tolist(), dst.tolist())}:
        (x, y), (x1, y1) = xy[core[s]].tolist(), xy[c].tolist()
        while (x, y) != (x1, y1):   # X first, then Y
            nxt = (x + np.sign(x1 - x), y) if x != x1 else (x, y + np.sign(y1 - y))
            load[(x, y) + nxt] = load.get((x, y) + nxt, 0) + 1
            x, y = nxt
    assert res.record.figures["max_link_load"] == max(load.values())
