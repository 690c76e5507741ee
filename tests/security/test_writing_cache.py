"""The cache folder may be committed by a stranger too: a symlink in its place is not used, so
nothing is written (or read) through it, and the site still builds."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.helpers import write_run
from tests.security.test_writing_docs import ROWS


def test_a_symlinked_cache_folder_is_not_used(tmp_dir: Path, child_env: dict[str, str]) -> None:
    write_run(tmp_dir / "runs", "a", ROWS)
    outside = tmp_dir.parent / f"{tmp_dir.name}-outside"
    outside.mkdir()
    (tmp_dir / ".rundocs-cache").symlink_to(outside, target_is_directory=True)
    done = subprocess.run(
        [sys.executable, "-m", "rundocs", "build"], cwd=tmp_dir, env=child_env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_dir / "docs" / "runs" / "a.md").is_file()
    assert list(outside.iterdir()) == []
    (tmp_dir / ".rundocs-cache").unlink()  # a real folder is used again
    done = subprocess.run(
        [sys.executable, "-m", "rundocs", "build"], cwd=tmp_dir, env=child_env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert any((tmp_dir / ".rundocs-cache").iterdir())
