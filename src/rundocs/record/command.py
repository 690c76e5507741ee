"""``rundocs run -- CMD ARGS...``: record a command that cannot be changed as a run.

The run (``config: {"command": [...]}``, the environment as every ``Run`` captures it) is open
while the command runs as a child process with this process's stdin, stdout and stderr. How
the child ends gives the status: exit code 0 ``completed``, any other ``failed`` (``exit code
N``), killed by SIGINT, SIGTERM or SIGHUP ``interrupted`` (the signal named), by any other
signal ``failed`` (``killed by SIGKILL``). Those three signals, sent to the wrapper, are passed
on to the child, except a SIGINT the terminal sent (Ctrl-C): the terminal sends it to the
child too. The child sees ``RUNDOCS_PARENT_RUN=<id>``, so a ``Run`` it opens is tagged
``parent:<id>``.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import FrameType

from rundocs import env
from rundocs.exceptions import RundocsError
from rundocs.record.run import Run

#: Signals passed on to the child; a child killed by one of them was interrupted, not broken.
FORWARDED = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


def record_command(
    command: Sequence[str],
    *,
    runs_dir: Path | str,
    name: str | None = None,
    phase: str | None = None,
    sweep: str | None = None,
    tags: Iterable[str] = (),
    epochs: int | None = None,
) -> int:
    """Run ``command`` recorded as a run in ``runs_dir``; return its exit code as a shell gives
    it (``128 + N`` when signal N killed it)."""
    if not command:
        raise RundocsError("no command given: rundocs run [OPTIONS] -- CMD ARGS...")
    run = Run(name, phase=phase, sweep=sweep, config={"command": list(command)}, epochs=epochs, tags=tags, dir=runs_dir)
    child_env = dict(os.environ)
    if run.id is not None:
        child_env[env.RUNDOCS_PARENT_RUN] = run.id
    child: subprocess.Popen[bytes] | None = None
    pending: list[int] = []  # signals that arrived before the child existed

    def forward(signum: int, frame: FrameType | None) -> None:
        if signum == signal.SIGINT and _terminal_reaches_child():
            return
        if child is None:
            pending.append(signum)
        elif child.poll() is None:
            child.send_signal(signum)

    previous = {signum: signal.signal(signum, forward) for signum in FORWARDED}
    try:
        try:
            child = subprocess.Popen(list(command), env=child_env)
        except OSError as error:
            run.end("failed", f"cannot start {command[0]!r}: {error}")
            raise RundocsError(f"cannot start {command[0]!r}: {error}") from error
        for signum in pending:
            child.send_signal(signum)
        returncode = child.wait()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    run.end(*_ending(returncode))
    return returncode if returncode >= 0 else 128 - returncode


def _ending(returncode: int) -> tuple[str, str | None]:
    """The status and error message of a run whose command ended with ``returncode``
    (``-N``: killed by signal N)."""
    if returncode == 0:
        return "completed", None
    if returncode > 0:
        return "failed", f"exit code {returncode}"
    try:
        name = signal.Signals(-returncode).name
    except ValueError:
        name = f"signal {-returncode}"
    if -returncode in FORWARDED:
        return "interrupted", name
    return "failed", f"killed by {name}"


def _terminal_reaches_child() -> bool:
    """Whether this process (and so the child, in its process group) is in the foreground of
    a terminal, where Ctrl-C sends SIGINT to the whole group."""
    for fd in (0, 1, 2):
        try:
            return os.tcgetpgrp(fd) == os.getpgrp()
        except OSError:  # not a terminal
            continue
    return False
