"""Gates: a phase plan's thresholds judged on the runs, one colour per gate and run.

A gate at ``epoch: N`` reads the last line of epoch N that carries the metric; without an epoch,
the best value over the run (``rules.best_index``), pending until the run ends. NaN and
infinities never pass. Only the effective attempt of a relaunch chain is judged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from rundocs.analyse.names import Direction
from rundocs.analyse.rules import Relaunches, best_index
from rundocs.load.plans import Gate, Plan
from rundocs.load.runs import Runs

Verdict = Literal["green", "amber", "red", "pending"]


@dataclass(frozen=True)
class GateResult:
    run_id: str
    gate: Gate
    observed: float | None
    at_epoch: int | None
    colour: Verdict
    note: str


def evaluate_gates(plan: Plan, runs: Runs, members: list[str], relaunches: Relaunches) -> list[GateResult]:
    """Each gate on the effective attempt of every train run that logs its metric (a dead attempt
    that was relaunched is not judged; its relaunch is, pending until it logs the metric), else
    on the phase's eval runs."""
    results = []
    records = runs.records
    train = relaunches.effective_attempts(r for r in members if records[r].kind == "train")
    evals = relaunches.effective_only(r for r in members if records[r].kind == "eval")
    for gate in plan.gates:
        judged = [r for r in train if any(_logs(runs, a, gate.metric) for a in relaunches.chain(r))] or [
            r for r in evals if _logs(runs, r, gate.metric) or gate.metric in records[r].summary
        ]
        for run_id in judged:
            results.append(_judge(gate, runs, run_id))
    return results


def _judge(gate: Gate, runs: Runs, run_id: str) -> GateResult:
    """A gate at ``epoch: N`` reads the last line of epoch N that carries the metric; without an
    epoch, the best value over the run (``==``: the last value), pending while the run runs."""
    record = runs.records[run_id]
    running = record.status == "running"
    columns = runs.histories[run_id].columns  # with metrics logged only as NaN: they are judged red
    values = columns.get(gate.metric)
    carried = _carried(runs, run_id, gate.metric)
    epochs = columns.get("epoch")
    if epochs is not None and np.isnan(epochs).all():
        epochs = None
    observed: float | None = None
    at: int | None = None
    if gate.epoch is not None and values is not None and epochs is not None:
        rows = np.flatnonzero(carried & (epochs == gate.epoch))
        if rows.size:
            observed, at = float(values[rows[-1]]), gate.epoch
        elif _went_nan_by(runs, run_id, gate.metric, epochs, gate.epoch):
            observed, at = math.nan, gate.epoch
    elif gate.epoch is None and values is not None and carried.any():
        rows = np.flatnonzero(carried)
        index = _gate_pick(values[rows], gate)
        observed = float(values[rows[index]])
        if epochs is not None and not math.isnan(epochs[rows[index]]):
            at = int(epochs[rows[index]])
        if running:
            return GateResult(run_id, gate, observed, at, "pending", "best so far; judged when the run ends")
    elif gate.metric in record.summary:
        observed = record.summary[gate.metric]
    if observed is None:
        if running and gate.epoch is not None:
            reached = epochs is not None and bool((epochs >= gate.epoch).any())
            note = f"no value at epoch {gate.epoch} yet" if reached else f"epoch {gate.epoch} not reached yet"
            return GateResult(run_id, gate, None, None, "pending", note)
        if running:
            return GateResult(run_id, gate, None, None, "pending", "no value logged yet")
        return GateResult(run_id, gate, None, None, "pending", "no value recorded")
    if math.isnan(observed):
        return GateResult(run_id, gate, observed, at, "red", "NaN never passes a gate")
    if math.isinf(observed):
        return GateResult(run_id, gate, observed, at, "red", "an infinite value never passes a gate")
    if gate.green.holds(observed):
        return GateResult(run_id, gate, observed, at, "green", "")
    if gate.amber is not None and gate.amber.holds(observed):
        return GateResult(run_id, gate, observed, at, "amber", "")
    return GateResult(run_id, gate, observed, at, "red", "")


def _logs(runs: Runs, run_id: str, metric: str) -> bool:
    """The run logged ``metric`` on some line (a value, an infinity or a NaN)."""
    return metric in runs.curves(run_id) or metric in runs.histories[run_id].first_nonfinite


def _carried(runs: Runs, run_id: str, metric: str) -> np.ndarray:
    """Rows that logged ``metric``: a value, an infinity, or the NaN it was first logged as."""
    values = runs.histories[run_id].columns.get(metric)
    if values is None:
        return np.zeros(runs.histories[run_id].length, dtype=bool)
    carried: np.ndarray = ~np.isnan(values)
    first_nan = runs.histories[run_id].first_nonfinite.get(metric)
    if first_nan is not None:
        carried[first_nan] = True
    return carried


def _went_nan_by(runs: Runs, run_id: str, metric: str, epochs: np.ndarray, epoch: int) -> bool:
    """The metric was logged as NaN at or before epoch ``epoch`` (which the run reached) and
    never logged again since: what it reads at that epoch is NaN."""
    first_nan = runs.histories[run_id].first_nonfinite.get(metric)
    rows = np.flatnonzero(epochs == epoch)
    if first_nan is None or not rows.size or first_nan > rows[-1]:
        return False
    values = runs.histories[run_id].columns[metric]
    return bool(np.isnan(values[first_nan]) and np.isnan(values[first_nan + 1 : rows[-1] + 1]).all())


_OP_DIRECTION: dict[str, Direction] = {">=": "max", ">": "max", "<=": "min", "<": "min"}


def _gate_pick(values: np.ndarray, gate: Gate) -> int:
    """The value a best-over-the-run gate reads: the best in the direction the green threshold
    asks for (``rules.best_index``), the last for ``==`` or when no value is finite."""
    direction = _OP_DIRECTION.get(gate.green.op)
    index = best_index(values, direction) if direction else None
    return len(values) - 1 if index is None else index


_SEVERITY: tuple[Verdict, ...] = ("red", "pending", "amber", "green")


def worst(colours: list[Verdict]) -> Verdict:
    """Red if any gate is red; else pending while any is not yet evaluable; else amber, else green."""
    return next((colour for colour in _SEVERITY if colour in colours), "pending")
