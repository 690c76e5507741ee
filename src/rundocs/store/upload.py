"""Publishing a recording run to an object store from its local staging copy.

``Run(dir="s3://...")`` writes its folder with the local writer, in a staging folder
(``locations.staging_folder``), so ``log`` never waits on the network. ``RunUploader`` puts the
files that changed since the last upload: in a background thread when the run asks at a
heartbeat, and on the calling thread when the run ends or a signal interrupts it. Each file is
one PUT of the whole file (a metrics file up to its last newline), so a reader sees a complete
earlier copy or a complete later one. A failure (no bucket, no credentials, no network) leaves
the staging copy as it is; it is reported once, on the run's own thread at its next heartbeat
or at its end, and the upload is tried again at the next heartbeat.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from rundocs.format.schema import RUN_FILE
from rundocs.record.warn import WarnOnce
from rundocs.store.locations import describe_error
from rundocs.store.sides import COPIED_FILES, FolderSide, StoreSide, Tag
from rundocs.store.sync import GONE, copy_file

T = TypeVar("T")

#: The longest the end of a run, or a signal, waits for the last upload: a store that does not
#: answer in time leaves the run in its staging folder, with a warning, and the process goes on
#: (or dies, after a signal). The upload's own thread is a daemon: it never holds the exit.
FINAL_UPLOAD_SECONDS = 60.0


class RunUploader:
    """Uploads one run folder (``folder``, named by the run id) to ``url/<run id>/``."""

    def __init__(self, url: str, folder: Path, warn: WarnOnce) -> None:
        self.url = url.rstrip("/")
        self._folder = folder
        self._local = FolderSide(folder.parent)
        self._store: StoreSide | None = None  # opened on the first upload, off the training thread
        self._warn = warn
        self._uploaded: dict[str, Tag] = {}  # what each file's tag was when last put
        self._lock = threading.Lock()  # one upload at a time
        self._flushing = threading.Lock()  # one waiting flush at a time
        self._wanted = threading.Event()
        self._failure: str | None = None  # why the last upload failed, until reported
        self._closed = False
        self._thread: threading.Thread | None = None

    def request(self) -> None:
        """Ask for an upload in the background (at a heartbeat); returns at once. Reports the
        failure of an earlier background upload, if any."""
        self._report()
        if self._closed:
            return
        if self._thread is None:
            self._thread = threading.Thread(target=self._work, name=f"rundocs-upload-{self._folder.name}", daemon=True)
            self._thread.start()
        self._wanted.set()

    def flush(self) -> bool:
        """Upload now and wait for it, at most ``FINAL_UPLOAD_SECONDS`` (the end of a run, a signal
        before the process dies); whether it succeeded. A flush that finds another one waiting
        (a second signal during the first's upload) returns at once."""
        if not self._flushing.acquire(blocking=False):
            return False
        try:
            outcome: list[bool] = []
            attempt = threading.Thread(
                target=lambda: outcome.append(self._upload()), name=f"rundocs-final-upload-{self._folder.name}",
                daemon=True,
            )  # fmt: skip
            try:
                attempt.start()
            except RuntimeError:  # Python 3.12+ starts no thread at exit: the client's own timeouts bound it
                attempt.run()
            attempt.join(FINAL_UPLOAD_SECONDS)
            if attempt.is_alive():
                self._failure = f"no answer within {FINAL_UPLOAD_SECONDS:g} s"
            self._report()
            return outcome == [True]
        finally:
            self._flushing.release()

    def close(self, *, at_exit: bool = False) -> bool:
        """The final upload, after the run's last write: stops the background thread, uploads on
        this thread and reports a failure; whether it succeeded. ``at_exit``: Python is exiting."""
        self._closed = True
        self._wanted.set()
        if at_exit:
            _resolve_on_the_loop()
        return self.flush()

    def _work(self) -> None:
        while True:
            self._wanted.wait()
            self._wanted.clear()
            if self._closed:
                return
            self._upload()

    def _upload(self) -> bool:
        """Put every file that changed since its last upload: the metrics before the record, so a
        record that says the run ended never lands before its last lines; but the record first
        while the store has none, so readers never meet a run folder without one."""
        with self._lock:
            record = f"{self._folder.name}/{RUN_FILE}"
            names = COPIED_FILES if record not in self._uploaded else reversed(COPIED_FILES)
            keys = [f"{self._folder.name}/{name}" for name in names]
            try:
                if self._store is None:
                    self._store = StoreSide(self.url)
                for key in keys:
                    tag = self._local.tag(key)
                    if tag is None or self._uploaded.get(key) == tag:
                        continue
                    error = copy_file(self._local, self._store, key)
                    if error is GONE:  # removed from the staging folder meanwhile: nothing to publish
                        continue
                    if error is not None:
                        self._failure = error
                        return False
                    self._uploaded[key] = tag
            except Exception as error:  # opening the store (a missing package): reported as any failure
                self._failure = describe_error(error)
                return False
            return True

    def _report(self) -> None:
        failure, self._failure = self._failure, None
        if failure is not None:
            self._warn(
                "upload",
                f"cannot upload run {self._folder.name} to {self.url}: {failure}; the run is kept in "
                f"{self._folder}, tried again at the next heartbeat and at the end "
                f"(or copy it later: rundocs sync {self._folder.parent} {self.url})",
            )


def fetch_run(url: str, folder: Path, warn: WarnOnce) -> None:
    """Copy the run ``folder.name`` from the store ``url`` into ``folder``, to be resumed there;
    nothing when the store has no such run, a warning when it cannot be read."""
    try:
        store, local = StoreSide(url), FolderSide(folder.parent)
        for name in COPIED_FILES:
            key = f"{folder.name}/{name}"
            try:
                data = store.read(key)
            except FileNotFoundError:
                continue
            local.write(key, data)
    except Exception as error:  # each store package raises its own types; the run starts anew instead
        warn("resume-fetch", f"cannot fetch run {folder.name} from {url} to resume it: {describe_error(error)}")


class _InlineExecutor(ThreadPoolExecutor):
    """Runs each task at once, on the calling thread."""

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        future: Future[T] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as error:  # handed to the waiting coroutine, as a pool would
            future.set_exception(error)
        return future


def _resolve_on_the_loop() -> None:
    """Let the last upload resolve host names while Python exits.

    By the time ``atexit`` hooks run, Python refuses new work to thread pools, and asyncio
    resolves a host name in one (``loop.run_in_executor``): the final PUT would fail with
    "cannot schedule new futures after interpreter shutdown". fsspec's event loop is given an
    executor that runs on the loop's own thread instead; the process is ending, so nothing else
    waits on that loop.
    """
    try:
        from fsspec.asyn import get_loop
    except ImportError:
        return
    get_loop().set_default_executor(_InlineExecutor(max_workers=1))
