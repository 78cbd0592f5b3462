"""HTML reports that open offline (Plotly inlined): ``spikec report`` for one model on one chip,
and the page of a ``spikec explore`` study.

- a chip report (:func:`chip_report`): the core mesh as heat maps (neurons, synapse memory,
  spikes and synaptic events per core, traffic per link), spike rates and quantization error per
  layer, the energy breakdown with every constant's source, latency per step, and accuracy of
  the float model beside the chip's;
- a study report (:func:`explore_report`): Pareto plots of every pair of objectives, each point's
  configuration on hover, and the front as a table.

:mod:`.collect` gathers (through :mod:`spikec.api`, for any target), :mod:`.mesh` lays the cores
and links out, :mod:`.figures` draws, :mod:`.page` writes the HTML.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping, Sequence

from ..api import check_output
from ..errors import BackendError
from .collect import ChipReport, LayerRow, collect
from .mesh import MeshData, link_loads, mesh_data
from .page import chip_page, explore_page, write_page

__all__ = ["chip_report", "explore_report", "collect", "ChipReport", "LayerRow", "MeshData", "mesh_data",
           "link_loads", "chip_page", "explore_page"]


def chip_report(model: Any, target: str, path: str | os.PathLike, data: Any = None, *,
                options: Mapping[str, Any] | None = None, samples: int | None = None,
                calibration: int = 0) -> tuple[Path, ChipReport]:
    """Gather the report of ``model`` on ``target`` (see :func:`~.collect.collect`) and write it
    to ``path``; the path is checked before any work."""
    check_output(path, "-o")
    _require_plotly()
    report = collect(model, target, data, options=options, samples=samples, calibration=calibration)
    return write_page(chip_page(report), path), report


def explore_report(rows: Sequence[Mapping[str, Any]], objectives: Sequence[str], path: str | os.PathLike, *,
                   title: str = "spikec explore", runner: str = "") -> Path:
    """Write the page of a study whose results table is ``rows`` to ``path``."""
    check_output(path, "-o")
    _require_plotly()
    return write_page(explore_page(rows, objectives, title=title, runner=runner), path)


def _require_plotly() -> None:
    try:
        import plotly  # noqa: F401
    except ImportError:
        raise BackendError("an HTML report needs plotly", parameter="-o",
                           fix='pip install "spikec[explore]"') from None
