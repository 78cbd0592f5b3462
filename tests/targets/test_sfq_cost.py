"""SFQ price: the bookkeeping identity on every report, the SuperSNN calibration of static
power, ERSFQ, the Carnot bound, and energy per switch = Ic * Phi0."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import spikec
from hypothesis import given, settings
from hypothesis import strategies as st
from spikec.errors import SimulationError, SpecError, UnsupportedError
from spikec.hardware import Sourced
from spikec.runtime.counters import COUNTERS, Counters
from spikec.runtime.sfq import CELL_TYPES, SFQ_COUNTERS, SfqCounters
from spikec.targets import get_target
from spikec.targets.sfq import PYLSE, SfqCosts, costs_for, estimate_sfq, split_energy
from spikec.targets.sfq.cells import CARNOT_4K, PHI0
from spikec.targets.sfq.cost import static_power

SFQ = get_target("sfq")


def counters(switches: dict[str, int], *, batch: int = 2, steps: int = 10) -> SfqCounters:
    sfq = np.zeros((batch, len(SFQ_COUNTERS)), np.int64)
    for name, n in switches.items():
        sfq[0, SFQ_COUNTERS.index(f"switches_{name}")] = n
    per = np.zeros((batch, steps, 1, len(COUNTERS)), np.int64)
    return SfqCounters(populations=("p",), per_population=per, per_core=per, per_step=True, sfq=sfq)


def check_identity(est) -> dict[str, float]:
    e = split_energy(est)
    assert est.energy == pytest.approx(e["dynamic"] + e["static"] + e["cooling"], rel=1e-12)
    assert e["wall"] == pytest.approx(e["at_4k"] + e["cooling"], rel=1e-12)
    return e


def test_default_options_price_with_each_cells_sourced_ic() -> None:
    from spikec.targets.sfq.cells import SFQ_PHYSICS

    defaults = costs_for(SFQ.make_options(None).as_dict())
    assert all(ic is PYLSE.by_type()[kind].ic for kind, ic in defaults.ic.items())
    assert set(defaults.ic) == set(CELL_TYPES) and defaults.cooling is SFQ_PHYSICS.cooling
    assert all("what-if" in ic.source for ic in costs_for({"ic_ua": 50.0}).ic.values())


def test_ic_is_per_cell() -> None:
    lib = dataclasses.replace(PYLSE, merger=dataclasses.replace(PYLSE.merger, ic=Sourced(50e-6, "a weaker merger")))
    costs = costs_for({}, lib)
    assert costs.switch_energy("merger") == pytest.approx(50e-6 * PHI0.value, rel=1e-12)
    assert costs.switch_energy("jtl") == pytest.approx(100e-6 * PHI0.value, rel=1e-12)
    est = estimate_sfq(counters({"merger": 10, "jtl": 10}), costs, jj_total=0, period_s=1e-10)
    assert est.breakdown["dynamic: merger switches"] == pytest.approx(est.breakdown["dynamic: jtl switches"] / 2)


def test_supersnn_static_power_from_the_per_jj_value() -> None:
    assert static_power(5822, costs_for({})) == pytest.approx(2.15e-3, rel=0.01)


def test_a_supersnn_sized_configuration_separates_dynamic_static_and_cooling() -> None:
    costs = costs_for({})
    period = 1 / 3.02e9
    est = estimate_sfq(counters({"merger": 1000, "synapse": 500}), costs, jj_total=5822, period_s=period)
    e = check_identity(est)
    assert est.latency == pytest.approx(10 * period)
    assert e["dynamic"] == pytest.approx(1500 * 100e-6 * PHI0.value / 2)   # per sample over a batch of 2
    assert e["static"] == pytest.approx(2.15e-3 * 10 * period, rel=0.01)
    assert e["cooling"] == pytest.approx(400 * e["at_4k"])


@settings(max_examples=50, deadline=None)
@given(family=st.sampled_from(["rsfq", "ersfq"]), residual=st.floats(0, 1), cooling=st.floats(70.4, 2000),
       ic=st.floats(10, 500), n=st.integers(0, 10**9), jj=st.integers(0, 10**7))
def test_the_identity_holds_for_every_option(family, residual, cooling, ic, n, jj) -> None:
    opts = {"family": family, "ersfq_residual": residual, "cooling_w_per_w": cooling, "ic_ua": ic}
    costs = costs_for(opts)
    est = estimate_sfq(counters({"jtl": n}), costs, jj_total=jj, period_s=1e-10)
    e = check_identity(est)
    assert e["dynamic"] == pytest.approx(n * ic * 1e-6 * PHI0.value / 2, rel=1e-12)
    fraction = 1.0 if family == "rsfq" else residual
    assert e["static"] == pytest.approx(jj * 2.15e-3 / 5822 * fraction * 1e-9, rel=1e-12, abs=1e-30)


def test_below_the_carnot_bound_is_refused() -> None:
    assert CARNOT_4K.value == pytest.approx(70.4)
    with pytest.raises(SpecError, match="Carnot"):
        SfqCosts("x", {k: Sourced(1e-4, "x") for k in CELL_TYPES}, PHI0, Sourced(1e-7, "x"), Sourced(1.0, "x"),
                 Sourced(60.0, "x"))
    with pytest.raises(UnsupportedError, match="cooling_w_per_w"):
        SFQ.make_options({"cooling_w_per_w": 70.0})
    SFQ.make_options({"cooling_w_per_w": 70.4})


def test_ersfq_has_no_static_power_but_its_residual() -> None:
    assert static_power(1000, costs_for({"family": "ersfq"})) == 0.0
    assert static_power(1000, costs_for({"family": "ersfq", "ersfq_residual": 0.1})) == pytest.approx(
        0.1 * static_power(1000, costs_for({})))


def test_a_price_needs_the_pulse_kernels_counters() -> None:
    plain = Counters(("p",), np.zeros((1, 1, 1, len(COUNTERS)), np.int64), np.zeros((1, 1, 1, len(COUNTERS)),
                                                                                     np.int64), True)
    with pytest.raises(SimulationError, match="pulse kernel"):
        estimate_sfq(plain, costs_for({}), jj_total=1, period_s=1e-10)


def test_every_report_of_a_real_run_keeps_the_identity() -> None:
    graph = spikec.load("default")
    data = spikec.load_dataset(spikec.bundled_data(), graph).take(2)
    for opts in ({}, {"family": "ersfq"}, {"stochastic": True, "bias_levels": 4}):
        report = spikec.run(graph, data, target=SFQ, options=opts)
        e = check_identity(report.estimate)
        assert e["dynamic"] > 0 and report.estimate.latency == pytest.approx(
            report.result.steps * report.program.metadata["sfq"]["period_ps"] * 1e-12)
        assert any("at the wall" in n for n in report.notes)
