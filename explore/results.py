"""The results table of a study: one row per trial, written as CSV or Parquet.

Columns: ``number``, ``target``, ``state`` ("ok" / "failed"), ``pareto`` (on the front over all
targets), ``pareto_target`` (on its own target's front), one ``option.KNOB`` column per knob of
any target (empty where a target lacks it), the measurements of :data:`~.objectives.METRICS`
(accuracy as a fraction, energy in J and latency in s per sample, cores, chips, real_time as chip
time over model time), ``seconds`` (the trial's wall time), ``host`` (the worker that ran it,
``machine:pid``) and ``error`` (why a failed trial failed).
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any

from ..errors import OutputError
from .objectives import METRICS
from .study import ExploreResult

__all__ = ["table", "write_table"]


def table(result: ExploreResult) -> list[dict[str, Any]]:
    """The rows of the results table, as dicts in column order."""
    knobs = list(dict.fromkeys(k for r in result.rows for k in r.options))
    out = []
    for r in result.rows:
        row: dict[str, Any] = {"number": r.number, "target": r.target, "state": r.state, "pareto": r.pareto,
                               "pareto_target": r.pareto_target}
        row.update({f"option.{k}": r.options.get(k) for k in knobs})
        row.update({m: r.metrics.get(m) for m in METRICS})
        row.update({"seconds": r.seconds, "host": r.host, "error": r.error})
        out.append(row)
    return out


def write_table(result: ExploreResult, path: str | os.PathLike) -> Path:
    """Write the results table to ``path``: Parquet for ``.parquet``, else CSV.  Returns it."""
    p = Path(path)
    rows = table(result)
    if p.suffix == ".parquet":
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError:
            raise OutputError("writing Parquet needs pyarrow", parameter="--table",
                              fix='pip install "spikec[explore]", or give a .csv path') from None
        pq.write_table(pa.Table.from_pylist(rows), p)
        return p
    with p.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]) if rows else ["number"])
        writer.writeheader()
        writer.writerows(rows)
    return p
