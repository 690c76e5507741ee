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
from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd

from rundocs.load.metrics import ParsedMetrics
from rundocs.load.records import RunRecord
from rundocs.record.schema import flatten


def make_runs_frame(records: Sequence[RunRecord], metrics: Mapping[str, ParsedMetrics]) -> pd.DataFrame:
    rows = []
    for record in records:
        history = metrics[record.id]
        last_time = history.last_time
        row: dict[str, Any] = {
            "id": record.id,
            "name": record.name,
            "kind": record.kind,
            "phase": record.phase,
            "sweep": record.sweep,
            "tags": record.tags,
            "status": record.status,
            "started_at": record.started_at,
            "updated_at": record.updated_at,
            "ended_at": record.ended_at,
            "epochs": record.epochs,
            "last_epoch": history.last_epoch,
            "steps": history.length,
            "duration_s": _duration(record, last_time),
            "last_activity": max(record.updated_at, record.started_at + timedelta(seconds=last_time or 0.0)),
            "median_gap_s": history.median_gap,
            "restarts": record.restarts,
            "evaluates": record.evaluates,
            "error_type": record.error.type if record.error else None,
            "error_message": record.error.message if record.error else None,
            "nonfinite": {key: _position(history, row) for key, row in sorted(history.first_nonfinite.items())},
        }
        row.update((f"config.{key}", value) for key, value in flatten(record.config))
        row.update((f"summary.{key}", value) for key, value in record.summary.items())
        rows.append(row)
    frame = pd.DataFrame(rows)
    if frame.empty:
        return pd.DataFrame(columns=["name", "status"], index=pd.Index([], name="id"))
    for column in ("started_at", "updated_at", "ended_at", "last_activity"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    for column in ("epochs", "last_epoch"):
        frame[column] = frame[column].astype("Int64")
    fixed = [c for c in frame.columns if not c.startswith(("config.", "summary."))]
    config = sorted(c for c in frame.columns if c.startswith("config."))
    summary = sorted(c for c in frame.columns if c.startswith("summary."))
    return frame[fixed + config + summary].set_index("id")


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


def _duration(record: RunRecord, last_time: float | None) -> float | None:
    if record.ended_at is not None:
        return (record.ended_at - record.started_at).total_seconds()
    return last_time
