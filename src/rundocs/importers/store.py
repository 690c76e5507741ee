"""Write imported runs into a runs folder: one fixed folder per source run, rewritten only
when its files change, never over a folder some other writer made."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rundocs.atomic import replace_file
from rundocs.format.schema import METRICS_FILE, RUN_FILE
from rundocs.formatting import counted
from rundocs.importers.imported import ImportedRun, run_files
from rundocs.safe_files import MAX_RUN_BYTES, read_regular


@dataclass(frozen=True)
class Unmapped:
    """Something in the source that became no run, and why: one line of the report."""

    what: str
    why: str


@dataclass(frozen=True)
class LeftOut(Unmapped):
    """Data of a run that was imported, of a kind rundocs does not show (images, histograms,
    plots, artifacts): one line of the report, not a failure of the import."""


@dataclass(frozen=True)
class ImportOptions:
    """What the command line says where the source does not: applied to every run."""

    phase: str | None = None
    sweep: str | None = None
    metric: str | None = None
    goal: str | None = None  # "min" or "max"

    def __post_init__(self) -> None:
        if self.goal not in (None, "min", "max"):
            raise ValueError(f"goal must be 'min' or 'max', got {self.goal!r}")
        if (self.goal is None) != (self.metric is None):
            raise ValueError("--metric and --goal go together: the metric that ranks the runs, and which way")


@dataclass
class ImportReport:
    """What an import did, by run id, and the lines for what it could not map."""

    source: str
    runs_dir: Path
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    #: Ids whose folder holds some other run; left as it is.
    taken: list[str] = field(default_factory=list)
    #: Items that became no run, or lost data (a damaged file): the command exits 1.
    unmapped: list[Unmapped] = field(default_factory=list)
    left_out: list[LeftOut] = field(default_factory=list)
    #: Per run id: what the cleaners changed or dropped (also kept in its ``warnings``).
    warnings: dict[str, list[str]] = field(default_factory=dict)

    def lines(self) -> list[str]:
        """``imported 3 tensorboard runs into runs (2 written, 1 unchanged)``, then one line per problem."""
        count = len(self.written) + len(self.unchanged)
        head = f"imported {counted(count, self.source + ' run')} into {self.runs_dir.as_posix()}"
        changes = [
            f"{len(items)} {label}"
            for label, items in (("written", self.written), ("unchanged", self.unchanged))
            if items
        ]
        lines = [head + (f" ({', '.join(changes)})" if changes else "")]
        lines += [f"  {run_id}: left alone, its folder holds another run" for run_id in self.taken]
        lines += [f"  {item.what}: not imported: {item.why}" for item in self.unmapped]
        lines += [f"  {item.what}: left out: {item.why}" for item in self.left_out]
        lines += [f"  {run_id}: {message}" for run_id, messages in self.warnings.items() for message in messages]
        return lines


def import_runs(
    items: Iterable[ImportedRun | Unmapped], runs_dir: str | os.PathLike[str], source: str, options: ImportOptions
) -> ImportReport:
    """Write every run ``items`` yields; the options fill what a run does not say."""
    root = Path(runs_dir)
    report = ImportReport(source, root)
    goal = (options.metric, options.goal) if options.metric is not None and options.goal is not None else None
    for item in _guarded(items):
        if isinstance(item, LeftOut):
            report.left_out.append(item)
            continue
        if isinstance(item, Unmapped):
            report.unmapped.append(item)
            continue
        run = dataclasses.replace(item, phase=item.phase or options.phase, sweep=item.sweep or options.sweep)
        try:
            record, metrics, warnings = run_files(run, goal)
        except ValueError as error:
            report.unmapped.append(Unmapped(run.key, str(error)))
            continue
        outcome = write_run_folder(root / run.id, record, metrics, {run.owner_tag})
        getattr(report, outcome).append(run.id)
        if warnings:
            report.warnings[run.id] = warnings
    return report


def _guarded(items: Iterable[ImportedRun | Unmapped]) -> Iterator[ImportedRun | Unmapped]:
    """The reader's items; a reader that fails on a hostile source (a number beyond what Python
    parses, folders nested a thousand deep) ends with one line instead of a traceback, after
    what it read before is written."""
    iterator = iter(items)
    while True:
        try:
            item = next(iterator)
        except StopIteration:
            return
        except (ValueError, OverflowError, RecursionError, OSError, KeyError, TypeError) as error:
            yield Unmapped("the source", f"reading stopped at {type(error).__name__}: {str(error)[:200]}")
            return
        yield item


def write_run_folder(folder: Path, record: bytes, metrics: bytes, owner_tags: set[str]) -> str:
    """Write one imported run's files; ``written``, ``unchanged``, or ``taken`` when the folder
    holds a run without all of ``owner_tags`` (or other files and no run, or is a symlink). Other files in a
    folder it owns (``notes.md``) are kept."""
    run_file = folder / RUN_FILE
    if folder.is_symlink():  # the reader would not follow it, and the files would land elsewhere
        return "taken"
    if run_file.exists():
        old = read_json(run_file)
        tags = old.get("tags") if old else None
        if not isinstance(tags, list) or not owner_tags <= set(tags):
            return "taken"
    elif folder.exists() and any(folder.iterdir()):
        return "taken"
    folder.mkdir(parents=True, exist_ok=True)
    changed = [_replace_if_changed(folder / METRICS_FILE, metrics), _replace_if_changed(run_file, record)]
    return "written" if any(changed) else "unchanged"


def read_json(path: Path, containing: bytes = b"") -> dict[str, Any] | None:
    """A ``run.json`` object, read as the loader reads it (a regular file of bounded size, no
    symlink); None for anything else, or for a file without ``containing`` (skipped unparsed)."""
    try:
        data = read_regular(path, MAX_RUN_BYTES)
        record = json.loads(data) if containing in data else None
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def _replace_if_changed(path: Path, data: bytes) -> bool:
    with contextlib.suppress(FileNotFoundError):
        if path.read_bytes() == data:
            return False
    replace_file(path, data)
    return True
