"""The SpiNNaker2 cycle and energy model pinned to its cited numbers and computed by hand."""

from __future__ import annotations

import re

import numpy as np
import pytest
from spikec.runtime.counters import COUNTERS, Counters
from spikec.targets.spinnaker2 import SPINNAKER2_COSTS, estimate_spinnaker2, overruns, pe_busy


def _counters(per_pe: dict[str, list[float]], steps: int = 2) -> Counters:
    """Two samples, ``steps`` steps, one PE per list entry, the same counts every step."""
    pes = len(next(iter(per_pe.values())))
    core = np.zeros((2, steps, pes, len(COUNTERS)))
    for name, values in per_pe.items():
        core[..., COUNTERS.index(name)] = values
    return Counters(("p",), np.zeros((2, steps, 1, len(COUNTERS))), core, True)


def test_cycle_constants_are_the_cited_nanoseconds_at_200_mhz() -> None:
    # Jin 2010 measured SpiNNaker1's ARM968 at 200 MHz: 5 ns a cycle.
    for field in ("c_neuron", "c_packet_in", "c_synapse"):
        c = getattr(SPINNAKER2_COSTS, field)
        ns = float(re.search(r"(\d+) ns per", c.source).group(1))
        assert c.value == pytest.approx(ns / 5.0), field
    assert SPINNAKER2_COSTS.clock_hz.value == 150e6 and SPINNAKER2_COSTS.tick_s.value == 1e-3
    assert SPINNAKER2_COSTS.e_synapse.value == 450e-12 and "450 pJ" in SPINNAKER2_COSTS.e_synapse.source
    assert SPINNAKER2_COSTS.e_neuron.value == 2.19e-9 and "2.19 nJ" in SPINNAKER2_COSTS.e_neuron.source
    assert SPINNAKER2_COSTS.p_idle_chip.value == 0.25 and "250 mW" in SPINNAKER2_COSTS.p_idle_chip.source


def test_busy_time_energy_and_overruns_by_hand() -> None:
    counters = _counters({"nu_active": [10, 0], "nu_idle": [2, 0], "msg_in": [3, 0], "synops": [100, 7000]})
    busy = pe_busy(counters, SPINNAKER2_COSTS)
    # PE 0: 48 x 12 + 56 x 3 + 22 x 100 = 2,944 cycles; PE 1: 22 x 7000 = 154,000 cycles, at 150 MHz
    assert busy[0, 0].tolist() == pytest.approx([2944 / 150e6, 154000 / 150e6])
    found, total = overruns(counters, SPINNAKER2_COSTS, limit=10)
    assert total == 4 and {o.pe for o in found} == {1} and found[0].dominant == "synaptic events"  # 1.03 ms > 1 ms
    est = estimate_spinnaker2(counters, SPINNAKER2_COSTS, chips=3, pes=2)
    assert est.latency == pytest.approx(2e-3)  # two 1 ms ticks: SpiNNaker runs in real time
    assert est.breakdown["idle power (chips x time)"] == pytest.approx(0.25 * 3 * 2e-3)
    assert est.breakdown["synaptic events"] == pytest.approx(450e-12 * 7100 * 2)   # per sample: 2 steps
    assert est.breakdown["neuron updates"] == pytest.approx(2.19e-9 * 12 * 2)
    assert "packets" in est.missing and "active PE power (busy time)" in est.missing
    assert est.energy == pytest.approx(sum(est.breakdown.values()))
