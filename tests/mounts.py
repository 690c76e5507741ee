"""Real file-system failures for tests: a fresh tmpfs (full, or read-only) in a private mount namespace."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest


def in_private_mount(tmpfs_options: str, folder: Path, command: list[str], keep: Path | None = None) -> list[str]:
    """``command`` run with a fresh tmpfs on ``folder`` in a private mount namespace.

    What the command left in the tmpfs is copied to ``keep``, since the mount vanishes with it.
    """
    if shutil.which("unshare") is None or subprocess.run(["unshare", "-rm", "true"], check=False).returncode:
        pytest.skip("needs unprivileged mount namespaces (unshare -rm)")
    script = f'mount -t tmpfs -o {tmpfs_options} rundocs-test "{folder}" || exit 99; "$@"; status=$?'
    if keep is not None:
        script += f'; cp -r "{folder}" "{keep}"'
    return ["unshare", "-rm", "sh", "-c", script + "; exit $status", "sh", *command]
