"""Page models of the phase pages: a ``PhaseReport`` made ready to print."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rundocs.analyse.phases import Attempt, PhaseReport
from rundocs.load.plans import COLOURS
from rundocs.load.problems import Problem
from rundocs.record.schema import flatten

_PLAIN_TITLE = re.compile(r"[A-Za-z0-9 _.,:;+=@%()/-]{1,120}")
#: Mermaid reads its own entities; every character that could end a label or start markup is one.
_MERMAID_ENTITIES = {'"': "#quot;", "<": "#lt;", ">": "#gt;", "&": "#amp;", "#": "#35;", "[": "#91;", "]": "#93;",
                     "{": "#123;", "}": "#125;", "|": "#124;", "`": "#96;", "\n": " "}  # fmt: skip
_DIAGRAM_LABEL = 70


@dataclass(frozen=True)
class AttemptRow:
    label: str
    attempt: Attempt | None
    state: str
    progress: str
    started: str
    heartbeat: str
    note: str


@dataclass(frozen=True)
class PhasePage:
    report: PhaseReport
    title: str
    rows: list[AttemptRow]
    unplanned: list[AttemptRow]
    fixed: list[tuple[str, object]]
    changed: list[tuple[str, object]]
    diagram: str | None
    last_activity: str
    problems: list[str]


@dataclass(frozen=True)
class PhaseSummary:
    """What the phase tracker and the home page show of a phase (kept in the page manifest)."""

    id: str
    title: str
    status: str
    done: int
    planned: int
    verdict: str | None
    last_activity: str


def summarize_phase(page: PhasePage) -> PhaseSummary:
    report = page.report
    return PhaseSummary(
        report.plan.id, report.plan.title, report.status, report.done, len(report.rows), report.verdict,
        page.last_activity,
    )  # fmt: skip


def make_phase_page(report: PhaseReport, now: datetime, problems: list[Problem]) -> PhasePage:
    plan = report.plan
    rows = []
    for row in report.rows:
        if not row.attempts:
            rows.append(AttemptRow(row.label, None, "queued", "", "", "", "not started"))
        rows += [_attempt_row(row.label, attempt, now) for attempt in row.attempts]
    return PhasePage(
        report=report,
        title=plan.title if _PLAIN_TITLE.fullmatch(plan.title) else f"Phase {plan.id}",
        rows=rows,
        unplanned=[_attempt_row(a.name, a, now) for a in report.unplanned],
        fixed=sorted(flatten(plan.fixed)),
        changed=sorted(flatten(plan.changed)),
        diagram=make_decision_diagram(report),
        last_activity=_time(report.last_activity) if report.last_activity else "",
        problems=[str(dataclasses.replace(p, path=_shown_path(plan.path))) for p in [*problems, *report.problems]],
    )


def _shown_path(path: Path) -> str:
    """``plans/<file>``: the same on every machine, whatever folder the plans were read from."""
    return f"{path.parent.name}/{path.name}"


def make_decision_diagram(report: PhaseReport) -> str | None:
    """A Mermaid flowchart from the gates to the decisions, the branch taken drawn in its colour."""
    plan = report.plan
    if not plan.gates or not plan.decisions:
        return None
    lines = ["flowchart LR"]
    for index, gate in enumerate(plan.gates):
        where = f" at epoch {gate.epoch}" if gate.epoch is not None else " (best)"
        label = _mermaid(f"{gate.metric}{where}: green {gate.green}" + (f", amber {gate.amber}" if gate.amber else ""))
        lines.append(f'  G{index}["{label}"] --> V{{"verdict"}}')
    for colour in COLOURS:
        if colour in plan.decisions:
            text = " ".join(plan.decisions[colour].split())
            short = text if len(text) <= _DIAGRAM_LABEL else text[: _DIAGRAM_LABEL - 1] + "…"
            lines.append(f'  V -->|{colour.upper()}| D{colour}["{_mermaid(short)}"]')
    if report.verdict in plan.decisions:
        lines.append(f"  classDef taken stroke-width:4px,stroke:{_STROKES[report.verdict]}")
        lines.append(f"  class D{report.verdict} taken")
    return "\n".join(lines)


_STROKES = {"green": "#2e7d32", "amber": "#f9a825", "red": "#c62828", "pending": "#757575"}


def _mermaid(text: str) -> str:
    return "".join(_MERMAID_ENTITIES.get(character, character) for character in text)


def _attempt_row(label: str, attempt: Attempt, now: datetime) -> AttemptRow:
    progress = ""
    if attempt.last_epoch is not None:
        planned = f"/{attempt.planned_epochs:03d}" if attempt.planned_epochs else ""
        progress = f"E{attempt.last_epoch:03d}{planned}"
    if attempt.latest:
        progress = f"{progress} {attempt.latest}".strip()
    note = attempt.error or ""
    if attempt.state == "running" and attempt.eta is not None:
        note = f"about {_duration(attempt.eta)} left at the current epoch rate"
    return AttemptRow(
        label, attempt, attempt.state, progress, _time(attempt.started), _time(attempt.last_activity), note
    )


def _time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _duration(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"
