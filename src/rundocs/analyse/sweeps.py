"""Sweeps: which settings varied, how each value did, how stable it is over seeds, what won.

A sweep is the train runs that share a ``sweep`` field. Its dimensions are the settings whose
values differ between its runs, except repetition keys (``seed`` unless a plan says other);
runs that differ only in those are repeats of one configuration. A numeric dimension with
more than ``MAX_LEVELS`` distinct values (a search over a continuous range) is summarised in
quantile bins.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from rundocs.analyse.curves import VALIDATION_SPLITS, get_curves
from rundocs.analyse.names import parse_metric_name
from rundocs.format.schema import flatten
from rundocs.load.runs import Runs

Goal = Literal["min", "max"]
DEFAULT_REPEATS = ("seed",)
MAX_LEVELS = 12
BINS = 8
MIN_RUNS_FOR_CORRELATION = 5


@dataclass(frozen=True)
class RunScore:
    """The target metric over one run: its best point, where the run ended, and how it started."""

    run_id: str
    name: str
    best: float | None
    best_epoch: int | None
    final: float | None
    final_epoch: int | None
    first: float | None
    epochs: int | None
    stopped_early: bool
    wall_s: float | None

    @property
    def lost(self) -> float | None:
        """How much worse the end is than the best (0 when the run ended at its best)."""
        if self.best is None or self.final is None:
            return None
        return abs(self.final - self.best)


@dataclass(frozen=True)
class LevelRow:
    dimension: str
    label: str
    runs: int
    best: RunScore | None
    wall_s: float
    is_best: bool


@dataclass(frozen=True)
class ConfigStats:
    """One configuration repeated over seeds: statistics of its runs' best values."""

    settings: tuple[tuple[str, Any], ...]
    run_ids: tuple[str, ...]
    mean: float
    std: float | None  # sample standard deviation (n - 1); None for a single run
    low: float
    high: float
    is_best_mean: bool


@dataclass(frozen=True)
class Correlation:
    n: int
    pearson: float
    spearman: float


@dataclass
class SweepReport:
    name: str
    metric: str
    goal: Goal
    declared: bool
    dimensions: list[str]
    repeats: list[str]
    scores: list[RunScore]
    levels: list[LevelRow]
    configs: list[ConfigStats]
    best_run: str | None
    best_config: dict[str, Any]
    best_mean_config: dict[str, Any]
    lucky_seed: bool
    correlation: Correlation | None
    wall_s: float
    settings: dict[str, dict[str, Any]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def group_sweeps(runs: Runs) -> dict[str, list[str]]:
    """Sweep name to its train runs, in start order."""
    groups: dict[str, list[str]] = {}
    for run_id, record in runs.records.items():
        if record.sweep and record.kind == "train":
            groups.setdefault(record.sweep, []).append(run_id)
    return dict(sorted(groups.items()))


def report_sweep(
    name: str,
    run_ids: Sequence[str],
    runs: Runs,
    *,
    metric: str | None = None,
    goal: Goal | None = None,
    repeats: Sequence[str] = DEFAULT_REPEATS,
) -> SweepReport:
    warnings: list[str] = []
    declared = metric is not None
    if metric is None:
        metric, guessed = _primary_metric(run_ids, runs)
        better = "lower" if guessed == "min" else "higher"
        warnings.append(
            f"sweep {name!r} declares no target metric; using {metric} ({better} is better). "
            f"Declare it in the phase plan: sweep: {{metric: {metric}, goal: {guessed}}}"
        )
        goal = goal or guessed
    goal = goal or _tagged_goal(run_ids, runs) or parse_metric_name(metric).direction or "min"
    settings = {run_id: dict(flatten(runs.records[run_id].config)) for run_id in run_ids}
    dimensions, repeat_keys = _dimensions(settings, repeats)
    scores = [_score(runs, run_id, metric, goal) for run_id in run_ids]
    missing = [s.name for s in scores if s.best is None]
    if missing:
        warnings.append(f"{len(missing)} run(s) of sweep {name!r} never logged {metric}: {', '.join(missing[:5])}")
    by_id = {score.run_id: score for score in scores}
    best = _best_score([s for s in scores if s.best is not None], goal)
    configs = _config_stats(settings, by_id, dimensions, goal)
    best_mean = next((c for c in configs if c.is_best_mean), None)
    best_config = {k: v for k, v in settings[best.run_id].items()} if best else {}
    best_mean_config = dict(settings[best_mean.run_ids[0]]) if best_mean else {}
    for key in repeat_keys:
        best_mean_config.pop(key, None)
    return SweepReport(
        name=name,
        metric=metric,
        goal=goal,
        declared=declared,
        dimensions=dimensions,
        repeats=repeat_keys,
        scores=scores,
        levels=[row for dimension in dimensions for row in _levels(dimension, settings, by_id, goal)],
        configs=configs,
        best_run=best.run_id if best else None,
        best_config=best_config,
        best_mean_config=best_mean_config,
        lucky_seed=bool(best and best_mean and best.run_id not in best_mean.run_ids),
        correlation=_correlation(scores),
        wall_s=sum(s.wall_s or 0.0 for s in scores),
        settings=settings,
        warnings=warnings,
    )


def _tagged_goal(run_ids: Sequence[str], runs: Runs) -> Goal | None:
    """The direction a search tool stamped on its runs (``goal:max``), when they agree."""
    goals = {
        tag.removeprefix("goal:") for run_id in run_ids for tag in runs.records[run_id].tags if tag.startswith("goal:")
    }
    if goals == {"min"}:
        return "min"
    return "max" if goals == {"max"} else None


def _primary_metric(run_ids: Sequence[str], runs: Runs) -> tuple[str, Goal]:
    """The sweep's validation loss if it has one, else its first validation metric with a direction."""
    names: set[str] = set()
    for run_id in run_ids:
        names.update(runs.curves(run_id))
        names.update(runs.records[run_id].summary)
    parsed = [parse_metric_name(n) for n in sorted(names - {"epoch", "step", "time"})]
    ranked = sorted(
        (m for m in parsed if m.direction),
        key=lambda m: (m.split not in VALIDATION_SPLITS, m.base != "loss", m.name),
    )
    if not ranked:
        first = parsed[0].name if parsed else "value"
        return first, "min"
    chosen = ranked[0]
    assert chosen.direction is not None
    return chosen.name, chosen.direction


def _dimensions(settings: Mapping[str, Mapping[str, Any]], repeats: Sequence[str]) -> tuple[list[str], list[str]]:
    keys = sorted({key for config in settings.values() for key in config})
    varied = [k for k in keys if len({_hashable(config.get(k)) for config in settings.values()}) > 1]
    repeat_keys = [k for k in varied if k in repeats or k.rsplit(".", 1)[-1] in repeats]
    return [k for k in varied if k not in repeat_keys], repeat_keys


def _score(runs: Runs, run_id: str, metric: str, goal: Goal) -> RunScore:
    record = runs.records[run_id]
    columns = runs.curves(run_id)
    curve = next((c for c in get_curves(columns) if c.metric.name == metric), None) if columns else None
    last_epoch: Any = runs.runs.at[run_id, "last_epoch"]
    epochs = None if pd.isna(last_epoch) else int(last_epoch)
    stopped = "pruned" in record.tags or bool(
        record.epochs and epochs is not None and epochs < record.epochs and record.status != "running"
    )
    duration: Any = runs.runs.at[run_id, "duration_s"]
    wall = None if pd.isna(duration) else float(duration)
    if curve is None or not np.isfinite(curve.y).any():
        value = record.summary.get(metric)
        return RunScore(run_id, record.name, value, None, value, None, None, epochs, stopped, wall)
    finite = np.isfinite(curve.y)
    y = np.where(finite, curve.y, np.inf if goal == "min" else -np.inf)
    index = int(np.argmin(y) if goal == "min" else np.argmax(y))
    final, final_epoch = float(curve.y[-1]), int(curve.x[-1])
    nonfinite: Any = runs.runs.at[run_id, "nonfinite"]
    if metric in nonfinite and nonfinite[metric] > final_epoch:  # the run ended on a logged NaN
        final, final_epoch = math.nan, int(nonfinite[metric])
    return RunScore(
        run_id=run_id,
        name=record.name,
        best=float(curve.y[index]),
        best_epoch=int(curve.x[index]),
        final=final,
        final_epoch=final_epoch,
        first=float(curve.y[0]),
        epochs=epochs,
        stopped_early=stopped,
        wall_s=wall,
    )


def _best_score(scores: Sequence[RunScore], goal: Goal) -> RunScore | None:
    """The best-scoring run; ties go to the earlier run id, so the choice is stable."""
    ranked = [s for s in scores if s.best is not None]
    if not ranked:
        return None
    sign = 1.0 if goal == "min" else -1.0
    return min(ranked, key=lambda s: (sign * (s.best or 0.0), s.run_id))


def _levels(
    dimension: str, settings: Mapping[str, Mapping[str, Any]], scores: Mapping[str, RunScore], goal: Goal
) -> list[LevelRow]:
    groups = group_levels(dimension, settings)
    rows = []
    for label, ids in groups.items():
        best = _best_score([scores[i] for i in ids if scores[i].best is not None], goal)
        wall = sum(scores[i].wall_s or 0.0 for i in ids)
        rows.append(LevelRow(dimension, label, len(ids), best, wall, False))
    winner = _best_score([row.best for row in rows if row.best is not None], goal)
    return [dataclasses.replace(row, is_best=winner is not None and row.best is winner) for row in rows]


def group_levels(dimension: str, settings: Mapping[str, Mapping[str, Any]]) -> dict[str, list[str]]:
    """Level label (a value, or a quantile bin of a many-valued number) to its runs, in value order."""
    values = {run_id: config.get(dimension) for run_id, config in settings.items()}
    numeric = [v for v in values.values() if isinstance(v, int | float) and not isinstance(v, bool)]
    distinct = {_hashable(v) for v in values.values()}
    if len(distinct) > MAX_LEVELS and len(numeric) == len(values):
        return _quantile_bins(values)
    groups: dict[str, list[str]] = {}
    for run_id, value in sorted(values.items(), key=lambda item: _sort_key(item[1])):
        groups.setdefault(_label(value), []).append(run_id)
    return groups


def _quantile_bins(values: Mapping[str, Any]) -> dict[str, list[str]]:
    """Runs in BINS quantile bins of a numeric setting, in a log scale when it spans decades."""
    ids = list(values)
    numbers = np.array([float(values[i]) for i in ids])
    logscale = bool((numbers > 0).all() and numbers.max() / numbers.min() > 100)
    scaled = np.log10(numbers) if logscale else numbers
    edges = np.unique(np.quantile(scaled, np.linspace(0, 1, BINS + 1)))
    slots = np.clip(np.searchsorted(edges, scaled, side="right") - 1, 0, len(edges) - 2)
    groups: dict[str, list[str]] = {}
    for slot in range(len(edges) - 1):
        low, high = edges[slot], edges[slot + 1]
        if logscale:
            low, high = 10**low, 10**high
        closing = "]" if slot == len(edges) - 2 else ")"
        members = [ids[i] for i in np.flatnonzero(slots == slot)]
        if members:
            groups[f"[{low:.3g}, {high:.3g}{closing}"] = members
    return groups


def _config_stats(
    settings: Mapping[str, Mapping[str, Any]], scores: Mapping[str, RunScore], dimensions: Sequence[str], goal: Goal
) -> list[ConfigStats]:
    groups: dict[tuple[tuple[str, Any], ...], list[str]] = {}
    for run_id, config in settings.items():
        key = tuple((dimension, _hashable(config.get(dimension))) for dimension in dimensions)
        groups.setdefault(key, []).append(run_id)
    stats = []
    for key, ids in groups.items():
        bests = [best for i in ids if (best := scores[i].best) is not None and math.isfinite(best)]
        if not bests:
            continue
        values = np.array(bests)
        std = float(values.std(ddof=1)) if values.size > 1 else None
        mean, low, high = float(values.mean()), float(values.min()), float(values.max())
        stats.append(ConfigStats(key, tuple(ids), mean, std, low, high, is_best_mean=False))
    if not stats:
        return []
    order = sorted(stats, key=lambda s: s.mean if goal == "min" else -s.mean)
    winner = order[0]
    return [dataclasses.replace(s, is_best_mean=s is winner) for s in order]


def _correlation(scores: Sequence[RunScore]) -> Correlation | None:
    pairs = [(s.first, s.best) for s in scores if s.first is not None and s.best is not None]
    pairs = [(a, b) for a, b in pairs if math.isfinite(a) and math.isfinite(b)]
    if len(pairs) < MIN_RUNS_FOR_CORRELATION:
        return None
    first = np.array([a for a, _ in pairs])
    best = np.array([b for _, b in pairs])
    if np.ptp(first) == 0 or np.ptp(best) == 0:
        return None
    # Spearman is Pearson on ranks (ties share their average rank); no scipy needed.
    ranks = pd.Series(first).rank().to_numpy(), pd.Series(best).rank().to_numpy()
    pearson = float(np.corrcoef(first, best)[0, 1])
    return Correlation(len(pairs), pearson, float(np.corrcoef(*ranks)[0, 1]))


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _label(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(map(str, value))
    return "(not set)" if value is None else str(value)


def _sort_key(value: Any) -> tuple[int, Any]:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (0, float(value))
    return (1, _label(value))
