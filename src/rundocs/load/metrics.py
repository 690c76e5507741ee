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
    """``parse_metrics`` of an open file, read a piece at a time, and a hash of every byte read
    (the torn last line included)."""
    content = hashlib.blake2b(digest_size=16)

    def blocks() -> Iterator[bytes]:
        while block := file.read(PIECE_BYTES):
            content.update(block)
            yield block

    parsed, problems = parse_metrics(blocks(), path)
    return parsed, problems, content.digest()


def parse_metrics(
    source: bytes | Iterable[bytes], path: str, piece_bytes: int = PIECE_BYTES
) -> tuple[ParsedMetrics, list[Problem]]:
    """Columns of one metrics file, given whole or as successive blocks of it. A last line
    without its newline is a write in progress (or cut by a crash) and is skipped silently."""
    blocks = _blocks(source, piece_bytes) if isinstance(source, bytes) else source
    parts: list[tuple[int, ParsedMetrics]] = []
    problems: list[Problem] = []
    length = lines = 0
    for piece in _pieces(blocks, piece_bytes):
        parsed, piece_problems = _parse_piece(piece, path, lines)
        parts.append((length, parsed))
        problems += piece_problems
        length += parsed.length
        lines += piece.count(b"\n")
    if len(parts) == 1:
        return parts[0][1], problems
    return _join(parts, length), problems


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


def _join(parts: list[tuple[int, ParsedMetrics]], length: int) -> ParsedMetrics:
    """One run's columns from its pieces' (each at its first row), filled one column at a time,
    each piece's own column let go once copied: the peak is the columns and one more, as long
    as no piece column is a view that keeps a larger array alive."""
    offsets: dict[str, list[tuple[int, np.ndarray]]] = {}
    nan_parts: dict[str, list[np.ndarray]] = {}
    first_nonfinite: dict[str, int] = {}
    for start, part in parts:
        for key, values in part.columns.items():
            offsets.setdefault(key, []).append((start, values))
        for key, rows in part.nan_rows.items():
            nan_parts.setdefault(key, []).append(rows + start)
        for key, row in part.first_nonfinite.items():
            first_nonfinite.setdefault(key, start + row)
    parts.clear()
    columns: Columns = {}
    for key in list(offsets):
        column = columns[key] = np.full(length, np.nan)
        for start, values in offsets.pop(key):
            column[start : start + values.size] = values
    nan_rows = {key: np.concatenate(rows) for key, rows in nan_parts.items()}
    return ParsedMetrics(columns, length, first_nonfinite, nan_rows=nan_rows)


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
    columns = {key: matrix[:, index].copy() for index, key in enumerate(keys)}  # each its own: see _join
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
