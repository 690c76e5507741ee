"""Files of one run folder: ``run.json`` replaced atomically, ``metrics.jsonl`` appended.

Every ``OSError`` (full disk, read-only folder, vanished share) becomes a warning: the
writer keeps what it already wrote and tries again on the next call.

While a run is open its folder holds a small hidden reserve file (at least twice the size of
the record, and of random bytes, so a compressing file system stores it all). Only a record
that ends the run (its final one, or the one a terminating signal writes) may spend it: when
the disk is full, the writer deletes the reserve and retries. A failed heartbeat, summary or
metrics write keeps it, so a run that trained on after the disk filled still ends
``completed`` or ``failed``, with its summary and warnings, instead of reading as stalled.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import threading
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rundocs.atomic import replace_file, write_all
from rundocs.format.schema import METRICS_FILE, RUN_FILE
from rundocs.record import fields
from rundocs.record.warn import WarnOnce

_ID_ATTEMPTS = 20
RESERVE_FILE = ".reserve"
RESERVE_BYTES = 64 * 1024
_TAIL_SEARCH = 1024 * 1024  # how far back a resumed run looks for the last whole line
_DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


def create_run_folder(root: Path, run_id: str, make_id: Callable[[], str], warn: WarnOnce) -> Path | None:
    """Create ``root/<id>`` exclusively; draw a new id while the name is taken.

    ``mkdir`` is atomic on local and network filesystems, so two processes can never share a
    folder. Returns None (after a warning) when the folder cannot be created at all.
    """
    try:
        root.mkdir(parents=True, exist_ok=True)
    except (OSError, ValueError) as error:  # ValueError: a NUL byte in the path
        warn("mkdir-root", f"cannot create runs folder {root}: {error}; this run is not recorded")
        return None
    candidate = run_id
    for _ in range(_ID_ATTEMPTS):
        folder = root / candidate
        try:
            folder.mkdir()
        except FileExistsError:
            warn(f"exists-{candidate}", f"run folder {folder} already exists; using a new id")
            candidate = make_id()
            continue
        except OSError as error:
            warn("mkdir-run", f"cannot create run folder {folder}: {error}; this run is not recorded")
            return None
        return folder
    warn("mkdir-ids", f"no free run id in {root} after {_ID_ATTEMPTS} attempts; this run is not recorded")
    return None


class RunWriter:
    """Writes one run folder. Thread-safe; never raises ``OSError``.

    Every write happens under one reentrant lock (a ``Run`` passes its own, so that changes
    to the record and its writes are serialised together). After ``finish`` nothing more is
    written: a late heartbeat cannot replace the final record with an older copy, and a late
    metrics line is dropped. The lock is reentrant because a signal handler runs on the main
    thread, possibly in the middle of a write: a write nested in another is completed by the
    outer one re-writing the newest record last.
    """

    def __init__(self, folder: Path, warn: WarnOnce, lock: threading.RLock | None = None) -> None:
        self.folder = folder
        self._warn = warn
        self.lock = lock if lock is not None else threading.RLock()
        #: True once the final record is written (or being written): later writes do nothing.
        self.finished = False
        self._latest: bytes | None = None  # the newest encoded record
        self._latest_ends = False  # whether it ends the run (it may then spend the reserve)
        self._generation = 0  # counts stored records, to notice a write nested in another
        self._metrics: Any = None  # raw, unbuffered file: one write() per line reaches the OS
        self._torn = False  # the last metrics write may have left half a line
        #: The metrics file's descriptor while it is open and healthy: ``Run.log`` writes a
        #: whole line to it with one ``os.write`` (an O_APPEND write is one atomic append, so
        #: threads cannot interleave inside a line) and falls back to ``append_metrics`` on
        #: anything else. None before the file is open, after any failed write and after
        #: ``finish``; a number read before ``finish`` never reaches another file (see ``_retire``).
        self.fast_fd: int | None = None
        self._reserve: Path | None = folder / RESERVE_FILE
        self._reserved = 0  # bytes the reserve holds
        self._keep_reserve(RESERVE_BYTES)

    def write_record(self, record: dict[str, Any], *, final: bool = False) -> None:
        """Replace ``run.json``: write a temporary file, fsync it, rename it over the old one.

        The record is checked against the format's schema first (``fields.checked``): a field
        the reader would refuse is reset with a warning, so no writer ever leaves a file that
        ``rundocs`` cannot read. ``final`` marks the last record: every later call does nothing.
        """
        with self.lock:
            if self.finished:
                return
            if fields.checked(record, self._warn) is None:
                self.finished = final
                return
            try:
                data = json.dumps(record, indent=2, ensure_ascii=False, allow_nan=False).encode() + b"\n"
            except (TypeError, ValueError) as error:  # a value slipped past the encoders: a bug, not fatal
                self._warn("encode-record", f"cannot encode run.json: {error}")
                self.finished = final
                return
            self._latest = data  # before the flag: a signal handler that sees the flag rewrites this
            self._latest_ends = final or record.get("status") != "running"
            self.finished = final
            self._store(data)
            if not self._latest_ends:
                self._keep_reserve(2 * len(data))

    def rewrite_latest(self) -> None:
        """Write the newest record again; a signal handler calls this before the process dies,
        in case the write it interrupted has not reached its rename yet."""
        with self.lock:
            if self._latest is not None:
                self._store(self._latest)

    def _store(self, data: bytes) -> None:
        self._generation += 1
        mine = self._generation
        self._latest = data
        self._replace(data)
        while self._generation != mine:  # a nested write ran meanwhile: the newest must land last
            mine = self._generation
            self._replace(self._latest)

    def _replace(self, data: bytes) -> None:
        target = self.folder / RUN_FILE
        try:
            replace_file(target, data)
        except OSError as error:
            if error.errno not in _DISK_FULL or not self._latest_ends or not self._release_reserve():
                self._warn(f"record-{error.errno}", f"cannot write {target}: {error}; keeping the last good copy")
                return
            try:
                replace_file(target, data)
            except OSError as retry_error:
                self._warn("record-full", f"cannot write {target}: {retry_error}; keeping the last good copy")

    def _release_reserve(self) -> bool:
        """Free the reserve so a record can still be written; False if none was left."""
        if self._reserve is None or not self._reserved:
            return False
        _remove_quietly(self._reserve)
        self._reserve = None
        return True

    def _keep_reserve(self, size: int) -> None:
        """Grow the reserve to at least ``size`` bytes (doubling, so a record that grows a little
        at each write does not append at each write); on a full disk it keeps what it has."""
        if self._reserve is None or self._reserved >= size:
            return
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW
        try:
            with os.fdopen(os.open(self._reserve, flags, 0o666), "ab") as file:
                file.write(os.urandom(max(size, 2 * self._reserved) - self._reserved))
        except OSError:
            pass
        try:
            self._reserved = os.stat(self._reserve).st_size
        except OSError:
            self._reserve = None

    def append_metrics(self, line: bytes) -> None:
        """Append one complete JSON line (ending in a newline); dropped after ``finish``."""
        with self.lock:
            if self.finished or (self._metrics is None and not self._open_metrics()):
                return
            if self._torn:  # end the fragment left by a failed write, so it stays one bad line
                line = b"\n" + line
            try:
                written = self._metrics.write(line)
                if written != len(line):  # a short write: finish it, or let the disk say why not
                    write_all(self._metrics, line[written or 0 :])
            except OSError as error:
                self._torn = True
                self.fast_fd = None
                self._warn(f"metrics-{error.errno}", f"cannot append to {self.folder / METRICS_FILE}: {error}")
                return
            if self._torn:
                self._torn = False
            self.fast_fd = self._metrics.fileno()

    def sync(self) -> None:
        """Push appended metrics to stable storage (called at heartbeats and at the end)."""
        with self.lock:
            if self._metrics is None or self.finished:
                return
            try:
                os.fsync(self._metrics.fileno())
            except OSError as error:
                self._warn(f"fsync-{error.errno}", f"cannot fsync {self.folder / METRICS_FILE}: {error}")

    def finish(self, record: dict[str, Any]) -> None:
        """Sync and retire the metrics, write the final record, then drop the reserve."""
        with self.lock:
            if self.finished:
                return
            self.sync()
            self._retire()
            self.write_record(record, final=True)
            if self._reserve is not None:
                _remove_quietly(self._reserve)
                self._reserve = None

    def _retire(self) -> None:
        """Stop writing metrics without freeing the descriptor's number.

        Another thread may have read ``fast_fd`` just before ``finish`` and write to it just
        after. Had the descriptor been closed, the number could already name another file
        (a checkpoint, the next run's metrics). It is pointed at ``/dev/null`` instead, and
        closed only when the writer itself is collected, when no caller can hold it any more.
        """
        self.fast_fd = None
        metrics, self._metrics = self._metrics, None
        if metrics is None:
            return
        try:
            null = os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(null, metrics.fileno())
            finally:
                os.close(null)
        except OSError:
            with contextlib.suppress(OSError):
                metrics.close()
            return
        weakref.finalize(self, _close_quietly, metrics)

    def _open_metrics(self) -> bool:
        path = self.folder / METRICS_FILE
        try:
            self._metrics = open(path, "ab", buffering=0)  # noqa: SIM115 - kept open for the run's life
        except OSError as error:
            self._warn(f"open-metrics-{error.errno}", f"cannot open {path}: {error}")
            return False
        if _ends_mid_line(path):  # a resumed run whose process died inside a line
            self._drop_torn_tail(path)
        return True

    def _drop_torn_tail(self, path: Path) -> None:
        """Cut the half line a killed process left, so the reader never meets it; if that fails,
        the next line starts on a line of its own (the fragment stays one unreadable line)."""
        try:
            size = os.fstat(self._metrics.fileno()).st_size
            with open(path, "rb") as file:
                file.seek(max(0, size - _TAIL_SEARCH))
                tail = file.read()
            if b"\n" not in tail and size > _TAIL_SEARCH:
                raise OSError("no line end in the last bytes")
            cut = size - len(tail) + tail.rfind(b"\n") + 1
            os.truncate(self._metrics.fileno(), cut)
            self._warn(
                "torn-tail", f"{path}: removed the half-written line ({size - cut} bytes) a stopped process left"
            )
        except OSError:
            self._torn = True


def _ends_mid_line(path: Path) -> bool:
    try:
        with open(path, "rb") as file:
            if file.seek(0, os.SEEK_END) == 0:
                return False
            file.seek(-1, os.SEEK_END)
            return file.read(1) != b"\n"
    except OSError:
        return False


def _close_quietly(file: Any) -> None:
    with contextlib.suppress(OSError):
        file.close()


def _remove_quietly(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()
