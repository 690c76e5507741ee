"""A problem found while loading: which file, which line, what is wrong."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rundocs.safe_files import UnreadableFile, read_input


@dataclass(frozen=True, order=True)
class Problem:
    """One format problem; ``str()`` gives ``path:line: message`` for terminals and pages."""

    path: str
    line: int | None
    message: str
    warning: bool = False  # a reference that resolves to nothing yet: reported, never fatal

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else self.path
        return f"{where}: {'warning: ' if self.warning else ''}{self.message}"


def read_file(path: Path, limit: int) -> tuple[bytes | None, Problem | None]:
    """The bytes of a file of a run or plan (None when missing), or the problem of why it was not
    read (see ``rundocs.safe_files.read_input``)."""
    try:
        return read_input(path, limit), None
    except UnreadableFile as error:
        return None, Problem(str(path), None, str(error))
