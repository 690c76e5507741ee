"""Sessions: ``nox -s train docs`` records the example runs, then builds the site into site/.

They run in the current environment (``venv_backend="none"``): the one you installed rundocs
into, so nox needs no other way to find it.
"""

from __future__ import annotations

import subprocess

import nox

nox.options.sessions = ["docs"]


def judged_at_last_commit() -> dict[str, str]:
    """SOURCE_DATE_EPOCH as CI sets it: the time of the last commit that changed runs/ or plans/,
    so a running run reads as running or stalled the same way on every machine (none outside git)."""
    done = subprocess.run(["git", "log", "-1", "--format=%ct", "--", "runs", "plans"], capture_output=True, text=True)
    epoch = done.stdout.strip() if done.returncode == 0 else ""
    return {"SOURCE_DATE_EPOCH": epoch} if epoch else {}


@nox.session(venv_backend="none")
def train(session: nox.Session) -> None:
    """Record the example runs into runs/."""
    session.run("python", "train.py")


@nox.session(venv_backend="none")
def docs(session: nox.Session) -> None:
    """Check runs/ and plans/, write the pages into docs/ and build the site into site/."""
    session.run("rundocs", "validate")
    session.run("rundocs", "build", env=judged_at_last_commit())
    session.run("mkdocs", "build", "--strict")
