"""Parse one ``metrics.jsonl`` into float columns, fast, validating every line.

The fast path parses the whole file with one ``json.loads`` call and converts each key to a
float array at C speed (numpy turns "NaN", "Infinity", "-Infinity" into floats). It is
only trusted when nothing the schema forbids can hide in it: a file with ``true``,
``false`` or ``null`` anywhere, a value numpy cannot convert, or a line that does not parse
goes through the slow path, which checks each line against the JSON Schema and drops, with
a problem, every line that breaks it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import orjson

from rundocs.format.decode import MAX_COUNT, MAX_SECONDS, TooLarge, parse_json
from rundocs.format.schema import NON_FINITE, STEP_KEYS
from rundocs.format.validate import check_metrics_line
from rundocs.load.problems import Problem

Columns = dict[str, np.ndarray]


class ParsedMetrics:
    """The metric history of one run as equal-length float64 columns.

    A metric missing from a line and a metric logged as NaN are both NaN in ``columns``;
    ``first_nonfinite`` keeps the difference: the row where each metric was first logged
    as NaN or an infinity.
    """

    __slots__ = ("columns", "first_nonfinite", "last_epoch", "last_time", "length", "median_gap")

    def __init__(
        self,
        columns: Columns,
        length: int,
        first_nonfinite: dict[str, int] | None = None,
        summaries: tuple[float | None, float | None, float | None] | None = None,
    ) -> None:
        self.columns = columns
        self.length = length
        self.first_nonfinite = first_nonfinite or {}
        # What the runs frame shows for every run: computed once here, then kept in the cache.
        self.last_epoch, self.last_time, self.median_gap = summaries or _summarize(columns)

    def summaries(self) -> tuple[float | None, float | None, float | None]:
        return (self.last_epoch, self.last_time, self.median_gap)


def _summarize(columns: Columns) -> tuple[float | None, float | None, float | None]:
    times = columns.get("time")
    gaps = np.diff(times[np.isfinite(times)]) if times is not None else np.empty(0)
    median_gap = float(np.median(gaps)) if gaps.size else None
    return _last_finite(columns.get("epoch")), _last_finite(times), median_gap


def _last_finite(values: np.ndarray | None) -> float | None:
    if values is None:
        return None
    finite = values[np.isfinite(values)]
    return float(finite.max()) if finite.size else None


def parse_metrics(raw: bytes, path: str) -> tuple[ParsedMetrics, list[Problem]]:
    """Columns of one metrics file. A last line without its newline is a write in progress
    (or cut by a crash) and is skipped silently."""
    end = raw.rfind(b"\n") + 1
    body = raw[:end]
    if not body.strip():
        return ParsedMetrics({}, 0), []
    if b"true" not in body and b"false" not in body and b"null" not in body:
        try:
            rows = orjson.loads(b"[" + body.rstrip(b"\n").replace(b"\n", b",") + b"]")
        except orjson.JSONDecodeError:
            rows = None
        if rows is not None:
            parsed = _uniform_columns(rows, body) or _to_columns(rows)
            if parsed is not None:
                return parsed, []
    return _parse_line_by_line(body, path)


def _uniform_columns(rows: list[Any], body: bytes) -> ParsedMetrics | None:
    """One numpy call for the common file: every line has the same keys in the same order and
    holds numbers only (its quote count is exactly that of its keys). None: take the general path."""
    if not rows or type(rows[0]) is not dict:
        return None
    keys = tuple(rows[0])
    if body.count(b'"') != 2 * len(keys) * len(rows) or not all(type(r) is dict and tuple(r) == keys for r in rows):
        return None
    try:
        matrix = np.array([tuple(row.values()) for row in rows], dtype=np.float64)
    except (TypeError, ValueError):
        return None
    if matrix.ndim != 2:
        return None
    columns = dict(zip(keys, matrix.T.copy(), strict=True))
    if not all(_valid_step_values(key, columns[key]) for key in STEP_KEYS if key in columns):
        return None
    return ParsedMetrics(columns, len(rows))


def _to_columns(rows: list[Any]) -> ParsedMetrics | None:
    """Float columns of rows that all passed the fast checks, or None to take the slow path."""
    keys: dict[str, None] = {}
    for row in rows:
        if type(row) is not dict:
            return None
        keys.update(dict.fromkeys(row))
    columns: Columns = {}
    first_nonfinite: dict[str, int] = {}
    for key in keys:
        raw = [row.get(key) for row in rows]
        if str in map(type, raw) and (key in STEP_KEYS or not _only_non_finite_names(raw)):
            return None  # numpy also reads "nan", "inf", " 1.5": the schema allows three exact names
        try:
            values = np.array(raw, dtype=np.float64)
        except (TypeError, ValueError):
            return None
        if values.ndim != 1 or (key in STEP_KEYS and not _valid_step_values(key, values)):
            return None
        columns[key] = values
        nonfinite = ~np.isfinite(values)
        if nonfinite.sum() > raw.count(None):  # some non-finite value was logged, not just missing
            first_nonfinite[key] = next(i for i, value in enumerate(raw) if value is not None and nonfinite[i])
    return ParsedMetrics(columns, len(rows), first_nonfinite)


def _only_non_finite_names(values: list[Any]) -> bool:
    return {value for value in values if type(value) is str} <= NON_FINITE.keys()


def _valid_step_values(key: str, values: np.ndarray) -> bool:
    present = values[~np.isnan(values)]
    if not np.isfinite(present).all() or (present < 0).any() or (present > _LIMITS[key]).any():
        return False
    return key == "time" or bool((present == np.floor(present)).all())


#: The largest ``epoch``, ``step`` and ``time`` a line may hold, as the schema says.
_LIMITS = {"epoch": MAX_COUNT, "step": MAX_COUNT, "time": MAX_SECONDS}


def _too_large(row: Any) -> list[str]:
    """Metrics of a line whose number overflows a double (``1e400``): each is skipped alone."""
    if type(row) is not dict:
        return []
    return [key for key, value in row.items() if type(value) is TooLarge and key not in STEP_KEYS]


def _parse_line_by_line(body: bytes, path: str) -> tuple[ParsedMetrics, list[Problem]]:
    rows: list[dict[str, Any]] = []
    problems: list[Problem] = []
    for number, line in enumerate(body.split(b"\n"), start=1):
        if not line.strip():
            continue  # blank lines end fragments left by failed writes
        try:
            row = parse_json(line)
        except orjson.JSONDecodeError as error:
            problems.append(Problem(path, number, f"invalid JSON ({error.msg}); line skipped"))
            continue
        for key in _too_large(row):
            problems.append(Problem(path, number, f"field {key!r}: too large for a double; value skipped"))
            del row[key]
        message = check_metrics_line(row)
        if message is not None:
            problems.append(Problem(path, number, f"{message}; line skipped"))
            continue
        rows.append(row)
    parsed = _to_columns(rows)
    assert parsed is not None, "rows that passed the schema convert to floats"
    return parsed, problems
