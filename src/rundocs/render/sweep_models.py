"""Page models of the sweep pages."""

from __future__ import annotations

import dataclasses
import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import yaml

from rundocs.analyse.sweep_groups import compact_label, label
from rundocs.analyse.sweep_scores import RunScore
from rundocs.analyse.sweeps import ConfigStats, LevelRow, SweepReport
from rundocs.load.runs import Runs
from rundocs.render.figures import figure_json
from rundocs.render.sweep_figures import plot_best_by_level, plot_parallel, plot_sweep_curves

#: Trials listed on the page, best first; a search of thousands keeps its page small.
MAX_TRIAL_ROWS = 2000
PARAMETER_COUNT_KEYS = ("n_params", "num_params", "params", "parameters", "param_count")


@dataclass(frozen=True)
class TrialRow:
    score: RunScore
    settings: list[str]
    parameters: Any
    is_best: bool


@dataclass(frozen=True)
class SweepPage:
    report: SweepReport
    slug: str
    levels: dict[str, list[LevelRow]]
    repeated: list[ConfigStats]
    trials: list[TrialRow]
    hidden_trials: int
    show_parameters: bool
    best_config_yaml: str
    best_mean_config_yaml: str
    best_name: str | None
    figures: list[str]
    #: Whether some run reported its score in its summary (the table then shows which).
    show_reported: bool
    #: Attempts a later run relaunched: (attempt, its name, the attempt that counts, its name).
    relaunched: list[tuple[str, str, str, str]]
    planned: str = ""  # ``planned_text``
    first_start: str = ""  # the span of its runs (``SweepReport.span``), in UTC
    last_end: str = ""


@dataclass(frozen=True)
class SweepSummary:
    """What the sweeps index and the home page show of a sweep (kept in the page manifest)."""

    name: str
    slug: str
    runs: int
    metric: str
    goal: str
    dimensions: list[str]
    best_run: str | None
    best_name: str | None
    best: float | None
    wall_s: float = 0.0  # the sum of its runs' durations
    start: float | None = None  # its first start and last end (``sweeps.run_span``), Unix seconds
    end: float | None = None
    planned: str = ""  # ``12/50 runs``, when its plan gives a size (``sweeps.planned_size``)

    @property
    def span_s(self) -> float | None:
        """Seconds from its first start to its last end."""
        return None if self.start is None or self.end is None else self.end - self.start


def planned_text(report: SweepReport) -> str:
    """``12/50 runs`` or ``3/3 configurations``: done of the plan's size; empty without one."""
    if report.planned is None:
        return ""
    return f"{report.done}/{report.planned.size} {report.planned.unit}"


def summarize_sweep(page: SweepPage) -> SweepSummary:
    """The index line of a sweep: its best run and that run's score, from the report."""
    report = page.report
    best = report.best
    return SweepSummary(
        report.name, page.slug, len(report.scores), report.metric, report.goal, list(report.dimensions),
        report.best_run, page.best_name, best.score if best else None, report.wall_s,
        report.span.start if report.span else None, report.span.end if report.span else None, planned_text(report),
    )  # fmt: skip


def sweep_slug(name: str) -> str:
    """A file name for a sweep: its name when plain, else a readable part and a short hash."""
    plain = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-._")[:60]
    if plain == name:
        return name
    return f"{plain or 'sweep'}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"


def make_sweep_page(report: SweepReport, runs: Runs) -> SweepPage:
    levels: dict[str, list[LevelRow]] = {}
    for row in report.levels:
        levels.setdefault(row.dimension, []).append(row)
    ranked = report.ranked()
    parameters = {s.run_id: _parameter_count(report.settings[s.run_id], runs.records[s.run_id].summary) for s in ranked}
    trials = [_trial_row(report, score, parameters[score.run_id]) for score in ranked[:MAX_TRIAL_ROWS]]
    first = report.dimensions[0] if report.dimensions else None
    specs = [plot_sweep_curves(report, runs, first)]
    specs += [plot_best_by_level(report, dimension) for dimension in report.dimensions[:3]]
    specs.append(plot_parallel(report))
    return SweepPage(
        report=report,
        slug=sweep_slug(report.name),
        levels=levels,
        repeated=[
            dataclasses.replace(c, settings=tuple((key, label(value)) for key, value in c.settings))
            for c in report.configs
            if len(c.run_ids) > 1
        ],
        trials=trials,
        hidden_trials=max(0, len(ranked) - MAX_TRIAL_ROWS),
        show_parameters=any(value is not None for value in parameters.values()),
        best_config_yaml=_yaml(report.best_config),
        best_mean_config_yaml=_yaml(report.best_mean_config),
        best_name=runs.records[report.best_run].name if report.best_run else None,
        figures=[figure_json(spec) for spec in specs if spec is not None],
        show_reported=any(s.reported for s in report.scores),
        relaunched=[
            (attempt, runs.records[attempt].name, last, runs.records[last].name)
            for attempt, last in report.relaunched.items()
        ],
        planned=planned_text(report),
        first_start=_utc(report.span.start) if report.span else "",
        last_end=_utc(report.span.end) if report.span else "",
    )


def _utc(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _trial_row(report: SweepReport, score: RunScore, parameters: Any) -> TrialRow:
    settings = [compact_label(report.settings[score.run_id].get(dimension)) for dimension in report.dimensions]
    return TrialRow(score, settings, parameters, score.run_id == report.best_run)


def _parameter_count(settings: dict[str, Any], summary: dict[str, float]) -> Any:
    for key in PARAMETER_COUNT_KEYS:
        for source in (summary, settings):
            if key in source:
                return source[key]
    return None


def _yaml(flat: dict[str, Any]) -> str:
    """Dotted settings back into nested YAML, ready to paste into a config file (kept flat when
    keys that hold dots make the nesting ambiguous)."""
    plain = {key: list(value) if isinstance(value, tuple) else value for key, value in flat.items()}
    nested = _nest(plain)
    return yaml.safe_dump(nested or plain, sort_keys=True, allow_unicode=True, default_flow_style=False).rstrip("\n")


def _nest(plain: dict[str, Any]) -> dict[str, Any] | None:
    nested: dict[str, Any] = {}
    for key, value in sorted(plain.items()):
        target: Any = nested
        *parents, leaf = key.split(".")
        for parent in parents:
            target = target.setdefault(parent, {}) if isinstance(target, dict) else None
        if not isinstance(target, dict) or leaf in target:
            return None
        target[leaf] = value
    return nested
