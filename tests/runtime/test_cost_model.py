"""The cost model: energy and latency assembled from counters exactly as its formula says."""

from __future__ import annotations

import numpy as np
import pytest
from spikec.errors import SimulationError, SpecError
from spikec.hardware import Sourced
from spikec.runtime import Population, Program, Projection, run
from spikec.runtime.cost import CostTable, estimate
from spikec.targets.loihi1 import LOIHI1


def _chain(core_xy: list[tuple[int, int]]) -> Program:
    """input(2) -> a(3) -> b(2), one population per core at the given mesh positions."""
    lif = lambda n, thr: {"alpha": np.full(n, 0.5), "gain": np.ones(n), "bias": np.zeros(n),  # noqa: E731
                          "v_threshold": np.full(n, thr), "v_reset": np.zeros(n)}
    pops = (
        Population("in", "input", (2,)),
        Population("a", "cuba_float", (3,), lif(3, 0.5), True, "value"),
        Population("b", "cuba_float", (2,), lif(2, 0.5), True, "value"),
    )
    projs = (
        Projection("in->a", "in", "a", "dense", np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])),
        Projection("a->b", "a", "b", "dense", np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])),
    )
    core_of = np.array([0, 0, 1, 1, 1, 2, 2])
    return Program(1e-3, "float", pops, projs, {"in": "in"}, {"out": "b"}, core_of, np.array(core_xy))


def _table(**kw: float | None) -> CostTable:
    return CostTable("test", **{k: Sourced(v, "test value") for k, v in kw.items()})


def test_energy_is_the_counter_weighted_sum() -> None:
    prog = _chain([(0, 0), (1, 0), (1, 2)])
    x = np.zeros((2, 4, 2))
    x[:, 0, 0] = 1
    x[1, 2, 1] = 1
    res = run(prog, x)
    c = res.counters.totals()
    table = _table(e_sop=2.0, e_nu_active=3.0, e_nu_idle=5.0, e_spike_out=7.0, e_msg_local=11.0,
                   e_inject=13.0, e_hop_x=17.0, e_hop_y=19.0, e_word=23.0, e_sync=29.0)
    est = estimate(res.counters, table)
    expected = (2 * c["synops"].sum() + 3 * c["nu_active"].sum() + 5 * c["nu_idle"].sum() + 7 * c["spikes"].sum()
                + 11 * c["msg_local"].sum() + 13 * c["msg_remote"].sum() + 17 * c["hops_x"].sum()
                + 19 * c["hops_y"].sum() + 23 * c["words"].sum()) / 2 + 29 * 4
    assert est.energy == pytest.approx(expected)
    assert set(est.missing) >= {"static power"}
    # a -> b crosses from (1, 0) to (1, 2): two hops along y, none along x, for every spike of a.
    assert c["hops_y"][1] == 2 * c["msg_remote"][1]
    assert c["hops_x"][1] == 0
    # The per-population breakdown adds up to the dynamic terms.
    dyn = sum(v for k, v in est.breakdown.items() if k != "barrier sync")
    assert sum(sum(p.values()) for p in est.per_population.values()) == pytest.approx(dyn)


def test_latency_follows_the_busiest_core_per_step() -> None:
    prog = _chain([(0, 0), (1, 0), (2, 0)])
    x = np.ones((1, 3, 2))
    res = run(prog, x)
    est = estimate(res.counters, _table(t_sop=1.0, t_nu=10.0, t_spike_out=100.0, t_hop=1000.0, t_barrier=5.0))
    core = res.counters.per_core[0]
    from spikec.runtime import COUNTERS

    col = {n: i for i, n in enumerate(COUNTERS)}
    busy = (core[..., col["synops"]] + 10 * (core[..., col["nu_active"]] + core[..., col["nu_idle"]])
            + 100 * core[..., col["spikes"]])
    step = busy.max(axis=1) + 1000 * core[..., col["hops_max"]].max(axis=1) + 5
    assert np.allclose(est.step_latency, step)
    assert est.latency == pytest.approx(step.sum())


def test_real_time_throttle_is_a_floor() -> None:
    res = run(_chain([(0, 0), (1, 0), (2, 0)]), np.zeros((1, 5, 2)))
    est = estimate(res.counters, _table(t_nu=1e-9, t_step_min=1e-3))
    assert est.latency == pytest.approx(5e-3)


def test_latency_needs_per_step_counters() -> None:
    res = run(_chain([(0, 0), (1, 0), (2, 0)]), np.zeros((1, 5, 2)), counters="total")
    with pytest.raises(SimulationError, match="per-step"):
        estimate(res.counters, LOIHI1)


def test_constants_carry_sources_and_reject_nonsense() -> None:
    assert all(src for src in LOIHI1.sources().values())
    assert "Davies" in LOIHI1.e_sop.source
    with pytest.raises(SpecError):
        Sourced(float("nan"), "x")
    with pytest.raises(SpecError):
        Sourced(-1.0, "x")
    with pytest.raises(SpecError):
        Sourced(1.0, "")


def test_loihi_estimate_of_the_bundled_model_is_plausible() -> None:
    from spikec.api import bundled_data, bundled_model, load, load_dataset
    from spikec.compiler.lower import lower

    graph = load(bundled_model())
    data = load_dataset(bundled_data(), graph).take(20)
    res = run(lower(graph), data.inputs)
    est = estimate(res.counters, LOIHI1)
    synops = res.counters.total("synops") / 20
    assert est.breakdown["synaptic ops"] == pytest.approx(synops * 23.6e-12)
    # 202 neurons x 20 steps at 52-81 pJ bound the neuron term.
    nu = est.breakdown["neuron updates (active)"] + est.breakdown["neuron updates (idle)"]
    assert 138 * 20 * 52e-12 <= nu <= 138 * 20 * 81e-12
    assert 0 < est.latency < 1e-3
