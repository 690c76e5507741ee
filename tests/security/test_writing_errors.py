"""``rundocs build`` into a docs folder it cannot write: one ``Error:`` line naming the path and
the system's reason, exit 1, no traceback. Real file systems: a read-only or full tmpfs in a
private mount namespace, a per-process file-size limit, a path under a regular file."""

from __future__ import annotations

import os
import re
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import write_run
from tests.mounts import in_private_mount
from tests.security.test_writing_docs import ROWS

BUILD = [sys.executable, "-m", "rundocs", "build", "--no-cache"]


def limit_file_size() -> None:
    """In the child: files stop growing at 64 KiB (EFBIG, as a full disk gives ENOSPC)."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))


def one_error_line(done: subprocess.CompletedProcess[str], pattern: str) -> None:
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and re.fullmatch(pattern, lines[0]), done.stderr


@pytest.fixture
def project(tmp_dir: Path) -> Path:
    write_run(tmp_dir / "runs", "a", ROWS)
    (tmp_dir / "docs").mkdir()
    return tmp_dir


def test_a_docs_folder_under_a_regular_file(project: Path, child_env: dict[str, str]) -> None:
    (project / "notes.txt").write_text("a file, not a folder")
    done = subprocess.run(
        [*BUILD, "--docs", "notes.txt/docs"], cwd=project, env=child_env, capture_output=True, text=True, timeout=120
    )
    one_error_line(done, re.escape("Error: notes.txt/docs: cannot create the folder: Not a directory"))


@pytest.mark.parametrize("how", ["read-only mount", "chmod"])
def test_a_read_only_docs_folder(project: Path, child_env: dict[str, str], how: str) -> None:
    docs = project / "docs"
    if how == "chmod":
        if os.geteuid() == 0:
            pytest.skip("root writes through chmod 0555; the read-only mount case covers a read-only docs/")
        docs.chmod(0o555)
        command, reason = BUILD, "Permission denied"
    else:
        command, reason = in_private_mount("ro", docs, BUILD), "Read-only file system"
    try:
        done = subprocess.run(command, cwd=project, env=child_env, capture_output=True, text=True, timeout=120)
    finally:
        docs.chmod(0o755)
    one_error_line(done, re.escape(f"Error: docs/assets: cannot create the folder: {reason}"))


@pytest.mark.parametrize("how", ["full tmpfs", "file-size limit"])
def test_a_full_disk(project: Path, child_env: dict[str, str], how: str) -> None:
    if how == "full tmpfs":
        command, reason, limit = in_private_mount("size=256k", project / "docs", BUILD), "No space left on device", None
    else:
        command, reason, limit = BUILD, "File too large", limit_file_size
    done = subprocess.run(
        command, cwd=project, env=child_env, capture_output=True, text=True, timeout=120, preexec_fn=limit
    )
    one_error_line(done, rf"Error: docs/assets/rundocs/[\w.-]+: {reason}")
