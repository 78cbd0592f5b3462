"""Self-contained HTML pages: Plotly's JavaScript inlined once in the head (no CDN: the file
opens offline), figures as divs, tables as plain HTML with every text escaped (node names and
knob values come from users' files)."""

from __future__ import annotations

import html
import os
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from ..api import check_output
from ..errors import OutputError
from .collect import ChipReport
from .figures import (
                      accuracy_figure,
                      energy_figure,
                      latency_figure,
                      layer_figure,
                      link_figure,
                      mesh_figures,
                      pareto_figures,
)

__all__ = ["chip_page", "explore_page", "write_page"]

_STYLE = """body{font-family:system-ui,sans-serif;margin:2em;max-width:1400px;color:#222}
h1{font-size:1.6em}h2{margin-top:1.6em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.8em 0;font-size:.9em}td,th{border:1px solid #ccc;padding:.25em .6em;
text-align:left;vertical-align:top}th{background:#f3f3f3}.grid{display:grid;
grid-template-columns:repeat(auto-fill,minmax(560px,1fr));gap:1em}.note{color:#555}"""


def _figure_divs(figures: Iterable[Any], prefix: str) -> str:
    return '<div class="grid">' + "".join(
        f.to_html(full_html=False, include_plotlyjs=False, div_id=f"{prefix}-{i}", config={"displaylogo": False})
        for i, f in enumerate(figures)) + "</div>"


def _table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(_cell(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _page(title: str, body: str) -> str:
    from plotly.offline import get_plotlyjs

    return (f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
            f"<style>{_STYLE}</style><script type=\"text/javascript\">{get_plotlyjs()}</script></head>"
            f"<body><h1>{html.escape(title)}</h1>{body}</body></html>")


def chip_page(report: ChipReport) -> str:
    """The HTML of one model on one chip (see :mod:`spikec.report`)."""
    r = report
    acc = "-" if r.accuracy_chip is None else f"{r.accuracy_chip * 100:.2f} %"
    facts = _table(("what", "value"), [
        ("target", f"{r.title} ({r.target})"), ("model", r.model), ("data", f"{r.data_source}: {r.samples} samples, "
                                                                            f"{r.steps} steps"),
        ("knobs", ", ".join(f"{k}={v}" for k, v in r.options.items())),
        ("cores used", f"{r.n_cores} on {r.chips} chip(s)"),
        ("energy per sample", f"{r.energy * 1e6:.4g} uJ"), ("latency per sample", f"{r.latency * 1e3:.4g} ms"),
        ("accuracy on the chip", acc)])
    layers = _table(("population", "kernel", "neurons", "rate float", "rate chip", "max weight error",
                     "spike agreement"),
                    [(x.name, x.kernel, x.neurons, x.rate_float, x.rate_chip, x.max_weight_error, x.spike_agreement)
                     for x in r.layers])
    energy_rows = [(term, value * 1e6, value / r.energy * 100 if r.energy else 0.0)
                   for term, value in r.breakdown.items()]
    constants = _table(("constant", "value", "source"),
                       [(name, "not published: left out" if c.value is None else c.value, c.source)
                        for name, c in r.constants.items()])
    notes = "".join(f"<p class=\"note\">{html.escape(n)}</p>" for n in r.notes)
    missing = (f"<p class=\"note\">Not included (no published constant): {html.escape(', '.join(r.missing))}</p>"
               if r.missing else "")
    body = (f"<h2>Summary</h2>{facts}{notes}"
            f"<h2>Accuracy: float model vs chip</h2>{_figure_divs([accuracy_figure(r)], 'accuracy')}"
            f"<h2>Core mesh</h2>{_figure_divs([*mesh_figures(r.mesh), link_figure(r.mesh)], 'mesh')}"
            f"<h2>Layers: spike rates and quantization</h2>{_figure_divs([layer_figure(r)], 'layers')}{layers}"
            f"<h2>Energy and latency</h2>{_figure_divs([energy_figure(r), latency_figure(r)], 'cost')}"
            f"{_table(('term', 'uJ per sample', '% of energy'), energy_rows)}{missing}"
            f"<h3>Every constant the price uses, with its source</h3>{constants}")
    return _page(f"spikec report: {r.model} on {r.title}", body)


def explore_page(rows: Sequence[Mapping[str, Any]], objectives: Sequence[str], *, title: str,
                 runner: str = "") -> str:
    """The HTML of a study: Pareto plots (hover a point for its configuration) and the front as
    a table.  ``rows`` is the results table (:func:`spikec.explore.table`)."""
    front = [r for r in rows if r.get("pareto") or r.get("pareto_target")]
    knobs = [k for k in (rows[0] if rows else {}) if k.startswith("option.")]
    columns = ["target", "number", *knobs, *objectives, "pareto"]
    failed = sum(1 for r in rows if r.get("state") != "ok")
    where = f"; ran on {html.escape(runner)}" if runner else ""
    summary = (f"<p>{len(rows)} trials ({failed} failed: the configuration did not build), {len(front)} on a "
               f"Pareto front (their target's, or the one over all) of {html.escape(', '.join(objectives))}"
               f"{where}.</p>")
    fronts = _table(columns, [[r.get(c) for c in columns] for r in front])
    body = (f"{summary}<h2>Pareto plots</h2>{_figure_divs(pareto_figures(rows, objectives), 'pareto')}"
            f"<h2>Pareto fronts (each target's; pareto: also on the front over every target)</h2>{fronts}")
    return _page(title, body)


def write_page(text: str, path: str | os.PathLike) -> Path:
    """Write ``text`` to ``path`` (checked first: a missing directory is an OutputError)."""
    p = check_output(path, "-o")
    try:
        p.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise OutputError(f"cannot write {str(p)!r}: {exc.strerror}", parameter="-o") from None
    return p
