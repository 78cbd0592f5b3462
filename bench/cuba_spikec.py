"""spikec's side of the CUBA benchmark: the network as a runtime Program, run on the C engine.

The network maps onto one ``cuba_float`` population (CubaLIF in IR terms with unit gains:
``I = a_I*I + x``, ``v = (a_v*v + I) + b``, reset to 0 above theta) and one sparse recurrent
projection with ``delay_base=1`` (a spike acts one step later).  Events are delivered in
ascending presynaptic order into a zeroed accumulator, which is the summation order
:func:`cuba_net.reference_run` defines, so the float64 spike trains are meant to be identical.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from cuba_net import CubaNet, summarize
from spikec.runtime import Population, Program, Projection
from spikec.runtime import run as run_program

__all__ = ["program_for", "run"]


def program_for(net: CubaNet, *, cores: int = 1) -> Program:
    """The CUBA network as a Program; ``cores`` splits the neurons evenly over a row of cores.

    No output port: a port records every step densely (4000 x 100,000 doubles); the bench
    counts events per neuron instead, as a spike monitor would."""
    n = net.n
    ones = np.ones(n)
    pop = Population(
        "cuba", "cuba_float", (n,),
        params={
            "alpha_syn": ones * net.a_i, "gain_syn": ones, "alpha": ones * net.a_v, "gain": ones,
            "bias": ones * net.b, "v_threshold": ones * net.theta_mv, "v_reset": np.zeros(n),
            "v_init": net.v_init,
        },
        spiking=True, reset="value",
    )
    proj = Projection("recurrent", "cuba", "cuba", "sparse", net.weight, delay_base=1,
                      target_index=net.post, source_index=net.pre)
    core_of = (np.arange(n) * cores // n).astype(np.int64)
    core_xy = np.stack([np.arange(cores), np.zeros(cores, np.int64)], axis=1)
    return Program(dt=net.dt_ms * 1e-3, arithmetic="float", populations=(pop,), projections=(proj,),
                   inputs={}, outputs={}, core_of=core_of, core_xy=core_xy)


def run(net: CubaNet, steps: int, *, record: bool = False, counters: str = "total") -> dict[str, Any]:
    """Simulate ``steps`` steps; the dict of every runner (``wall_s`` is the engine call alone,
    ``total_s`` adds building the Program and its fan-out tables)."""
    t0 = time.perf_counter()
    program = program_for(net)
    t1 = time.perf_counter()
    res = run_program(program, {}, steps, record=["cuba"] if record else (), count=["cuba"], counters=counters)
    t2 = time.perf_counter()
    counts = res.event_counts["cuba"][0]
    out = summarize(net, steps, counts, t2 - t1)
    out["total_s"] = t2 - t0
    out["synops"] = res.counters.total("synops")
    out["neuron_updates"] = res.counters.total("nu_active") + res.counters.total("nu_idle")
    if record:
        steps_idx, ids = np.nonzero(res.recorded["cuba"][0])
        out["spike_steps"], out["spike_ids"] = steps_idx.astype(np.int64), ids.astype(np.int64)
    return out
