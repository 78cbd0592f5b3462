"""The whole mapping, partition -> place -> refine -> route, on the internal forms (one
:class:`~.net._Net` and one :class:`~.cores._Cores` per assignment, never an intermediate
Program), over two partition candidates; the one with less hop-weighted traffic wins.
"""

from __future__ import annotations

import time
from typing import Any

from ...hardware import HardwareSpec
from ...runtime.program import Program
from ..passes.base import PassRecord
from .net import LIMITS, MappingResult, _net, _rates
from .partition import _partition
from .place import _place
from .refine import _refine_placed
from .route import _route


def map_program(program: Program, spec: HardwareSpec, *, rates: Any = None, method: str = "metis",
                budget_s: float = 10.0) -> MappingResult:
    """partition -> place -> refine -> route.  ``method="metis"`` (METIS + Hilbert seed +
    swap refinement + unit moves) or ``"sequential"`` (layer-order fill, row-by-row placement:
    the baseline).  ``budget_s`` bounds the placement's swaps and, again, the unit moves, per
    candidate.  The record's figures: cores, chips, per-step inter-core messages
    (``messages``) and hop-weighted traffic (``hops``) for ``rates`` (1 event per unit per
    step by default), the largest per-core use of every limit, the units moved, and the
    seconds of each stage summed over the candidates (``partition_s`` ... ``route_s``)."""
    t0 = time.perf_counter()
    net = _net(program)
    r = _rates(program, rates)
    best = None
    spent = dict.fromkeys(("partition_s", "place_s", "refine_s", "route_s"), 0.0)
    # METIS cuts few edges but may scatter a structure that layer order already keeps local
    # (a row-major sheet): the order-preserving fill, with the same refined placement, is a
    # second candidate, and the one with less hop-weighted traffic wins.
    for cand in (method,) if method == "sequential" else (method, "sequential"):
        p, cores = _partition(program, spec, r=r, method=cand, net=net)
        pl, cores, xy = _place(program, spec, r=r, method="sequential" if method == "sequential" else "refine",
                               budget_s=budget_s, cores=cores)
        ref = None
        # unit moves gain tens of per cent, not a factor of two: a candidate that far behind is not refined
        if method != "sequential" and (best is None or cores.traffic(xy, r)["hops"] < 2 * best[0][0]):
            ref, cores, xy = _refine_placed(program, spec, r=r, budget_s=budget_s, cores=cores, xy=xy)
        ro = _route(program, spec, r=r, cores=cores, xy=xy)
        for stage, rec in zip(spent, (p, pl, ref, ro)):
            spent[stage] += rec.figures["seconds"] if rec is not None else 0.0
        key = (ro.figures["hops"], ro.figures["messages"])
        if best is None or key < best[0]:    # kept without its messages (10^8 of them at worst)
            best = (key, p, pl, ref, ro, cand, cores.core_of, xy, cores.stats)
        del cores, xy
    _, p, pl, ref, ro, chosen, core_of, xy, stats = best
    del best, net           # the synapse pairs go before the program's arrays are copied once more
    figures = {"method": method, "partition": chosen, "cores": pl.figures["cores"], "chips": pl.figures["chips"],
               **{k: ro.figures[k] for k in ("messages", "local_messages", "hops", "hops_x", "hops_y",
                                              "max_link_load", "max_routing_table", "max_input_axons")},
               **{f"max_{name}": int(stats.of(name).max()) if stats.neurons.size else 0 for name in LIMITS},
               **spent, "units_moved": ref.figures["units_moved"] if ref is not None else 0}
    changes = p.changes + pl.changes + (ref.changes if ref is not None else ())
    final = program.with_placement(core_of, xy)
    figures["seconds"] = time.perf_counter() - t0
    return MappingResult(final, PassRecord("map", changes, figures))
