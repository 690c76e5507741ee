"""Per-run memo of parsed folders, keyed by the size and mtime of each file.

A reload re-reads only the run folders whose files changed; when none changed it costs one
``stat`` per file. The memo lives in the process (``mkdocs serve``, notebooks, the build).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from rundocs.load.metrics import ParsedMetrics, parse_metrics
from rundocs.load.problems import Problem
from rundocs.load.records import RunRecord, read_record
from rundocs.record.schema import METRICS_FILE, NOTES_FILE, RUN_FILE

Signature = tuple[tuple[int, int] | None, ...]


@dataclass(frozen=True)
class ParsedRun:
    """Everything read from one run folder."""

    signature: Signature
    record: RunRecord | None
    metrics: ParsedMetrics
    problems: tuple[Problem, ...]


_memo: dict[Path, ParsedRun] = {}


def read_run_folder(folder: Path) -> ParsedRun:
    """The parsed folder, from the memo when none of its files changed."""
    signature = _signature(folder)
    cached = _memo.get(folder)
    if cached is not None and cached.signature == signature:
        return cached
    record, problems = read_record(folder)
    metrics = ParsedMetrics({}, 0)
    if record is not None:
        path = folder / METRICS_FILE
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raw = b""
        except OSError as error:
            raw = b""
            problems.append(Problem(str(path), None, f"cannot read: {error}"))
        metrics, metric_problems = parse_metrics(raw, str(path))
        problems.extend(metric_problems)
    parsed = ParsedRun(signature, record, metrics, tuple(problems))
    _memo[folder] = parsed
    return parsed


def forget(keep: set[Path], under: Path) -> None:
    """Drop memo entries of folders under ``under`` that no longer exist."""
    for folder in [f for f in _memo if f.parent == under and f not in keep]:
        del _memo[folder]


def _signature(folder: Path) -> Signature:
    return tuple(_stat(folder / name) for name in (RUN_FILE, METRICS_FILE, NOTES_FILE))


def _stat(path: Path) -> tuple[int, int] | None:
    try:
        result = os.stat(path)
    except OSError:
        return None
    return (result.st_mtime_ns, result.st_size)
