"""Under ``mkdocs serve`` with the plugin: changes seen as the kernel reports them, not by polling.

MkDocs' server finds changes by listing every watched folder twice a second. At 5,000 runs that
is 15,000 files a look (about a quarter of a second of Python each time, in a thread that takes
turns with the build), and the pages the plugin itself writes into ``docs/`` during a build look
like a change too, so every change cost a second whole build. Here inotify reports changes under
the runs, plans, templates and ``docs/`` as they happen; a change the plugin's own generation
made (a page it wrote, with the size and time it left it, or a page it removed) is not one. Any
other change rewrites one small file (``signal``) that the server polls, and the server builds
again. Where inotify cannot be used (not Linux, or the system's limit of watches reached),
``start`` says so and the server's own polling stays, as before.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from rundocs.atomic import replace_file

if TYPE_CHECKING:
    from watchdog.observers.api import BaseObserver

log = logging.getLogger(f"mkdocs.plugins.{__name__}")

#: The events that change what a page shows (opening or reading a file does not).
_CHANGES = frozenset({"created", "modified", "deleted", "moved", "closed", "attrib"})
#: How long an event in ``docs/`` waits for a generation under way to finish before it is judged.
_GENERATION_WAIT = 120.0

Stamp = tuple[int, int, int]


class ChangeWatch:
    """Watches ``folders`` and ``docs``; rewrites ``signal`` when something changed."""

    def __init__(self, docs: Path, folders: Iterable[Path], signal: Path) -> None:
        self.docs = docs.resolve()
        self.folders = [folder.resolve() for folder in folders]
        self.signal = signal
        self._own: dict[str, Stamp | None] = {}  # what the last generation left: a stamp, or None if removed
        self._idle = threading.Event()
        self._idle.set()
        self._observer: BaseObserver | None = None

    def start(self) -> bool:
        """Start watching; False (nothing started) where inotify cannot be used."""
        try:
            from watchdog import events
            from watchdog.events import FileSystemEvent, FileSystemEventHandler
            from watchdog.observers.inotify import InotifyObserver
        except ImportError:  # watchdog comes with MkDocs; its inotify observer only on Linux
            return False
        # Only what changes a file or a folder: subscribing to openings and reads as well (the
        # default) floods the kernel's queue while a build reads every run, and watchdog then walks
        # every folder again to catch up, which opens them all: a loop that never ends.
        kinds = [
            events.FileCreatedEvent, events.FileModifiedEvent, events.FileDeletedEvent, events.FileMovedEvent,
            events.FileClosedEvent, events.FileAttribEvent, events.DirCreatedEvent, events.DirDeletedEvent,
            events.DirMovedEvent,
        ]  # fmt: skip
        watch = self

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event: FileSystemEvent) -> None:
                watch.noticed(event.event_type, event.is_directory, [event.src_path, event.dest_path])

        observer = InotifyObserver()
        try:
            self.signal.parent.mkdir(parents=True, exist_ok=True)
            replace_file(self.signal, b"0", durable=False)  # a folder that cannot take it: poll instead
            for folder in [self.docs, *self.folders]:
                observer.schedule(Handler(), str(folder), recursive=True, event_filter=kinds)
            observer.start()
        except OSError as error:  # the limit of inotify watches (fs.inotify.max_user_watches), a folder gone
            log.info("rundocs: changes are found by polling, as inotify is not available here: %s", error)
            observer.stop()
            return False
        self._observer = observer
        return True

    def stop(self) -> None:
        if self._observer is not None:
            self._observer.stop()
            self._observer = None

    @contextmanager
    def generating(self) -> Iterator[None]:
        """Around a generation: events in ``docs/`` wait until ``wrote`` said what it wrote."""
        self._idle.clear()
        try:
            yield
        finally:
            self._idle.set()

    def wrote(self, written: Iterable[str], removed: Iterable[str]) -> None:
        """Note the pages (paths relative to ``docs``) the generation wrote and removed."""
        own: dict[str, Stamp | None] = {str(self.docs / path): _stamp(self.docs / path) for path in written}
        own.update({str(self.docs / path): None for path in removed})
        self._own = own

    def noticed(self, kind: str, is_directory: bool, paths: list[bytes | str]) -> None:
        """One event from the observer's thread: ask for a build unless it is the plugin's own."""
        if kind not in _CHANGES:
            return
        shown = [os.fsdecode(path) for path in paths if path]
        if all(self._is_own(path, kind, is_directory) for path in shown):
            return
        try:
            self.signal.parent.mkdir(parents=True, exist_ok=True)  # the cache may have been deleted
            replace_file(self.signal, str(time.time_ns()).encode(), durable=False)
        except OSError as error:
            log.warning("rundocs: cannot ask the server to build again (%s): %s", self.signal, error)

    def _is_own(self, path: str, kind: str, is_directory: bool) -> bool:
        """Whether a path under ``docs/`` is as the last generation left it (or one of its
        temporary files, gone since, or a new folder: the files written into it tell; a folder
        moved or deleted is a change, as it comes without events for its files). Elsewhere,
        every change is one."""
        if not path.startswith(str(self.docs) + os.sep):
            return False
        if is_directory:
            return kind == "created"
        self._idle.wait(_GENERATION_WAIT)
        name = os.path.basename(path)
        if name.startswith(".") and name.endswith(".tmp") and f".{os.getpid()}." in name:  # atomic.replace_file's
            return not os.path.lexists(path)
        return path in self._own and _stamp(Path(path)) == self._own[path]


def _stamp(path: Path) -> Stamp | None:
    try:
        status = os.stat(path, follow_symlinks=False)
    except OSError:
        return None
    return status.st_size, status.st_mtime_ns, status.st_ino
