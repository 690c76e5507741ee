"""``ImportedRun``: one run read from another tracker, and the run folder files it becomes.

Every field goes through the cleaners ``Run`` uses (``rundocs.record.fields``), so an imported
run obeys the same rules as a recorded one; the files are a function of the source alone (no
clock, no host), so importing again gives the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rundocs.format.schema import FORMAT, to_json_value
from rundocs.record import fields
from rundocs.record.warn import WarnOnce

_encode_line = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode


@dataclass(frozen=True)
class Row:
    """One metrics line: its epoch and/or step, its time (seconds since the start) and values."""

    values: Mapping[str, Any]
    epoch: int | None = None
    step: int | None = None
    time: float | None = None


@dataclass
class ImportedRun:
    """A run as a source tells it. ``source`` names the tracker (``tensorboard``), ``key`` the
    run inside it (a path, a run id): together they fix the run's id, so a second import finds
    the folder the first one wrote."""

    source: str
    key: str
    name: str
    started_at: datetime
    status: str = "completed"
    ended_at: datetime | None = None
    config: Any = None
    summary: Mapping[str, Any] = field(default_factory=dict)
    rows: Sequence[Row] = ()
    tags: Sequence[str] = ()
    kind: str = "train"
    phase: str | None = None
    sweep: str | None = None
    epochs: int | None = None
    error: str | None = None
    #: What the reader could not take from the source (kept in ``warnings`` and reported).
    problems: Sequence[str] = ()

    @property
    def id(self) -> str:
        return import_id(self.source, self.key)

    @property
    def owner_tag(self) -> str:
        """The tag that marks a folder as written by this source's importer."""
        return f"imported:{self.source}"


def line_epoch(value: Any) -> int | None:
    """A logged ``epoch`` metric as its line's epoch: a whole number from 0 (``3``, ``3.0``);
    None for anything else. The one rule of every reader whose tracker logs the epoch as a metric."""
    number = fields.as_int(value)
    return number if number is not None and number >= 0 else None


def source_key(root: str | os.PathLike[str], relative: str = ".") -> str:
    """The key of a run found at ``relative`` below the source folder ``root``: its absolute
    path, so runs at the same place in two projects (each has a ``lightning_logs/version_0``)
    never share an id, and importing the same folder again finds the same runs."""
    return Path(os.path.abspath(root), relative).as_posix()


def import_id(source: str, key: str) -> str:
    """``<source>_<readable key>_<hash>``: stable for a key, distinct for distinct keys."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", key).strip("-._")[-60:].strip("-._") or "run"
    return f"{source}_{slug}_{hashlib.sha256(key.encode()).hexdigest()[:8]}"


def run_files(run: ImportedRun, goal: tuple[str, str] | None = None) -> tuple[bytes, bytes, list[str]]:
    """The ``run.json`` and ``metrics.jsonl`` bytes of an imported run, and the warnings met.

    ``goal`` (metric, ``min``/``max``) adds the tags that tell sweeps what ranks the runs.
    """
    warn = WarnOnce(quiet=True)
    for problem in run.problems:
        warn(problem, problem)
    started = run.started_at
    lines = [_line(row, warn) for row in run.rows]
    kept = [line for line in lines if line is not None]
    last_time = max((row.time for row in run.rows if row.time is not None), default=0.0)
    updated = run.ended_at or started + timedelta(seconds=max(last_time, 0.0))
    tags = [*run.tags, run.owner_tag]
    if goal is not None:
        tags += [f"goal:{goal[1]}", f"objective:{goal[0]}"]
    record: dict[str, Any] = {
        "format": FORMAT,
        "id": run.id,
        "name": fields.clean_name(run.name, run.id),
        "kind": fields.clean_kind(run.kind, warn),
        "phase": fields.clean_label(run.phase, warn, "phase"),
        "sweep": fields.clean_label(run.sweep, warn, "sweep"),
        "tags": fields.clean_tags(tags, warn),
        "config": _config(run.config, warn),
        "status": run.status if run.status in ("running", "completed", "failed", "interrupted") else "failed",
        "started_at": _iso(started),
        "updated_at": _iso(max(updated, started)),
        "ended_at": _iso(run.ended_at) if run.ended_at is not None else None,
        "epochs": fields.clean_epochs(run.epochs, warn),
        "summary": _summary(run.summary, warn),
        "evaluates": [],
        "restarts": None,
        "error": fields.error_record(run.error),
        "env": {},
        "checkpoints": [],
        "warnings": warn.messages,
    }
    if fields.checked(record, warn) is None:
        raise ValueError("; ".join(warn.messages))
    text = json.dumps(record, indent=2, ensure_ascii=False, allow_nan=False).encode() + b"\n"
    return text, b"".join(kept), list(warn.messages)


def _line(row: Row, warn: WarnOnce) -> bytes | None:
    line: dict[str, Any] = {}
    for key, value in (("epoch", row.epoch), ("step", row.step)):
        if value is not None and (index := fields.clean_index(value, warn, key)) is not None:
            line[key] = index
    if row.time is not None:
        line["time"] = round(min(max(float(row.time), 0.0), 2.0**32), 3)
    metrics = 0
    for name, value in row.values.items():
        if name in line or name in ("epoch", "step", "time") or not fields.is_named(name, warn, "log"):
            continue
        cleaned = fields.clean_value(value, warn, name)
        if cleaned is not None:
            line[name] = cleaned
            metrics += 1
    return (_encode_line(line) + "\n").encode() if metrics else None


def _config(config: Any, warn: WarnOnce) -> dict[str, Any]:
    value = to_json_value(config) if config is not None else {}
    return value if isinstance(value, dict) else {"value": value}


def _summary(summary: Mapping[str, Any], warn: WarnOnce) -> dict[str, Any]:
    kept = {}
    for key, value in summary.items():
        if (
            fields.is_named(key, warn, "summary")
            and (cleaned := fields.clean_summary_value(value, warn, key)) is not None
        ):
            kept[key] = cleaned
    return kept


def _iso(moment: datetime) -> str:
    """A moment as the format writes it; a naive one is this machine's local time."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")
