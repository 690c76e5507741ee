"""One run of a sweep against its target metric: its score (what ranks it), its curve's best
point, where it ended, how many epochs it did.

The score is the value of the target metric the run reported in its summary, when it has one:
the run's own final answer (for an Optuna trial, the objective value Optuna ranks by). Else it
is the best finite value of its logged curve, except for an Optuna trial, which without an
objective value (pruned, failed or unfinished) ranks nowhere, as in Optuna.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from rundocs.analyse.curves import chain_curve
from rundocs.analyse.names import Direction
from rundocs.analyse.rules import Relaunches, best_index, run_epochs_done
from rundocs.load.records import RunRecord
from rundocs.load.runs import Runs


@dataclass(frozen=True)
class RunScore:
    """One run against the target metric: its score, its curve's best point, where it ended."""

    run_id: str
    name: str
    score: float | None  # what ranks the run: its reported value, else its best logged value
    reported: bool  # the score is the value the run reported in its summary
    score_epoch: int | None  # where the curve first logged the score (None if it never did)
    best: float | None  # the best finite value of its logged curve
    best_epoch: int | None
    final: float | None
    final_epoch: int | None
    first: float | None
    epochs: int | None  # epochs done (``rules.epochs_done``)
    stopped_early: bool
    wall_s: float | None
    running: bool = False  # its score is provisional: it cannot win the sweep yet
    axis: str = "epoch"  # what ``score_epoch``, ``best_epoch`` and ``final_epoch`` count (``rules.metric_axis``)

    @property
    def lost(self) -> float | None:
        """How much worse the end is than the score (0 when the run ended at it). None for a
        reported score the curve never logged: its end says nothing about how far it is from it."""
        if self.score is None or self.final is None or (self.reported and self.score_epoch is None):
            return None
        return abs(self.final - self.score)


def ranked(scores: Iterable[RunScore], goal: Direction) -> list[RunScore]:
    """``scores`` best first; a stable sort, so ties keep their order and the first is
    ``pick_best``'s choice."""
    return sorted(scores, key=lambda score: rank_key(score.score, goal))


def rank_key(value: float | None, goal: Direction) -> tuple[bool, float]:
    """Sorts best first, in ``goal``'s direction; values that are not finite last."""
    if value is None or not math.isfinite(value):
        return (True, 0.0)
    return (False, value if goal == "min" else -value)


def score_run(runs: Runs, run_id: str, metric: str, goal: Direction, relaunches: Relaunches) -> RunScore:
    record = runs.records[run_id]
    curve = chain_curve(runs, relaunches.chain(run_id), metric)  # a resumed relaunch continues its attempt
    epochs = run_epochs_done(runs, run_id, relaunches)
    stopped = "pruned" in record.tags or bool(
        record.epochs and epochs is not None and epochs < record.epochs and record.status != "running"
    )
    running = record.status == "running"
    duration: Any = runs.runs.at[run_id, "duration_s"]
    wall = None if pd.isna(duration) else float(duration)
    score, reported = _reported(record, metric)
    index = best_index(curve.y, goal) if curve is not None and curve.y.size else None
    if curve is None or not curve.y.size:
        return RunScore(
            run_id, record.name, score, reported, None, None, None, None, None, None, epochs, stopped, wall, running
        )
    final, final_epoch = float(curve.y[-1]), int(curve.x[-1])  # NaN when it ended on a logged NaN
    best = None if index is None else float(curve.y[index])
    best_epoch = None if index is None else int(curve.x[index])
    score_epoch = best_epoch
    if reported:
        logged = np.flatnonzero(curve.y == score)
        score_epoch = int(curve.x[logged[0]]) if logged.size else None
    elif not from_study(runs, run_id):
        score = best
    return RunScore(
        run_id=run_id,
        name=record.name,
        score=score,
        reported=reported,
        score_epoch=score_epoch,
        best=best,
        best_epoch=best_epoch,
        final=final,
        final_epoch=final_epoch,
        first=float(curve.y[0]),
        epochs=epochs,
        stopped_early=stopped,
        wall_s=wall,
        running=running,
        axis=curve.axis,
    )


def _reported(record: RunRecord, metric: str) -> tuple[float | None, bool]:
    """The value of ``metric`` the run reported in its summary: its own final answer.

    An Optuna trial reports its objective only when complete: a pruned trial's summary holds
    its last intermediate value, which Optuna does not rank, so neither does the sweep.
    """
    value = record.summary.get(metric)
    if value is None or ("optuna" in record.tags and ("pruned" in record.tags or record.status != "completed")):
        return None, False
    return float(value), True


def from_study(runs: Runs, run_id: str) -> bool:
    return "optuna" in runs.records[run_id].tags
