"""compiler/timing.py: the chip's hop timing on a lowered program, for any steps per hop."""

from __future__ import annotations

import numpy as np
import pytest
import spikec.ir as ir
from spikec.compiler.lower import lower
from spikec.compiler.timing import hop_latency, pipeline_depth
from spikec.runtime import run


def _recurrent() -> ir.Graph:
    rng = np.random.default_rng(0)
    nodes = {"in": ir.Input((4,)), "w_in": ir.Linear(rng.normal(0, 1, (6, 4)), delay=np.full((6, 4), 2)),
             "h": ir.make_population(ir.LIF, 6, tau=1e-2, v_threshold=0.5),
             "w_rec": ir.Linear(rng.normal(0, 0.3, (6, 6))), "w_out": ir.Linear(rng.normal(0, 1, (3, 6))),
             "o": ir.make_population(ir.LIF, 3, tau=1e-2, v_threshold=0.5), "out": ir.Output()}
    edges = [("in", "w_in"), ("w_in", "h"), ("h", "w_rec"), ("w_rec", "h"), ("h", "w_out"), ("w_out", "o"),
             ("o", "out")]
    return ir.Graph(nodes, edges, dt=1e-3)


@pytest.mark.parametrize("steps", [0, 1, 2, 3])
def test_every_hop_takes_the_steps_and_back_edges_keep_at_least_one(steps: int) -> None:
    program = lower(_recurrent())
    timed = hop_latency(program, steps)
    index = timed.index
    for j in timed.projections:
        back = index[j.source] >= index[j.target]
        assert j.delay_base == (max(steps, 1) if back else steps), (j.name, back)
    # Longest feed-forward path: in -> h (2 synaptic delay steps) -> o.
    assert pipeline_depth(timed) == 2 * steps + 2
    spikes = (np.random.default_rng(1).random((2, 12, 4)) < 0.5).astype(np.float64)
    out = run(timed, spikes).output  # a zero-step back edge would be refused by validation
    assert out.shape == (2, 12, 3)


def test_zero_steps_per_hop_is_the_ir_timing() -> None:
    graph = _recurrent()
    spikes = (np.random.default_rng(2).random((3, 15, 4)) < 0.5).astype(np.float64)
    ref = ir.simulate(graph, spikes, dtype=np.float64).output
    assert np.array_equal(run(hop_latency(lower(graph), 0), spikes).output, ref)
