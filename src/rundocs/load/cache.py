"""Memo of parsed run folders, keyed by the size and mtime of each file, in memory and on disk.

A reload re-reads only the run folders whose files changed; when none changed it costs one
``stat`` per file. The in-process memo serves ``mkdocs serve`` and notebooks. The optional
disk cache serves a new process (``rundocs build`` after one run changed): a JSON index and
one ``.npy`` array of every metric value, read with ``allow_pickle=False``, so a cache file
from anywhere can at worst be wrong, never run code. A cache that cannot be read or written
is ignored.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson

import rundocs
from rundocs.load.metrics import ParsedMetrics, parse_metrics
from rundocs.load.problems import Problem
from rundocs.load.records import RunRecord, make_record, read_record
from rundocs.record.schema import FORMAT, METRICS_FILE, NOTES_FILE, RUN_FILE

Signature = tuple[tuple[int, int] | None, ...]
_CACHE_VERSION = f"{FORMAT};rundocs {rundocs.__version__};cache 4"
_INDEX = "runs.json"
_VALUES = "values.npy"


@dataclass(frozen=True)
class ParsedRun:
    """Everything read from one run folder."""

    signature: Signature
    record: RunRecord | None
    record_data: dict[str, Any] | None
    metrics: ParsedMetrics
    problems: tuple[Problem, ...]


_memo: dict[str, ParsedRun] = {}  # keyed by the folder's path as text: hashing Path objects is slow


def read_run_folder(folder: Path) -> tuple[ParsedRun, bool]:
    """The parsed folder, and whether it had to be read (False: from the memo)."""
    signature = get_signature(folder)
    cached = _memo.get(str(folder))
    if cached is not None and cached.signature == signature:
        return cached, False
    record, data, problems = read_record(folder)
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
    parsed = ParsedRun(signature, record, data, metrics, tuple(problems))
    _memo[str(folder)] = parsed
    return parsed, True


def forget(keep: set[Path], under: Path) -> None:
    """Drop memo entries of folders under ``under`` that no longer exist."""
    parent, kept = str(under), {str(folder) for folder in keep}
    for folder in [f for f in _memo if os.path.dirname(f) == parent and f not in kept]:
        del _memo[folder]


def get_signature(folder: Path) -> Signature:
    base = str(folder)
    return tuple(_stat(os.path.join(base, name)) for name in (RUN_FILE, METRICS_FILE, NOTES_FILE))


def fill_memo_from_disk(cache_dir: Path, root: Path) -> None:
    """Put the disk cache's entries for ``root`` into the memo (the memo still checks signatures)."""
    try:
        index = orjson.loads((cache_dir / _INDEX).read_bytes())
        if index.get("version") != _CACHE_VERSION or index.get("root") != str(root.resolve()):
            return
        values = np.load(cache_dir / _VALUES, allow_pickle=False)
    except (OSError, ValueError):  # orjson.JSONDecodeError is a ValueError
        return
    base = str(root)
    for name, entry in index["runs"].items():
        key = os.path.join(base, name)
        if key in _memo:
            continue
        folder = root / name
        has_notes = entry["signature"][2] is not None
        record = make_record(entry["record"], folder, has_notes=has_notes)
        columns = {key: values[start : start + entry["length"]] for key, start in entry["columns"].items()}
        metrics = ParsedMetrics(columns, entry["length"], entry["first_nonfinite"], tuple(entry["summaries"]))
        problems = tuple(Problem(*problem) for problem in entry["problems"])
        signature = tuple(tuple(item) if item else None for item in entry["signature"])
        _memo[key] = ParsedRun(signature, record, entry["record"], metrics, problems)


def save_memo_to_disk(cache_dir: Path, root: Path, parsed: list[ParsedRun], folders: list[Path]) -> None:
    """Write the readable runs of ``root`` to the disk cache, atomically; failures are ignored."""
    runs: dict[str, Any] = {}
    chunks: list[np.ndarray] = []
    offset = 0
    for folder, item in zip(folders, parsed, strict=True):
        if item.record_data is None:
            continue
        columns = {}
        for key, values in item.metrics.columns.items():
            columns[key] = offset
            chunks.append(values)
            offset += values.size
        runs[folder.name] = {
            "signature": item.signature,
            "record": item.record_data,
            "length": item.metrics.length,
            "columns": columns,
            "first_nonfinite": item.metrics.first_nonfinite,
            "summaries": item.metrics.summaries(),
            "problems": [[p.path, p.line, p.message] for p in item.problems],
        }
    index = {"version": _CACHE_VERSION, "root": str(root.resolve()), "runs": runs}
    values = np.concatenate(chunks) if chunks else np.empty(0)
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        _replace(cache_dir / _VALUES, lambda file: np.save(file, values, allow_pickle=False))
        _replace(cache_dir / _INDEX, lambda file: file.write(orjson.dumps(index)))
    except OSError:
        return


def _replace(target: Path, write: Any) -> None:
    descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(descriptor, "wb") as file:
            write(file)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _stat(path: str) -> tuple[int, int] | None:
    try:
        result = os.stat(path)
    except OSError:
        return None
    return (result.st_mtime_ns, result.st_size)
