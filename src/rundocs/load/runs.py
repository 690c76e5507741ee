"""``load_runs``: a runs folder into typed records, two pandas frames and a list of problems."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rundocs.analyse.state import derive_states
from rundocs.env import DEFAULT_CACHE
from rundocs.exceptions import RunFormatError
from rundocs.format.decode import RUN_ID_RULE, is_run_id
from rundocs.load.cache import ParsedRun, Signature, fill_memo_from_disk, forget, read_run_folder, save_memo_to_disk
from rundocs.load.frames import make_metrics_frame, make_runs_frame
from rundocs.load.metrics import ParsedMetrics
from rundocs.load.problems import Problem
from rundocs.load.records import RunRecord, Unreadable, peek_unreadable
from rundocs.safe_files import SYMLINK_REFUSED, trust_symlinks
from rundocs.store.locations import is_url

#: Rewriting the disk cache costs about as much as re-reading this many changed folders, so a
#: build that re-read fewer (of a large folder) leaves the cache as it is; they are re-read next time.
_RESAVE_AFTER = 20

#: A running run silent for longer than this (and than 3 of its usual gaps) is stalled.
DEFAULT_STALLED_AFTER = timedelta(minutes=10)


@dataclass
class Runs:
    """A loaded runs folder.

    Attributes:
        records: Every readable run, by id, in start time order.
        runs: One row per run; see ``rundocs.load.frames`` for the columns. ``state`` is
            the derived state: ``status``, or ``stalled`` for a silent running run.
        metrics: The metric history, one row per logged line (built on first use).
        problems: Every format problem found, with file and line; the runs they concern
            are left out (a bad metrics line drops that line only).
        root: The runs folder that was read.
        signatures: Per run, the size and mtime of its files: what a page built from it depends on.
        now: The moment the states were judged at.
        unreadable: Folder name to what can be told of each run folder left out (its problems
            are in ``problems``), for the pages that expected it.
    """

    records: dict[str, RunRecord]
    runs: pd.DataFrame
    histories: dict[str, ParsedMetrics] = field(repr=False)
    problems: list[Problem] = field(default_factory=list)
    root: Path = Path("runs")
    signatures: dict[str, Signature] = field(default_factory=dict)
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    unreadable: dict[str, Unreadable] = field(default_factory=dict)
    _curves: dict[str, dict[str, np.ndarray]] = field(default_factory=dict, init=False, repr=False)

    @cached_property
    def metrics(self) -> pd.DataFrame:
        return make_metrics_frame(list(self.records), self.histories)

    @cached_property
    def states(self) -> dict[str, str]:
        """Run id to its derived state (the ``state`` column of ``runs``)."""
        return dict(zip(self.runs.index, self.runs["state"].tolist(), strict=True)) if not self.runs.empty else {}

    def history(self, run_id: str) -> pd.DataFrame:
        """The metric history of one run, without columns it never logged (logged NaN stays)."""
        rows = self.metrics[self.metrics["run_id"] == run_id]
        nonfinite: Any = self.runs.at[run_id, "nonfinite"]
        logged_nan = set(nonfinite)
        keep = [c for c in rows.columns if c == "run_id" or c in logged_nan or rows[c].notna().any()]
        return rows[keep].reset_index(drop=True)

    def rows(self, *columns: str, ids: Sequence[str] | None = None) -> dict[str, dict[str, Any]]:
        """Run id to the given columns of ``runs``, for ``ids`` or every run (much faster than
        ``to_dict("index")``)."""
        if self.runs.empty:
            return {}
        frame = self.runs if ids is None else self.runs.loc[list(ids)]
        values = zip(*(frame[column].tolist() for column in columns), strict=True)
        return {run_id: dict(zip(columns, row, strict=True)) for run_id, row in zip(frame.index, values, strict=True)}

    def curves(self, run_id: str) -> dict[str, np.ndarray]:
        """One run's columns as float arrays (epoch and step included), without those it never
        logged (a metric logged only as NaN stays).

        The result is shared between callers (pages and reports ask for the same run again).
        """
        found = self._curves.get(run_id)
        if found is None:
            history = self.histories[run_id]
            found = self._curves[run_id] = {
                k: v for k, v in history.columns.items() if k in history.nan_rows or not np.isnan(v).all()
            }
        return found


def load_runs(
    path: str | os.PathLike[str] = "runs",
    *,
    strict: bool = False,
    stalled_after: timedelta = DEFAULT_STALLED_AFTER,
    now: datetime | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
) -> Runs:
    """Read every run folder under ``path``.

    Unchanged folders come from an in-process memo (keyed by file size and mtime), so a
    reload costs a ``stat`` per file plus the folders that changed.

    Args:
        path: The runs folder, or an fsspec URL (``s3://bucket/project/runs``): the store is
            mirrored into ``cache_dir`` (fetching only objects that changed) and the mirror read
            as a folder; problems then name the objects by URL. A missing folder or prefix is an
            empty result, not an error.
        strict: Raise ``RunFormatError`` listing every problem instead of skipping.
        stalled_after: Minimum silence before a running run reads as stalled.
        now: The moment states are judged at; defaults to the current time.
        cache_dir: Also keep parsed runs in this folder, for the next process (for a URL,
            ``.rundocs-cache`` when not given).

    Raises:
        RunFormatError: In strict mode, when any problem was found.
        StoreError: When a store cannot be listed (no bucket, no credentials).
    """
    if is_url(path):
        return _load_store(str(path), strict, stalled_after, now, cache_dir)
    root = Path(path)
    names, folder_problems = run_folder_names(root)
    if cache_dir is not None:
        fill_memo_from_disk(Path(cache_dir), root)
    forget(root, names)
    results = [read_run_folder(root, name) for name in names]
    parsed = [item for item, _ in results]
    reread = sum(was_read for _, was_read in results)
    if cache_dir is not None and reread and (reread >= _RESAVE_AFTER or reread * 50 >= len(names)):
        save_memo_to_disk(Path(cache_dir), root, parsed, names)
    problems = sorted([*folder_problems, *(problem for item in parsed for problem in item.problems)])
    if strict and problems:
        raise RunFormatError(problems)
    readable = sorted((item for item in parsed if item.record is not None), key=_start_order)
    records = {item.record.id: item.record for item in readable if item.record is not None}
    metrics = {item.record.id: item.metrics for item in parsed if item.record is not None}
    runs = make_runs_frame(list(records.values()), metrics)
    now = now or datetime.now(UTC)
    if not runs.empty:
        states = derive_states(runs, now, stalled_after)
        runs.insert(list(runs.columns).index("status") + 1, "state", states)
    signatures = {item.record.id: item.signature for item in readable if item.record is not None}
    unreadable = {
        name: peek_unreadable(root / name) for name, item in zip(names, parsed, strict=True) if item.record is None
    }
    return Runs(records, runs, metrics, problems, root, signatures, now, unreadable)


def _load_store(
    url: str, strict: bool, stalled_after: timedelta, now: datetime | None, cache_dir: str | os.PathLike[str] | None
) -> Runs:
    """``load_runs`` of a store: its mirror (in ``cache_dir``, else ``.rundocs-cache``) read as a
    folder, problems named by URL."""
    from rundocs.store.sync import mirror_store

    folder, report = mirror_store(url, Path(cache_dir or DEFAULT_CACHE))
    runs = load_runs(folder, stalled_after=stalled_after, now=now, cache_dir=cache_dir)
    mirrored = str(folder)
    for index, problem in enumerate(runs.problems):
        if problem.path == mirrored or problem.path.startswith(mirrored + os.sep):
            shown = url.rstrip("/") + Path(problem.path[len(mirrored) :]).as_posix()
            runs.problems[index] = dataclasses.replace(problem, path=shown)
    runs.problems = sorted([*report.problems, *runs.problems])
    if strict and runs.problems:
        raise RunFormatError(runs.problems)
    return runs


def _start_order(item: ParsedRun) -> tuple[datetime, str]:
    """Ids sort by start second; runs started in the same second sort by their start time."""
    assert item.record is not None
    return (item.record.started_at, item.record.id)


def run_folder_names(root: Path) -> tuple[list[str], list[Problem]]:
    """Names of the run folders in ``root``, sorted, and a problem for each folder left out that
    is not hidden (hidden ones are caches and temp): a name that is not a run id, a symlink
    (unless ``trust_symlinks()``), or all of ``root`` when it is a symlink itself."""
    trusted = trust_symlinks()
    if root.is_symlink() and not trusted:
        return [], [Problem(str(root), None, SYMLINK_REFUSED)]
    try:
        entries = list(os.scandir(root))
    except FileNotFoundError:
        return [], []
    names, problems = [], []
    for entry in entries:
        if entry.name.startswith(".") or not entry.is_dir():
            continue
        if not is_run_id(entry.name):
            message = f"folder {entry.name!r} is not a run id ({RUN_ID_RULE}); not read"
            problems.append(Problem(str(root), None, message))
        elif entry.is_symlink() and not trusted:
            problems.append(Problem(entry.path, None, SYMLINK_REFUSED))
        else:
            names.append(entry.name)
    return sorted(names), problems
