"""A problem found while loading: which file, which line, what is wrong."""

from __future__ import annotations

from dataclasses import dataclass


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
