"""Records and parsed metrics into the two pandas frames of ``Runs``.

``runs``: one row per run, indexed by id. Columns: name, kind, phase, sweep, tags, status,
started_at, updated_at, ended_at (UTC timestamps), epochs (planned), last_epoch, steps,
duration_s, last_activity, median_gap_s, restarts, evaluates, error_type, error_message,
nonfinite (metric name to the epoch, step or line where it was first logged as NaN or inf),
then ``config.<dotted.key>`` for every setting and ``summary.<name>`` for every summary value.

``metrics``: one row per logged line. Columns: run_id (categorical), epoch and step
(nullable Int64), time (seconds since start), then one float column per metric name, NaN
where a line did not log that metric.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from rundocs.format.schema import flatten
from rundocs.load.metrics import ParsedMetrics
from rundocs.load.records import RunRecord


def make_runs_frame(records: Sequence[RunRecord], metrics: Mapping[str, ParsedMetrics]) -> pd.DataFrame:
    if not records:
        return pd.DataFrame(columns=["name", "status"], index=pd.Index([], name="id"))
    histories = [metrics[record.id] for record in records]
    pairs = list(zip(records, histories, strict=True))
    errors = [record.error for record in records]
    data: dict[str, list[Any]] = {
        "name": [record.name for record in records],
        "kind": [record.kind for record in records],
        "phase": [record.phase for record in records],
        "sweep": [record.sweep for record in records],
        "tags": [record.tags for record in records],
        "status": [record.status for record in records],
        "started_at": [record.started_at for record in records],
        "updated_at": [record.updated_at for record in records],
        "ended_at": [record.ended_at for record in records],
        "epochs": [record.epochs for record in records],
        "last_epoch": [history.last_epoch for history in histories],
        "steps": [history.length for history in histories],
        "duration_s": [_duration(record, history.last_time) for record, history in pairs],
        "last_activity": [_last_activity(record, history.last_time) for record, history in pairs],
        "median_gap_s": [history.median_gap for history in histories],
        "restarts": [record.restarts for record in records],
        "evaluates": [record.evaluates for record in records],
        "error_type": [error.type if error else None for error in errors],
        "error_message": [error.message if error else None for error in errors],
        "nonfinite": [
            {key: _position(history, row) for key, row in sorted(history.first_nonfinite.items())}
            for history in histories
        ],
    }
    data.update(sparse_columns(records))
    frame = pd.DataFrame(data, index=pd.Index([record.id for record in records], name="id"))
    for column in ("started_at", "updated_at", "ended_at", "last_activity"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    for column in ("epochs", "last_epoch"):
        frame[column] = frame[column].astype("Int64")
    return frame


def sparse_columns(records: Sequence[RunRecord], missing: Any = np.nan) -> dict[str, list[Any]]:
    """``config.<dotted.key>`` and ``summary.<name>`` columns, sorted, ``missing`` where a run lacks one."""
    columns: dict[str, list[Any]] = {}
    for row, record in enumerate(records):
        values = [(f"config.{key}", value) for key, value in flatten(record.config)]
        values += [(f"summary.{key}", value) for key, value in record.summary.items()]
        for name, value in values:
            column = columns.get(name)
            if column is None:
                column = columns[name] = [missing] * len(records)
            column[row] = value
    return {name: columns[name] for name in sorted(columns)}


def make_metrics_frame(ids: Sequence[str], metrics: Mapping[str, ParsedMetrics]) -> pd.DataFrame:
    lengths = [metrics[run_id].length for run_id in ids]
    total = sum(lengths)
    names = sorted({key for run_id in ids for key in metrics[run_id].columns} - {"epoch", "step", "time"})
    data: dict[str, Any] = {
        "run_id": pd.Categorical.from_codes(np.repeat(np.arange(len(ids)), lengths), categories=pd.Index(ids))
    }
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(int)
    for key in ("epoch", "step", "time", *names):
        column = np.full(total, np.nan)
        for index, run_id in enumerate(ids):
            values = metrics[run_id].columns.get(key)
            if values is not None:
                column[offsets[index] : offsets[index + 1]] = values
        data[key] = _nullable_int(column) if key in ("epoch", "step") else column
    assert all(len(v) == total for v in data.values())
    return pd.DataFrame(data)


def _nullable_int(values: np.ndarray) -> pd.arrays.IntegerArray:
    missing = np.isnan(values)
    return pd.arrays.IntegerArray(np.where(missing, 0, values).astype(np.int64), missing)


def _position(history: ParsedMetrics, row: int) -> int:
    """Where a row sits on the run's x axis: its epoch, else its step, else its line number."""
    for key in ("epoch", "step"):
        values = history.columns.get(key)
        if values is not None and np.isfinite(values[row]):
            return int(values[row])
    return row + 1


def _last_activity(record: RunRecord, last_time: float | None) -> datetime:
    return max(record.updated_at, record.started_at + timedelta(seconds=last_time or 0.0))


def _duration(record: RunRecord, last_time: float | None) -> float | None:
    if record.ended_at is not None:
        return (record.ended_at - record.started_at).total_seconds()
    return last_time
