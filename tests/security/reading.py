"""Running ``rundocs`` on a hostile project in a child process that cannot hang the suite or
exhaust the machine: a read that never ends fails the test at the timeout, one that grows
without end at the memory limit."""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path

from rundocs.env import RUNDOCS_TRUST_SYMLINKS
from tests.conftest import child_environment

#: Address space for the child: a build of a small project needs well under 1 GiB.
_MEMORY = 2 << 30


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (_MEMORY, _MEMORY))


def _untrusting(environment: dict[str, str]) -> dict[str, str]:
    """The environment without ``RUNDOCS_TRUST_SYMLINKS``, which a developer's shell may set."""
    return {name: value for name, value in environment.items() if name != RUNDOCS_TRUST_SYMLINKS}


def run_rundocs(project: Path, *args: str, timeout: float = 60, **env: str) -> subprocess.CompletedProcess[str]:
    """``rundocs <args>`` run in ``project``, with ``env`` added to a clean environment.

    Raises:
        subprocess.TimeoutExpired: When it has not finished after ``timeout`` seconds (killed).
    """
    return subprocess.run(
        [sys.executable, "-m", "rundocs", *args],
        cwd=project,
        env={**_untrusting(child_environment()), "SOURCE_DATE_EPOCH": "1767225600", **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=_limit_memory,
        check=False,
    )


def site_text(project: Path) -> str:
    """Every generated file of the project's ``docs/``, as one text (to search for leaks)."""
    return "\n".join(
        path.read_bytes().decode("utf-8", "replace") for path in sorted((project / "docs").rglob("*")) if path.is_file()
    )
