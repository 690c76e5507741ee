"""CSV logs: Lightning's ``CSVLogger`` folders and any CSV with an ``epoch`` or ``step`` column.

A source is a CSV file (one run) or a folder: every ``metrics.csv`` under it is one run (a
``CSVLogger`` writes ``<name>/version_<n>/metrics.csv`` with ``hparams.yaml`` beside it, read
as the config). Rows keep their epoch and step; empty cells are metrics not logged on that row.
A ``time``, ``timestamp`` or ``wall_time`` column (Unix seconds or ISO 8601) gives the times;
without one, the run is placed at the file's modification time. A CSV does not say whether its
run finished: it is imported ``completed``.
"""

from __future__ import annotations

import csv
import io
import itertools
import math
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from rundocs.importers.imported import ImportedRun, Row, source_key
from rundocs.importers.store import Unmapped
from rundocs.load.bounded_yaml import read_yaml
from rundocs.record import fields
from rundocs.record.warn import WarnOnce
from rundocs.safe_files import read_regular

SOURCE = "csv"
MAX_CSV_BYTES = 32 * 1024**2  # about a million rows; parsed rows take ~100x their bytes
_TIME_COLUMNS = ("time", "timestamp", "wall_time")
_INDEX_COLUMNS = ("epoch", "step")


def read_csv_source(location: str) -> Iterator[ImportedRun | Unmapped]:
    """Every run at ``location``: the file itself, or each ``metrics.csv`` in the folder."""
    path = Path(location)
    if path.is_file():
        yield _read_run(path, path.stem, source_key(path))
        return
    if not path.is_dir():
        yield Unmapped(str(path), "no such file or folder")
        return
    files = sorted(path.rglob("metrics.csv"))
    if not files:
        yield Unmapped(str(path), "no metrics.csv in this folder")
    for file in files:
        relative = file.parent.relative_to(path)
        name = relative.as_posix() if relative.parts else path.name
        yield _read_run(file, name, source_key(path, file.relative_to(path).as_posix()))


def _read_run(file: Path, name: str, key: str) -> ImportedRun | Unmapped:
    try:
        text = read_regular(file, MAX_CSV_BYTES).decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        return Unmapped(str(file), f"cannot read: {error}")
    table = csv.reader(io.StringIO(text, newline=""))
    del text
    header = [column.strip() for column in next(table, [])]
    if not header:
        return Unmapped(str(file), "empty file")
    if not set(_INDEX_COLUMNS) & set(header):
        return Unmapped(str(file), f"no epoch or step column (columns: {', '.join(header[:8])})")
    time_column = next((column for column in _TIME_COLUMNS if column in header), None)
    rows, moments = [], []
    for cells in table:
        values = {column: cell for column, cell in zip(header, cells, strict=False) if cell.strip()}
        moment = _moment(values.pop(time_column, None)) if time_column else None
        if moment is not None:
            moments.append(moment)
        epoch, step = (_index(values.pop(column, None)) for column in _INDEX_COLUMNS)
        numbers = {column: number for column, cell in values.items() if (number := _number(cell)) is not None}
        if numbers:
            rows.append((epoch, step, moment, numbers))
    config, problems = read_config_yaml(file.parent / "hparams.yaml")
    if moments and not _wall_clock(moments):
        problems.append(
            f"column {time_column!r} holds no wall-clock times (dates after 2001, never decreasing); not used"
        )
        moments, rows = [], [(epoch, step, None, numbers) for epoch, step, _, numbers in rows]
    if not moments:
        problems.append(NO_TIMES)
    modified = datetime.fromtimestamp(file.stat().st_mtime, UTC)
    started = min(moments, default=modified)
    ended = max(moments, default=modified)
    return ImportedRun(
        source=SOURCE,
        key=key,
        name=name,
        started_at=started,
        ended_at=ended,
        config=config,
        problems=problems,
        rows=[
            Row(numbers, epoch, step, (moment - started).total_seconds() if moment else None)
            for epoch, step, moment, numbers in rows
        ],
    )


#: What an import without times says (kept in the run's warnings, so the page shows it).
NO_TIMES = "the source holds no times: the run is placed at its file's modification time; its duration is unknown"


def _wall_clock(moments: list[datetime]) -> bool:
    """Whether a time column holds moments (a ``time`` column may hold epoch durations)."""
    return moments[0].year > 2000 and all(a <= b for a, b in itertools.pairwise(moments))


def read_config_yaml(path: Path) -> tuple[Any, list[str]]:
    """The config in a YAML file beside a run's metrics (a ``CSVLogger``'s ``hparams.yaml``), and
    why it was not read; None when there is no such file."""
    if not path.is_file():
        return None, []
    try:
        return read_yaml(read_regular(path, 16 * 1024**2).decode()), []
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        return None, [f"{path.name} not read as the config: {str(error).splitlines()[0]}"]


def _index(cell: str | None) -> int | None:
    number = _number(cell) if cell is not None else None
    return int(number) if number is not None and number == int(number) and number >= 0 else None


def _number(cell: str) -> float | None:
    try:
        number = float(cell)
    except ValueError:
        return None
    return number if math.isfinite(number) or cell.strip().lower() in ("nan", "inf", "-inf") else None


def _moment(cell: str | None) -> datetime | None:
    """A time cell as ``Run(started_at=...)`` reads a moment (Unix seconds or ISO 8601); None if not one."""
    return None if cell is None else fields.clean_moment(cell, WarnOnce(quiet=True), "time")
