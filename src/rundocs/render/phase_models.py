"""Page models of the phase pages: a ``PhaseReport`` made ready to print."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from math import isfinite
from pathlib import Path
from typing import Any, TypeVar

from rundocs.analyse.gates import GateResult, reading
from rundocs.analyse.phases import Attempt, CompareRow, PhaseReport
from rundocs.format.schema import flatten
from rundocs.formatting import format_duration
from rundocs.load.plans import COLOURS, Branch
from rundocs.load.problems import Problem
from rundocs.render.filters import mermaid_label, page_title

_DIAGRAM_LABEL = 240  # labels wrap in the diagram; the bound only stops a hostile plan
_Row = TypeVar("_Row")


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
    """A phase page. Its tables list at most ``TABLE_ROWS`` rows each, those a reader must see
    first (``*_total`` says how many there were): a phase of 250 runs stays a page to read."""

    report: PhaseReport
    title: str
    rows: list[AttemptRow]
    rows_total: int
    unplanned: list[AttemptRow]
    unplanned_total: int
    gates: list[GateResult]
    gate_counts: str
    comparison: list[CompareRow]
    best_by: str | None
    fixed: list[tuple[str, object]]
    changed: list[tuple[str, object]]
    diagram: str | None
    last_activity: str
    problems: list[str]
    #: The baseline runs of the gate results (the Gates table then has a Baseline column).
    baselines: frozenset[str] = frozenset()
    started: str = ""  # the phase's first run's start, in UTC


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
    date: str | None = None  # the plan's date
    started: str = ""  # its first run's start
    started_at: str = ""  # the same, ISO 8601 to the microsecond: the order of phases started in one minute
    ended: str = ""  # its last activity, once no run runs
    runs: int = 0
    spent: float | None = None  # seconds of run time (``PhaseTiming.spent``)
    expected: float | None = None  # seconds the plan expected
    pruned: int = 0
    superseded_by: str | None = None
    decision: str = ""  # the decision the verdict took, on one line
    next: list[str] = dataclasses.field(default_factory=list)  # the phases it leads to
    goal: str = ""

    @property
    def open(self) -> bool:
        """Still to finish: neither done nor superseded."""
        return self.superseded_by is None and self.status != "done"


def summarize_phase(page: PhasePage) -> PhaseSummary:
    report, plan = page.report, page.report.plan
    timing = report.timing
    taken = plan.decisions.get(report.verdict) if report.verdict else None
    return PhaseSummary(
        plan.id, plan.title, report.status, report.done, len(report.rows), report.verdict, page.last_activity,
        date=plan.date.isoformat() if plan.date else None,
        started=_time(timing.started) if timing and timing.started else "",
        started_at=timing.started.isoformat() if timing and timing.started else "",
        ended=_time(timing.ended) if timing and timing.ended else "",
        runs=timing.runs if timing else 0,
        spent=timing.spent if timing else None,
        expected=timing.expected if timing else None,
        pruned=report.pruned,
        superseded_by=plan.superseded_by,
        decision=" ".join((taken.text or "").split()) if taken else "",
        next=taken.next_phases() if taken else [],
        goal=" ".join((plan.goal or "").split()),
    )  # fmt: skip


def in_time_order(phases: Sequence[PhaseSummary]) -> list[PhaseSummary]:
    """Phases by the plan's date, else their first run's start; undated and unstarted last, by id."""
    return sorted(phases, key=lambda p: (p.date or p.started[:10] or "9999", p.started_at or "~", p.id))


@dataclass(frozen=True)
class PhaseTotals:
    """The total row under a table of phases."""

    phases: int
    open: int
    superseded: int
    runs: int
    spent: float | None
    expected: float | None


def total_phases(phases: Sequence[PhaseSummary]) -> PhaseTotals:
    spent = [p.spent for p in phases if p.spent is not None]
    expected = [p.expected for p in phases if p.expected is not None]
    return PhaseTotals(
        len(phases), sum(p.open for p in phases), sum(p.superseded_by is not None for p in phases),
        sum(p.runs for p in phases), sum(spent) if spent else None, sum(expected) if expected else None,
    )  # fmt: skip


@dataclass(frozen=True)
class HistoryPage:
    """Every phase in time order with what it decided and what replaced it."""

    phases: list[PhaseSummary]
    totals: PhaseTotals
    supersedes: dict[str, list[str]]  # phase id to the phases it replaced
    titles: dict[str, str]  # phase id to its title, for links


def make_history_page(phases: Sequence[PhaseSummary]) -> HistoryPage:
    ordered = in_time_order(phases)
    supersedes: dict[str, list[str]] = {}
    for phase in ordered:
        if phase.superseded_by is not None:
            supersedes.setdefault(phase.superseded_by, []).append(phase.id)
    return HistoryPage(ordered, total_phases(ordered), supersedes, {p.id: p.title for p in ordered})


def make_phase_page(report: PhaseReport, now: datetime, problems: list[Problem]) -> PhasePage:
    plan = report.plan
    rows = []
    for row in report.rows:
        if not row.attempts:
            rows.append(AttemptRow(row.label, None, "queued", "", "", "", "not started"))
        rows += [_attempt_row(row.label, attempt, now) for attempt in row.attempts]
    unplanned = [_attempt_row(a.name, a, now) for a in report.unplanned]
    colours: Counter[str] = Counter(g.colour for g in report.gates)
    best_by = next(iter(report.compare_goals.items()), None)
    return PhasePage(
        report=report,
        title=page_title(plan.title, f"Phase {plan.id}", "Phase"),
        rows=_first(rows, lambda row: row.state == "completed"),
        rows_total=len(rows),
        unplanned=_first(unplanned, lambda row: row.state == "completed"),
        unplanned_total=len(unplanned),
        gates=_first(list(report.gates), lambda g: _COLOUR_ORDER.index(g.colour)),
        gate_counts=", ".join(f"{colours[c]} {c}" for c in reversed(_COLOUR_ORDER) if colours[c]),
        comparison=_first(list(report.comparison), _comparison_priority(report.comparison, best_by)),
        best_by=best_by[0] if best_by else None,
        fixed=sorted(flatten(plan.fixed)),
        changed=sorted(flatten(plan.changed)),
        diagram=make_decision_diagram(report),
        last_activity=_time(report.last_activity) if report.last_activity else "",
        problems=[str(dataclasses.replace(p, path=_shown_path(plan.path))) for p in [*problems, *report.problems]],
        baselines=frozenset(g.baseline for g in report.gates if g.baseline is not None),
        started=_time(report.timing.started) if report.timing and report.timing.started else "",
    )


#: Rows a table of a phase page lists at most.
TABLE_ROWS = 50
_COLOUR_ORDER = ("red", "amber", "pending", "green")


def _first(items: list[_Row], priority: Callable[[_Row], Any]) -> list[_Row]:
    """At most ``TABLE_ROWS`` items, the lowest ``priority`` first, shown in their own order."""
    if len(items) <= TABLE_ROWS:
        return items
    chosen = set(sorted(range(len(items)), key=lambda i: (priority(items[i]), i))[:TABLE_ROWS])
    return [item for i, item in enumerate(items) if i in chosen]


def _comparison_priority(rows: Sequence[CompareRow], best_by: tuple[str, str] | None) -> Callable[[CompareRow], Any]:
    """The baseline and the rows best in some metric first, then the best by the first metric."""
    rank: dict[str, int] = {}
    if best_by is not None:
        metric, goal = best_by
        sign = 1 if goal == "min" else -1
        scored = [(row.values.get(metric), row.run_id) for row in rows]
        ordered = sorted((sign * value, run_id) for value, run_id in scored if value is not None and isfinite(value))
        rank = {run_id: position for position, (_, run_id) in enumerate(ordered)}
    return lambda row: (not (row.is_baseline or row.best), rank.get(row.run_id, len(rows)))


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
        where = f" at epoch {gate.epoch}" if gate.epoch is not None else f" ({reading(gate)})"
        amber = f", amber {gate.amber}" if gate.amber else ""
        label = mermaid_label(f"{gate.metric}{where}: green {gate.green}{amber}")
        lines.append(f'  G{index}["{label}"] --> V{{"verdict"}}')
    for colour in COLOURS:
        if colour in plan.decisions:
            decision = plan.decisions[colour]
            lines.append(f'  V -->|{colour.upper()}| D{colour}["{_node_label(decision)}"]')
            lines += _branch_lines(f"D{colour}", decision.then)
    if report.verdict in plan.decisions:
        lines.append(f"  classDef taken stroke-width:4px,stroke:{_STROKES[report.verdict]}")
        lines.append(f"  class D{report.verdict} taken")
    return "\n".join(lines)


def _node_label(branch: Branch) -> str:
    """A decision's text, shortened, and the phase it leads to."""
    after = f"next: {branch.next}" if branch.next else ""
    return mermaid_label(" → ".join(part for part in (_short(branch.text), after) if part))


def _short(text: str | None) -> str:
    """Text on one line, at most ``_DIAGRAM_LABEL`` characters."""
    line = " ".join((text or "").split())
    return line if len(line) <= _DIAGRAM_LABEL else line[: _DIAGRAM_LABEL - 1] + "…"


def _branch_lines(parent: str, branches: Sequence[Branch]) -> list[str]:
    """Edges from ``parent`` to each nested branch, labelled with its condition, and theirs."""
    lines = []
    for index, branch in enumerate(branches):
        node = f"{parent}_{index}"
        lines.append(f'  {parent} -->|"{mermaid_label(_short(branch.condition))}"| {node}["{_node_label(branch)}"]')
        lines += _branch_lines(node, branch.then)
    return lines


_STROKES = {"green": "#2e7d32", "amber": "#f9a825", "red": "#c62828", "pending": "#757575"}


def _attempt_row(label: str, attempt: Attempt, now: datetime) -> AttemptRow:
    progress = ""
    if attempt.epochs_done is not None:
        planned = f"/{attempt.planned_epochs:03d}" if attempt.planned_epochs else ""
        progress = f"E{attempt.epochs_done:03d}{planned}"
    if attempt.latest:
        progress = f"{progress} {attempt.latest}".strip()
    note = attempt.error or ""
    if attempt.state == "running" and attempt.eta is not None:
        note = f"about {format_duration(attempt.eta)} left at the current epoch rate"
    return AttemptRow(
        label, attempt, attempt.state, progress, _time(attempt.started), _time(attempt.last_activity), note
    )


def _time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
