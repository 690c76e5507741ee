"""``Run``: the recording API used inside training and evaluation loops.

A thin facade over ``writer`` (files), ``environment`` (where it ran) and ``schema``
(the format). It never raises into the training loop: bad values and failing disks
become a ``RecordingWarning`` and a partial record.
"""

from __future__ import annotations

import json
import math
import os
import threading
import time
import traceback
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

from rundocs import env
from rundocs.format.decode import MAX_COUNT
from rundocs.format.schema import FORMAT, encode_float, to_json_value
from rundocs.record import exits, fields
from rundocs.record.environment import capture_environment, get_rank, make_run_id, parent_tags
from rundocs.record.fields import DOUBLE_LIMIT
from rundocs.record.warn import WarnOnce
from rundocs.record.writer import RunWriter, create_run_folder


class Run:
    """One training or evaluation run, written to ``<dir>/<id>/``.

    Usage::

        with rundocs.Run("lr3e-4_s1", phase="lr-sweep", sweep="lr", config=cfg, epochs=30) as run:
            for epoch in range(1, 31):
                ...
                run.log(epoch=epoch, train_loss=tl, val_loss=vl, val_acc=va)
            run.summary(test_acc=ta)

    Leaving the block normally marks the run ``completed``; an exception marks it ``failed``
    with its traceback (and is re-raised); ``KeyboardInterrupt`` marks it ``interrupted``.
    Without ``with``, a run still open when the program ends is ended by how it ends (exit
    code, uncaught exception), and SIGTERM/SIGHUP record it ``interrupted`` before the
    program's own handling goes on (``rundocs.record.exits``). Arguments are coerced to what
    the format accepts, with a warning where that changes them (``rundocs.record.fields``).
    Under torchrun only rank 0 records: on other ranks the object accepts every call and
    writes nothing (``run.active`` is False, ``run.id`` is None).

    Args:
        name: Human name of the run; defaults to the id.
        phase: Phase the run belongs to (matches ``plans/<phase>.yaml``).
        sweep: Sweep the run belongs to.
        kind: ``"train"`` or ``"eval"``.
        config: Settings of the run: a mapping or a dataclass, nested freely.
        epochs: Planned number of epochs, for progress (``E012/030``).
        tags: Free labels. Inside a command started by ``rundocs run``, ``parent:<id>`` (the
            id of the run that records the command) is added.
        evaluates: For eval runs, the id (or ids) of the evaluated run(s).
        restarts: Id of the run this one relaunches (e.g. after it died).
        id: Folder name; by default a time-sorted unique id (``make_run_id``).
        dir: Runs folder; defaults to ``$RUNDOCS_DIR`` or ``runs``.
        heartbeat_every: Seconds between refreshes of ``updated_at`` (and fsyncs of the
            metrics) while the run logs.
    """

    def __init__(
        self,
        name: str | None = None,
        *,
        phase: str | None = None,
        sweep: str | None = None,
        kind: str = "train",
        config: Mapping[str, Any] | Any = None,
        epochs: int | None = None,
        tags: Iterable[str] = (),
        evaluates: str | Iterable[str] | None = None,
        restarts: str | None = None,
        id: str | None = None,  # noqa: A002 - the field is called id in the format
        dir: str | os.PathLike[str] | None = None,  # noqa: A002
        heartbeat_every: float = 30.0,
    ) -> None:
        self._warn = warn = WarnOnce()
        self._lock = threading.RLock()  # the record and its writes; reentrant for signal handlers
        self._prefixes: dict[str, str] = {}  # metric name -> its JSON-encoded key and colon
        self._writer: RunWriter | None = None
        self._sink: RunWriter | None = None  # what log() writes to: None once the run has ended
        self._ended = False
        self._signal: str | None = None
        self._first_beat = True
        self._heartbeat_every = fields.clean_seconds(heartbeat_every, warn)
        self._t0 = time.monotonic()
        self._last_beat = -math.inf  # the first log() checks the signal handlers (see _heartbeat)
        self.active = get_rank() == 0
        self.id: str | None = None
        self.folder: Path | None = None
        if not self.active:
            self._record: dict[str, Any] = {}
            return
        started = _now()

        def new_id() -> str:
            return fields.clean_id(make_run_id(), warn) or make_run_id(started).partition("_")[0]

        root = Path(dir if dir is not None else os.environ.get(env.RUNDOCS_DIR, "runs"))
        run_id = fields.clean_id(id, warn) or new_id()
        folder = create_run_folder(root, run_id, new_id, warn)
        if folder is not None:
            self.folder = folder
            self._writer = self._sink = RunWriter(folder, warn, self._lock)
        self.id = folder.name if folder is not None else run_id
        self._record = {
            "format": FORMAT,
            "id": self.id,
            "name": fields.clean_name(name, self.id),
            "kind": fields.clean_kind(kind, warn),
            "phase": fields.clean_label(phase, warn, "phase"),
            "sweep": fields.clean_label(sweep, warn, "sweep"),
            "tags": fields.clean_tags([*fields.items_of(tags), *parent_tags()], warn),
            "config": self._config(config),
            "status": "running",
            "started_at": _iso(started),
            "updated_at": _iso(started),
            "ended_at": None,
            "epochs": fields.clean_epochs(epochs, warn),
            "summary": {},
            "evaluates": fields.clean_ids(evaluates, warn, "evaluates"),
            "restarts": fields.clean_id(restarts, warn, "restarts"),
            "error": None,
            "env": capture_environment(),
            "checkpoints": [],
            "warnings": warn.messages,
        }
        self._write_record()
        exits.track(self)

    # -- the training loop --------------------------------------------------------------

    def log(self, epoch: int | None = None, step: int | None = None, **metrics: Any) -> None:
        """Append one line of metrics: ``run.log(epoch=3, train_loss=0.41, val_acc=0.88)``.

        Values may be Python or numpy numbers or one-element tensors. Anything else is
        dropped with a warning (once per metric). Non-finite floats are kept. After ``end()``
        nothing is written (one warning).
        """
        sink = self._sink
        if sink is None:
            if self._ended:
                self._warn("after-end-log", "log() after end() does nothing; the line was not recorded")
            return
        now = time.monotonic()
        parts = []
        if epoch is not None:
            if type(epoch) is int and 0 <= epoch <= MAX_COUNT:
                parts.append(f'"epoch":{epoch}')
            elif (index := fields.clean_index(epoch, self._warn, "epoch")) is not None:
                parts.append(f'"epoch":{index}')
        if step is not None:
            if type(step) is int and 0 <= step <= MAX_COUNT:
                parts.append(f'"step":{step}')
            elif (index := fields.clean_index(step, self._warn, "step")) is not None:
                parts.append(f'"step":{index}')
        parts.append(f'"time":{round(now - self._t0, 3)!r}')
        prefixes = self._prefixes
        for key, value in metrics.items():
            prefix = prefixes.get(key)
            if prefix is None and (prefix := self._prefix(key)) is None:
                continue
            # The line is written by hand: keys are encoded once, and repr of a finite float or
            # an int is exact, valid JSON, several times cheaper than json.dumps per call.
            if type(value) is float:
                text = repr(value) if value - value == 0 else f'"{encode_float(value)}"'
            elif type(value) is int and -DOUBLE_LIMIT < value < DOUBLE_LIMIT:
                text = repr(value)
            else:
                value = fields.clean_value(value, self._warn, key)
                if value is None:
                    continue
                text = json.dumps(value)
            parts.append(prefix + text)
        data = ("{" + ",".join(parts) + "}\n").encode()
        fd = sink.fast_fd
        written = 0
        if fd is not None:
            try:
                written = os.write(fd, data)
            except OSError:
                written = 0  # nothing was written: the writer's path retries and warns
        if written != len(data):
            sink.append_metrics(data[written:])
        if now - self._last_beat >= self._heartbeat_every:
            self._last_beat = now
            self._heartbeat(sink)

    def summary(self, **values: Any) -> None:
        """Record final values of the run (``test_acc=0.91``, ``commit="3f2a1c9"``, ``ok=True``):
        numbers, texts and booleans; written at once."""
        if not self._open("summary"):
            return
        with self._lock:
            for key, value in values.items():
                if fields.is_named(key, self._warn, "summary"):
                    kept = fields.clean_summary_value(value, self._warn, key)
                    if kept is not None:
                        self._record["summary"][key] = kept
            self._write_record()

    def update(self, *, config: Mapping[str, Any] | Any = None, tags: Iterable[str] = ()) -> None:
        """Replace the config and add tags after the run started (a search suggests settings,
        or prunes a trial, once the run is open). Written to ``run.json`` at once."""
        if not self._open("update"):
            return
        with self._lock:
            if config is not None:
                self._record["config"] = self._config(config)
            self._record["tags"] = fields.clean_tags([*self._record["tags"], *fields.items_of(tags)], self._warn)
            self._write_record()

    def record_checkpoint(
        self, path: str | os.PathLike[str], *, sha256: str, size: int, epoch: int | None, arch: Any
    ) -> None:
        """Add a checkpoint to ``run.json`` (``rundocs.torch.save_checkpoint`` calls this)."""
        if not self._open("record_checkpoint"):
            return
        arch_json = to_json_value(arch)
        entry = {
            "path": self._relative(path),
            "epoch": fields.as_int(epoch),
            "sha256": str(sha256),
            "bytes": fields.as_int(size),
            "arch": arch_json if isinstance(arch_json, dict) or arch_json is None else {"value": arch_json},
        }
        with self._lock:
            self._record["checkpoints"] = [c for c in self._record["checkpoints"] if c["path"] != entry["path"]]
            self._record["checkpoints"].append(entry)
            self._write_record()

    def end(self, status: str = "completed", error: BaseException | str | None = None) -> None:
        """Finish the run; later calls do nothing. The context manager calls this for you.

        ``status`` is one of ``completed``, ``failed``, ``interrupted``; common synonyms
        (``"succeeded"``, ``"error"``, ``"killed"``...) are mapped, anything else is recorded
        as ``failed`` with a warning. ``error`` is an exception (type, message, traceback) or a
        message. A run a signal interrupted stays ``interrupted``.
        """
        if not self.active:
            return
        with self._lock:
            if self._ended:
                return
            self._ended = True
            self._sink = None
            status = fields.clean_status(status, self._warn)
            if self._signal is None:
                self._record["status"] = status
                self._record["error"] = fields.error_record(error)
            self._record["ended_at"] = self._record["updated_at"] = _iso(_now())
            if self._writer is not None:
                self._writer.finish(self._record)
        exits.untrack(self)

    @property
    def status(self) -> str | None:
        return self._record.get("status")

    def __enter__(self) -> Run:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.end(*_status_of(exc))

    def __repr__(self) -> str:
        return f"<Run {self.id!r} {self.status}>" if self.active else "<Run (inactive on this rank)>"

    # -- internals ----------------------------------------------------------------------

    def _prefix(self, key: str) -> str | None:
        """A metric name's JSON-encoded key and colon, kept for the next lines; None (after a
        warning) for ``time``, which rundocs records, and for an empty or blank name."""
        if key == "time":
            self._warn("reserved-time", "'time' is recorded automatically; the logged value was dropped")
            return None
        if not fields.is_named(key, self._warn, "log"):
            return None
        prefix = self._prefixes[key] = json.dumps(key, ensure_ascii=False) + ":"
        return prefix

    def _relative(self, path: str | os.PathLike[str]) -> str:
        """Inside the run folder: relative to it, so the folder can move. Elsewhere: absolute."""
        resolved = Path(path).resolve()
        if self.folder is not None:
            try:
                return resolved.relative_to(self.folder.resolve()).as_posix()
            except ValueError:
                pass
        return str(resolved)

    def _open(self, method: str) -> bool:
        """Whether a call may change the record: active and not ended (else one warning)."""
        if self._ended:
            self._warn(f"after-end-{method}", f"{method}() after end() does nothing")
        return self.active and not self._ended

    def _config(self, config: Any) -> dict[str, Any]:
        try:
            value = to_json_value(config)
        except Exception as error:  # a config that cannot be read must not stop training
            self._warn("config-read", f"cannot read config ({type(error).__name__}: {error}); recorded as {{}}")
            return {}
        if value is None:
            return {}
        if not isinstance(value, dict):
            self._warn("config", f"config must be a mapping or a settings object, got {type(config).__name__}")
            return {"value": value}
        return value

    def _heartbeat(self, sink: RunWriter) -> None:
        """Refresh ``updated_at``, sync the metrics, and put the signal handlers back in front
        if the program replaced them. The first call (the first ``log``) only does the last."""
        exits.guard_signals()
        if self._first_beat:
            self._first_beat = False
            self._last_beat = self._t0
            return
        sink.sync()
        with self._lock:
            self._write_record()

    def _write_record(self) -> None:
        if self._writer is None:
            return
        self._record["updated_at"] = _iso(_now())
        self._writer.write_record(self._record)

    # -- called by rundocs.record.exits -------------------------------------------------

    def _end_at_exit(self, error: BaseException | None) -> None:
        """The program ends with this run open: ``error`` is why, if it failed."""
        self.end(*_status_of(error))

    def _signalled(self, name: str, frame: FrameType | None) -> None:
        """A terminating signal arrived: record the run as interrupted by it, at once.

        The run stays open (the program's own handler may let it log on); ``end`` keeps the
        status. A run whose final record is written already is only written again, in case
        the write the signal interrupted had not landed.
        """
        writer = self._writer
        if writer is None:
            return
        with self._lock:
            if writer.finished:
                writer.rewrite_latest()
                return
            if self._signal is None:
                self._signal = name
                self._record["status"] = "interrupted"
                self._record["ended_at"] = _iso(_now())
                stack = "".join(traceback.format_stack(frame)) if frame is not None else None
                self._record["error"] = {"type": "Signal", "message": name, "traceback": stack}
            writer.sync()
            self._write_record()


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds")


def _status_of(exc: BaseException | None) -> tuple[str, BaseException | None]:
    if exc is None:
        return "completed", None
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted", exc
    if isinstance(exc, SystemExit) and exc.code in (0, None):
        return "completed", None
    return "failed", exc
