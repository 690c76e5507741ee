"""W&B offline runs (``pip install 'rundocs[wandb]'``): the record log of each run folder.

``wandb.init(mode="offline")`` (or ``WANDB_MODE=offline``) writes ``wandb/offline-run-<time>-<id>/
run-<id>.wandb``: a log of protobuf ``Record`` messages in W&B's framing of LevelDB's log
format (32 KiB blocks of checksummed chunks). W&B 0.31 reads it only in its Go core, so the
framing is read here and every record decoded with W&B's own protobuf classes. Its folder
name fixes the run's id; a location is a ``wandb/`` folder (every ``offline-run-*`` and
``run-*`` in it), the folder that holds one, or one run folder.

- The run record gives the start, the name (its id when unnamed), the project as the sweep,
  W&B's tags as tags, ``group:<group>``, and the job type as the kind when it is ``train`` or
  ``eval`` (else a ``job_type:<type>`` tag); its config and later config records the config
  (less ``_wandb``).
- Each history record is a line: ``_step`` its step, ``_timestamp`` less the start its time,
  a whole-number ``epoch`` its epoch; nested values are named ``outer.inner``. Media,
  tables and histograms are named in the run's warnings and left out.
- The summary is W&B's final summary less its ``_`` keys and less every value that is just a
  metric's last logged one (W&B copies those in; kept, they would stand for the run's answer
  in place of its best value).
- Artifacts, files, console output and system metrics are not imported, unmentioned.
- An exit record with code 0 is completed, any other code failed. A log without one (a run
  still writing, or one killed before it could say) is running: its pages show it stalled
  once its last line is old.

The log is read up to its size when opened (at most ``MAX_LOG_BYTES``); an unfinished record at
its end is a write in progress and skipped; a damaged one ends the reading, with a warning.
A resumed offline run writes a new folder whose steps start again at 0: it is a run of its own.
"""

from __future__ import annotations

import json
import os
import struct
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

from wandb.proto.wandb_internal_pb2 import Record  # type: ignore[attr-defined]

from rundocs.format.schema import KINDS
from rundocs.importers.imported import ImportedRun, Row, line_epoch
from rundocs.importers.store import Unmapped
from rundocs.safe_files import open_regular

SOURCE = "wandb"
MAX_LOG_BYTES = 8 * 1024**3
#: The largest record (its chunks put together) read; a larger one is damage.
MAX_RECORD_BYTES = 256 * 1024**2
_BLOCK = 32 * 1024
_FILE_HEADER = struct.Struct("<4sHB")  # ":W&B", 0xBEE1, version 0
_CHUNK_HEADER = struct.Struct("<IHB")  # CRC-32 of the type byte and data, data length, type
_FULL, _FIRST, _MIDDLE, _LAST = 1, 2, 3, 4


class UnreadableLog(Exception):
    """A record log that is not read, or not read on from some byte; ``str()`` says why."""


@dataclass
class _Run:
    """What the records of one run say, as they are read."""

    info: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    exit: Any = None


def read_wandb_source(location: str) -> Iterator[ImportedRun | Unmapped]:
    """Every run log at ``location``: a ``wandb/`` folder, the folder holding one, a run folder or its log."""
    folder = Path(location)
    if (folder / "wandb").is_dir():
        folder = folder / "wandb"
    if folder.is_file():
        yield _read_run(folder)
        return
    if not folder.is_dir():
        yield Unmapped(location, "no such file or folder")
        return
    logs = sorted(folder.glob("run-*.wandb")) or sorted(
        log for pattern in ("offline-run-*/run-*.wandb", "run-*/run-*.wandb") for log in folder.glob(pattern)
    )
    if not logs:
        yield Unmapped(location, "no W&B run here: no offline-run-*/run-*.wandb")
    for log in logs:
        yield _read_run(log)


def _read_run(log: Path) -> ImportedRun | Unmapped:
    what = f"{log.parent.name}/{log.name}"
    run, damage = _Run(), None
    try:
        for data in read_records(log):
            record = Record()
            record.ParseFromString(data)
            _take(run, record)
    except (OSError, UnreadableLog) as error:
        damage = str(error)
    except Exception as error:  # protobuf's DecodeError, a value that is not JSON
        damage = f"a record is not read: {error}"
    start = run.info.get("start")
    if start is None:
        return Unmapped(what, damage or "its log has no run record with a start time")
    lost = [f"{what}: {damage}; the records after it are not read"] if damage else []
    return _imported(log.parent.name, run, start, lost)


def read_records(log: Path) -> Iterator[bytes]:
    """The records of a W&B run log, up to its size when opened; an unfinished last one is skipped.

    Raises:
        OSError: When it cannot be opened.
        UnreadableLog: At a header, chunk or checksum that is wrong.
    """
    with open_regular(log) as file:
        size = _size(file)
        if _FILE_HEADER.size > size:
            return
        ident, magic, version = _FILE_HEADER.unpack(file.read(_FILE_HEADER.size))
        if (ident, magic, version) != (b":W&B", 0xBEE1, 0):
            raise UnreadableLog("not a W&B run log (its first bytes are not the W&B log header, version 0)")
        offset, parts, inside = _FILE_HEADER.size, bytearray(), False
        while True:
            room = _BLOCK - offset % _BLOCK
            if room < _CHUNK_HEADER.size:  # a block's tail too short for a chunk is zeros
                if file.read(room).strip(b"\0"):
                    raise UnreadableLog(f"damaged at byte {offset}: a block ends in bytes that are not zero")
                offset += room
                room = _BLOCK
            if offset + _CHUNK_HEADER.size > size:
                return
            checksum, length, kind = _CHUNK_HEADER.unpack(file.read(_CHUNK_HEADER.size))
            if offset + _CHUNK_HEADER.size + length > size:
                return
            data = file.read(length)
            if length > room - _CHUNK_HEADER.size or kind not in (_FULL, _FIRST, _MIDDLE, _LAST):
                raise UnreadableLog(f"damaged at byte {offset}: a chunk of type {kind} and {length} bytes")
            if zlib.crc32(data, zlib.crc32(bytes([kind]))) != checksum:
                raise UnreadableLog(f"damaged at byte {offset}: a checksum does not match")
            if (kind in (_FULL, _FIRST)) == inside or len(parts) + length > MAX_RECORD_BYTES:
                raise UnreadableLog(f"damaged at byte {offset}: a record's chunks are out of order or too large")
            offset += _CHUNK_HEADER.size + length
            parts += data
            inside = kind in (_FIRST, _MIDDLE)
            if not inside:
                yield bytes(parts)
                parts.clear()


def _size(file: BinaryIO) -> int:
    size = os.fstat(file.fileno()).st_size
    if size > MAX_LOG_BYTES:
        raise UnreadableLog(f"is {size:,} bytes, over the limit of {MAX_LOG_BYTES:,} for a W&B run log")
    return size


def _take(run: _Run, record: Any) -> None:
    """Add one record to what is known of the run."""
    kind = record.WhichOneof("record_type")
    if kind == "run":
        item = record.run
        if item.HasField("start_time") and "start" not in run.info:
            run.info["start"] = item.start_time.ToDatetime(tzinfo=UTC)
        for name in ("run_id", "display_name", "project", "run_group", "job_type"):
            if value := getattr(item, name):
                run.info[name] = value
        if item.tags:
            run.info["tags"] = list(item.tags)
        _apply(run.config, item.config.update, item.config.remove)
    elif kind == "config":
        _apply(run.config, record.config.update, record.config.remove)
    elif kind == "summary":
        _apply(run.summary, record.summary.update, record.summary.remove)
    elif kind == "history":
        line: dict[str, Any] = {}
        _apply(line, record.history.item, ())
        run.history.append(line)
    elif kind == "exit":
        run.exit = record.exit


def _apply(target: dict[str, Any], updates: Any, removes: Any) -> None:
    """W&B's updates (a key or a nested key path, and a JSON value) and removals, in order."""
    for item in updates:
        *outer, last = list(item.nested_key) or [item.key]
        place = target
        for key in outer:
            if not isinstance(place.get(key), dict):
                place[key] = {}
            place = place[key]
        place[last] = json.loads(item.value_json)
    for item in removes:
        *outer, last = list(item.nested_key) or [item.key]
        place = target
        for key in outer:
            inner = place.get(key)
            place = inner if isinstance(inner, dict) else {}
        place.pop(last, None)


def _imported(folder: str, run: _Run, start: datetime, problems: list[str]) -> ImportedRun:
    info = run.info
    left_out: dict[str, str] = {}
    rows, last = _rows(run.history, start, left_out)
    summary = _flat({key: value for key, value in run.summary.items() if not key.startswith("_")}, left_out)
    ended = None
    if run.exit is not None:
        times = [row.time for row in rows if row.time is not None]
        ended = start + timedelta(seconds=max([float(run.exit.runtime), *times]))
    job_type = info.get("job_type")
    tags = [*info.get("tags", []), *([f"group:{info['run_group']}"] if "run_group" in info else [])]
    if job_type and job_type not in KINDS:
        tags.append(f"job_type:{job_type}")
    return ImportedRun(
        source=SOURCE,
        key=folder,
        name=info.get("display_name") or info.get("run_id") or folder,
        started_at=start,
        ended_at=ended,
        status="running" if run.exit is None else "completed" if run.exit.exit_code == 0 else "failed",
        config={key: value for key, value in run.config.items() if key != "_wandb"},
        summary={key: value for key, value in summary.items() if key not in last or last[key] != value},
        rows=rows,
        tags=tags,
        kind=job_type if job_type in KINDS else "train",
        sweep=info.get("project"),
        problems=problems + list(left_out.values()),
    )


def _rows(history: list[dict[str, Any]], start: datetime, left_out: dict[str, str]) -> tuple[list[Row], dict[str, Any]]:
    """The lines of the history records, and each metric's last value."""
    rows, last = [], {}
    for line in history:
        values = _flat({key: value for key, value in line.items() if not key.startswith("_")}, left_out)
        last.update(values)
        epoch = values.pop("epoch", None)
        if epoch is not None and line_epoch(epoch) is None:
            left_out["epoch"] = f"epoch {epoch!r} is not a whole number from 0; the lines keep no epoch then"
        timestamp, runtime = line.get("_timestamp"), line.get("_runtime")
        time = (
            timestamp - start.timestamp()
            if isinstance(timestamp, int | float)
            else runtime
            if isinstance(runtime, int | float)
            else None
        )
        step = line.get("_step")
        rows.append(Row(values, line_epoch(epoch), step if isinstance(step, int) else None, time))
    return rows, last


def _flat(values: Mapping[str, Any], left_out: dict[str, str], prefix: str = "") -> dict[str, Any]:
    """Nested values as ``outer.inner`` names; W&B's media (a ``_type``) named in ``left_out``."""
    flat: dict[str, Any] = {}
    for key, value in values.items():
        name = prefix + key
        if isinstance(value, dict) and "_type" in value:
            left_out[name] = f"{name!r} holds W&B {value['_type']} values, which are not imported"
        elif isinstance(value, dict):
            flat.update(_flat(value, left_out, name + "."))
        else:
            flat[name] = value
    return flat
