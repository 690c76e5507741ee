"""Figure specs are valid plotly figures, long curves keep their shape, and empty data gives none."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import pytest

import rundocs
from rundocs.analyse.curves import get_curves
from rundocs.analyse.sweeps import group_sweeps, report_sweep
from rundocs.render.figures import MAX_POINTS, downsample, figure_json, plot_curves, value_axis
from rundocs.render.sweep_figures import MAX_CURVES, plot_best_by_level, plot_parallel, plot_sweep_curves
from tests.helpers import write_run


def as_figure(spec: dict[str, object]) -> go.Figure:
    """Through JSON, as plotly.js gets it; go.Figure validates every property."""
    return go.Figure(json.loads(figure_json(spec)))


def test_downsampling_keeps_the_spike_and_both_ends() -> None:
    x = np.arange(1.0, 10_001.0)
    y = np.sin(x / 500)
    y[6_789] = 50.0
    small_x, small_y = downsample(x, y)
    assert len(small_x) <= MAX_POINTS
    assert (small_x[0], small_x[-1]) == (1.0, 10_000.0) and 50.0 in small_y
    assert np.all(np.diff(small_x) > 0)


def test_run_curves_are_a_valid_figure(tmp_path: Path) -> None:
    rows = [{"epoch": e, "train_loss": 1 / e, "val_loss": 1 / e + 0.1, "val_acc": 0.5} for e in range(1, 2001)]
    rows[10]["val_loss"] = "NaN"
    write_run(tmp_path, "r", rows)
    spec = plot_curves(get_curves(rundocs.load_runs(tmp_path).curves("r")), "epoch")
    assert spec is not None
    figure = as_figure(spec)
    assert [trace.name for trace in figure.data] == ["train_loss", "val_loss", "val_acc"]
    assert all(len(trace.x) <= MAX_POINTS for trace in figure.data)
    assert plot_curves([], "epoch") is None


@pytest.mark.parametrize("count", [9, MAX_CURVES + 20])
def test_sweep_figures_are_valid_at_any_size(tmp_path: Path, count: int) -> None:
    for index in range(count):
        lr, width = [0.01, 0.1, 0.3][index % 3], [32, 64][index % 2]
        rows = [{"epoch": e, "val_loss": math.exp(-e * lr) + width / 1000} for e in range(1, 21)]
        write_run(tmp_path, f"r{index:03d}", rows, sweep="s", config={"lr": lr, "width": width, "seed": index})
    runs = rundocs.load_runs(tmp_path)
    report = report_sweep("s", group_sweeps(runs)["s"], runs, metric="val_loss", goal="min")
    curves = as_figure(plot_sweep_curves(report, runs, "lr") or {})
    if count > MAX_CURVES:  # one band and one median line per value, not a line per run
        assert len(curves.data) == 6 and curves.data[1].name == "0.01 (median, 10-90%)"
    else:
        assert len(curves.data) == count
    assert len(as_figure(plot_best_by_level(report, "lr") or {}).data) == 3
    parallel = as_figure(plot_parallel(report) or {})
    assert [d.label for d in parallel.data[0].dimensions] == ["lr", "width", "val_loss"]


def test_per_step_and_per_epoch_curves_get_their_own_panels_and_axes(tmp_path: Path) -> None:
    rows: list[dict[str, object]] = [{"step": s, "train_loss": 1 / (s + 1)} for s in range(0, 200, 10)]
    rows += [{"epoch": e, "val_loss": 1 / e, "val_acc": 0.5 + e / 10} for e in (1, 2)]
    write_run(tmp_path, "r", rows)
    spec = plot_curves(get_curves(rundocs.load_runs(tmp_path).curves("r")))
    assert spec is not None
    figure = as_figure(spec)
    assert [(trace.name, trace.xaxis, len(trace.x)) for trace in figure.data] == [
        ("val_loss", "x", 2), ("train_loss", "x2", 20), ("val_acc", "x3", 2)
    ]  # fmt: skip
    layout = spec["layout"]
    assert [layout[k]["title"]["text"] for k in ("xaxis", "xaxis2", "xaxis3")] == ["epoch", "step", "epoch"]
    assert "matches" not in layout["xaxis2"] and layout["xaxis3"]["matches"] == "x"  # steps never zoom with epochs
    # train_loss falls from 1 to 1/191: read in decades; the others span less than 100x
    assert [layout[k].get("type") for k in ("yaxis", "yaxis2", "yaxis3")] == [None, "log", None]


def test_a_log_axis_only_for_a_positive_metric_that_spans_more_than_a_hundredfold() -> None:
    assert value_axis([np.array([2.3, np.nan]), np.array([0.01])]) == {"type": "log", "exponentformat": "power"}
    assert value_axis([np.array([1.0, 100.0])]) == {}  # exactly 100x: linear
    assert value_axis([np.array([-1.0, 500.0])]) == {} and value_axis([np.array([0.0, 5.0])]) == {}
    assert value_axis([np.array([np.nan])]) == {} and value_axis([]) == {}


def test_every_figure_string_is_escaped_for_plotly_but_parcoords_ticks(tmp_path: Path) -> None:
    hostile = '<a href="https://evil.example">$x$ & y</a>'
    escaped = '&lt;a href="https://evil.example"&gt;&#36;x&#36; &amp; y&lt;/a&gt;'  # plotly shows it as written
    for index, value in enumerate([hostile, "plain", hostile]):
        rows = [{"epoch": e, "val_loss": 1 / e + index} for e in (1, 2)]
        write_run(tmp_path, f"r{index}", rows, name=hostile, sweep="s", config={hostile: value, "lr": index})
    runs = rundocs.load_runs(tmp_path)
    report = report_sweep("s", group_sweeps(runs)["s"], runs, metric="val_loss", goal="min")
    specs = [plot_sweep_curves(report, runs, hostile), plot_best_by_level(report, hostile), plot_parallel(report)]
    curves, boxes, parallel = (json.loads(figure_json(spec or {})) for spec in specs)
    assert {trace["hovertext"] for trace in curves["data"]} == {escaped}
    assert [(trace["name"], trace["type"]) for trace in boxes["data"]] == [(escaped, "box"), ("plain", "box")]
    assert boxes["layout"]["yaxis"]["title"] == {"text": escaped} and boxes["layout"]["yaxis"]["type"] == "category"
    dimension = parallel["data"][0]["dimensions"][0]
    assert (dimension["label"], dimension["ticktext"]) == (escaped, [hostile, "plain"])  # drawn as plain text
    del dimension["ticktext"]
    text = json.dumps([curves, boxes, parallel])
    assert "<" not in text and ">" not in text and "$" not in text
    assert go.Figure(curves).data[0].line.color == "#1f77b4"  # colours, modes and numbers as built
