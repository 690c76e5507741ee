"""Reading Optuna trials back out of run records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rundocs.load.records import RunRecord
from rundocs.load.runs import Runs


def trial_number(record: RunRecord) -> int:
    """The Optuna trial number a run records, from its ``trial:<n>`` tag."""
    (number,) = [int(tag.removeprefix("trial:")) for tag in record.tags if tag.startswith("trial:")]
    return number


def by_trial(runs: Runs) -> dict[int, RunRecord]:
    """The runs by trial number; fails if a trial has two runs."""
    records = {trial_number(record): record for record in runs.records.values()}
    assert len(records) == len(runs.records), "a trial was recorded twice"
    return records


def reported(runs: Runs, run_id: str, metric: str, axis: str = "epoch") -> dict[int, float]:
    """What a run logged of ``metric``, by ``axis``: comparable to ``FrozenTrial.intermediate_values``."""
    history = runs.history(run_id)
    if metric not in history:
        return {}
    history = history.dropna(subset=[metric])
    return {int(x): float(y) for x, y in zip(history[axis], history[metric], strict=True)}


def same_moment(recorded: datetime, optuna_time: datetime | None) -> bool:
    """A recorded time (ms) equals Optuna's naive local time of the same moment."""
    assert optuna_time is not None
    return abs(recorded - optuna_time.astimezone(UTC)) < timedelta(milliseconds=1)
