"""Sweep figures as plotly specs: curves coloured by the swept value, best value per value,
and parallel coordinates. Built to stay responsive at thousands of trials: past
``MAX_CURVES`` runs the curves become one median line and 10-90% band per value."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from rundocs.analyse.sweep_groups import group_levels
from rundocs.analyse.sweeps import SweepReport
from rundocs.load.runs import Runs
from rundocs.render.figures import downsample, value_axis

MAX_CURVES = 60
MAX_BOX_POINTS = 300
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")
Curves = dict[str, tuple[np.ndarray, np.ndarray]]


def plot_sweep_curves(report: SweepReport, runs: Runs, dimension: str | None) -> dict[str, Any] | None:
    """The target metric over epochs for every run, coloured by its value of ``dimension``."""
    curves = _target_curves(report, runs)
    if not curves:
        return None
    members = group_levels(dimension, report.settings) if dimension else {"all runs": list(curves)}
    labels = {run_id: label for label, ids in members.items() for run_id in ids}
    colours = {label: PALETTE[index % len(PALETTE)] for index, label in enumerate(members)}
    if len(curves) <= MAX_CURVES:
        data = _run_lines(curves, labels, colours, runs)
    else:
        data = _median_bands(curves, labels, colours)
    title = f"{report.metric} by {dimension}" if dimension else report.metric
    layout = _layout(title, "epoch", report.metric)
    layout["yaxis"].update(value_axis([y for _, y in curves.values()]))
    return {"data": data, "layout": layout}


def plot_best_by_level(report: SweepReport, dimension: str) -> dict[str, Any] | None:
    """The score of every run, one horizontal box per value of ``dimension`` (points shown when
    few): the values label rows, so long or many labels never overlap."""
    scores = {s.run_id: s.score for s in report.scores}
    points: str | bool = "all" if len(report.scores) <= MAX_BOX_POINTS else False
    data, drawn = [], []
    for index, (label, ids) in enumerate(group_levels(dimension, report.settings).items()):
        values = [value for i in ids if (value := scores[i]) is not None and np.isfinite(value)]
        if values:
            drawn.append(np.array(values, dtype=float))
            box = {"type": "box", "orientation": "h", "name": label, "x": drawn[-1]}
            marker = {"color": PALETTE[index % len(PALETTE)]}
            data.append({**box, "boxpoints": points, "jitter": 0.3, "pointpos": 0, "marker": marker})
    if not data:
        return None
    layout = _layout(f"best {report.metric} by {dimension}", report.metric, dimension)
    layout["xaxis"].update(value_axis(drawn))
    layout["yaxis"].update({"type": "category", "autorange": "reversed"})  # first value on top
    return {"data": data, "layout": {**layout, "height": max(300, 120 + 36 * len(data)), "showlegend": False}}


def plot_parallel(report: SweepReport) -> dict[str, Any] | None:
    """Parallel coordinates over the dimensions and the target metric (two dimensions or more)."""
    scored = [s for s in report.scores if s.score is not None and np.isfinite(s.score)]
    if len(report.dimensions) < 2 or not scored:
        return None
    axes = [_axis(key, [report.settings[s.run_id].get(key) for s in scored]) for key in report.dimensions]
    metric = np.array([s.score for s in scored], dtype=float)
    axes.append({"label": report.metric, "values": metric})
    line = {"color": metric, "colorscale": "Viridis", "reversescale": report.goal == "min", "showscale": True}
    layout = _layout(f"settings and best {report.metric}", "", "")
    # the title at the very top, the axis names and ranges below it, above the lines
    layout["title"].update({"yref": "container", "y": 1, "yanchor": "top", "pad": {"t": 8}})
    layout["margin"]["t"] = 90
    return {"data": [{"type": "parcoords", "dimensions": axes, "line": line}], "layout": layout}


def _target_curves(report: SweepReport, runs: Runs) -> Curves:
    curves = {}
    for score in report.scores:
        columns = runs.curves(score.run_id)
        if report.metric in columns and "epoch" in columns:
            keep = ~np.isnan(columns[report.metric]) & ~np.isnan(columns["epoch"])
            curves[score.run_id] = (columns["epoch"][keep], columns[report.metric][keep])
    return curves


def _run_lines(curves: Curves, labels: dict[str, str], colours: dict[str, str], runs: Runs) -> list[dict[str, Any]]:
    data, shown = [], set()
    for run_id, (x, y) in curves.items():
        label = labels.get(run_id, "")
        x, y = downsample(x, y)
        line = {"color": colours.get(label, "#7f7f7f"), "width": 1}
        trace = {"type": "scatter", "mode": "lines", "x": x, "y": y, "name": label, "line": line}
        hover = {"hovertext": runs.records[run_id].name, "hoverinfo": "text+x+y"}
        data.append({**trace, **hover, "legendgroup": label, "showlegend": label not in shown})
        shown.add(label)
    return data


def _median_bands(curves: Curves, labels: dict[str, str], colours: dict[str, str]) -> list[dict[str, Any]]:
    rows = [(labels.get(run_id, ""), a, b) for run_id, (x, y) in curves.items() for a, b in zip(x, y, strict=True)]
    frame = pd.DataFrame(rows, columns=["level", "epoch", "value"])
    data: list[dict[str, Any]] = []
    for label, colour in colours.items():
        grouped = frame[frame["level"] == label].groupby("epoch")["value"]
        if not len(grouped):
            continue
        x = np.sort(np.array(list(grouped.groups), dtype=float))
        low, mid, high = (grouped.quantile(q).to_numpy(dtype=float) for q in (0.1, 0.5, 0.9))
        band = {"x": np.concatenate([x, x[::-1]]), "y": np.concatenate([high, low[::-1]])}
        look = {"fill": "toself", "mode": "none", "fillcolor": colour, "opacity": 0.2, "hoverinfo": "skip"}
        data.append({"type": "scatter", **band, **look, "legendgroup": label, "showlegend": False, "name": label})
        median = {"x": x, "y": mid, "line": {"color": colour}, "legendgroup": label}
        data.append({"type": "scatter", "mode": "lines", "name": f"{label} (median, 10-90%)", **median})
    return data


def _axis(key: str, values: list[Any]) -> dict[str, Any]:
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return {"label": key, "values": np.array(values, dtype=float)}
    labels = sorted({str(v) for v in values})
    codes = np.array([labels.index(str(v)) for v in values], dtype=float)
    return {"label": key, "values": codes, "tickvals": list(range(len(labels))), "ticktext": labels}


def _layout(title: str, x: str, y: str) -> dict[str, Any]:
    return {
        "title": {"text": title, "automargin": True},
        "height": 380,
        "margin": {"l": 60, "r": 20, "t": 50, "b": 40},
        "legend": {"orientation": "v", "x": 1.02, "xanchor": "left", "y": 1, "yanchor": "top"},  # clear of both titles
        "xaxis": {"title": {"text": x}, "automargin": True},
        "yaxis": {"title": {"text": y}, "automargin": True},
    }
