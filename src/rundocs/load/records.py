"""Read one run folder's ``run.json`` (and ``notes.md``) into a typed ``RunRecord``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

import orjson

from rundocs.format.decode import TooLarge, normalise_record, parse_json, range_problems
from rundocs.format.schema import FORMAT, NON_FINITE, NOTES_FILE, RUN_FILE, decode_number
from rundocs.format.validate import check_record
from rundocs.load.problems import Problem, read_file
from rundocs.safe_files import MAX_NOTES_BYTES, MAX_RUN_BYTES


@dataclass(frozen=True)
class Checkpoint:
    path: str
    epoch: int | None
    sha256: str
    bytes: int
    arch: dict[str, Any] | None


@dataclass(frozen=True)
class RunError:
    type: str
    message: str
    traceback: str | None


@dataclass(frozen=True)
class RunRecord:
    """What ``run.json`` says, typed; ``notes`` is the person's ``notes.md``, verbatim."""

    id: str
    name: str
    kind: str
    phase: str | None
    sweep: str | None
    tags: tuple[str, ...]
    config: dict[str, Any]
    #: Settings of ``config`` that are not hyperparameters (patterns, see ``sweep_groups.names_setting``).
    bookkeeping: tuple[str, ...]
    status: str
    started_at: datetime
    updated_at: datetime
    ended_at: datetime | None
    epochs: int | None
    summary: dict[str, float]
    #: Summary values that are text or booleans (a note, a commit, a data version): shown, never ranked.
    summary_text: dict[str, str | bool]
    evaluates: tuple[str, ...]
    restarts: str | None
    error: RunError | None
    env: dict[str, Any]
    checkpoints: tuple[Checkpoint, ...]
    warnings: tuple[str, ...]
    folder: Path
    notes: str | None


class RecordFiles(NamedTuple):
    """The bytes of a run folder's ``run.json`` and ``notes.md`` (None: missing or not read), and
    the problem of each one that is there but was not read."""

    run: bytes | None
    notes: bytes | None
    run_problem: Problem | None
    notes_problem: Problem | None


def read_record_files(folder: Path) -> RecordFiles:
    run, run_problem = read_file(folder / RUN_FILE, MAX_RUN_BYTES)
    notes, notes_problem = read_file(folder / NOTES_FILE, MAX_NOTES_BYTES)
    return RecordFiles(run, notes, run_problem, notes_problem)


def read_record(folder: Path) -> tuple[RunRecord | None, dict[str, Any] | None, list[Problem]]:
    """The record of one run folder and its parsed ``run.json``, or None with the problems."""
    return parse_record(folder, read_record_files(folder))


def parse_record(folder: Path, files: RecordFiles) -> tuple[RunRecord | None, dict[str, Any] | None, list[Problem]]:
    """The record of one run folder from its files, and its parsed ``run.json`` (normalised by the
    reading rules of ``rundocs.format.decode``); or None with the problems."""
    path = folder / RUN_FILE
    if files.run_problem is not None:
        return None, None, [files.run_problem]
    if files.run is None:
        return None, None, [Problem(str(folder), None, f"no {RUN_FILE}: not a run folder, or its run never started")]
    try:
        data = normalise_record(parse_json(files.run))
    except orjson.JSONDecodeError as error:
        return None, None, [Problem(str(path), error.lineno, f"invalid JSON: {error.msg} (column {error.colno})")]
    if isinstance(data, dict) and data.get("format") != FORMAT:
        found = data.get("format")
        return None, None, [Problem(str(path), None, f"unknown format {found!r:.80}: this rundocs reads {FORMAT!r}")]
    data, skipped = _without_huge_summary_values(data)
    messages = check_record(data) or range_problems(data)
    if messages:
        return None, None, [Problem(str(path), None, message) for message in messages]
    problems = [files.notes_problem] if files.notes_problem is not None else []
    problems += [
        Problem(str(path), None, f"field {'summary.' + key!r:.80}: too large for a double; value skipped")
        for key in skipped
    ]
    if data["id"] != folder.name:
        problems.append(Problem(str(path), None, f"id {data['id']!r} differs from its folder; read as {folder.name!r}"))
    notes = _notes_text(files.notes)
    if files.notes is not None and notes is None:
        problems.append(Problem(str(folder / NOTES_FILE), None, "not UTF-8 text; not shown"))
    return _typed(data, folder, notes), data, problems


def _without_huge_summary_values(data: Any) -> tuple[Any, list[str]]:
    """The record without ``summary`` values too large for a double (``1e400``), and their keys:
    the run keeps every other value, as a metrics line does."""
    summary = data.get("summary") if isinstance(data, dict) else None
    if type(summary) is not dict:
        return data, []
    skipped = [key for key, value in summary.items() if type(value) is TooLarge]
    if not skipped:
        return data, []
    return {**data, "summary": {k: v for k, v in summary.items() if k not in skipped}}, skipped


def _is_number(value: Any) -> bool:
    """A summary value that is a number: a JSON number (not a boolean) or a non-finite name."""
    return (isinstance(value, int | float) and not isinstance(value, bool)) or value in NON_FINITE


def make_record(data: dict[str, Any], folder: Path, *, has_notes: bool = True) -> RunRecord:
    """A typed record from a ``run.json`` already validated by ``read_record`` (kept by the cache).

    ``has_notes=False`` skips looking for ``notes.md`` when the caller knows it is absent; its
    problems were found when the folder was read. The reading rules apply here too (the disk
    cache keeps records as ``read_record`` returned them, already normalised; a cache written
    otherwise still reads as the folder would).
    """
    notes = read_file(folder / NOTES_FILE, MAX_NOTES_BYTES)[0] if has_notes else None
    return _typed(normalise_record(data), folder, _notes_text(notes))


def _notes_text(raw: bytes | None) -> str | None:
    try:
        return None if raw is None else raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _typed(data: dict[str, Any], folder: Path, notes: str | None) -> RunRecord:
    error = data.get("error")
    return RunRecord(
        id=folder.name,
        name=data["name"],
        kind=data["kind"],
        phase=data.get("phase"),
        sweep=data.get("sweep"),
        tags=tuple(data.get("tags", ())),
        config=data.get("config", {}),
        bookkeeping=tuple(data.get("bookkeeping", ())),
        status=data["status"],
        started_at=datetime.fromisoformat(data["started_at"]),
        updated_at=datetime.fromisoformat(data["updated_at"]),
        ended_at=datetime.fromisoformat(data["ended_at"]) if data.get("ended_at") else None,
        epochs=data.get("epochs"),
        summary={key: float(decode_number(v)) for key, v in data.get("summary", {}).items() if _is_number(v)},
        summary_text={key: v for key, v in data.get("summary", {}).items() if not _is_number(v)},
        evaluates=tuple(data.get("evaluates", ())),
        restarts=data.get("restarts"),
        error=RunError(error["type"], error["message"], error.get("traceback")) if error else None,
        env=data.get("env", {}),
        checkpoints=tuple(
            Checkpoint(c["path"], c.get("epoch"), c["sha256"], c["bytes"], c.get("arch"))
            for c in data.get("checkpoints", ())
        ),
        warnings=tuple(data.get("warnings", ())),
        folder=folder,
        notes=notes,
    )


@dataclass(frozen=True)
class Unreadable:
    """A run folder that could not be read, and what its ``run.json`` seems to say about where
    it belongs (each None when that cannot be told), so the pages that expected it can say so."""

    folder: str
    name: str | None
    phase: str | None
    sweep: str | None


def peek_unreadable(folder: Path) -> Unreadable:
    """Name, phase and sweep of a run folder that ``read_record`` refused, as far as its
    ``run.json`` still parses; a guess used only to point at the problem, never as a record."""
    raw = read_file(folder / RUN_FILE, MAX_RUN_BYTES)[0]
    try:
        data = normalise_record(parse_json(raw)) if raw is not None else None
    except (ValueError, RecursionError):  # orjson.JSONDecodeError is a ValueError
        data = None
    if type(data) is not dict:
        return Unreadable(folder.name, None, None, None)
    texts = {
        key: value if type(value := data.get(key)) is str and value else None for key in ("name", "phase", "sweep")
    }
    return Unreadable(folder.name, **texts)
