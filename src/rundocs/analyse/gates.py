"""Gates: a phase plan's thresholds judged on the runs, one colour per gate and run.

A gate at ``epoch: N`` reads the last line of epoch N that carries the metric; without an epoch,
the best value over the run (``rules.best_index``), pending until the run ends. NaN and
infinities never pass. Only the effective attempt of a relaunch chain is judged.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np

from rundocs.analyse.curves import chain_curve
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
    evaluation: bool = False  # judged on an eval run: its summary, else its last logged value
    #: The run's baseline (``baseline.find_baselines``) and its value, read as this gate reads.
    baseline: str | None = None
    baseline_value: float | None = None

    @property
    def reads(self) -> str:
        """Where the gate reads the run: ``epoch 3``, ``best``/``last`` over the run (``reading``),
        or an eval run's ``summary or last`` value."""
        if self.evaluation:
            return "summary or last"
        return f"epoch {self.gate.epoch}" if self.gate.epoch is not None else reading(self.gate)


def reading(gate: Gate) -> str:
    """What a gate without an epoch reads over the run: the last value for ``==``, else the best
    in the direction its green threshold asks for."""
    return "last" if gate.green.op == "==" else "best"


def evaluate_gates(
    plan: Plan,
    runs: Runs,
    members: list[str],
    relaunches: Relaunches,
    baselines: Mapping[str, str | None] | None = None,
) -> list[GateResult]:
    """Each gate on the effective attempt of every train run that logs its metric (a dead attempt
    that was relaunched is not judged; its relaunch is, pending until it logs the metric), else
    on the phase's eval runs. With ``baselines`` (run id to its baseline run), each train run's
    result carries its baseline's value of the metric, read the same way."""
    results = []
    records = runs.records
    train = relaunches.effective_attempts(r for r in members if records[r].kind == "train")
    evals = relaunches.effective_only(r for r in members if records[r].kind == "eval")
    for gate in plan.gates:
        judged = [r for r in train if any(_logs(runs, a, gate.metric) for a in relaunches.chain(r))] or [
            r for r in evals if _logs(runs, r, gate.metric) or gate.metric in records[r].summary
        ]
        for run_id in judged:
            result = _judge(gate, runs, run_id, relaunches.chain(run_id))
            base = (baselines or {}).get(run_id)
            if base in records and records[run_id].kind == "train" and base is not None:
                reference = _judge(gate, runs, base, relaunches.chain(base)).observed
                result = dataclasses.replace(result, baseline=base, baseline_value=reference)
            results.append(dataclasses.replace(result, evaluation=records[run_id].kind == "eval"))
    return results


def _judge(gate: Gate, runs: Runs, run_id: str, chain: list[str]) -> GateResult:
    """A train run: a gate at ``epoch: N`` reads the last line of epoch N that carries the
    metric (``_chain_at_epoch``: a relaunch resumed after epoch N keeps its dead attempt's
    value); without an epoch, the best value over the run (``==``: the last value), pending
    while the run runs. A run that ended without the value is red: the requirement was never
    shown to hold. An eval run: its summary value, else its last logged value."""
    record, history = runs.records[run_id], runs.histories[run_id]
    running = record.status == "running"
    epochs = _epochs(runs, run_id)
    observed: float | None = None
    at: int | None = None
    if record.kind == "eval":
        observed = record.summary.get(gate.metric)
        if observed is None and _logs(runs, run_id, gate.metric):
            observed = float(history.columns[gate.metric][history.logged(gate.metric)][-1])
    elif gate.epoch is not None:
        observed = _chain_at_epoch(runs, chain, gate.metric, gate.epoch)
        at = gate.epoch if observed is not None else None
    elif (curve := chain_curve(runs, chain, gate.metric)) is not None and curve.y.size:
        index = _gate_pick(curve.y, gate)  # over the chain: a resumed relaunch continues its attempt
        observed = float(curve.y[index])
        at = int(curve.x[index]) if curve.axis == "epoch" else None
        if running:
            return GateResult(run_id, gate, observed, at, "pending", "best so far; judged when the run ends")
    if observed is None:
        return _no_value(gate, run_id, running, epochs)
    if math.isnan(observed):
        return GateResult(run_id, gate, observed, at, "red", "NaN never passes a gate")
    if math.isinf(observed):
        return GateResult(run_id, gate, observed, at, "red", "an infinite value never passes a gate")
    if gate.green.holds(observed):
        return GateResult(run_id, gate, observed, at, "green", "")
    if gate.amber is not None and gate.amber.holds(observed):
        return GateResult(run_id, gate, observed, at, "amber", "")
    return GateResult(run_id, gate, observed, at, "red", "")


def _no_value(gate: Gate, run_id: str, running: bool, epochs: np.ndarray | None) -> GateResult:
    """Pending while the run runs; red once it ended without the value."""
    if running and gate.epoch is not None:
        reached = epochs is not None and bool((epochs >= gate.epoch).any())
        note = f"no value at epoch {gate.epoch} yet" if reached else f"epoch {gate.epoch} not reached yet"
        return GateResult(run_id, gate, None, None, "pending", note)
    if running:
        return GateResult(run_id, gate, None, None, "pending", "no value logged yet")
    where = f" at epoch {gate.epoch}" if gate.epoch is not None else ""
    return GateResult(run_id, gate, None, None, "red", f"no value{where}: the run ended without logging one")


def _epochs(runs: Runs, run_id: str) -> np.ndarray | None:
    """The run's epoch column, None when it logged no epoch."""
    epochs = runs.histories[run_id].columns.get("epoch")
    return None if epochs is None or np.isnan(epochs).all() else epochs


def _chain_at_epoch(runs: Runs, chain: list[str], metric: str, epoch: int) -> float | None:
    """What ``metric`` reads at ``epoch`` over a relaunch chain: the last attempt's value there,
    else an earlier attempt's when every later one resumed past that epoch (its first logged
    epoch is later), as a relaunch from a checkpoint does."""
    for attempt in reversed(chain):
        value = _at_epoch(runs, attempt, metric, epoch)
        if value is not None:
            return value
        epochs = _epochs(runs, attempt)
        if epochs is None or np.nanmin(epochs) <= epoch:
            return None  # it started over before that epoch: what it logs there is what counts
    return None


def _at_epoch(runs: Runs, run_id: str, metric: str, epoch: int) -> float | None:
    """What ``metric`` reads at ``epoch`` in one run: its last line of that epoch carrying it;
    NaN when the run reached that epoch and the last line carrying it before then logged NaN (a
    metric logged as NaN and not logged again reads NaN from then on); None when it has no value."""
    history, epochs = runs.histories[run_id], _epochs(runs, run_id)
    if metric not in history.columns or epochs is None:
        return None
    logged, values = history.logged(metric), history.columns[metric]
    reached = np.flatnonzero(epochs == epoch)
    if not reached.size:
        return None
    rows = np.flatnonzero(logged & (epochs == epoch))
    if rows.size:
        return float(values[rows[-1]])
    before = np.flatnonzero(logged[: reached[-1]])
    return math.nan if before.size and math.isnan(values[before[-1]]) else None


def _logs(runs: Runs, run_id: str, metric: str) -> bool:
    """The run logged ``metric`` on some line (a value, an infinity or a NaN)."""
    return metric in runs.curves(run_id)


_OP_DIRECTION: dict[str, Direction] = {">=": "max", ">": "max", "<=": "min", "<": "min"}


def _gate_pick(values: np.ndarray, gate: Gate) -> int:
    """The value a best-over-the-run gate reads: the best in the direction the green threshold
    asks for (``rules.best_index``), the last for ``==`` or when no value is finite."""
    direction = _OP_DIRECTION.get(gate.green.op)  # none for ==: the last value
    index = best_index(values, direction) if direction else None
    return len(values) - 1 if index is None else index


_SEVERITY: tuple[Verdict, ...] = ("red", "pending", "amber", "green")


def worst(colours: list[Verdict]) -> Verdict:
    """Red if any gate is red; else pending while any is not yet evaluable; else amber, else green."""
    return next((colour for colour in _SEVERITY if colour in colours), "pending")
