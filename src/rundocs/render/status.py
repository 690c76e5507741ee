"""The pull-request summary: every phase in a line, failures, and what changed since a git ref
(runs new, removed and finished, phase status and verdict changes)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from rundocs.analyse.phases import PhaseReport, report_phase
from rundocs.load.plans import Plan
from rundocs.load.runs import Runs
from rundocs.render.filters import cell, code_span, inline
from rundocs.render.models import shown_state_counts, shown_states

_STATES = ("running", "stalled", "failed", "interrupted", "relaunched", "completed")


@dataclass
class PhaseLine:
    id: str
    title: str
    status: str
    done: int
    planned: int
    verdict: str | None
    failures: list[str]


@dataclass
class Status:
    phases: list[PhaseLine]
    runs: dict[str, int]
    since: str | None = None
    new_runs: list[str] = field(default_factory=list)
    removed_runs: list[str] = field(default_factory=list)
    finished_runs: list[str] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


Snapshot = tuple[Runs, dict[str, Plan], str]


def make_status(runs: Runs, plans: dict[str, Plan], previous: Snapshot | None = None) -> Status:
    """Phases and run counts now; with ``previous`` (runs, plans, ref), what changed since."""
    reports = {phase_id: report_phase(plan, runs, runs.now) for phase_id, plan in sorted(plans.items())}
    counts = shown_state_counts(runs)
    status = Status(
        phases=[_line(report) for report in reports.values()],
        runs={state: int(counts.get(state, 0)) for state in _STATES if counts.get(state)},
    )
    if previous is not None:
        old_runs, old_plans, ref = previous
        status.since = ref
        status.new_runs = [_run_label(runs, run_id) for run_id in runs.records if run_id not in old_runs.records]
        old_states = shown_states(old_runs)
        status.removed_runs = [
            f"{_run_label(old_runs, run_id)}: {old_states[run_id]}"
            for run_id in old_runs.records
            if run_id not in runs.records
        ]
        was_running = {run_id for run_id, record in old_runs.records.items() if record.status == "running"}
        status.finished_runs = [
            f"{_run_label(runs, run_id)}: {record.status}"
            for run_id, record in runs.records.items()
            if record.status != "running" and run_id in was_running
        ]
        old = {phase_id: report_phase(plan, old_runs, old_runs.now) for phase_id, plan in old_plans.items()}
        for phase_id, report in reports.items():
            before = old.get(phase_id)
            if before is None:
                status.changes.append(f"{report.plan.title}: new plan")
                continue
            if before.status != report.status:
                status.changes.append(f"{report.plan.title}: status {before.status} → {report.status}")
            if before.verdict != report.verdict:
                status.changes.append(f"{report.plan.title}: verdict {_word(before.verdict)} → {_word(report.verdict)}")
    return status


def format_markdown(status: Status) -> str:
    lines = ["## Experiment status", ""]
    if status.phases:
        lines += ["| Phase | Status | Progress | Verdict | Failures |", "|---|---|---|---|---|"]
        for p in status.phases:
            failures = "<br>".join(cell(failure) for failure in p.failures)
            verdict = _word(p.verdict) if p.verdict else ""
            lines.append(f"| {cell(p.title)} | {p.status} | {p.done}/{p.planned} | {verdict} | {failures} |")
    else:
        lines.append("No phase plans.")
    totals = ", ".join(f"{count} {state}" for state, count in status.runs.items())
    lines += ["", f"Runs: {sum(status.runs.values())}" + (f" ({totals})" if totals else "") + "."]
    if status.since is not None:
        lines += ["", f"### Since {code_span(status.since)}", ""]
        changed = [
            *(f"- new run {cell(label)}" for label in status.new_runs),
            *(f"- removed run {cell(label)}" for label in status.removed_runs),
            *(f"- finished {cell(label)}" for label in status.finished_runs),
            *(f"- {inline(change)}" for change in status.changes),
        ]
        lines += changed or ["No change."]
    return "\n".join(lines) + "\n"


def _line(report: PhaseReport) -> PhaseLine:
    failures = [
        f"{attempt.name}: {attempt.error or attempt.state}"
        for row in report.rows
        for attempt in row.attempts
        if attempt.state in ("failed", "interrupted", "stalled")
    ]
    return PhaseLine(
        report.plan.id, report.plan.title, report.status, report.done, len(report.rows), report.verdict, failures
    )


def _run_label(runs: Runs, run_id: str) -> str:
    record = runs.records[run_id]
    return f"{record.name} ({record.phase})" if record.phase else record.name


def _word(verdict: str | None) -> str:
    return verdict.upper() if verdict else "none"
