"""Sweeps: which settings varied, how each value did, how stable it is over seeds, what won.

A sweep is the train runs that share a ``sweep`` field. Its dimensions are the settings whose
values differ between its runs, except repetition keys (``seed`` unless a plan says other);
runs that differ only in those are repeats of one configuration. A numeric dimension with
more than ``MAX_LEVELS`` distinct values (a search over a continuous range) is summarised in
quantile bins (``sweep_groups``).

Each run has one *score*, what ranks it (``RunScore.score``): the value of the target metric
in its summary when it reported one (an Optuna trial's objective), else its best value over
its logged curve. A relaunch chain counts once, by its effective attempt. Every best (run,
level, configuration mean) is chosen by ``rules.pick_best``: finite only, ties to the earliest.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Literal, NamedTuple

import numpy as np
import pandas as pd

from rundocs.analyse.curves import VALIDATION_SPLITS
from rundocs.analyse.names import Direction, parse_metric_name
from rundocs.analyse.rules import Relaunches, pick_best, resolve_direction
from rundocs.analyse.sweep_groups import find_dimensions, group_levels, names_setting, value_key
from rundocs.analyse.sweep_scores import RunScore, from_study, rank_key, ranked, score_run
from rundocs.format.schema import flatten
from rundocs.load.plans import Plan
from rundocs.load.runs import Runs

Goal = Literal["min", "max"]
DEFAULT_REPEATS = ("seed",)
MIN_RUNS_FOR_CORRELATION = 5


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
    """One configuration repeated over seeds: statistics of its runs' finite scores (``scored`` of
    its ``run_ids``; a run that diverged or never logged the metric has none)."""

    settings: tuple[tuple[str, Any], ...]
    run_ids: tuple[str, ...]
    scored: int
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


class Planned(NamedTuple):
    """How large a plan says its sweep is: ``size`` runs, or ``size`` configurations (a grid of
    settings without the repeat keys: each configuration may run over several seeds)."""

    size: int
    unit: Literal["runs", "configurations"]


class Span(NamedTuple):
    """When a group of runs ran: the first start and the last end (start + ``duration_s``), as
    Unix seconds; ``seconds`` between them."""

    start: float
    end: float

    @property
    def seconds(self) -> float:
        return self.end - self.start


@dataclass
class SweepReport:
    name: str
    metric: str
    goal: Goal
    declared: bool
    dimensions: list[str]
    repeats: list[str]
    scores: list[RunScore]  # the effective attempts, in start order
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
    #: Attempts a later run relaunched (not counted), to the attempt that counts instead.
    relaunched: dict[str, str] = field(default_factory=dict)
    #: The first start to the last end of its runs (``run_span``).
    span: Span | None = None
    #: The plan's size of the sweep (``planned_size``), None when it gives none.
    planned: Planned | None = None

    @property
    def done(self) -> int:
        """What the plan's size counts, run so far: runs, or distinct configurations."""
        if self.planned is not None and self.planned.unit == "configurations":
            return len({tuple(value_key(config.get(d)) for d in self.dimensions) for config in self.settings.values()})
        return len(self.scores)

    @property
    def axis(self) -> str:
        """What the "At" columns count: the axis of the target metric's curves (epoch, step or
        line); "x" when runs log it on different axes (each cell then names its own)."""
        axes = {s.axis for s in self.scores if s.best_epoch is not None or s.score_epoch is not None}
        return axes.pop() if len(axes) == 1 else "x" if axes else "epoch"

    @property
    def best(self) -> RunScore | None:
        """The score of the best run."""
        return next((s for s in self.scores if s.run_id == self.best_run), None)

    def ranked(self) -> list[RunScore]:
        """Every scored run, best first (ties in start order, as ``pick_best`` breaks them);
        runs without a finite score last."""
        return ranked(self.scores, self.goal)


def group_sweeps(runs: Runs) -> dict[str, list[str]]:
    """Sweep name to its train runs, in start order."""
    groups: dict[str, list[str]] = {}
    for run_id, record in runs.records.items():
        if record.sweep and record.kind == "train":
            groups.setdefault(record.sweep, []).append(run_id)
    return dict(sorted(groups.items()))


def sweep_members(
    name: str, run_ids: Sequence[str], runs: Runs, relaunches: Relaunches | None = None
) -> tuple[list[str], dict[str, str]]:
    """The attempts that count (in start order) and the relaunched ones (to the attempt that
    counts instead). A relaunch with no sweep name of its own counts for its attempt's sweep."""
    relaunches = relaunches or Relaunches(runs.records)
    members = set(relaunches.effective_only(run_ids))
    relaunched = {}
    for run_id in run_ids:
        if relaunches.superseded(run_id):
            last = relaunched[run_id] = relaunches.effective(run_id)
            record = runs.records[last]
            if record.kind == "train" and record.sweep in (None, name):
                members.add(last)
    order = {run_id: index for index, run_id in enumerate(runs.records)}
    return sorted(members, key=order.__getitem__), relaunched


def planned_size(plan: Plan) -> Planned | None:
    """The size of the plan's sweep, first found: its ``sweep.trials`` (a search's n_trials), its
    list of exact run names, or the grid of its ``changed`` settings (each a list or a mapping of
    levels): runs when the grid names a repeat key (``seed``), else configurations."""
    if plan.sweep is not None and plan.sweep.trials is not None:
        return Planned(plan.sweep.trials, "runs")
    if plan.runs and all(expected.name for expected in plan.runs):
        return Planned(len(plan.runs), "runs")
    levels = plan.changed.values()
    if plan.changed and all(isinstance(value, list | dict) and value for value in levels):
        repeats = plan.sweep.repeat if plan.sweep else DEFAULT_REPEATS
        unit: Literal["runs", "configurations"] = (
            "runs" if any(names_setting(key, repeats) for key in plan.changed) else "configurations"
        )
        return Planned(math.prod(len(value) for value in levels), unit)
    return None


def run_span(runs: Runs, run_ids: Sequence[str]) -> Span | None:
    """The first start and the last end of the runs; a run's end is its start plus its duration
    (``duration_s``, the one duration of every page: a running run's last logged time)."""
    starts, ends = [], []
    for run_id in run_ids:
        start = runs.records[run_id].started_at.timestamp()
        duration: Any = runs.runs.at[run_id, "duration_s"]
        starts.append(start)
        ends.append(start + (0.0 if pd.isna(duration) else float(duration)))
    return Span(min(starts), max(ends)) if starts else None


def report_sweep(
    name: str,
    run_ids: Sequence[str],
    runs: Runs,
    *,
    metric: str | None = None,
    goal: Goal | None = None,
    repeats: Sequence[str] = DEFAULT_REPEATS,
    bookkeeping: Sequence[str] = (),
    directions: Mapping[str, Direction] | None = None,
    relaunches: Relaunches | None = None,
    planned: Planned | None = None,
) -> SweepReport:
    """The sweep of ``run_ids``. ``metric``, ``goal``, ``repeats`` and ``bookkeeping`` come from a
    plan's ``sweep:`` spec (bookkeeping settings, with those every run names, are left out:
    never a dimension, nor part of a configuration); ``directions`` are the user's overrides
    (``--direction``). The direction is ``rules.resolve_direction``'s: overrides, then the plan,
    then the study, then the name. ``planned``: the plan's size of the sweep (``planned_size``)."""
    warnings: list[str] = []
    relaunches = relaunches or Relaunches(runs.records)
    members, relaunched = sweep_members(name, run_ids, runs, relaunches)
    declared = metric is not None
    if metric is None:
        metric, declared = _primary_metric(members, runs, directions)
    study = _study_goal(members, runs, metric)
    resolved = resolve_direction(metric, overrides=directions, plan=goal, study=study)
    goal = resolved or "min"
    better = "lower" if goal == "min" else "higher"
    if not declared:
        warnings.append(
            f"sweep {name!r} declares no target metric; using {metric} ({better} is better). "
            f"Declare it in the phase plan: sweep: {{metric: {metric}, goal: {goal}}}"
        )
    if resolved is None:
        warnings.append(
            f"nothing says whether lower or higher {metric} is better; ranked as lower is better. "
            f"Say it in the phase plan (sweep: {{goal: max}}) or with rundocs build --direction {metric}=max"
        )
    ignored = [*bookkeeping, *_marked_by_all(members, runs)]
    settings = {
        run_id: {key: value for key, value in flatten(runs.records[run_id].config) if not names_setting(key, ignored)}
        for run_id in members
    }
    dimensions, repeat_keys = find_dimensions(settings, repeats)
    scores = [score_run(runs, run_id, metric, goal, relaunches) for run_id in members]
    missing = [s.name for s in scores if s.score is None and s.best is None and not from_study(runs, s.run_id)]
    if missing:
        warnings.append(f"{len(missing)} run(s) of sweep {name!r} never logged {metric}: {', '.join(missing[:5])}")
    by_id = {score.run_id: score for score in scores}
    best = pick_best(((s, s.score) for s in scores if not s.running), goal)  # judged when a run ends, as gates
    configs = _config_stats(settings, by_id, dimensions, goal)
    best_mean = next((c for c in configs if c.is_best_mean), None)
    best_config = dict(settings[best.run_id]) if best else {}
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
        relaunched=relaunched,
        span=run_span(runs, members),
        planned=planned,
    )


def _marked_by_all(run_ids: Sequence[str], runs: Runs) -> list[str]:
    """The bookkeeping names every run of the sweep gives: one run alone cannot hide a setting
    of the others (a stranger's run.json, one mistaken run)."""
    names = [set(runs.records[run_id].bookkeeping) for run_id in run_ids]
    return sorted(set.intersection(*names)) if names else []


def _study_goal(run_ids: Sequence[str], runs: Runs, metric: str) -> Goal | None:
    """The direction the study that produced the runs optimised ``metric`` in, when its runs
    agree: their ``goal:`` tag, for the metric their ``objective:`` tag names (runs recorded
    before that tag existed: for a metric whose name says no direction)."""
    goals, objectives = set(), set()
    for run_id in run_ids:
        for tag in runs.records[run_id].tags:
            if tag.startswith("goal:"):
                goals.add(tag.removeprefix("goal:"))
            elif tag.startswith("objective:"):
                objectives.add(tag.removeprefix("objective:"))
    if objectives != {metric} and (objectives or parse_metric_name(metric).direction is not None):
        return None
    if goals == {"min"}:
        return "min"
    return "max" if goals == {"max"} else None


def _primary_metric(run_ids: Sequence[str], runs: Runs, directions: Mapping[str, Direction] | None) -> tuple[str, bool]:
    """The study's objective if the runs name one (then declared), else the sweep's validation
    loss if it has one, else its first validation metric with a direction (not declared)."""
    names: set[str] = set()
    objectives: set[str] = set()
    for run_id in run_ids:
        record = runs.records[run_id]
        names.update(runs.curves(run_id))
        names.update(record.summary)
        objectives.update(t.removeprefix("objective:") for t in record.tags if t.startswith("objective:"))
    if len(objectives) == 1 and objectives <= names:
        return next(iter(objectives)), True
    if "value" in names and run_ids and all(from_study(runs, run_id) for run_id in run_ids):
        return "value", True  # an Optuna study recorded before the objective tag: its default name
    parsed = [parse_metric_name(n, directions) for n in sorted(names - {"epoch", "step", "time"})]
    ranked_names = sorted(
        (m for m in parsed if m.direction),
        key=lambda m: (m.split not in VALIDATION_SPLITS, m.base != "loss", m.name),
    )
    if not ranked_names:
        return (parsed[0].name if parsed else "value"), False
    return ranked_names[0].name, False


def _levels(
    dimension: str, settings: Mapping[str, Mapping[str, Any]], scores: Mapping[str, RunScore], goal: Goal
) -> list[LevelRow]:
    rows = []
    for text, ids in group_levels(dimension, settings).items():
        best = pick_best(((scores[i], scores[i].score) for i in ids if not scores[i].running), goal)
        wall = sum(scores[i].wall_s or 0.0 for i in ids)
        rows.append(LevelRow(dimension, text, len(ids), best, wall, False))
    winner = pick_best(((row, row.best.score if row.best else None) for row in rows), goal)
    return [dataclasses.replace(row, is_best=row is winner) for row in rows]


def _mean_and_std(values: list[float]) -> tuple[float, float | None]:
    """Mean and sample standard deviation, computed exactly and rounded once (three equal
    scores have a standard deviation of 0, not 3e-17); None for one value."""
    mean = float(sum(map(Fraction, values)) / len(values))
    if len(values) < 2:
        return mean, None
    try:
        return mean, statistics.stdev(values)
    except OverflowError:  # a spread of huge values past what a double holds
        return mean, math.inf


def _config_stats(
    settings: Mapping[str, Mapping[str, Any]], scores: Mapping[str, RunScore], dimensions: Sequence[str], goal: Goal
) -> list[ConfigStats]:
    groups: dict[tuple[str, ...], list[str]] = {}
    for run_id, config in settings.items():
        groups.setdefault(tuple(value_key(config.get(d)) for d in dimensions), []).append(run_id)
    stats = []
    for ids in groups.values():
        # an ended run's finite score: a running run's is provisional, as for the best run
        values = [v for i in ids if (v := scores[i].score) is not None and math.isfinite(v) and not scores[i].running]
        if not values:
            continue
        mean, std = _mean_and_std(values)
        shown = tuple((d, settings[ids[0]].get(d)) for d in dimensions)
        stats.append(ConfigStats(shown, tuple(ids), len(values), mean, std, min(values), max(values), False))
    # only a configuration run more than once has a mean to speak of; one whose seed has no finite
    # value or still runs cannot be best on the mean (its mean would hide that)
    winner = pick_best(((s, s.mean) for s in stats if s.scored == len(s.run_ids) > 1), goal)
    marked = [dataclasses.replace(s, is_best_mean=s is winner) for s in stats]
    return sorted(marked, key=lambda s: (not s.is_best_mean, rank_key(s.mean, goal)))


def _correlation(scores: Sequence[RunScore]) -> Correlation | None:
    """Between each run's first logged value and its best logged value (curves only)."""
    pairs = [(s.first, s.best) for s in scores if s.first is not None and s.best is not None]
    pairs = [(a, b) for a, b in pairs if math.isfinite(a) and math.isfinite(b)]
    if len(pairs) < MIN_RUNS_FOR_CORRELATION:
        return None
    first = np.array([a for a, _ in pairs])
    best = np.array([b for _, b in pairs])
    with np.errstate(all="ignore"):
        if not (np.ptp(first) > 0 and np.ptp(best) > 0):
            return None
        # Spearman is Pearson on ranks (ties share their average rank); no scipy needed.
        ranks = pd.Series(first).rank().to_numpy(), pd.Series(best).rank().to_numpy()
        pearson = float(np.corrcoef(first, best)[0, 1])
        spearman = float(np.corrcoef(*ranks)[0, 1])
    if not (math.isfinite(pearson) and math.isfinite(spearman)):
        return None
    return Correlation(len(pairs), pearson, spearman)
