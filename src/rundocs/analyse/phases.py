"""A phase plan joined with the runs: who belongs, where each expected run stands, gates, comparison.

Status is derived only from runs: a plan states intent, never what happened.
"""

from __future__ import annotations

import fnmatch
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import numpy as np

from rundocs.analyse.curves import VALIDATION_SPLITS, get_curves
from rundocs.load.plans import ExpectedRun, Gate, Plan
from rundocs.load.problems import Problem
from rundocs.load.records import RunRecord
from rundocs.load.runs import Runs

PhaseStatus = Literal["planned", "running", "blocked", "done"]
Verdict = Literal["green", "amber", "red", "pending"]
_DEAD = ("failed", "interrupted", "stalled")


@dataclass(frozen=True)
class Attempt:
    """One run of an expected entry, with what a reader needs to know about it now."""

    run_id: str
    name: str
    state: str  # queued is never an attempt; relaunched replaces a dead state that was relaunched
    last_epoch: int | None
    planned_epochs: int | None
    latest: str  # "val_loss=190.17"
    started: datetime
    last_activity: datetime
    eta: timedelta | None
    error: str | None
    relaunched_as: str | None


@dataclass(frozen=True)
class ExpectedRow:
    label: str
    attempts: tuple[Attempt, ...]

    @property
    def state(self) -> str:
        return self.attempts[-1].state if self.attempts else "queued"


@dataclass(frozen=True)
class GateResult:
    run_id: str
    gate: Gate
    observed: float | None
    at_epoch: int | None
    colour: Verdict
    note: str


@dataclass(frozen=True)
class CompareRow:
    run_id: str
    name: str
    values: dict[str, float | None]
    deltas: dict[str, float | None]
    best: frozenset[str]
    is_baseline: bool


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


def report_phase(plan: Plan, runs: Runs, now: datetime) -> PhaseReport:
    records = runs.records
    members = phase_members(plan, records)
    restarted_by = _restarted_by(records)
    facts = runs.rows("state", "last_epoch", "last_activity", ids=_with_relaunches(members, restarted_by))
    problems: list[Problem] = []
    rows, claimed = [], set()
    for index, expected in enumerate(plan.runs):
        matched = [r for r in members if records[r].kind == "train" and _matches(expected, records[r].name)]
        if not matched:
            key = f"runs[{index}].{'name' if expected.name else 'match'}"
            message = f"{key!r}: {expected.label!r} matches no run yet"
            problems.append(Problem(str(plan.path), None, message, warning=True))
        groups = _chains(matched, restarted_by) if expected.name else [[run_id] for run_id in matched]
        if not groups:
            rows.append(ExpectedRow(expected.label, ()))
        for chain in groups:
            claimed.update(chain)
            label = expected.label if expected.name else records[chain[0]].name
            rows.append(ExpectedRow(label, tuple(_attempt(runs, facts, run_id, restarted_by, now) for run_id in chain)))
    if not plan.runs:  # a plan that lists no runs takes every train run of its phase as planned
        train = [run_id for run_id in members if records[run_id].kind == "train"]
        for chain in _chains(train, restarted_by):
            claimed.update(chain)
            tried = tuple(_attempt(runs, facts, run_id, restarted_by, now) for run_id in chain)
            rows.append(ExpectedRow(records[chain[0]].name, tried))
    unplanned = tuple(
        _attempt(runs, facts, run_id, restarted_by, now)
        for run_id in members
        if run_id not in claimed and records[run_id].kind == "train"
    )
    attempts = [a for row in rows for a in row.attempts] + list(unplanned)
    gates = tuple(_evaluate_gates(plan, runs, members))
    comparison, compare_problems = _compare(plan, runs, members)
    problems += compare_problems
    activity = [facts[run_id]["last_activity"].to_pydatetime() for run_id in members if run_id in facts]
    return PhaseReport(
        plan=plan,
        members=tuple(members),
        rows=tuple(rows),
        unplanned=unplanned,
        status=_status(rows, attempts),
        done=sum(row.state == "completed" for row in rows),
        gates=gates,
        verdict=_worst([g.colour for g in gates]) if gates else None,
        comparison=comparison,
        last_activity=max(activity) if activity else None,
        problems=tuple(problems),
    )


def _matches(expected: ExpectedRun, name: str) -> bool:
    if expected.name is not None:
        return name == expected.name
    return expected.match is not None and fnmatch.fnmatchcase(name, expected.match)


def phase_inputs(plan: Plan, records: Mapping[str, RunRecord]) -> list[str]:
    """Every run ``report_phase`` reads for this plan: its members and the relaunches that follow them."""
    return _with_relaunches(phase_members(plan, records), _restarted_by(records))


def _with_relaunches(members: list[str], restarted_by: Mapping[str, str]) -> list[str]:
    inputs, seen = list(members), set(members)
    for run_id in inputs:  # grows while it runs: a relaunch's own relaunch is read too
        relaunch = restarted_by.get(run_id)
        if relaunch is not None and relaunch not in seen:
            seen.add(relaunch)
            inputs.append(relaunch)
    return inputs


def _restarted_by(records: Mapping[str, RunRecord]) -> dict[str, str]:
    """Run id to the id of the run that relaunched it."""
    return {r.restarts: run_id for run_id, r in records.items() if r.restarts is not None and r.restarts in records}


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


def _chains(matched: list[str], restarted_by: Mapping[str, str]) -> list[list[str]]:
    """Matched runs with the relaunches that follow them, one chain per first attempt."""
    relaunches = set(restarted_by.values())
    chains = []
    for run_id in matched:
        if run_id in relaunches and any(restarted_by.get(m) == run_id for m in matched):
            continue  # part of an earlier chain
        chain = [run_id]
        while chain[-1] in restarted_by:
            chain.append(restarted_by[chain[-1]])
        chains.append(chain)
    return chains


def _attempt(
    runs: Runs, facts: Mapping[str, Any], run_id: str, restarted_by: Mapping[str, str], now: datetime
) -> Attempt:
    record = runs.records[run_id]
    fact = facts[run_id]
    state = str(fact["state"])
    relaunch = restarted_by.get(run_id)
    last = None if _missing(fact["last_epoch"]) else int(fact["last_epoch"])
    started = record.started_at
    activity = fact["last_activity"].to_pydatetime()
    eta = None
    if state == "running" and last and record.epochs and record.epochs > last:
        per_epoch = (activity - started) / last
        eta = per_epoch * (record.epochs - last) - (now - activity)
        eta = max(eta, timedelta(0))
    error = None
    if record.error is not None:
        where = f"stopped at epoch {last}: " if last is not None else ""
        error = f"{where}{record.error.type}: {' '.join(record.error.message.split())}"
    return Attempt(
        run_id=run_id,
        name=record.name,
        state="relaunched" if relaunch and state in _DEAD else state,
        last_epoch=last,
        planned_epochs=record.epochs,
        latest=_latest_value(runs, run_id),
        started=started,
        last_activity=activity,
        eta=eta,
        error=error,
        relaunched_as=relaunch,
    )


def _latest_value(runs: Runs, run_id: str) -> str:
    """The newest value of the run's first validation loss-like metric: ``val_loss=190.17``."""
    columns = runs.curves(run_id)
    if not columns:
        return ""
    curves = get_curves(columns)
    preferred = sorted(
        curves,
        key=lambda c: (c.metric.split not in VALIDATION_SPLITS, c.metric.base != "loss", c.metric.name),
    )
    for curve in preferred:
        if curve.y.size:
            return f"{curve.metric.name}={float(curve.y[-1]):.4g}"
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


def _evaluate_gates(plan: Plan, runs: Runs, members: list[str]) -> list[GateResult]:
    results = []
    train = [r for r in members if runs.records[r].kind == "train"]
    evals = [r for r in members if runs.records[r].kind == "eval"]
    for gate in plan.gates:
        judged = [r for r in train if gate.metric in runs.curves(r)] or [
            r for r in evals if gate.metric in runs.curves(r) or gate.metric in runs.records[r].summary
        ]
        for run_id in judged:
            results.append(_judge(gate, runs, run_id))
    return results


def _judge(gate: Gate, runs: Runs, run_id: str) -> GateResult:
    record = runs.records[run_id]
    columns = runs.curves(run_id)
    values = columns.get(gate.metric)
    observed: float | None = None
    at: int | None = None
    if values is not None and "epoch" in columns:
        epochs = columns["epoch"]
        present = ~np.isnan(epochs) & (~np.isnan(values) | ~np.isfinite(values))
        if gate.epoch is not None:
            at_epoch = present & (epochs == gate.epoch)
            if at_epoch.any():
                observed, at = float(values[at_epoch][-1]), gate.epoch
        elif present.any():
            observed, at = _best(values[present], epochs[present], gate)
    elif gate.metric in record.summary:
        observed = record.summary[gate.metric]
    elif values is not None and values.size:
        observed = float(values[~np.isnan(values)][-1]) if (~np.isnan(values)).any() else math.nan
    if observed is None:
        if record.status == "running" and gate.epoch is not None:
            return GateResult(run_id, gate, None, None, "pending", f"epoch {gate.epoch} not reached yet")
        return GateResult(run_id, gate, None, None, "pending", "no value recorded")
    if math.isnan(observed):
        return GateResult(run_id, gate, observed, at, "red", "NaN never passes a gate")
    if gate.green.holds(observed):
        return GateResult(run_id, gate, observed, at, "green", "")
    if gate.amber is not None and gate.amber.holds(observed):
        return GateResult(run_id, gate, observed, at, "amber", "")
    return GateResult(run_id, gate, observed, at, "red", "")


def _best(values: np.ndarray, epochs: np.ndarray, gate: Gate) -> tuple[float, int]:
    """Best over the run, in the direction the green threshold asks for (last value for ==)."""
    finite = np.isfinite(values)
    if not finite.any():
        return float(values[-1]), int(epochs[-1])
    if gate.green.op in (">=", ">"):
        index = int(np.argmax(np.where(finite, values, -np.inf)))
    elif gate.green.op in ("<=", "<"):
        index = int(np.argmin(np.where(finite, values, np.inf)))
    else:
        index = len(values) - 1
    return float(values[index]), int(epochs[index])


_SEVERITY: tuple[Verdict, ...] = ("red", "pending", "amber", "green")


def _worst(colours: list[Verdict]) -> Verdict:
    """Red if any gate is red; else pending while any is not yet evaluable; else amber, else green."""
    return next((colour for colour in _SEVERITY if colour in colours), "pending")


def _compare(plan: Plan, runs: Runs, members: list[str]) -> tuple[tuple[CompareRow, ...], list[Problem]]:
    if plan.compare is None:
        return (), []
    records = runs.records
    train = [r for r in members if records[r].kind == "train"]
    evals = [r for r in members if records[r].kind == "eval"]
    values: dict[str, dict[str, float | None]] = {}
    for run_id in train:
        row = {metric: _model_value(runs, run_id, metric, goal, evals) for metric, goal in plan.compare.metrics.items()}
        values[run_id] = row
    problems = []
    baseline = None
    if plan.compare.baseline:
        named = [r for r in train if records[r].name == plan.compare.baseline or r == plan.compare.baseline]
        baseline = named[-1] if named else None
        if baseline is None:
            problems.append(
                Problem(
                    str(plan.path),
                    None,
                    f"'compare.baseline': {plan.compare.baseline!r} names no run of this phase",
                    True,
                )
            )
    best: dict[str, str | None] = {}
    for metric, goal in plan.compare.metrics.items():
        scored = [(v, r) for r, row in values.items() if (v := row[metric]) is not None and math.isfinite(v)]
        best[metric] = (max(scored) if goal == "max" else min(scored))[1] if scored else None
    base = values.get(baseline) if baseline else None
    rows = []
    for run_id, row in values.items():
        deltas = {metric: _delta(value, base.get(metric) if base else None) for metric, value in row.items()}
        marked = frozenset(metric for metric, winner in best.items() if winner == run_id)
        rows.append(CompareRow(run_id, records[run_id].name, row, deltas, marked, run_id == baseline))
    return tuple(rows), problems


def _delta(value: float | None, base: float | None) -> float | None:
    return value - base if value is not None and base is not None else None


def _model_value(runs: Runs, run_id: str, metric: str, goal: str, evals: list[str]) -> float | None:
    """An eval run's number for the model first, else the run's summary, else its best logged value."""
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
    values = runs.curves(run_id).get(metric)
    if values is None or not np.isfinite(values).any():
        return None
    return float(np.nanmax(values) if goal == "max" else np.nanmin(values))


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or str(value) == "<NA>"
