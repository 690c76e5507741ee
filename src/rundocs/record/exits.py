"""How the process ends, for the runs it leaves open: exit code, uncaught exception, signal.

A ``Run`` used without ``with`` (a ``main()`` that never calls ``end()``) is ended here at
exit. Python tells ``atexit`` nothing about why the program ends, so the first ``Run``
installs, chaining to what was there before:

- wrappers of ``sys.exit`` and the ``exit``/``quit`` builtins that remember the code (main
  thread only); a bare ``raise SystemExit(2)`` is not seen: Python keeps no trace of it by the
  time ``atexit`` runs, so such a run ends ``completed`` (call ``run.end("failed")`` first),
- a ``sys.excepthook`` that remembers the uncaught exception,
- handlers of SIGTERM and SIGHUP (main thread only; not where the signal is ignored) that
  record every open run as ``interrupted`` with the signal named, then do what was there
  before: call the previous Python handler, or let the default kill the process. A handler
  the program installs later is wrapped the same way at the next heartbeat.

The registry holds strong references: a run must outlive its last user variable to be
ended. Runs are objects with ``_end_at_exit``, ``_signalled`` (here duck-typed, to keep
this module free of ``Run``).
"""

from __future__ import annotations

import atexit
import builtins
import os
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType, TracebackType
from typing import Any, NoReturn, Protocol


class OpenRun(Protocol):
    def _end_at_exit(self, error: BaseException | None) -> None: ...

    def _signalled(self, name: str, frame: FrameType | None) -> None: ...


#: Signals whose default action ends the process and that schedulers send (SLURM and
#: Kubernetes at a time limit, ``scancel``; a closed terminal).
SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))

_open: dict[OpenRun, None] = {}  # insertion-ordered, strong
_lock = threading.RLock()  # reentrant: a signal handler may run while the main thread holds it
_owner_pid = os.getpid()
_installed = False
_exit_request: list[SystemExit] = []  # the last sys.exit() of the main thread
_uncaught: list[BaseException] = []


def track(run: OpenRun) -> None:
    """Register an open run; installs the hooks on first use."""
    global _installed, _owner_pid
    with _lock:
        if not _installed:
            _installed = True
            _owner_pid = os.getpid()
            _install()
        _open[run] = None
    guard_signals()


def newest() -> OpenRun | None:
    """The open run registered last (``rundocs.current_run``)."""
    with _lock:
        return next(reversed(_open), None)


def untrack(run: OpenRun) -> None:
    with _lock:
        _open.pop(run, None)


def guard_signals() -> None:
    """Put the recording handler in front of SIGTERM/SIGHUP, if something replaced it since.

    Called when the first run starts and at heartbeats; does nothing off the main thread
    (Python allows handlers only there) and leaves ignored signals ignored.
    """
    if threading.current_thread() is not threading.main_thread() or not _installed:
        return
    for signum in SIGNALS:
        try:
            current = signal.getsignal(signum)
            if current is signal.SIG_IGN or current is None or getattr(current, "_rundocs", False):
                continue  # ignored, set outside Python, or already ours
            signal.signal(signum, _handler(current))
        except (ValueError, OSError, RuntimeError):
            continue


def _install() -> None:
    previous_hook = sys.excepthook

    def excepthook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        _uncaught[:] = [value]
        previous_hook(kind, value, tb)

    excepthook._rundocs = True  # type: ignore[attr-defined]
    sys.excepthook = excepthook
    sys.exit = _remembering(sys.exit)
    for name in ("exit", "quit"):  # the builtins ``site`` adds, which scripts call too
        previous = getattr(builtins, name, None)
        if callable(previous):
            setattr(builtins, name, _remembering(previous))
    atexit.register(_end_open_runs)
    if hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=_forget)


def _remembering(previous_exit: Callable[..., Any]) -> Callable[..., NoReturn]:
    """``previous_exit`` (``sys.exit``, the ``exit`` builtin), remembering the code it exits with."""

    def exit(status: str | int | None = None, /) -> NoReturn:  # noqa: A001 - stands in for it
        try:
            previous_exit(status)
        except SystemExit as request:
            if threading.current_thread() is threading.main_thread():
                _exit_request[:] = [request]
            raise
        raise SystemExit(status)  # only if the previous one returned

    exit.__doc__ = previous_exit.__doc__
    return exit


def _handler(previous: Callable[[int, FrameType | None], Any] | int) -> Callable[[int, FrameType | None], None]:
    def on_signal(signum: int, frame: FrameType | None) -> None:
        if os.getpid() == _owner_pid:  # a forked worker (a DataLoader's) inherits this handler
            name = signal.Signals(signum).name
            for run in _runs():
                try:
                    run._signalled(name, frame)
                except Exception:  # recording must not stop the signal's effect
                    continue
        if callable(previous):
            previous(signum, frame)
            return
        signal.signal(signum, signal.SIG_DFL)  # die as the default would: killed by this signal
        os.kill(os.getpid(), signum)

    on_signal._rundocs = True  # type: ignore[attr-defined]
    return on_signal


def _end_open_runs() -> None:
    if os.getpid() != _owner_pid:
        return
    error: BaseException | None = _uncaught[-1] if _uncaught else None
    if error is None and not getattr(sys.excepthook, "_rundocs", False):
        error = getattr(sys, "last_value", None)  # the program replaced the hook: Python still keeps this
    if error is None and _exit_request:
        error = _exit_request[-1]
    for run in _runs():
        run._end_at_exit(error)


def _runs() -> list[OpenRun]:
    with _lock:
        return list(_open)


def _forget() -> None:
    """In a forked child: the parent's runs are not this process's to end."""
    global _lock
    _lock = threading.RLock()
    _open.clear()
