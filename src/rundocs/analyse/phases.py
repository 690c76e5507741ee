"""A phase plan joined with the runs: who belongs, where each expected run stands, gates, comparison.

Status is derived only from runs: a plan states intent, never what happened.
"""

from __future__ import annotations

import fnmatch
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

import numpy as np

from rundocs.analyse.curves import VALIDATION_SPLITS, chain_curve, get_curves
from rundocs.analyse.gates import GateResult, Verdict, evaluate_gates, worst
from rundocs.analyse.names import Direction
from rundocs.analyse.rules import Relaunches, best_index, pick_best, resolve_direction, run_epochs_done
from rundocs.analyse.state import shown_state
from rundocs.formatting import format_number
from rundocs.load.plans import ExpectedRun, Plan
from rundocs.load.problems import Problem
from rundocs.load.records import RunRecord, Unreadable
from rundocs.load.runs import Runs

PhaseStatus = Literal["planned", "running", "blocked", "done"]
_DEAD = ("failed", "interrupted", "stalled")


@dataclass(frozen=True)
class Attempt:
    """One run of an expected entry, with what a reader needs to know about it now."""

    run_id: str
    name: str
    state: str  # queued is never an attempt; relaunched: a later run relaunched this one
    last_epoch: int | None  # the last epoch number logged
    planned_epochs: int | None
    latest: str  # "val_loss=190.17"
    started: datetime
    last_activity: datetime
    eta: timedelta | None
    error: str | None
    relaunched_as: str | None
    epochs_done: int | None = None  # rules.epochs_done: 10 for a run that logged epochs 0..9
    pruned: bool = False  # an Optuna trial its pruner stopped (tag ``pruned``)


@dataclass(frozen=True)
class ExpectedRow:
    label: str
    attempts: tuple[Attempt, ...]

    @property
    def state(self) -> str:
        return self.attempts[-1].state if self.attempts else "queued"


@dataclass(frozen=True)
class CompareRow:
    run_id: str
    name: str
    values: dict[str, float | None]
    deltas: dict[str, float | None]
    best: frozenset[str]
    is_baseline: bool


@dataclass(frozen=True)
class PhaseTiming:
    """Time a phase took and was expected to take, in seconds (None: unknown or not given).

    ``spent`` sums the run durations (``duration_s`` of the runs frame) of every run the phase
    reads, relaunch attempts and eval runs included; ``started`` is its first run's start,
    ``ended`` its last activity once no run of it is running."""

    runs: int
    spent: float | None
    started: datetime | None
    ended: datetime | None
    expected: float | None

    @property
    def wall(self) -> float | None:
        """Seconds from the first start to the end (None while a run runs)."""
        return (self.ended - self.started).total_seconds() if self.started and self.ended else None


@dataclass(frozen=True)
class PhaseReport:
    plan: Plan
    members: tuple[str, ...]
    rows: tuple[ExpectedRow, ...]
    unplanned: tuple[Attempt, ...]
    status: PhaseStatus
    done: int
    gates: tuple[GateResult, ...]
    verdict: Verdict | None
    comparison: tuple[CompareRow, ...]
    last_activity: datetime | None
    problems: tuple[Problem, ...]
    #: Run folders of the phase that could not be read (``unreadable_members``).
    unreadable: tuple[str, ...] = ()
    #: Each compared metric's direction (``rules.resolve_direction``: ``--direction`` over the plan).
    compare_goals: Mapping[str, Direction] = field(default_factory=dict)
    timing: PhaseTiming | None = None
    #: Attempts of the phase that were pruned (Optuna trials stopped by the pruner).
    pruned: int = 0

    @property
    def attempts(self) -> int:
        """Every attempt of the phase's train runs, planned or not."""
        return sum(len(row.attempts) for row in self.rows) + len(self.unplanned)


def report_phase(
    plan: Plan,
    runs: Runs,
    now: datetime,
    directions: Mapping[str, Direction] | None = None,
    baselines: Mapping[str, str | None] | None = None,
) -> PhaseReport:
    """The phase of ``plan`` over ``runs`` at ``now``; ``directions`` are the user's overrides;
    ``baselines`` (``baseline.find_baselines``) give each gate result its baseline's value."""
    records = runs.records
    relaunches = Relaunches(records)
    members = phase_members(plan, records)
    inputs = phase_inputs(plan, records, relaunches)
    facts = runs.rows("state", "last_epoch", "last_activity", "duration_s", ids=inputs)
    problems: list[Problem] = []
    rows, claimed = [], set()

    def attempts(chain: list[str]) -> tuple[Attempt, ...]:
        claimed.update(chain)
        return tuple(_attempt(runs, facts, run_id, relaunches, now) for run_id in chain)

    for index, expected in enumerate(plan.runs):
        matched = [r for r in members if records[r].kind == "train" and _matches(expected, records[r].name)]
        if not matched:
            key = f"runs[{index}].{'name' if expected.name else 'match'}"
            message = f"{key!r}: {expected.label!r} matches no run yet"
            problems.append(Problem(str(plan.path), None, message, warning=True))
            rows.append(ExpectedRow(expected.label, ()))
        for chain in _distinct_chains(matched, relaunches):
            label = expected.label if expected.name else records[chain[0]].name
            rows.append(ExpectedRow(label, attempts(chain)))
    if not plan.runs:  # a plan that lists no runs takes every train run of its phase as planned
        train = [run_id for run_id in members if records[run_id].kind == "train"]
        for chain in _distinct_chains(train, relaunches):
            rows.append(ExpectedRow(records[chain[0]].name, attempts(chain)))
    unplanned = tuple(
        _attempt(runs, facts, run_id, relaunches, now)
        for run_id in members
        if run_id not in claimed and records[run_id].kind == "train"
    )
    every = [a for row in rows for a in row.attempts] + list(unplanned)
    gates = tuple(evaluate_gates(plan, runs, members, relaunches, baselines))
    goals = {m: resolve_direction(m, overrides=directions, plan=g) or g for m, g in _compared(plan).items()}
    comparison, compare_problems = _compare(plan, runs, members, relaunches, goals)
    problems += compare_problems
    activity = [facts[run_id]["last_activity"].to_pydatetime() for run_id in members if run_id in facts]
    unreadable = tuple(u.folder for u in unreadable_members(plan, runs.unreadable.values()))
    colours = [g.colour for g in gates] + (["pending"] if unreadable and gates else [])
    return PhaseReport(
        plan=plan,
        members=tuple(members),
        rows=tuple(rows),
        unplanned=unplanned,
        status="blocked" if unreadable else _status(rows, every),
        done=sum(row.state == "completed" for row in rows),
        gates=gates,
        verdict=worst(colours) if gates else None,
        comparison=comparison,
        last_activity=max(activity) if activity else None,
        problems=tuple(problems),
        unreadable=unreadable,
        compare_goals=goals,
        timing=_timing(plan, runs, inputs, facts, len(rows)),
        pruned=sum(a.pruned for a in every),
    )


def _timing(plan: Plan, runs: Runs, inputs: list[str], facts: Mapping[str, Any], planned: int) -> PhaseTiming:
    """The phase's run time so far (see ``PhaseTiming``) and what its plan expected: ``total``,
    else ``per_run`` times the planned runs."""
    durations = [float(d) for r in inputs if not _missing(d := facts[r]["duration_s"])]
    starts = [runs.records[r].started_at for r in inputs]
    running = any(str(facts[r]["state"]) == "running" for r in inputs)
    ends = [facts[r]["last_activity"].to_pydatetime() for r in inputs]
    expected, total = plan.expected, None
    if expected is not None and expected.total is not None:
        total = expected.total
    elif expected is not None and expected.per_run is not None and planned:
        total = expected.per_run * planned
    return PhaseTiming(
        runs=len(inputs),
        spent=sum(durations) if durations else None,
        started=min(starts) if starts else None,
        ended=max(ends) if ends and not running else None,
        expected=total,
    )


def _compared(plan: Plan) -> dict[str, Direction]:
    return dict(plan.compare.metrics) if plan.compare else {}


def unreadable_members(plan: Plan, unreadable: Iterable[Unreadable]) -> list[Unreadable]:
    """The run folders that could not be read and belong to the plan's phase: they name it, or
    name no phase and carry a name the plan lists. Their outcome is unknown, so the phase is
    blocked and no gate verdict is better than pending until they are fixed."""
    return [
        item
        for item in sorted(unreadable, key=lambda u: u.folder)
        if item.phase == plan.id
        or (item.phase is None and item.name is not None and any(_matches(e, item.name) for e in plan.runs))
    ]


def _matches(expected: ExpectedRun, name: str) -> bool:
    if expected.name is not None:
        return name == expected.name
    return expected.match is not None and fnmatch.fnmatchcase(name, expected.match)


def phase_inputs(plan: Plan, records: Mapping[str, RunRecord], relaunches: Relaunches | None = None) -> list[str]:
    """Every run ``report_phase`` reads for this plan: its members and every attempt of their
    relaunch chains (a relaunch may have another name and no phase)."""
    relaunches = relaunches or Relaunches(records)
    members = phase_members(plan, records)
    inputs, seen = list(members), set(members)
    for run_id in members:
        for attempt in relaunches.chain(run_id):
            if attempt not in seen:
                seen.add(attempt)
                inputs.append(attempt)
    return inputs


def phase_members(plan: Plan, records: Mapping[str, RunRecord]) -> list[str]:
    """Runs whose phase is this plan's id, or whose name the plan expects, and the eval runs of
    those, in the order of ``records`` (start order, as ``Runs.records`` keeps them)."""
    train = {
        run_id
        for run_id, record in records.items()
        if record.phase == plan.id
        or (record.phase is None and any(_matches(expected, record.name) for expected in plan.runs))
    }
    return [
        run_id
        for run_id, record in records.items()
        if run_id in train or (record.kind == "eval" and not train.isdisjoint(record.evaluates))
    ]


def compare_baseline(plan: Plan, records: Mapping[str, RunRecord], relaunches: Relaunches | None = None) -> str | None:
    """The run the plan's ``compare.baseline`` names among the phase's train runs (an id, else
    the latest run of that name), as its effective attempt; None when it names none."""
    if plan.compare is None or not plan.compare.baseline:
        return None
    named = plan.compare.baseline
    train = [r for r in phase_members(plan, records) if records[r].kind == "train"]
    found = [r for r in train if r == named] or [r for r in train if records[r].name == named]
    return (relaunches or Relaunches(records)).effective(found[-1]) if found else None


def _distinct_chains(matched: list[str], relaunches: Relaunches) -> list[list[str]]:
    """One relaunch chain (first attempt to last) per matched run, each chain once."""
    chains: list[list[str]] = []
    seen: set[str] = set()
    for run_id in matched:
        chain = relaunches.chain(run_id)
        if seen.isdisjoint(chain):
            seen.update(chain)
            chains.append(chain)
    return chains


def _attempt(runs: Runs, facts: Mapping[str, Any], run_id: str, relaunches: Relaunches, now: datetime) -> Attempt:
    record = runs.records[run_id]
    fact = facts[run_id]
    state = str(fact["state"])
    relaunch = relaunches.restarted_by.get(run_id)
    last = None if _missing(fact["last_epoch"]) else int(fact["last_epoch"])
    done = run_epochs_done(runs, run_id, relaunches)
    started = record.started_at
    activity = fact["last_activity"].to_pydatetime()
    eta = None
    if state == "running" and done and record.epochs and record.epochs > done:
        per_epoch = (activity - started) / done
        eta = per_epoch * (record.epochs - done) - (now - activity)
        eta = max(eta, timedelta(0))
    error = None
    if record.error is not None:
        where = f"stopped at epoch {last}: " if last is not None else ""
        error = f"{where}{record.error.type}: {' '.join(record.error.message.split())}"
    return Attempt(
        run_id=run_id,
        name=record.name,
        state=shown_state(state, relaunch is not None),
        last_epoch=last,
        planned_epochs=record.epochs,
        latest=_latest_value(runs, run_id),
        started=started,
        last_activity=activity,
        eta=eta,
        error=error,
        relaunched_as=relaunch,
        epochs_done=done,
        pruned="pruned" in record.tags,
    )


def _latest_value(runs: Runs, run_id: str) -> str:
    """The newest value of the run's first validation loss-like metric: ``val_loss=190.17``."""
    columns = runs.curves(run_id)
    if not columns:
        return ""
    curves = get_curves(columns, nan_rows=runs.histories[run_id].nan_rows)
    preferred = sorted(
        curves,
        key=lambda c: (c.metric.split not in VALIDATION_SPLITS, c.metric.base != "loss", c.metric.name),
    )
    for curve in preferred:
        if curve.y.size:
            return f"{curve.metric.name}={format_number(float(curve.y[-1]))}"
    return ""


def _status(rows: list[ExpectedRow], attempts: list[Attempt]) -> PhaseStatus:
    if any(a.state in _DEAD for a in attempts):
        return "blocked"
    if any(a.state == "running" for a in attempts):
        return "running"
    if not attempts:
        return "planned"
    if rows and all(row.state == "completed" for row in rows):
        return "done"
    return "running" if any(row.state == "queued" for row in rows) else "done"


def _compare(
    plan: Plan, runs: Runs, members: list[str], relaunches: Relaunches, goals: Mapping[str, Direction]
) -> tuple[tuple[CompareRow, ...], list[Problem]]:
    """One row per model: the effective attempt of each train run (a relaunched one is not a model)."""
    if plan.compare is None:
        return (), []
    records = runs.records
    train = relaunches.effective_attempts(r for r in members if records[r].kind == "train")
    evals = relaunches.effective_only(r for r in members if records[r].kind == "eval")
    values: dict[str, dict[str, float | None]] = {}
    for run_id in train:
        chain = relaunches.chain(run_id)
        row = {metric: _model_value(runs, run_id, metric, goal, evals, chain) for metric, goal in goals.items()}
        values[run_id] = row
    problems = []
    baseline = compare_baseline(plan, records, relaunches)
    if plan.compare.baseline and baseline is None:
        message = f"'compare.baseline': {plan.compare.baseline!r} names no run of this phase"
        problems.append(Problem(str(plan.path), None, message, True))
    best = {metric: pick_best(((r, row[metric]) for r, row in values.items()), goal) for metric, goal in goals.items()}
    base = values.get(baseline) if baseline else None
    rows = []
    for run_id, row in values.items():
        deltas = {metric: _delta(value, base.get(metric) if base else None) for metric, value in row.items()}
        marked = frozenset(metric for metric, winner in best.items() if winner == run_id)
        rows.append(CompareRow(run_id, records[run_id].name, row, deltas, marked, run_id == baseline))
    return tuple(rows), problems


def _delta(value: float | None, base: float | None) -> float | None:
    return value - base if value is not None and base is not None else None


def _model_value(
    runs: Runs, run_id: str, metric: str, goal: Direction, evals: list[str], chain: list[str]
) -> float | None:
    """An eval run's number for the model first, else the run's summary, else its best logged
    value in the plan's direction (``rules.best_index``) over its relaunch ``chain``."""
    for eval_id in reversed(evals):
        record = runs.records[eval_id]
        if run_id in record.evaluates:
            if metric in record.summary:
                return record.summary[metric]
            values = runs.curves(eval_id).get(metric)
            if values is not None and (~np.isnan(values)).any():
                return float(values[~np.isnan(values)][-1])
    record = runs.records[run_id]
    if metric in record.summary:
        return record.summary[metric]
    curve = chain_curve(runs, chain, metric)
    index = best_index(curve.y, goal) if curve is not None else None
    return None if index is None or curve is None else float(curve.y[index])


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or str(value) == "<NA>"
