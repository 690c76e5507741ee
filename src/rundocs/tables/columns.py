"""The ``runs`` and ``metrics`` tables as Arrow tables, built from a loaded runs folder.

``runs``: one row per run. Fixed columns (``RUN_COLUMNS``), then ``config.<dotted.key>`` and
``summary.<name>`` (the loader's columns, ``rundocs.load.frames``), then for every metric with
a direction (``rules.resolve_direction``) ``best.<metric>``, ``best_at.<metric>`` (the epoch,
else step, else line of the best value: ``curves.summarize``) and ``final.<metric>`` (its last
logged value). A setting's column takes the type all runs agree on (bool, int64, float64,
text); lists and mixed types become text: strings as they are, anything else as JSON. A run
without the setting has null. Two names that differ only in case (``config.LR`` and
``config.lr``) would be one column to DuckDB and Spark: the later one in sorted order gets
``#2`` appended (``#3``...). Column names are data, never SQL: quote them (``"config.lr"``).

``metrics``: one row per logged value, long format: run_id, step, epoch (int64, null when the
line had none), time (seconds since the run's start), metric, value. NaN and infinities a run
logged stay float values; a metric a line left out has no row.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from rundocs.analyse.curves import get_curves, summarize
from rundocs.analyse.names import Direction
from rundocs.load.frames import sparse_columns
from rundocs.load.runs import Runs
from rundocs.tables.arrow import pa

#: The fixed columns of ``runs``, from the loader's frame (``id`` is its index).
RUN_COLUMNS = (
    "id", "name", "kind", "phase", "sweep", "tags", "state", "status", "started_at", "ended_at",
    "duration_s", "epochs", "last_epoch", "steps", "restarts", "error_type", "error_message",
)  # fmt: skip
_TIMES = frozenset({"started_at", "ended_at"})
_INTS = frozenset({"epochs", "last_epoch", "steps"})
_INT64 = (-(2**63), 2**63 - 1)
METRICS_SCHEMA = pa.schema(
    [
        ("run_id", pa.string()),
        ("step", pa.int64()),
        ("epoch", pa.int64()),
        ("time", pa.float64()),
        ("metric", pa.string()),
        ("value", pa.float64()),
    ]
)


def make_runs_table(runs: Runs, directions: Mapping[str, Direction] | None = None) -> pa.Table:
    """The ``runs`` table, rows in start order (as ``runs.runs``)."""
    frame = runs.runs
    ids = frame.index.tolist()
    arrays: dict[str, pa.Array] = {}
    for name in RUN_COLUMNS:
        values = ids if name == "id" else frame[name].tolist() if name in frame else [None] * len(ids)
        arrays[name] = _fixed_array(name, values)
    for name, values in sparse_columns(list(runs.records.values()), missing=None).items():
        arrays[name] = setting_array(values)
    for name, values in _best_columns(runs, ids, directions).items():
        arrays[name] = pa.array(values, pa.int64() if name.startswith("best_at.") else pa.float64())
    return pa.table(dict(zip(unique_names(list(arrays)), arrays.values(), strict=True)))


def make_metrics_table(runs: Runs, run_ids: Iterable[str]) -> pa.Table:
    """The ``metrics`` rows of these runs: each run's lines in order, its metrics by name within a line."""
    parts: dict[str, list[np.ndarray]] = {name: [] for name in METRICS_SCHEMA.names}
    for run_id in run_ids:
        history = runs.histories[run_id]
        columns = history.columns
        names = sorted(set(columns) - {"epoch", "step", "time"})
        logged = np.stack([history.logged(name) for name in names]) if names else np.zeros((0, history.length), bool)
        metric_index, rows = np.nonzero(logged.T)[::-1]  # line by line, then metric by metric
        parts["run_id"].append(np.full(rows.size, run_id, dtype=object))
        for axis in ("step", "epoch", "time"):
            parts[axis].append(columns[axis][rows] if axis in columns else np.full(rows.size, np.nan))
        parts["metric"].append(np.asarray(names, dtype=object)[metric_index])
        parts["value"].append(np.stack([columns[n] for n in names])[metric_index, rows] if names else np.empty(0))
    arrays = []
    for field in METRICS_SCHEMA:
        if not parts[field.name]:  # no run
            arrays.append(pa.array([], field.type))
            continue
        joined = np.concatenate(parts[field.name])
        if pa.types.is_integer(field.type):
            arrays.append(pa.array(np.nan_to_num(joined).astype(np.int64), field.type, mask=np.isnan(joined)))
        else:
            arrays.append(pa.array(joined, field.type))
    return pa.Table.from_arrays(arrays, schema=METRICS_SCHEMA)


def setting_array(values: Sequence[Any]) -> pa.Array:
    """A config or summary column: the one type its values share, else text (see the module docstring)."""
    present = [v for v in values if v is not None]
    kinds = {type(v) for v in present}
    if not present:
        return pa.array(values, pa.string())
    if kinds <= {bool}:
        return pa.array(values, pa.bool_())
    if kinds <= {int} and all(_INT64[0] <= v <= _INT64[1] for v in present):
        return pa.array(values, pa.int64())
    if kinds <= {int, float} and all(isinstance(v, float) or abs(v) < 2**53 for v in present):
        return pa.array([None if v is None else float(v) for v in values], pa.float64())
    return pa.array([None if v is None else v if isinstance(v, str) else _json(v) for v in values], pa.string())


def unique_names(names: Sequence[str]) -> list[str]:
    """``names`` with ``#2``, ``#3``... appended to each that repeats an earlier one but for case."""
    seen: dict[str, int] = {}
    result = []
    for name in names:
        count = seen[name.casefold()] = seen.get(name.casefold(), 0) + 1
        result.append(name if count == 1 else f"{name}#{count}")
    return result


def _best_columns(runs: Runs, ids: Sequence[str], directions: Mapping[str, Direction] | None) -> dict[str, list[Any]]:
    """``best.<metric>``, ``best_at.<metric>`` and ``final.<metric>`` of every metric with a
    direction, by metric name; null where a run has no finite value (or never logged it)."""
    found: dict[str, dict[str, Any]] = {}
    for run_id in ids:
        columns = runs.curves(run_id)
        for curve in get_curves(columns, directions, runs.histories[run_id].nan_rows) if columns else []:
            summary = summarize(curve)
            if summary is None or curve.metric.direction is None:
                continue
            name = curve.metric.name
            for prefix, value in (("best", summary.best), ("best_at", summary.best_at), ("final", summary.last)):
                found.setdefault(f"{prefix}.{name}", {})[run_id] = value
    order = sorted(found, key=lambda column: (column.partition(".")[2], column))
    return {column: [found[column].get(run_id) for run_id in ids] for column in order}


def _fixed_array(name: str, values: list[Any]) -> pa.Array:
    cleaned = [None if _missing(v) else v for v in values]
    if name in _TIMES:
        return pa.array([None if v is None else v.to_pydatetime() for v in cleaned], pa.timestamp("us", tz="UTC"))
    if name == "tags":
        return pa.array([list(v or ()) for v in cleaned], pa.list_(pa.string()))
    if name in _INTS:
        return pa.array(cleaned, pa.int64())
    if name == "duration_s":
        return pa.array(cleaned, pa.float64())
    return pa.array([None if v is None else str(v) for v in cleaned], pa.string())


def _missing(value: Any) -> bool:
    """Whether a frame cell means "no value" (None, NaN, NaT, pandas' NA)."""
    return value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and value != value)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, allow_nan=True, default=str)
