"""The FPGA accelerator model: presets of published designs as unit checks (Spiker+ MNIST latency
and power, FireFly's peak), the cycle model's two dataflows, resources, and refusals."""

from __future__ import annotations

import numpy as np
import pytest
import spikec
import torch
from spikec.errors import ResourceLimitError, UnsupportedError
from spikec.nn import LIF
from spikec.targets import get_target
from spikec.targets.fpga import FIREFLY, SPIKER_PLUS_MNIST, design_of, resources, step_cycles
from spikec.targets.fpga.model import pe_loads


def _mlp(sizes: tuple[int, ...], seed: int = 0) -> spikec.ir.Graph:
    torch.manual_seed(seed)
    layers: list[torch.nn.Module] = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [torch.nn.Linear(a, b, bias=False), LIF(b, tau=10e-3, dt=1e-3)]
    return spikec.load(torch.nn.Sequential(*layers), input_shape=(sizes[0],), dt=1e-3)


@pytest.fixture(scope="module")
def spiker_run():
    target = get_target("fpga")
    compiled = target.compile(_mlp((784, 128, 10)), {"preset": "spiker_plus"})
    steps = int(SPIKER_PLUS_MNIST.steps.value)
    x = (np.random.default_rng(0).random((2, steps, 784)) < 0.1).astype(float)
    return target, compiled.program, target.backend("emulator")(compiled.program, {"input": x}, steps)


def test_spiker_plus_preset_reproduces_its_latency_and_power(spiker_run) -> None:
    target, program, run = spiker_run
    est = target.price(run.counters, program)
    assert est.latency == pytest.approx(780e-6, rel=0.25)
    power = est.energy / est.latency
    assert 0.18 / 2 <= power <= 0.18 * 2
    # A clock-driven layer visits all 784 inputs every step, whatever the activity: 784 + 1 + 2 cycles.
    assert np.all(step_cycles(run.counters, program, SPIKER_PLUS_MNIST) == 784 + 1 + 2)
    res = resources(program, SPIKER_PLUS_MNIST)
    assert res.pes == 2 and res.lut == 138 * 55 and res.dsp == 0
    assert res.bram36 == pytest.approx(18, rel=0.25)       # published: 18 BRAM


def test_firefly_peak_is_5_53_tops_at_300_mhz() -> None:
    assert FIREFLY.clock_hz.value == 300e6
    assert round(FIREFLY.peak_ops / 1e12, 2) == 5.53


def test_event_dataflow_counts_synaptic_events_per_pe() -> None:
    target = get_target("fpga")
    opts = {"pes": 8, "neurons_per_pe": 16, "synapse_lanes": 2}
    compiled = target.compile(_mlp((20, 40, 5)), opts)
    program = compiled.program
    design = design_of(program.metadata["options"])
    assert design.synapse_lanes.value == 2 and design.synapse_lanes.source.startswith("what-if")
    x = (np.random.default_rng(3).random((1, 30, 20)) < 0.3).astype(float)
    run = target.backend("emulator")(program, {"input": x}, 32)
    cyc = step_cycles(run.counters, program, design)
    load = pe_loads(program, design)
    syn = run.counters.per_core[..., run.counters.column("synops")]
    expected = ((np.ceil(syn / 2) + np.ceil(load.neurons / 1) + 4) * (load.neurons > 0)).sum(axis=2)
    np.testing.assert_array_equal(cyc, expected)
    quiet = step_cycles(run.counters, program, design.with_(synapse_lanes=64))
    assert np.all(quiet <= cyc) and quiet.sum() < cyc.sum()
    est = target.price(run.counters, program)
    assert est.latency == pytest.approx(cyc.sum() / 100e6)
    assert est.energy == pytest.approx(sum(est.breakdown.values())) and "static power x time" in est.breakdown


def test_too_few_pes_is_refused_by_name() -> None:
    with pytest.raises(ResourceLimitError) as info:
        get_target("fpga").compile(_mlp((10, 40, 5)), {"pes": 2, "neurons_per_pe": 16})
    assert info.value.parameter == "pes" and "--pes" in info.value.fix
    with pytest.raises(UnsupportedError):
        get_target("fpga").compile(_mlp((10, 4)), {"preset": "tpu"})
