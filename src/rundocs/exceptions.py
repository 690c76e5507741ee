"""Errors raised by rundocs.

    RundocsError                 base class; the CLI maps it to one line and exit 1
     ├── RunFormatError          load: runs that break the on-disk format (strict mode lists all)
     ├── CheckpointError         rundocs.torch: a checkpoint refused on load (lists every mismatch)
     ├── MissingDependencyError  an optional extra (torch, ...) is needed but not installed
     ├── SettingError            a setting (environment variable, option) with a value rundocs cannot use
     ├── QueryError              rundocs query: SQL that DuckDB refused
     ├── StoreError              store: an object store that cannot be listed or written (no bucket, no credentials)
     └── WriteError              build, export: a file refused (not rundocs's own) or not writable

Recording code (``rundocs.Run``) never raises these into a training loop: it warns instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rundocs.formatting import counted

if TYPE_CHECKING:
    from rundocs.load.problems import Problem


class RundocsError(Exception):
    """Base class of every error rundocs raises on purpose."""


class RunFormatError(RundocsError):
    """Runs that do not follow the on-disk format, raised by ``load_runs(strict=True)``.

    ``problems`` holds every problem found, not only the first.
    """

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        lines = "\n".join(f"  {p}" for p in self.problems)
        count = len(self.problems)
        super().__init__(f"{counted(count, 'problem')} in the runs folder:\n{lines}")


class CheckpointError(RundocsError):
    """A checkpoint that does not fit the model it is loaded into.

    ``mismatches`` names every differing architecture setting and every missing or
    unexpected parameter key.
    """

    def __init__(self, path: str, mismatches: Sequence[str]) -> None:
        self.path = path
        self.mismatches = list(mismatches)
        details = "\n".join(f"  - {m}" for m in self.mismatches)
        super().__init__(f"refusing to load checkpoint {path}:\n{details}")


class MissingDependencyError(RundocsError):
    """An optional dependency is missing; the message gives the pip command that adds it."""

    def __init__(self, module: str, extra: str) -> None:
        self.module = module
        self.extra = extra
        super().__init__(f"{module} is not installed: pip install 'rundocs[{extra}]'")


class SettingError(RundocsError):
    """A setting rundocs reads (an environment variable, an option) has a value it cannot use."""


class QueryError(RundocsError):
    """SQL that ``rundocs query`` could not run; ``reason`` is DuckDB's first line about it."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"query failed: {reason}")


class StoreError(RundocsError):
    """An object store (``s3://``, ``gs://``...) that cannot be read or written as a whole: the
    bucket is missing, the credentials are, the endpoint does not answer.

    ``url`` is the location as the user gave it; ``reason`` is the store's own message.
    """

    def __init__(self, url: str, action: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"cannot {action} {url}: {reason}")


class WriteError(RundocsError):
    """A path under ``docs/`` that ``build`` refuses to write (a symlink, a file it did not
    create) or that the system would not let it write (full disk, read-only folder); the same
    for the folder of ``rundocs export``.

    ``path`` is the path as the user gave it; ``reason`` says what was found there.
    """

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")
