"""The runs and plans folders as they were at a git ref, unpacked into a temporary folder."""

from __future__ import annotations

import io
import subprocess
import tarfile
from datetime import datetime
from pathlib import Path

from rundocs.exceptions import RundocsError


def unpack_at_ref(ref: str, folders: list[Path], target: Path) -> tuple[list[Path], datetime]:
    """Extract ``folders`` (paths in the working tree) as of ``ref`` into ``target``.

    Returns the extracted paths in the same order (a folder absent at ``ref`` comes back
    missing) and the commit time of ``ref``, the moment its run states are judged at.
    Raises RundocsError when this is not a git repository or the ref does not exist.
    """
    top = _git(["rev-parse", "--show-toplevel"], Path.cwd()).strip()
    root = Path(top)
    _git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], root, what=f"no commit {ref!r}")
    relative = [folder.resolve().relative_to(root).as_posix() for folder in folders]
    present = [path for path in relative if _git(["ls-tree", "-d", "--name-only", ref, path], root).strip()]
    if present:
        archive = subprocess.run(["git", "archive", "--format=tar", ref, *present], cwd=root, capture_output=True)
        if archive.returncode != 0:
            raise RundocsError(f"git archive {ref} failed: {archive.stderr.decode(errors='replace').strip()}")
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            tar.extractall(target, filter="data")  # the data filter refuses links and paths out of target
    committed = datetime.fromisoformat(_git(["log", "-1", "--format=%cI", ref], root).strip())
    return [target / path for path in relative], committed


def _git(args: list[str], cwd: Path, what: str | None = None) -> str:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    except OSError as error:
        raise RundocsError(f"cannot run git: {error}") from error
    if done.returncode != 0:
        raise RundocsError(what or f"git {' '.join(args)}: {done.stderr.strip() or 'failed'}")
    return done.stdout
