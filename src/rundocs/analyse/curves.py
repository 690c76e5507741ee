"""Numbers and findings from one run's curves: best and latest values, and what they mean.

Every finding is a sentence that carries its own numbers ("val_loss rose after its best
epoch: from 1.237 at epoch 27 to 1.444 at epoch 50"), so a reader can check it at a glance.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np

from rundocs.analyse.names import Direction, MetricName, parse_metric_name
from rundocs.analyse.rules import best_point, last_per_x, metric_axis, resolve_direction
from rundocs.formatting import format_number as fmt
from rundocs.formatting import format_points
from rundocs.load.metrics import logged_rows
from rundocs.load.runs import Runs

VALIDATION_SPLITS = ("val", "valid", "validation")
#: Relative changes smaller than this are noise, not a trend.
TREND_TOLERANCE = 0.01
PLATEAU_TOLERANCE = 0.005
CLASS_COUNT_KEYS = ("num_classes", "n_classes", "classes", "num_labels")
#: Metrics read as shares, whose train/validation gap is stated in points of percentage.
PERCENT_METRICS = frozenset({"acc", "accuracy", "f1", "precision", "recall", "top1", "top5"})


class Curve(NamedTuple):
    """One metric over its own x axis (``rules.metric_axis``: epoch, step or line), NaN rows dropped."""

    metric: MetricName
    x: np.ndarray
    y: np.ndarray
    axis: str = "epoch"


class MetricSummary(NamedTuple):
    metric: MetricName
    best: float | None
    best_at: int | None
    last: float
    last_at: int
    points: int
    axis: str = "epoch"


class Finding(NamedTuple):
    kind: str
    metric: str | None
    text: str


def x_axis_name(columns: Mapping[str, np.ndarray]) -> str:
    """The run's main axis: epoch if it logged any, else step, else line (each curve has its own)."""
    if "epoch" in columns:
        return "epoch"
    return "step" if "step" in columns else "line"


def get_curves(
    columns: Mapping[str, np.ndarray],
    directions: Mapping[str, Direction] | None = None,
    nan_rows: Mapping[str, np.ndarray] | None = None,
) -> list[Curve]:
    """The run's metrics as curves, each over its own axis (a per-step ``train_loss`` beside a
    per-epoch ``val_loss`` keeps its steps); several rows at one x read as the last (``rules.last_per_x``).

    Every logged value is a point, infinities and the NaN a line wrote (``nan_rows``: the
    ``ParsedMetrics`` of the run) included: a metric logged only as NaN is a curve of NaN, and
    a run whose metric ended on NaN ends on NaN. Rows that left the metric out are no points.
    """
    curves = []
    for name in sorted(set(columns) - {"epoch", "step", "time"}):
        values = columns[name]
        logged = logged_rows(values, (nan_rows or {}).get(name))
        axis = metric_axis(columns, logged)
        keep = logged & ~np.isnan(axis.x)
        x, y = (axis.x, values) if keep.all() else (axis.x[keep], values[keep])  # views: no copy of a long run
        if x.size and not (np.diff(x) > 0).all():
            x, y = last_per_x(x, y)
        metric = parse_metric_name(name)._replace(direction=resolve_direction(name, overrides=directions))
        curves.append(Curve(metric, x, y, axis.name))
    return curves


def chain_curve(runs: Runs, chain: list[str], metric: str) -> Curve | None:
    """One metric over a relaunch chain (``rules.Relaunches.chain``, first attempt to last): the
    last attempt's points, then each earlier attempt's points before the first x (epoch or step,
    on any line) of the attempts after it. A relaunch resumed from a checkpoint continues its
    attempt's curve (epochs 1-3, then 4-6); one that starts over replaces it, from where it
    started. None when no attempt logged the metric."""
    curves = {}
    for run_id in chain:
        columns = runs.curves(run_id)
        if metric in columns:
            only = {k: columns[k] for k in (metric, "epoch", "step") if k in columns}
            curves[run_id] = get_curves(only, nan_rows=runs.histories[run_id].nan_rows)[0]
    if not curves:
        return None
    last = curves[next(r for r in reversed(chain) if r in curves)]
    if last.axis == "line":
        return last  # line numbers of two attempts say nothing about where one resumed the other
    pieces, cutoff = [], np.inf
    for run_id in reversed(chain):
        curve = curves.get(run_id)
        if curve is not None and curve.axis == last.axis:  # points on another axis cannot be placed here
            keep = curve.x < cutoff
            pieces.append(curve if keep.all() else curve._replace(x=curve.x[keep], y=curve.y[keep]))
        xs = runs.curves(run_id).get(last.axis)
        if xs is not None:
            cutoff = min(cutoff, float(np.nanmin(xs)))
    if len(pieces) == 1:
        return pieces[0]
    pieces.reverse()
    return last._replace(x=np.concatenate([p.x for p in pieces]), y=np.concatenate([p.y for p in pieces]))


def summarize(curve: Curve) -> MetricSummary | None:
    """Best (``rules.best_point``) and latest value of a curve; None for an empty one."""
    if not curve.y.size:
        return None
    best = best_point(curve.x, curve.y, curve.metric.direction) if curve.metric.direction else None
    return MetricSummary(
        curve.metric,
        best.value if best else None,
        best.at if best else None,
        float(curve.y[-1]),
        int(curve.x[-1]),
        int(curve.y.size),
        curve.axis,
    )


def find_findings(
    curves: list[Curve],
    *,
    axis: str = "epoch",
    config: Mapping[str, Any],
    nonfinite: Mapping[str, int],
    planned_epochs: int | None,
    status: str,
    epochs_done: int | None = None,
) -> list[Finding]:
    """Everything worth a sentence about one run, most alarming first.

    Each sentence names the curve's own axis; ``axis`` is the run's main axis, for a metric
    that has no curve (logged only as NaN). ``epochs_done`` is ``rules.epochs_done`` of the run.
    """
    by_name = {curve.metric.name: curve for curve in curves}
    summaries = {name: summarize(curve) for name, curve in by_name.items()}
    findings: list[Finding] = []
    for name, at in sorted(nonfinite.items()):
        curve = by_name.get(name)
        infinite = curve is not None and bool(np.isinf(curve.y[curve.x == at]).any())
        where = curve.axis if curve is not None else axis
        findings.append(
            Finding("nonfinite", name, f"{name} became {'infinite' if infinite else 'NaN'} at {where} {at}.")
        )
    for name, summary in summaries.items():
        if summary is not None and name not in nonfinite:
            findings += _divergence(summary, by_name[name], summary.axis)
    validation = [s for s in summaries.values() if s is not None and s.metric.split in VALIDATION_SPLITS]
    for summary in validation:
        findings += _after_best(summary, by_name[summary.metric.name], summary.axis)
    findings += _overfitting(by_name, summaries)
    findings += _points_gap(by_name, summaries)
    findings += _chance_level(validation, config)
    if planned_epochs and status == "completed" and epochs_done is not None and epochs_done < planned_epochs:
        text = f"Stopped early after {epochs_done} of {planned_epochs} planned epochs."
        findings.append(Finding("early_stop", None, text))
    return findings


def _divergence(summary: MetricSummary, curve: Curve, axis: str) -> list[Finding]:
    if summary.metric.direction != "min" or summary.best is None or summary.best_at is None:
        return []
    first = float(curve.y[0])
    if summary.last > 10 * abs(summary.best) + 1e-12 and summary.last > first:
        text = (
            f"{summary.metric.name} diverged: from {fmt(summary.best)} at {axis} {summary.best_at} "
            f"to {fmt(summary.last)} at {axis} {summary.last_at}."
        )
        return [Finding("divergence", summary.metric.name, text)]
    return []


def _after_best(summary: MetricSummary, curve: Curve, axis: str) -> list[Finding]:
    """Worse after the best point, still improving at the end, or a plateau."""
    name = summary.metric.name
    if summary.best is None or summary.best_at is None or not np.isfinite(summary.last):
        return []
    scale = max(abs(summary.best), 1e-12)
    worse = (summary.last - summary.best) * (1 if summary.metric.direction == "min" else -1)
    if summary.best_at != summary.last_at and worse / scale > TREND_TOLERANCE:
        verb = "rose" if summary.metric.direction == "min" else "fell"
        change = 100 * (summary.last - summary.best) / scale
        percent = f" ({change:+.1f}%)" if np.isfinite(change) else ""  # past a double: no percentage to state
        text = (
            f"{name} {verb} after its best {axis}: from {fmt(summary.best)} at {axis} {summary.best_at} "
            f"to {fmt(summary.last)} at {axis} {summary.last_at}{percent}."
        )
        return [Finding("after_best", name, text)]
    window = max(3, curve.y.size // 5)
    if curve.y.size < window + 1:
        return []
    before, before_at = float(curve.y[-window - 1]), int(curve.x[-window - 1])
    gain = (before - summary.last) * (1 if summary.metric.direction == "min" else -1) / max(abs(before), 1e-12)
    if summary.best_at == summary.last_at and gain > TREND_TOLERANCE:
        text = (
            f"{name} was still improving at the last {axis} ({summary.last_at}): {fmt(before)} at {axis} "
            f"{before_at}, {fmt(summary.last)} at {axis} {summary.last_at}; more {axis}s may help."
        )
        return [Finding("improving", name, text)]
    tail = curve.y[-window:]
    low, high = float(np.min(tail)), float(np.max(tail))
    if curve.y.size >= 6 and (high - low) / max(abs(high), 1e-12) < PLATEAU_TOLERANCE:
        if fmt(low) == fmt(high):  # "between 0.9805 and 0.9805" says nothing: it stopped changing
            text = f"{name} stopped changing at {fmt(high)} over the last {window} {axis}s."
        else:
            text = f"{name} plateaued: between {fmt(low)} and {fmt(high)} over the last {window} {axis}s."
        return [Finding("plateau", name, text)]
    return []


def _overfitting(by_name: Mapping[str, Curve], summaries: Mapping[str, MetricSummary | None]) -> list[Finding]:
    """Generalisation gap of the first train/validation pair on one axis, preferring losses."""
    pairs = []
    for name, curve in by_name.items():
        if curve.metric.split != "train" or curve.metric.direction is None:
            continue
        for split in VALIDATION_SPLITS:
            partner = f"{split}_{curve.metric.base}"
            if partner in by_name and by_name[partner].axis == curve.axis:
                pairs.append((curve.metric.base != "loss", name, partner))
    if not pairs:
        return []
    _, train_name, val_name = min(pairs)
    train, val, val_summary = by_name[train_name], by_name[val_name], summaries[val_name]
    axis = val.axis
    shared, train_index, val_index = np.intersect1d(train.x, val.x, return_indices=True)
    if not shared.size or val_summary is None or val_summary.best_at is None:
        return []
    sign = 1 if val.metric.direction == "min" else -1
    gaps = sign * (val.y[val_index] - train.y[train_index])
    at_best = np.flatnonzero(shared == val_summary.best_at)
    order = f"{val_name} − {train_name}" if sign == 1 else f"{train_name} − {val_name}"
    text = f"Generalisation gap ({order}): {fmt(float(gaps[-1]))} at the last {axis} ({int(shared[-1])})"
    if at_best.size and int(shared[at_best[0]]) != int(shared[-1]):
        text += f", {fmt(float(gaps[at_best[0]]))} at the best {axis} ({val_summary.best_at})"
    return [Finding("overfitting", val_name, text + ".")]


def _points_gap(by_name: Mapping[str, Curve], summaries: Mapping[str, MetricSummary | None]) -> list[Finding]:
    """The train/validation gap of the first accuracy-like pair (``PERCENT_METRICS``), in points:
    ``train 83.19 vs valid 66.50 at the last epoch (30): a 16.7-point gap``, and at the best epoch."""
    for name, train in sorted(by_name.items()):
        if train.metric.split != "train" or not _is_percent(train):
            continue
        for split in VALIDATION_SPLITS:
            val, summary = by_name.get(f"{split}_{train.metric.base}"), summaries.get(f"{split}_{train.metric.base}")
            if val is None or summary is None or val.axis != train.axis or not _is_percent(val):
                continue
            shared, train_index, val_index = np.intersect1d(train.x, val.x, return_indices=True)
            scale = 100 if max(float(np.nanmax(train.y)), float(np.nanmax(val.y))) <= 1 else 1
            last = len(shared) - 1
            places = [("last", last)] + [("best", i) for i in np.flatnonzero(shared == summary.best_at) if i != last]
            parts = []
            for where, i in places if shared.size else []:
                ours, theirs = scale * float(train.y[train_index[i]]), scale * float(val.y[val_index[i]])
                if np.isfinite(ours - theirs):
                    said = f"a {format_points(ours - theirs)}-point gap"
                    if ours < theirs:
                        said = f"{split} ahead by {format_points(theirs - ours)} points"
                    at = f"at the {where} {val.axis} ({int(shared[i])})"
                    parts.append(f"train {ours:.2f} vs {split} {theirs:.2f} {at}: {said}")
            if parts:
                text = f"{train.metric.base} gap in points ({name} vs {val.metric.name}): {'; '.join(parts)}."
                return [Finding("points_gap", val.metric.name, text)]
    return []


def _is_percent(curve: Curve) -> bool:
    """An accuracy-like metric (higher is better, named in ``PERCENT_METRICS``) whose finite
    values are fractions (0 to 1) or percentages (0 to 100)."""
    words = curve.metric.base.lower().replace("/", "_").replace("-", "_").split("_")
    finite = curve.y[np.isfinite(curve.y)]
    return (
        curve.metric.direction == "max"
        and words[-1] in PERCENT_METRICS
        and bool(finite.size)
        and float(finite.min()) >= 0
        and float(finite.max()) <= 100
    )


def _chance_level(validation: list[MetricSummary], config: Mapping[str, Any]) -> list[Finding]:
    classes = next((config[k] for k in CLASS_COUNT_KEYS if isinstance(config.get(k), int) and config[k] >= 2), None)
    if classes is None:
        return []
    chance = 1 / classes
    findings = []
    for summary in validation:
        is_accuracy = summary.metric.base in ("acc", "accuracy", "top1") and summary.best is not None
        if is_accuracy and summary.best - chance < 0.1 * (1 - chance):
            text = (
                f"{summary.metric.name} peaked at {fmt(summary.best)}, near chance level "
                f"({fmt(chance)} for {classes} classes)."
            )
            findings.append(Finding("chance", summary.metric.name, text))
    return findings
