"""Memo of parsed run folders, keyed by the size and mtime of each file, in memory and on disk.

A folder's signature (what its pages' keys hold) is those stats and a hash of its files' bytes,
taken when it was read.

A reload re-reads only the run folders whose files changed; when none changed it costs one
``stat`` per file. The in-process memo serves ``mkdocs serve`` and notebooks. The optional
disk cache serves a new process (``rundocs build`` after one run changed): a JSON index and
one ``.npy`` array of every metric value, read with ``allow_pickle=False``, so a cache file
from anywhere can at worst be wrong, never run code. A cache that cannot be read or written
is ignored, and so is one written by other code (its version holds ``code_fingerprint()``).

A folder whose files changed less than ``RACY_NS`` before they were read is not trusted by
size and mtime: a second change within the same mtime tick would look like none. It is read
again next time, and not saved to disk, until its files have settled; its pages are rendered
again only if the hash changed.

The values file is memory-mapped, so a rebuild reads only the curves it draws again. Each
save writes a values file under a new name that the index then points to, and removes the one
the replaced index named: a file still mapped by another process (or, on Windows, by this one)
is never overwritten in place.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import orjson

from rundocs.atomic import replace_file
from rundocs.fingerprint import code_fingerprint
from rundocs.format.schema import FORMAT, METRICS_FILE, NOTES_FILE, RUN_FILE
from rundocs.load.metrics import ParsedMetrics, read_metrics
from rundocs.load.problems import Problem
from rundocs.load.records import RunRecord, make_record, parse_record, read_record_files
from rundocs.safe_files import (
    MAX_METRICS_BYTES,
    RACY_NS,
    UnreadableFile,
    open_input,
    read_regular,
    require_regular,
    trust_symlinks,
)

Signature = tuple[tuple[int, int] | None, ...]
_FILES = (RUN_FILE, METRICS_FILE, NOTES_FILE)
_INDEX = "runs.json"
_VALUES_FILE = re.compile(r"values-[A-Za-z0-9_]+\.npy")  # as tempfile.mkstemp names them
_OLD_VALUES_FILE = "values.npy"  # the single values file of caches before version 5
_values_files: dict[str, str] = {}  # cache folder -> the values file its index named when last read or written


@dataclass(frozen=True)
class ParsedRun:
    """Everything read from one run folder."""

    signature: Signature
    record: RunRecord | None
    record_data: dict[str, Any] | None
    metrics: ParsedMetrics
    problems: tuple[Problem, ...]
    #: Whether its files had settled when read (see ``_settled``); only such entries are served again.
    settled: bool = True


_memo: dict[str, ParsedRun] = {}  # keyed by the folder's path as text: hashing Path objects is slow


def read_run_folder(root: Path, name: str) -> tuple[ParsedRun, bool]:
    """The parsed folder ``root/name``, and whether it had to be read (False: from the memo)."""
    key = f"{root}{os.sep}{name}"
    read_at = time.time_ns()
    stats = get_signature(key)
    cached = _memo.get(key)
    if cached is not None and cached.settled and cached.signature[:-1] == stats:
        return cached, False
    folder = root / name
    path = folder / METRICS_FILE
    metrics, hashed, metrics_problems = _read_metrics(path)  # read first: the signature is never newer
    files = read_record_files(folder)
    signature = (*stats, _digest((files.run, hashed, files.notes)))
    record, data, problems = parse_record(folder, files)
    if record is None:
        metrics = ParsedMetrics({}, 0)
    else:
        problems += metrics_problems
    parsed = ParsedRun(signature, record, data, metrics, tuple(problems), _settled(stats, read_at))
    _memo[key] = parsed
    return parsed, True


def _read_metrics(path: Path) -> tuple[ParsedMetrics, bytes, list[Problem]]:
    """The metrics file parsed as it is read, a piece at a time (memory: its columns), the hash of
    its bytes, and its problems; nothing for a missing file."""
    try:
        file = open_input(path, MAX_METRICS_BYTES)
        if file is None:
            return ParsedMetrics({}, 0), b"", []
        with file:
            metrics, problems, hashed = read_metrics(file, str(path))
    except UnreadableFile as error:
        return ParsedMetrics({}, 0), b"", [Problem(str(path), None, str(error))]
    except OSError as error:
        return ParsedMetrics({}, 0), b"", [Problem(str(path), None, f"cannot read: {error.strerror or error}")]
    return metrics, hashed, problems


def _digest(contents: tuple[bytes | None, ...]) -> tuple[int, int]:
    """A hash of the folder's files (in ``_FILES`` order; the metrics file by its own hash, as it
    is read a piece at a time) as two whole numbers, the last item of its signature."""
    content = hashlib.blake2b(digest_size=16)
    for data in contents:
        data = data or b""
        content.update(b"%d\n" % len(data))
        content.update(data)  # apart: joined, a metrics file would be copied
    digest = content.digest()
    return (int.from_bytes(digest[:8]), int.from_bytes(digest[8:]))


def _settled(stats: Signature, read_at: int) -> bool:
    """Whether every file was last changed so long before ``read_at`` that any later change
    gives it another mtime. Otherwise the memo and the disk cache do not serve the folder by
    its size and mtime: it is read again next time (its pages are rendered again only when the
    content hash in its signature changed)."""
    return all(stat is None or stat[0] < read_at - RACY_NS for stat in stats)


def forget(root: Path, names: list[str]) -> None:
    """Drop memo entries of folders under ``root`` that no longer exist."""
    parent, kept = str(root), {f"{root}{os.sep}{name}" for name in names}
    for key in [k for k in _memo if k not in kept and os.path.dirname(k) == parent]:
        del _memo[key]


def get_signature(folder: str) -> Signature:
    base = f"{folder}{os.sep}"
    return tuple(_stat(base + name) for name in _FILES)


def fill_memo_from_disk(cache_dir: Path, root: Path) -> None:
    """Put the disk cache's entries for ``root`` into the memo (the memo still checks signatures).

    A cache that does not have the expected shape is ignored as a whole.
    """
    try:
        index = orjson.loads(read_regular(cache_dir / _INDEX))
        if index.get("version") != _cache_version() or index.get("root") != str(root.resolve()):
            return
        name = index["values"]
        if not (isinstance(name, str) and _VALUES_FILE.fullmatch(name)):
            return
        require_regular(cache_dir / name)
        values = np.asarray(np.load(cache_dir / name, mmap_mode="r", allow_pickle=False))
        if values.dtype != np.float64 or values.ndim != 1:
            return
        entries = _entries_from_index(index["runs"], values, root)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):  # orjson.JSONDecodeError is a ValueError
        return
    _memo.update(entries)
    _values_files[str(cache_dir)] = name


def _entries_from_index(runs: dict[str, Any], values: np.ndarray, root: Path) -> dict[str, ParsedRun]:
    """The memo entries the index describes; ``ValueError`` for any number out of its range."""
    base, entries = str(root), {}
    for name, entry in runs.items():
        key = f"{base}{os.sep}{name}"
        if key in _memo:
            continue
        signature = tuple(None if item is None else (int(item[0]), int(item[1])) for item in entry["signature"])
        if len(signature) != len(_FILES) + 1 or signature[-1] is None:
            raise ValueError(f"signature of {name!r} is not {len(_FILES)} stats and a hash")
        length, starts, nonfinite = entry["length"], entry["columns"], entry["first_nonfinite"]
        metrics_size = signature[1][1] if signature[1] else 0
        _check_range(length, 0, metrics_size // 3)  # each line has at least 3 bytes: {}\n
        for start in starts.values():
            _check_range(start, 0, values.size - length)
        for row in nonfinite.values():
            _check_range(row, 0, length - 1)
        nan_rows = {
            key: _rows_from_values(values, start, count, length) for key, (start, count) in entry["nan_rows"].items()
        }
        last_epoch, last_time, median_gap = (None if x is None else float(x) for x in entry["summaries"])
        folder = root / name
        record = make_record(entry["record"], folder, has_notes=signature[2] is not None)
        columns = {key: values[start : start + length] for key, start in starts.items()}
        metrics = ParsedMetrics(columns, length, nonfinite, (last_epoch, last_time, median_gap), nan_rows)
        problems = tuple(Problem(str(path), line, str(message)) for path, line, message in entry["problems"])
        entries[key] = ParsedRun(signature, record, entry["record"], metrics, problems)
    return entries


def _rows_from_values(values: np.ndarray, start: int, count: int, length: int) -> np.ndarray:
    """Row numbers kept as floats in the values file: ascending whole numbers below ``length``."""
    _check_range(count, 1, length)
    _check_range(start, 0, values.size - count)
    kept = values[start : start + count]
    rows = kept.astype(np.int64)
    if not ((rows == kept).all() and rows[0] >= 0 and rows[-1] < length and (np.diff(rows) > 0).all()):
        raise ValueError(f"rows at {start} are not ascending row numbers below {length}")
    return rows


def _cache_version() -> str:
    """What a disk cache must have been written by: this format and this code."""
    return f"{FORMAT};code {code_fingerprint()};cache 7"


def _check_range(value: Any, low: int, high: int) -> None:
    if type(value) is not int or not low <= value <= high:
        raise ValueError(f"{value!r} is not a whole number from {low} to {high}")


def save_memo_to_disk(cache_dir: Path, root: Path, parsed: list[ParsedRun], names: list[str]) -> None:
    """Write the readable runs of ``root`` to the disk cache, atomically; failures are ignored."""
    runs: dict[str, Any] = {}
    chunks: list[np.ndarray] = []
    offset = 0
    for name, item in zip(names, parsed, strict=True):
        if item.record_data is None or not item.settled:
            continue
        columns, nan_rows = {}, {}
        for key, values in item.metrics.columns.items():
            columns[key] = offset
            chunks.append(values)
            offset += values.size
        for key, rows in item.metrics.nan_rows.items():
            nan_rows[key] = (offset, rows.size)
            chunks.append(rows)  # as floats in the file: whole numbers below 2**53 are exact
            offset += rows.size
        runs[name] = {
            "signature": item.signature,
            "record": item.record_data,
            "length": item.metrics.length,
            "columns": columns,
            "first_nonfinite": item.metrics.first_nonfinite,
            "nan_rows": nan_rows,
            "summaries": item.metrics.summaries(),
            "problems": [[p.path, p.line, p.message] for p in item.problems],
        }
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        descriptor, values_path = tempfile.mkstemp(dir=cache_dir, prefix="values-", suffix=".npy")
    except OSError:
        return
    values_name = os.path.basename(values_path)
    try:
        with os.fdopen(descriptor, "wb") as file:
            _save_values(file, chunks, offset)
        index = {"version": _cache_version(), "root": str(root.resolve()), "values": values_name, "runs": runs}
        replace_file(cache_dir / _INDEX, orjson.dumps(index), durable=False)
    except OSError:
        Path(values_path).unlink(missing_ok=True)
        return
    _remove_old_values(cache_dir, previous=_values_files.get(str(cache_dir)))
    _values_files[str(cache_dir)] = values_name


def _save_values(file: BinaryIO, chunks: list[np.ndarray], size: int) -> None:
    """What ``np.save`` writes for the chunks joined, without holding them joined in memory."""
    header = {"descr": np.lib.format.dtype_to_descr(np.dtype("<f8")), "fortran_order": False, "shape": (size,)}
    np.lib.format.write_array_header_1_0(file, header)
    for chunk in chunks:
        file.write(np.ascontiguousarray(chunk, dtype="<f8").data)


def _remove_old_values(cache_dir: Path, previous: str | None) -> None:
    """Remove the values file the replaced index named, and any left by a crashed or concurrent
    save more than an hour ago (a newer one may be what another build's index is about to name)."""
    stale = time.time() - 3600
    for path in cache_dir.iterdir():
        if not _VALUES_FILE.fullmatch(path.name) and path.name != _OLD_VALUES_FILE:
            continue
        with contextlib.suppress(OSError):  # on Windows while still mapped: removed by a later save
            if path.name in (previous, _OLD_VALUES_FILE) or path.lstat().st_mtime < stale:
                path.unlink()


def _stat(path: str) -> tuple[int, int] | None:
    """Size and mtime of a file of a run folder: of the symlink itself, unless they are followed."""
    try:
        result = os.stat(path, follow_symlinks=trust_symlinks())
    except OSError:
        return None
    return (result.st_mtime_ns, result.st_size)
