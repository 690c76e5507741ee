"""Parse one ``metrics.jsonl`` into float columns, fast, validating every line.

The file is parsed a piece of about ``PIECE_BYTES`` at a time (whole lines each), so what a
long file costs is its float columns (8 bytes a value) and one piece, never the whole text or
a Python object per line of it. Each piece takes one of two paths.

The fast path parses the piece with one ``json.loads`` call and converts each key to a float
array at C speed (numpy turns "NaN", "Infinity", "-Infinity" into floats). It is only trusted
when nothing the schema forbids can hide in it: a piece with ``true``, ``false`` or ``null``
anywhere, a value numpy cannot convert, or a line that does not parse goes through the slow
path, which checks each line against the JSON Schema and drops, with a problem, every line
that breaks it. Both give the same columns for the lines they keep, so where the pieces are
cut never changes a number.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator
from typing import Any, BinaryIO

import numpy as np
import orjson

from rundocs.format.decode import MAX_COUNT, MAX_SECONDS, TooLarge, parse_json
from rundocs.format.schema import NON_FINITE, STEP_KEYS
from rundocs.format.validate import check_metrics_line
from rundocs.load.problems import Problem

Columns = dict[str, np.ndarray]
#: Bytes of the file parsed at once: a piece's Python objects are what parsing costs beyond the columns.
PIECE_BYTES = 4 * 2**20


class ParsedMetrics:
    """The metric history of one run as equal-length float64 columns.

    A metric missing from a line and a metric logged as NaN are both NaN in ``columns``;
    ``nan_rows`` keeps the difference: for each metric logged as NaN on some line, the rows
    (0-based, ascending) where it was, and for no other metric. ``first_nonfinite`` is the row
    where each metric was first logged as NaN or an infinity: the first of its ``nan_rows`` or
    the first infinity in its column, whichever comes first (kept, not scanned for again).
    """

    __slots__ = ("columns", "first_nonfinite", "last_epoch", "last_time", "length", "median_gap", "nan_rows")

    def __init__(
        self,
        columns: Columns,
        length: int,
        first_nonfinite: dict[str, int] | None = None,
        summaries: tuple[float | None, float | None, float | None] | None = None,
        nan_rows: dict[str, np.ndarray] | None = None,
    ) -> None:
        self.columns = columns
        self.length = length
        self.first_nonfinite = first_nonfinite or {}
        self.nan_rows = nan_rows or {}
        # What the runs frame shows for every run: computed once here, then kept in the cache.
        self.last_epoch, self.last_time, self.median_gap = summaries or _summarize(columns)

    def summaries(self) -> tuple[float | None, float | None, float | None]:
        return (self.last_epoch, self.last_time, self.median_gap)

    def logged(self, metric: str) -> np.ndarray:
        """The rows that logged ``metric`` (``logged_rows``); none for a metric it never logged."""
        values = self.columns.get(metric)
        if values is None:
            return np.zeros(self.length, dtype=bool)
        return logged_rows(values, self.nan_rows.get(metric))


def logged_rows(values: np.ndarray, nan_rows: np.ndarray | None) -> np.ndarray:
    """Which rows of a metric's column carry a logged value: a number, an infinity, or a NaN
    the line wrote (``nan_rows``); a row where the line left the metric out is the only False."""
    logged: np.ndarray = ~np.isnan(values)
    if nan_rows is not None and nan_rows.size:
        logged[nan_rows] = True
    return logged


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


def read_metrics(file: BinaryIO, path: str) -> tuple[ParsedMetrics, list[Problem], bytes]:
    """``parse_metrics`` of an open file as long as it is now, read a piece at a time, and a
    hash of every byte read (the torn last line included)."""
    blocks = _FileBlocks(file)
    parsed, problems = parse_metrics(blocks, path)
    return parsed, problems, blocks.content.digest()


class _FileBlocks:
    """The bytes an open file holds when this is made, as blocks of a piece, hashed as read.

    A file longer than a piece is read twice: first to count its lines (``lines``), so that
    each column is allocated once at its full length and each piece is copied into it and let go.
    """

    def __init__(self, file: BinaryIO) -> None:
        self.file = file
        self.size = os.fstat(file.fileno()).st_size
        self.content = hashlib.blake2b(digest_size=16)
        self.lines: int | None = None
        if self.size > PIECE_BYTES:
            self.lines = sum(block.count(b"\n") for block in self._read())
            file.seek(0)

    def __iter__(self) -> Iterator[bytes]:
        for block in self._read():
            self.content.update(block)
            yield block

    def _read(self) -> Iterator[bytes]:
        left = self.size
        while left > 0 and (block := self.file.read(min(PIECE_BYTES, left))):
            left -= len(block)
            yield block


def parse_metrics(
    source: bytes | Iterable[bytes], path: str, piece_bytes: int = PIECE_BYTES
) -> tuple[ParsedMetrics, list[Problem]]:
    """Columns of one metrics file, given whole or as successive blocks of it. A last line
    without its newline is a write in progress (or cut by a crash) and is skipped silently."""
    lines = source.lines if isinstance(source, _FileBlocks) else None
    if isinstance(source, bytes):
        lines, source = source.count(b"\n"), _blocks(source, piece_bytes)
    joined = _Joined(lines or 0)
    problems: list[Problem] = []
    read = 0
    for piece in _pieces(source, piece_bytes):
        parsed, piece_problems = _parse_piece(piece, path, read)
        joined.add(parsed)
        problems += piece_problems
        read += piece.count(b"\n")
    return joined.finish(), problems


def _blocks(raw: bytes, size: int) -> Iterator[bytes]:
    return (raw[start : start + size] for start in range(0, len(raw), size))


def _pieces(blocks: Iterable[bytes], size: int) -> Iterator[bytes]:
    """The complete lines of ``blocks``, in pieces of at least ``size`` bytes (but the last) that
    each end in a newline; a last line without its newline is left out."""
    pending = bytearray()
    for block in blocks:
        pending += block
        if len(pending) >= size:
            end = pending.rfind(b"\n") + 1
            if end:
                yield bytes(pending[:end])
                del pending[:end]
    end = pending.rfind(b"\n") + 1
    if end:
        yield bytes(pending[:end])


class _Joined:
    """A run's columns, filled a piece at a time: each column is allocated once, at the length
    the file's line count allows (grown if the count fell short), and a piece is let go once
    copied. A file of one piece keeps that piece's columns as they are."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.length = 0
        self.pieces = 0
        self.held: ParsedMetrics | None = None
        self.columns: Columns = {}
        self.nan_rows: dict[str, list[np.ndarray]] = {}
        self.first_nonfinite: dict[str, int] = {}

    def add(self, part: ParsedMetrics) -> None:
        self.pieces += 1
        if self.pieces == 1:
            self.held = part
            return
        if self.held is not None:
            held, self.held = self.held, None
            self._copy(held)
        self._copy(part)

    def finish(self) -> ParsedMetrics:
        if self.pieces <= 1:
            return self.held or ParsedMetrics({}, 0)
        columns = {key: values[: self.length] for key, values in self.columns.items()}
        nan_rows = {key: np.concatenate(rows) for key, rows in self.nan_rows.items()}
        return ParsedMetrics(columns, self.length, self.first_nonfinite, nan_rows=nan_rows)

    def _copy(self, part: ParsedMetrics) -> None:
        start, end = self.length, self.length + part.length
        if end > self.capacity:
            self._grow(max(end, self.capacity + self.capacity // 4))
        for key, values in part.columns.items():
            column = self.columns.get(key)
            if column is None:
                column = self.columns[key] = np.full(self.capacity, np.nan)
            column[start:end] = values
        for key, rows in part.nan_rows.items():
            self.nan_rows.setdefault(key, []).append(rows + start)
        for key, row in part.first_nonfinite.items():
            self.first_nonfinite.setdefault(key, start + row)
        self.length = end

    def _grow(self, capacity: int) -> None:
        for key, values in self.columns.items():
            self.columns[key] = np.full(capacity, np.nan)
            self.columns[key][: self.length] = values[: self.length]
        self.capacity = capacity


def _parse_piece(body: bytes, path: str, lines_before: int) -> tuple[ParsedMetrics, list[Problem]]:
    """Columns of whole lines that follow ``lines_before`` lines of the file."""
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
    return _parse_line_by_line(body, path, lines_before)


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
    nan_rows: dict[str, np.ndarray] = {}
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
            logged = nonfinite & np.array([value is not None for value in raw])
            first_nonfinite[key] = int(np.argmax(logged))
            nan = np.flatnonzero(logged & np.isnan(values))
            if nan.size:
                nan_rows[key] = nan
    return ParsedMetrics(columns, len(rows), first_nonfinite, nan_rows=nan_rows)


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


def _parse_line_by_line(body: bytes, path: str, lines_before: int) -> tuple[ParsedMetrics, list[Problem]]:
    rows: list[dict[str, Any]] = []
    problems: list[Problem] = []
    for number, line in enumerate(body.split(b"\n"), start=lines_before + 1):
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
