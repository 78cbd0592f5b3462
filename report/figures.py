"""The report's Plotly figures: one function per figure, each taking plain data and returning a
``plotly.graph_objects.Figure`` (the page module lays them out)."""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np

from .collect import ChipReport
from .mesh import MeshData

__all__ = ["mesh_figures", "link_figure", "layer_figure", "energy_figure", "latency_figure", "accuracy_figure",
           "pareto_figures"]

_HEIGHT = 360


def _go() -> Any:
    import plotly.graph_objects as go

    return go


def _heatmap(grid: np.ndarray, title: str, unit: str) -> Any:
    go = _go()
    h, w = grid.shape
    fig = go.Figure(go.Heatmap(z=np.where(np.isnan(grid), None, grid).tolist(), x=list(range(w)), y=list(range(h)),
                               colorscale="Viridis", colorbar={"title": unit},
                               hovertemplate="core (%{x}, %{y}): %{z}<extra></extra>"))
    fig.update_layout(title=title, height=_HEIGHT, xaxis_title="mesh x", yaxis_title="mesh y",
                      xaxis={"dtick": 1 if w <= 32 else None}, yaxis={"dtick": 1 if h <= 32 else None,
                                                                        "scaleanchor": "x"})
    return fig


def mesh_figures(mesh: MeshData) -> list[Any]:
    """One heat map per per-core figure (neurons, synapse memory, spikes, synaptic events)."""
    return [_heatmap(grid, name, name.split(" per ")[0]) for name, grid in mesh.cores.items()]


def link_figure(mesh: MeshData) -> Any:
    """Traffic per mesh link: each link drawn between its two cores, coloured by its load."""
    go = _go()
    h, w = mesh.shape
    loads = [(x, y, x + 1, y, mesh.east[y, x]) for y in range(h) for x in range(w - 1)]
    loads += [(x, y, x, y + 1, mesh.north[y, x]) for y in range(h - 1) for x in range(w)]
    top = max([v for *_, v in loads if not math.isnan(v)], default=0.0) or 1.0
    fig = go.Figure()
    import plotly.colors as pc

    for x0, y0, x1, y1, v in loads:
        colour = pc.sample_colorscale("Viridis", [min(max(v / top, 0.0), 1.0)])[0]
        fig.add_trace(go.Scatter(x=[x0, x1], y=[y0, y1], mode="lines", line={"color": colour, "width": 6},
                                 hovertemplate=f"link ({x0},{y0})-({x1},{y1}): {v:.4g} messages/sample<extra></extra>",
                                 showlegend=False))
    present = ~np.isnan(next(iter(mesh.cores.values())))
    ys, xs = np.nonzero(present)
    fig.add_trace(go.Scatter(x=xs.tolist(), y=ys.tolist(), mode="markers", showlegend=False,
                             marker={"size": 14, "color": [0.0] * len(xs), "colorscale": "Viridis", "cmin": 0,
                                     "cmax": top, "colorbar": {"title": "messages/sample"}, "line": {"width": 1}},
                             hovertemplate="core (%{x}, %{y})<extra></extra>"))
    fig.update_layout(title="traffic per link (messages per sample, X-Y routed)", height=_HEIGHT,
                      xaxis_title="mesh x", yaxis_title="mesh y", yaxis={"scaleanchor": "x"})
    return fig


def layer_figure(report: ChipReport) -> Any:
    """Spike rate per population, float model beside chip."""
    go = _go()
    rows = [r for r in report.layers if r.rate_chip is not None or r.rate_float is not None]
    names = [r.name for r in rows]
    fig = go.Figure([go.Bar(name="float model", x=names, y=[r.rate_float for r in rows]),
                     go.Bar(name=f"{report.title} (emulated)", x=names, y=[r.rate_chip for r in rows])])
    fig.update_layout(title="spike rate per layer (spikes per neuron per step)", barmode="group", height=_HEIGHT,
                      xaxis_title="population", yaxis_title="rate")
    return fig


def energy_figure(report: ChipReport) -> Any:
    """Energy per sample by term (the constants' sources are in the table beside it)."""
    go = _go()
    terms = list(report.breakdown)
    fig = go.Figure(go.Bar(x=[report.breakdown[t] * 1e6 for t in terms], y=terms, orientation="h",
                           hovertemplate="%{y}: %{x:.4g} uJ<extra></extra>"))
    fig.update_layout(title=f"energy per sample: {report.energy * 1e6:.4g} uJ", height=_HEIGHT,
                      xaxis_title="uJ per sample", margin={"l": 200})
    return fig


def latency_figure(report: ChipReport) -> Any:
    """Time of each step on the chip (the busiest core, routing, barrier), mean over samples."""
    go = _go()
    step = np.asarray(report.step_latency, np.float64).reshape(-1)
    fig = go.Figure(go.Bar(x=list(range(step.size)), y=(step * 1e6).tolist(),
                           hovertemplate="step %{x}: %{y:.4g} us<extra></extra>"))
    fig.update_layout(title=f"latency per sample: {report.latency * 1e3:.4g} ms ({step.size} steps)",
                      height=_HEIGHT, xaxis_title="time step", yaxis_title="us")
    return fig


def accuracy_figure(report: ChipReport) -> Any:
    """Accuracy of the float model and of the chip on the same samples."""
    go = _go()
    labels = ["float model", f"{report.title} (emulated)"]
    values = [report.accuracy_float, report.accuracy_chip]
    fig = go.Figure(go.Bar(x=labels, y=[None if v is None else v * 100 for v in values],
                           text=["-" if v is None else f"{v * 100:.1f} %" for v in values], textposition="auto"))
    fig.update_layout(title=f"accuracy on {report.samples} samples", height=_HEIGHT, yaxis={"range": [0, 100]},
                      yaxis_title="%")
    return fig


def pareto_figures(rows: Sequence[Mapping[str, Any]], objectives: Sequence[str]) -> list[Any]:
    """One scatter per pair of objectives: every successful trial, coloured by target, each
    target's own Pareto front as diamonds and the front over every target as stars; hovering a
    point shows its configuration."""
    go = _go()
    ok = [r for r in rows if r.get("state") == "ok"]
    scale = {"energy": (1e6, "uJ"), "latency": (1e3, "ms"), "accuracy": (100, "%")}
    pairs = [(a, b) for i, a in enumerate(objectives) for b in objectives[i + 1:]] or [(objectives[0], objectives[0])]
    targets = list(dict.fromkeys(r["target"] for r in ok))
    import plotly.colors as pc

    palette = pc.qualitative.Plotly     # one colour per target, whatever the kind of point
    figures = []
    for a, b in pairs:
        fig = go.Figure()
        for k, target in enumerate(targets):
            colour = palette[k % len(palette)]
            for kind in ("trial", "its front", "front over all"):
                pts = [r for r in ok if r["target"] == target and _kind(r) == kind]
                if not pts:
                    continue
                fig.add_trace(go.Scatter(
                    x=[r[a] * scale.get(a, (1, ""))[0] for r in pts], y=[r[b] * scale.get(b, (1, ""))[0] for r in pts],
                    mode="markers", name=f"{target}: {kind}" if kind != "trial" else target,
                    text=[_config(r) for r in pts], hovertemplate="%{text}<extra></extra>",
                    marker={"size": 7 if kind == "trial" else 12, "color": colour,
                            "symbol": {"trial": "circle", "its front": "diamond", "front over all": "star"}[kind],
                            "line": {"width": 0 if kind == "trial" else 2, "color": "black"}}))
        fig.update_layout(title=f"{b} vs {a}", height=420,
                          xaxis_title=f"{a} ({scale.get(a, (1, ''))[1]})".replace(" ()", ""),
                          yaxis_title=f"{b} ({scale.get(b, (1, ''))[1]})".replace(" ()", ""),
                          xaxis={"type": "log" if a in ("energy", "latency") else "linear"},
                          yaxis={"type": "log" if b in ("energy", "latency") else "linear"})
        figures.append(fig)
    return figures


def _kind(row: Mapping[str, Any]) -> str:
    return "front over all" if row.get("pareto") else "its front" if row.get("pareto_target") else "trial"


def _config(row: Mapping[str, Any]) -> str:
    knobs = ", ".join(f"{k.removeprefix('option.')}={v}" for k, v in row.items()
                      if k.startswith("option.") and v is not None)
    return (f"trial {row['target']}#{row['number']}<br>{knobs}<br>accuracy {row['accuracy']:.3f}, "
            f"energy {row['energy'] * 1e6:.4g} uJ, latency {row['latency'] * 1e3:.4g} ms")
