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
import traceback
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from time import monotonic
from types import FrameType, TracebackType
from typing import Any

from rundocs.format.decode import MAX_COUNT
from rundocs.format.schema import FORMAT, encode_float, load_schema, to_json_value
from rundocs.record import exits, fields
from rundocs.record.environment import capture_environment, get_rank, make_run_id, parent_tags, stable_run_id
from rundocs.record.fields import DOUBLE_LIMIT
from rundocs.record.warn import WarnOnce
from rundocs.record.writer import RunWriter, create_run_folder
from rundocs.store.locations import recording_folder
from rundocs.store.upload import RunUploader, fetch_run

#: The largest ``time`` a metrics line may hold (seconds since the start).
TIME_LIMIT = float(load_schema("metrics")["properties"]["time"]["maximum"])


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
        bookkeeping: Settings of ``config`` that are not hyperparameters (``["paths",
            "log_every", "save_*"]``): a dotted key, a parent, a last part or a glob. Sweeps do
            not take them for dimensions and config diffs do not mark them.
        epochs: Planned number of epochs, for progress (``E012/030``).
        tags: Free labels. Inside a command started by ``rundocs run``, ``parent:<id>`` (the
            id of the run that records the command) is added.
        evaluates: For eval runs, the id (or ids) of the evaluated run(s).
        restarts: Id of the run this one relaunches (e.g. after it died).
        id: Folder name; by default a time-sorted unique id (``make_run_id``). A lab that records
            the same planned runs again gives ``Run.id_for(phase, name)``, the same each time.
            A folder of that name already there is never written into (unless ``resume``): the
            run then gets a new id, with a warning.
        dir: Runs folder, or an fsspec URL (``s3://bucket/project/runs``); defaults to
            ``$RUNDOCS_DIR`` or ``runs``. For a URL the run is written to a local staging folder
            (``folder``; ``$RUNDOCS_STAGING``) and uploaded in the background at each heartbeat,
            and at its end, without ever waiting in ``log`` (``rundocs.store.upload``).
        heartbeat_every: Seconds between refreshes of ``updated_at`` (and fsyncs of the
            metrics) while the run logs.
        resume: Continue the run folder ``<dir>/<id>`` if it holds a readable run (a job
            requeued after preemption, restarting from its checkpoint): its start, config,
            summary, tags and checkpoints are kept, its status is ``running`` again, new metric
            lines are appended and their ``time`` keeps counting from the original start. The
            arguments given here replace the recorded ones (tags are added). Without such a
            folder a new run is started (with a warning if the folder is there but unreadable).
        started_at: When the run really started, for a run recorded after the fact (an
            importer replaying another tracker's log): a ``datetime`` (naive: local time), an
            ISO 8601 text or Unix seconds. ``time`` in the metric lines then counts from it, and
            ``updated_at`` is the newest moment the record knows (the start plus the latest
            ``time`` logged, or the end), not the moment of writing.
    """

    def __init__(
        self,
        name: str | None = None,
        *,
        phase: str | None = None,
        sweep: str | None = None,
        kind: str = "train",
        config: Mapping[str, Any] | Any = None,
        bookkeeping: Iterable[str] = (),
        epochs: int | None = None,
        tags: Iterable[str] = (),
        evaluates: str | Iterable[str] | None = None,
        restarts: str | None = None,
        id: str | None = None,  # noqa: A002 - the field is called id in the format
        dir: str | os.PathLike[str] | None = None,  # noqa: A002
        heartbeat_every: float = 30.0,
        resume: bool = False,
        started_at: datetime | str | float | None = None,
    ) -> None:
        self._warn = warn = WarnOnce()
        self._lock = threading.RLock()  # the record and its writes; reentrant for signal handlers
        self._prefixes: dict[str, str] = {}  # metric name -> its JSON-encoded key and colon
        self._writer: RunWriter | None = None
        self._uploader: RunUploader | None = None
        self._at_exit = False  # ended by Python's exit (see RunUploader.close)
        self._sink: RunWriter | None = None  # what log() writes to: None once the run has ended
        self._ended = False
        self._signal: str | None = None
        self._first_beat = True
        self._heartbeat_every = fields.clean_seconds(heartbeat_every, warn)
        self._t0 = monotonic()
        self._last_beat = -math.inf  # the first log() checks the signal handlers (see _heartbeat)
        self.active = get_rank() == 0
        self.id: str | None = None
        self.folder: Path | None = None
        #: The object store URL the run is uploaded to (``folder`` is then its staging copy); None for a folder.
        self.store: str | None = None
        if not self.active:
            self._record: dict[str, Any] = {}
            return
        now = _now()
        origin = fields.clean_moment(started_at, warn, "started_at") if started_at is not None else None
        #: Whether the record tells a past run (``started_at`` given): ``updated_at`` then follows its times.
        self._replay = origin is not None
        self._last_time = 0.0  # the latest ``time`` written to a line

        def new_id() -> str:
            return fields.clean_id(make_run_id(), warn) or make_run_id(now).partition("_")[0]

        root, store_url = recording_folder(dir)
        self.store = store_url
        run_id = fields.clean_id(id, warn) or new_id()
        if resume and id is None:
            warn("resume-id", "resume=True needs a fixed id= (e.g. from SLURM_JOB_ID); recording a new run")
        if resume and id is not None and store_url is not None and not os.path.lexists(root / run_id):
            fetch_run(store_url, root / run_id, warn)  # requeued onto a machine without its staging copy
        previous = _resumable(root / run_id, warn) if resume and id is not None else None
        folder = root / run_id if previous is not None else create_run_folder(root, run_id, new_id, warn)
        if folder is not None:
            self.folder = folder
            self._writer = self._sink = RunWriter(folder, warn, self._lock)
            if store_url is not None:  # the folder is a staging copy, published at heartbeats and at the end
                self._uploader = RunUploader(store_url, folder, WarnOnce())
        self.id = folder.name if folder is not None else run_id
        given = {
            "format": FORMAT,
            "id": self.id,
            "name": fields.clean_name(name, self.id),
            "kind": fields.clean_kind(kind, warn),
            "phase": fields.clean_label(phase, warn, "phase"),
            "sweep": fields.clean_label(sweep, warn, "sweep"),
            "tags": fields.clean_tags([*fields.items_of(tags), *parent_tags()], warn),
            "config": self._config(config),
            "bookkeeping": fields.clean_tags(bookkeeping, warn),
            "status": "running",
            "started_at": _iso(origin or now),
            "updated_at": _iso(origin or now),
            "ended_at": None,
            "epochs": fields.clean_epochs(epochs, warn),
            "summary": {},
            "evaluates": fields.clean_ids(evaluates, warn, "evaluates"),
            "restarts": fields.clean_id(restarts, warn, "restarts"),
            "error": None,
            "env": capture_environment(root),
            "checkpoints": [],
            "warnings": warn.messages,
        }
        if previous is not None:
            given = _resumed(previous, given, name=name, kind=kind, config=config, epochs=epochs)
            warn.messages[:0] = [m for m in previous.get("warnings", ()) if m not in warn.messages]
            given["warnings"] = warn.messages
            origin = fields.clean_moment(previous["started_at"], warn, "started_at")
        if origin is not None:  # ``time`` counts from the run's start, not from this process's
            self._t0 -= max(0.0, (now - origin).total_seconds())
        self._record = given
        self._write_record()
        if self._uploader is not None:
            self._uploader.request()
        exits.track(self)

    @staticmethod
    def id_for(phase: str | None, name: str) -> str:
        """The id the run ``name`` of ``phase`` always gets (``lr-sweep--lr0.01_s0``): a valid
        folder name, different for every other phase and name (``stable_run_id``)."""
        return stable_run_id(phase, name)

    # -- the training loop --------------------------------------------------------------

    def log(
        self,
        epoch: int | None = None,
        step: int | None = None,
        *,
        time: float | datetime | str | None = None,
        **metrics: Any,
    ) -> None:
        """Append one line of metrics: ``run.log(epoch=3, train_loss=0.41, val_acc=0.88)``.

        Values may be Python or numpy numbers or one-element tensors. Anything else is
        dropped with a warning (once per metric). Non-finite floats are kept. After ``end()``
        nothing is written (one warning). ``time`` is for replaying a past run: the moment of
        the line, as seconds since the run's start or as a moment (``datetime``, ISO text);
        by default the clock's.
        """
        sink = self._sink
        if sink is None:
            if self._ended:
                self._warn("after-end-log", "log() after end() does nothing; the line was not recorded")
            return
        now = monotonic()
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
        if time is not None and not self._replay:
            self._warn(
                "time-live", "time= is for replaying a past run (Run(started_at=...)); the clock's time was recorded"
            )
            time = None
        seconds = round(now - self._t0, 3) if time is None else self._line_time(time)
        parts.append(f'"time":{seconds!r}')
        if seconds > self._last_time:
            self._last_time = seconds
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

    def end(
        self,
        status: str = "completed",
        error: BaseException | str | None = None,
        *,
        ended_at: datetime | str | float | None = None,
    ) -> None:
        """Finish the run; later calls do nothing. The context manager calls this for you.

        ``status`` is one of ``completed``, ``failed``, ``interrupted``; common synonyms
        (``"succeeded"``, ``"error"``, ``"killed"``...) are mapped, anything else is recorded
        as ``failed`` with a warning. ``error`` is an exception (type, message, traceback) or a
        message. A run a signal interrupted stays ``interrupted``. ``ended_at`` is for replaying
        a past run: when it really ended (as ``started_at`` of ``Run``); by default now.
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
            moment = fields.clean_moment(ended_at, self._warn, "ended_at") if ended_at is not None else None
            if moment is not None and moment < datetime.fromisoformat(self._record["started_at"]):
                self._warn("ended-early", f"ended_at {_iso(moment)} is before the start; the end was recorded as now")
                moment = None
            self._record["ended_at"] = self._record["updated_at"] = _iso(moment or _now())
            if self._writer is not None:
                self._writer.finish(self._record)
        if self._uploader is not None:
            self._uploader.close(at_exit=self._at_exit)
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
        warning) for an empty or blank name."""
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
        if self._uploader is not None:
            self._uploader.request()

    def _write_record(self) -> None:
        if self._writer is None:
            return
        self._record["updated_at"] = self._record["ended_at"] or _iso(self._updated())
        self._writer.write_record(self._record)

    def _updated(self) -> datetime:
        """The newest moment the record knows: now, or for a replayed run its latest line's."""
        if not self._replay:
            return _now()
        start = datetime.fromisoformat(self._record["started_at"])
        return start + timedelta(seconds=self._last_time)

    def _line_time(self, value: float | datetime | str) -> float:
        """A line's ``time`` given by the caller, as seconds since the run's start (0 if invalid)."""
        if isinstance(value, datetime | str):
            moment = fields.clean_moment(value, self._warn, "time")
            start = datetime.fromisoformat(self._record["started_at"])
            seconds = (moment - start).total_seconds() if moment is not None else 0.0
        else:
            number = fields.clean_value(value, self._warn, "time")
            seconds = float(number) if isinstance(number, int | float) else 0.0
        if not 0 <= seconds <= TIME_LIMIT:
            message = f"time must be 0 to {TIME_LIMIT:.0f} seconds after the start; recorded as 0 or the limit"
            self._warn("time-range", message)
        return round(min(max(seconds, 0.0), TIME_LIMIT), 3)

    # -- called by rundocs.record.exits -------------------------------------------------

    def _end_at_exit(self, error: BaseException | None) -> None:
        """The program ends with this run open: ``error`` is why, if it failed."""
        self._at_exit = True
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
                if self._uploader is not None:
                    self._uploader.flush()
                return
            if self._signal is None:
                self._signal = name
                self._record["status"] = "interrupted"
                self._record["ended_at"] = _iso(_now())
                stack = "".join(traceback.format_stack(frame)) if frame is not None else None
                self._record["error"] = {"type": "Signal", "message": name, "traceback": stack}
            writer.sync()
            self._write_record()
        if self._uploader is not None:  # the process may die when the handler returns
            self._uploader.flush()


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


def _resumable(folder: Path, warn: WarnOnce) -> dict[str, Any] | None:
    """The parsed record of a run folder to resume; None (a new run then starts) when there is
    no such folder, or after a warning when it cannot be read."""
    from rundocs.load.records import read_record  # the reader's rules: only a valid record is resumed

    if folder.is_symlink():
        warn("resume", f"cannot resume {folder}: a symlink (the reader does not follow it); recording a new run")
        return None
    if not folder.exists():
        return None
    record, data, problems = read_record(folder)
    if record is None or data is None:
        why = "; ".join(problem.message for problem in problems) or "unreadable"
        warn("resume", f"cannot resume {folder}: {why}; recording a new run")
        return None
    return data


def _resumed(previous: dict[str, Any], given: dict[str, Any], **arguments: Any) -> dict[str, Any]:
    """The record of a resumed run: what was recorded, with what this process says of it."""
    record = {**given, **previous, "id": given["id"], "status": "running", "ended_at": None, "error": None}
    record["env"] = given["env"]
    for field in ("phase", "sweep", "evaluates", "restarts", "bookkeeping"):
        if given[field]:
            record[field] = given[field]
    for field, argument in (("name", "name"), ("kind", "kind"), ("config", "config"), ("epochs", "epochs")):
        if arguments[argument] is not None and (field != "kind" or arguments[argument] != "train"):
            record[field] = given[field]
    record["tags"] = list(dict.fromkeys([*previous.get("tags", ()), *given["tags"]]))
    return record
