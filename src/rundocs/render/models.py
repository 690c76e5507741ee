"""Page models: what each template receives. Built from loaded runs and analysis, never from files.

Templates see only these fields; every string in them is untrusted data that the templates
escape.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC
from typing import Any

import pandas as pd

from rundocs.analyse.baseline import ConfigRow, at_chance, diff_config, group_settings
from rundocs.analyse.curves import (
    VALIDATION_SPLITS,
    Curve,
    MetricSummary,
    find_findings,
    get_curves,
    summarize,
    x_axis_name,
)
from rundocs.analyse.names import Direction
from rundocs.analyse.rules import Relaunches, run_epochs_done
from rundocs.analyse.state import shown_state
from rundocs.formatting import format_duration, format_number
from rundocs.load.records import RunRecord
from rundocs.load.runs import Runs
from rundocs.render.figures import figure_json, plot_curves
from rundocs.render.filters import page_title

ERROR_LINE_LENGTH = 160
#: Validation metrics the experiment log shows the best value of, per run.
HEADLINE_METRICS = 2


@dataclass(frozen=True)
class LogEntry:
    """One run in the experiment log."""

    id: str
    name: str
    date: str
    kind: str
    phase: str | None
    state: str
    progress: str
    results: str
    error: str | None
    relaunched_as: str | None = None  # the run that relaunched this one (rules.Relaunches)
    tags: tuple[str, ...] = ()
    sweep: str | None = None
    varied: str = ""  # ``lr=0.1, seed=0``: its settings that vary in its sweep or phase
    duration: str = ""
    headline: str = ""  # ``val_loss 0.0653 @ E18``: its best validation values and where
    summary: str = ""  # the values it reported in its summary
    chance: bool = False  # it learned nothing (``baseline.at_chance``)


@dataclass(frozen=True)
class RunPage:
    title: str
    entry: LogEntry
    record: RunRecord
    axis: str | None  # the x axis every metric shares; None when they differ (each names its own)
    summaries: list[MetricSummary]
    findings: list[str]
    figure: str | None
    config: list[ConfigRow]
    baseline: LogEntry | None
    started: str
    ended: str | None
    duration: str | None
    env_rows: list[tuple[str, str]]
    relaunch_of: str | None = None  # the run this one relaunches, when rules.Relaunches accepts it
    relaunched_as: str | None = None
    artifacts: tuple[ArtifactView, ...] = ()
    #: The runs an eval run evaluates: (id, name), the name None for a run not in the folder.
    evaluates: tuple[tuple[str, str | None], ...] = ()
    #: The baseline is of another kind (an eval run against a train run): only shared keys compared.
    shared_only: bool = False

    @property
    def changed(self) -> list[ConfigRow]:
        """The settings that differ from the baseline, shown first."""
        return [row for row in self.config if row.changed]

    @property
    def unchanged(self) -> list[ConfigRow]:
        """The settings both runs recorded that did not change (bookkeeping ones included), folded."""
        return [row for row in self.config if row.only is None and not row.changed]

    @property
    def one_sided(self) -> list[ConfigRow]:
        """The settings only one of the two records has (``shared_only``): not recorded, not changed."""
        return [row for row in self.config if row.only is not None]


@dataclass(frozen=True)
class ArtifactView:
    """A file of the run folder as the run page lists it; ``url`` is set when it is published."""

    path: str
    size: int
    kind: str  # image, file or listed
    why: str
    url: str | None


def get_facts(runs: Runs) -> dict[str, dict[str, Any]]:
    """The derived columns that pages show, per run, read from the frame once, with each run's
    place in its relaunch chain (``relaunch_of``, ``relaunched_as``)."""
    facts = runs.rows("state", "last_epoch", "duration_s", "nonfinite")
    relaunches = Relaunches(runs.records)
    varied = group_settings(runs.records)
    for run_id, fact in facts.items():
        fact["varied"] = varied.get(run_id, "")
        fact["relaunch_of"] = relaunches.restarts.get(run_id)
        fact["relaunched_as"] = relaunches.restarted_by.get(run_id)
        fact["relaunches"] = relaunches  # epochs done are read only for pages rendered again
    return facts


def shown_states(runs: Runs) -> dict[str, str]:
    """Run id to the state every page gives it (``shown_state``: relaunched attempts as such)."""
    relaunched = Relaunches(runs.records).restarted_by
    return {run_id: shown_state(state, run_id in relaunched) for run_id, state in runs.states.items()}


def shown_state_counts(runs: Runs) -> Counter[str]:
    """How many runs every page calls each state (``shown_states``)."""
    return Counter(shown_states(runs).values())


def progress(runs: Runs, run_id: str, done: int | None) -> str:
    """``E010/010``: epochs done (``rules.run_epochs_done``: 0- or 1-based logs, relaunch chains)
    of those planned."""
    record = runs.records[run_id]
    if done is None:
        return ""
    return f"E{done:03d}" + (f"/{record.epochs:03d}" if record.epochs else "")


def make_log_entry(
    runs: Runs, run_id: str, facts: dict[str, Any], directions: dict[str, Direction] | None = None
) -> LogEntry:
    record = runs.records[run_id]
    last: Any = facts["last_epoch"]
    duration: Any = facts["duration_s"]
    columns = runs.curves(run_id)
    curves = get_curves(columns, directions, runs.histories[run_id].nan_rows) if columns else []
    findings = find_findings(
        curves, axis=x_axis_name(columns), config=record.config, nonfinite={}, planned_epochs=None, status=record.status
    )
    headline, summary = _headline(curves), _summary(record)
    return LogEntry(
        id=run_id,
        name=record.name,
        date=record.started_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M"),
        kind=record.kind,
        phase=record.phase,
        state=shown_state(str(facts["state"]), facts.get("relaunched_as") is not None),
        progress=progress(runs, run_id, run_epochs_done(runs, run_id, facts["relaunches"])),
        results="; ".join(part for part in (headline, summary) if part),
        error=_error_line(record, None if pd.isna(last) else int(last)),
        relaunched_as=facts.get("relaunched_as"),
        tags=tuple(record.tags),
        sweep=record.sweep,
        varied=facts.get("varied", ""),
        duration=format_duration(duration) if not pd.isna(duration) else "",
        headline=headline,
        summary=summary,
        chance=record.status != "running" and at_chance(findings, curves, record.config),  # judged once it ends
    )


def make_run_page(
    runs: Runs,
    run_id: str,
    facts: dict[str, Any],
    entries: dict[str, LogEntry],
    baseline_id: str | None,
    directions: dict[str, Direction] | None = None,
    artifacts: tuple[ArtifactView, ...] = (),
) -> RunPage:
    record = runs.records[run_id]
    columns = runs.curves(run_id)
    curves = get_curves(columns, directions, runs.histories[run_id].nan_rows) if columns else []
    summaries = [s for s in map(summarize, curves) if s is not None]
    findings = find_findings(
        curves,
        axis=x_axis_name(columns),
        config=record.config,
        nonfinite=facts["nonfinite"],
        planned_epochs=record.epochs,
        status=record.status,
        epochs_done=run_epochs_done(runs, run_id, facts["relaunches"]),
    )
    axes = {summary.axis for summary in summaries}
    spec = plot_curves(curves)
    baseline = runs.records[baseline_id] if baseline_id else None
    shared_only = baseline is not None and baseline.kind != record.kind
    duration: Any = facts["duration_s"]
    return RunPage(
        title=page_title(record.name, f"Run {run_id}", "Run"),
        entry=entries[run_id],
        record=record,
        axis=axes.pop() if len(axes) == 1 else (None if axes else "epoch"),
        summaries=summaries,
        findings=[finding.text for finding in findings],
        figure=figure_json(spec) if spec else None,
        config=diff_config(
            record.config, baseline.config if baseline else None, record.bookkeeping, shared_only=shared_only
        ),
        baseline=entries[baseline_id] if baseline_id else None,
        started=_utc(record.started_at),
        ended=_utc(record.ended_at) if record.ended_at else None,
        duration=format_duration(duration) if not pd.isna(duration) else None,
        env_rows=_env_rows(record.env),
        relaunch_of=facts.get("relaunch_of"),
        relaunched_as=facts.get("relaunched_as"),
        artifacts=artifacts,
        evaluates=tuple((i, runs.records[i].name if i in runs.records else None) for i in record.evaluates),
        shared_only=shared_only,
    )


def _env_rows(env: dict[str, Any]) -> list[tuple[str, str]]:
    """The environment as label and text, in a fixed order, leaving out what was not captured."""
    git = env.get("git") or {}
    slurm = env.get("slurm") or {}
    distributed = env.get("distributed") or {}
    rows = [
        ("git commit", git.get("commit")),
        ("uncommitted changes", None if git.get("dirty") is None else ("yes" if git["dirty"] else "no")),
        ("host", env.get("host")),
        ("user", env.get("user")),
        ("device", env.get("device")),
        ("python", env.get("python")),
        ("torch", env.get("torch")),
        ("SLURM job", slurm.get("job_id")),
        ("SLURM array task", slurm.get("array_task_id")),
        ("world size", distributed.get("world_size")),
        ("command", env.get("command")),
    ]
    return [(label, str(value)) for label, value in rows if value not in (None, "")]


def _summary(record: RunRecord) -> str:
    """The numbers the run reported in its summary: ``n_params=1.6e+06, test_acc=0.97``."""
    return ", ".join(f"{key}={format_number(value)}" for key, value in sorted(record.summary.items()))


def _headline(curves: list[Curve]) -> str:
    """The best value of its validation metrics (``curves.summarize``), losses first, at most
    ``HEADLINE_METRICS``: ``val_loss 0.0653 @ E18``."""
    parts = []
    for curve in sorted(curves, key=lambda c: (c.metric.base != "loss", c.metric.name)):
        summary = summarize(curve)
        if summary and summary.best is not None and curve.metric.split in VALIDATION_SPLITS:
            at = f"E{summary.best_at}" if curve.axis == "epoch" else f"{curve.axis} {summary.best_at}"
            parts.append(f"{curve.metric.name} {format_number(summary.best)} @ {at}")
    return ", ".join(parts[:HEADLINE_METRICS])


def _error_line(record: RunRecord, last_epoch: int | None) -> str | None:
    """``stopped at epoch 20: OSError: [Errno 28] No space left on device``, cut to one line."""
    if record.error is None:
        return None
    message = " ".join(record.error.message.split())
    line = f"{record.error.type}: {message}" if message else record.error.type
    if last_epoch is not None:
        line = f"stopped at epoch {last_epoch}: {line}"
    return line if len(line) <= ERROR_LINE_LENGTH else line[: ERROR_LINE_LENGTH - 1] + "…"


def _utc(moment: Any) -> str:
    return pd.Timestamp(moment).tz_convert("UTC").strftime("%Y-%m-%d %H:%M:%S UTC")
