"""Read one run folder's ``run.json`` (and ``notes.md``) into a typed ``RunRecord``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from rundocs.format.decode import normalise_record, parse_json, range_problems
from rundocs.format.schema import FORMAT, NOTES_FILE, RUN_FILE, decode_number
from rundocs.format.validate import check_record
from rundocs.load.problems import Problem


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
    status: str
    started_at: datetime
    updated_at: datetime
    ended_at: datetime | None
    epochs: int | None
    summary: dict[str, float]
    evaluates: tuple[str, ...]
    restarts: str | None
    error: RunError | None
    env: dict[str, Any]
    checkpoints: tuple[Checkpoint, ...]
    warnings: tuple[str, ...]
    folder: Path
    notes: str | None


def read_record(folder: Path) -> tuple[RunRecord | None, dict[str, Any] | None, list[Problem]]:
    """The record of one run folder and its parsed ``run.json`` (normalised by the reading rules
    of ``rundocs.format.decode``), or None with the problems."""
    path = folder / RUN_FILE
    try:
        data = normalise_record(parse_json(path.read_bytes()))
    except FileNotFoundError:
        return None, None, [Problem(str(folder), None, f"no {RUN_FILE}: not a run folder, or its run never started")]
    except orjson.JSONDecodeError as error:
        return None, None, [Problem(str(path), error.lineno, f"invalid JSON: {error.msg} (column {error.colno})")]
    except OSError as error:
        return None, None, [Problem(str(path), None, f"cannot read: {error}")]
    if isinstance(data, dict) and data.get("format") != FORMAT:
        found = data.get("format")
        return None, None, [Problem(str(path), None, f"unknown format {found!r}: this rundocs reads {FORMAT!r}")]
    messages = check_record(data) or range_problems(data)
    if messages:
        return None, None, [Problem(str(path), None, message) for message in messages]
    problems = []
    if data["id"] != folder.name:
        problems.append(Problem(str(path), None, f"id {data['id']!r} differs from its folder; read as {folder.name!r}"))
    return _typed(data, folder, has_notes=True), data, problems


def make_record(data: dict[str, Any], folder: Path, *, has_notes: bool = True) -> RunRecord:
    """A typed record from a ``run.json`` already validated (by ``read_record``, or before the cache).

    ``has_notes=False`` skips looking for ``notes.md`` when the caller knows it is absent. The
    reading rules apply here too (the disk cache keeps records as ``read_record`` returned them,
    already normalised; a cache written otherwise still reads as the folder would).
    """
    return _typed(normalise_record(data), folder, has_notes=has_notes)


def _typed(data: dict[str, Any], folder: Path, *, has_notes: bool) -> RunRecord:
    error = data.get("error")
    notes = None
    if has_notes:
        try:
            notes = (folder / NOTES_FILE).read_text("utf-8")
        except (OSError, UnicodeDecodeError):
            notes = None
    return RunRecord(
        id=folder.name,
        name=data["name"],
        kind=data["kind"],
        phase=data.get("phase"),
        sweep=data.get("sweep"),
        tags=tuple(data.get("tags", ())),
        config=data.get("config", {}),
        status=data["status"],
        started_at=datetime.fromisoformat(data["started_at"]),
        updated_at=datetime.fromisoformat(data["updated_at"]),
        ended_at=datetime.fromisoformat(data["ended_at"]) if data.get("ended_at") else None,
        epochs=data.get("epochs"),
        summary={key: float(decode_number(value)) for key, value in data.get("summary", {}).items()},
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
    try:
        data = normalise_record(parse_json(folder.joinpath(RUN_FILE).read_bytes()))
    except (OSError, ValueError, RecursionError):  # orjson.JSONDecodeError is a ValueError
        data = None
    if type(data) is not dict:
        return Unreadable(folder.name, None, None, None)
    texts = {
        key: value if type(value := data.get(key)) is str and value else None for key in ("name", "phase", "sweep")
    }
    return Unreadable(folder.name, **texts)
