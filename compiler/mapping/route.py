"""Route: X-Y routes of every message (X first along the source's row, then Y along the
destination's column); per-core routing table = distinct destination cores, input axons =
distinct source units; link loads and hop totals; checked against the spec.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from ...hardware import HardwareSpec
from ...runtime.program import Program
from ..passes.base import PassRecord
from .cores import _check, _Cores
from .net import _IDX, MappingResult, _Net, _net, _rates


def route(program: Program, spec: HardwareSpec | None = None, *, rates: Any = None,
          _net_: _Net | None = None) -> MappingResult:
    """X-Y routes of every message: hop totals, per-link loads, per-core routing-table sizes
    (distinct destination cores) and input axons (distinct source units), checked against
    ``spec``'s fan-out / fan-in limits."""
    net = _net_ or _net(program)
    record = _route(program, spec, r=_rates(program, rates), cores=_Cores(net, program.core_of, program.n_cores),
                    xy=np.asarray(program.core_xy, _IDX))
    return MappingResult(program, record)


def _link_load(cores: _Cores, xy: np.ndarray, r: np.ndarray) -> float:
    """Largest rate-weighted load of one directed mesh link under X-Y routing (X first along
    the source's row, then Y along the destination's column): per axis, direction and line a
    difference array over the link positions (+w where a route enters, -w where it leaves;
    a route with no hop on an axis adds and removes w at the same place), summed up."""
    size = int(xy.max(initial=0)) + 2
    x, y = xy[:, 0], xy[:, 1]
    diff = np.zeros((2, 2 * size * size))      # axis; (direction, line, position)
    for own, dest, w in cores.slices(r):
        sx, sy, dx, dy = x[own], y[own], x[dest], y[dest]
        for axis, a, b, line in ((0, sx, dx, sy), (1, sy, dy, dx)):
            cell = ((a > b) * size + line) * size
            diff[axis] += np.bincount(cell + np.minimum(a, b), weights=w, minlength=diff.shape[1])
            diff[axis] -= np.bincount(cell + np.maximum(a, b), weights=w, minlength=diff.shape[1])
    return float(np.cumsum(diff.reshape(4, size, size), axis=2).max(initial=0.0))


def _route(program: Program, spec: HardwareSpec | None, *, r: np.ndarray, cores: _Cores, xy: np.ndarray) -> PassRecord:
    t0 = time.perf_counter()
    n_cores = xy.shape[0]
    stats = cores.stats
    if spec is not None:
        _check(stats, spec, stage="route")
    t = cores.traffic(xy, r)
    load = _link_load(cores, xy, r)
    figures = {"messages": t["messages"], "local_messages": t["local"], "hops": t["hops"], "hops_x": t["hops_x"],
               "hops_y": t["hops_y"], "max_link_load": load,
               "max_routing_table": int(stats.fan_out.max()) if n_cores else 0,
               "max_input_axons": int(stats.fan_in.max()) if n_cores else 0,
               "seconds": time.perf_counter() - t0}
    return PassRecord("route", (), figures)
