"""``rundocs init``: write the skeleton of a project that records runs and builds their site.

The files live in the package folder ``skeleton/``, under the paths they get in the project;
a path part that starts with ``dot-`` is written with a dot instead (``dot-gitignore`` becomes
``.gitignore``), so that neither git nor the wheel build treats them as their own.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path, PurePosixPath
from typing import Literal

from rundocs.atomic import replace_file
from rundocs.exceptions import RundocsError
from rundocs.safe_files import read_regular

_DOT = "dot-"
_READ_LIMIT = 1 << 20  # a file over 1 MiB where a skeleton file goes is replaced without a diff


@dataclass(frozen=True)
class Change:
    """What ``write_skeleton`` did to one file: ``created``, ``replaced`` or ``unchanged``; ``diff``
    is the unified diff of a replaced text file (empty when the old one could not be read as text)."""

    path: str
    action: Literal["created", "replaced", "unchanged"]
    diff: str = ""


def get_skeleton() -> dict[str, bytes]:
    """Every skeleton file, by its path in the project (POSIX, relative), sorted."""
    found: dict[str, bytes] = {}

    def walk(folder: Traversable, prefix: PurePosixPath) -> None:
        for entry in folder.iterdir():
            if entry.name == "__pycache__":  # bytecode of train.py and noxfile.py, once installed
                continue
            name = "." + entry.name.removeprefix(_DOT) if entry.name.startswith(_DOT) else entry.name
            if entry.is_dir():
                walk(entry, prefix / name)
            else:
                found[(prefix / name).as_posix()] = entry.read_bytes()

    walk(files("rundocs.site").joinpath("skeleton"), PurePosixPath())
    return dict(sorted(found.items()))


def write_skeleton(project: Path, *, force: bool = False) -> list[Change]:
    """Write the skeleton into ``project`` (created if missing), one change per file.

    Raises:
        RundocsError: Without ``force``, when any of its files already exists; when a folder is
            where a file goes (in both cases nothing is written); when a file cannot be written.
    """
    skeleton = get_skeleton()
    existing = [path for path in skeleton if _occupied(project / path)]
    folders = [path for path in existing if (project / path).is_dir() and not (project / path).is_symlink()]
    if folders:
        raise RundocsError(f"{project.as_posix()}: {', '.join(folders)}: a folder where rundocs init writes a file")
    if existing and not force:
        raise RundocsError(
            f"{project.as_posix()}: {', '.join(existing)} already exist{'s' if len(existing) == 1 else ''}; "
            "nothing written (--force replaces these files, and only these)"
        )
    changes = []
    for path, content in skeleton.items():
        target = project / path
        old = _read_old(target) if path in existing else None
        if old == content:
            changes.append(Change(path, "unchanged"))
            continue
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            replace_file(target, content, durable=False)
        except OSError as error:
            raise RundocsError(f"{target.as_posix()}: cannot write: {error.strerror or error}") from error
        if path in existing:
            changes.append(Change(path, "replaced", _diff(path, old, content)))
        else:
            changes.append(Change(path, "created"))
    return changes


def _occupied(path: Path) -> bool:
    return path.exists() or path.is_symlink()


def _read_old(path: Path) -> bytes | None:
    """The bytes of a regular file at ``path``; None for a symlink, a folder or an unreadable file."""
    try:
        return read_regular(path, _READ_LIMIT)
    except OSError:
        return None


def _diff(path: str, old: bytes | None, new: bytes) -> str:
    """Unified diff from the old file to the skeleton's, or "" when the old one is not text."""
    try:
        before = old.decode("utf-8") if old is not None else None
    except UnicodeDecodeError:
        before = None
    if before is None:
        return ""
    lines = difflib.unified_diff(
        before.splitlines(keepends=True), new.decode("utf-8").splitlines(keepends=True), f"a/{path}", f"b/{path}"
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)
