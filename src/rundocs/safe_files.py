"""Reading files that anyone may have put there: run folders and plans from a stranger's pull
request, a cache folder. Any of them may be a planted symlink, a FIFO, a device or huge.

Only regular files are read, and only as many bytes as ``fstat`` counted when opened (a file
that grows meanwhile, or a ``/proc`` file that claims 0 bytes, cannot make a read go on). Opening
never blocks, and a file of another kind is refused by ``lstat`` before it is opened at all (a
device can act on open). A symlink is refused, unless the caller follows them: runs and plans
when ``RUNDOCS_TRUST_SYMLINKS=1`` (``trust_symlinks``), caches never. Runs and plans are capped
in size (``MAX_*``). Also the one rule of when a file's size and mtime stand for its content
(``RACY_NS``). The rules are listed for users on the Security model page (``docs/security.md``).
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import BinaryIO

from rundocs import env

#: A file changed less than this before its size and mtime were taken may change again within
#: the same mtime tick (up to 2 s on some file systems) and keep both: a cache must not trust
#: them alone (see ``rundocs.load.cache`` and ``rundocs.render.manifest``).
RACY_NS = 2_000_000_000

_MIB = 1 << 20
#: The most bytes read of each file of a run or plan; a larger one is refused with a problem.
#: ``run.json`` holds settings, a summary and a traceback (the writer's are a few KiB); a
#: metrics file holds the whole history (1,000,000 lines of 50 metrics are about 1.2 GiB).
MAX_RUN_BYTES = 4 * _MIB
MAX_NOTES_BYTES = 1 * _MIB
MAX_PLAN_BYTES = 1 * _MIB
MAX_METRICS_BYTES = 8 * 1024 * _MIB

#: Why a symlink in the runs folder or the plans folder was not read.
SYMLINK_REFUSED = "is a symlink; not read (RUNDOCS_TRUST_SYMLINKS=1 follows them; see Security model)"

_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_KINDS = {
    stat.S_IFDIR: "a folder",
    stat.S_IFIFO: "a FIFO",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
}


class UnreadableFile(OSError):
    """A file that exists but is not read; ``str()`` says why, for a problem line."""


def trust_symlinks() -> bool:
    """Whether runs and plans may be read through symlinks (``RUNDOCS_TRUST_SYMLINKS=1``)."""
    return os.environ.get(env.RUNDOCS_TRUST_SYMLINKS) == "1"


def open_regular(path: str | Path, *, follow_symlinks: bool = False) -> BinaryIO:
    """``path`` opened for reading in binary mode.

    Raises:
        FileNotFoundError: When it is missing.
        UnreadableFile: When it is a symlink (unless followed) or not a regular file.
        OSError: When it cannot be opened (permissions).
    """
    _require_regular(os.stat(path, follow_symlinks=follow_symlinks))
    try:
        descriptor = os.open(path, _FLAGS if follow_symlinks else _FLAGS | _NOFOLLOW)
    except OSError as error:
        if error.errno in (errno.ELOOP, errno.EMLINK) and os.path.islink(path):  # replaced since the stat
            raise UnreadableFile(SYMLINK_REFUSED) from error
        raise
    file = os.fdopen(descriptor, "rb")
    try:
        _require_regular(os.fstat(descriptor))
    except UnreadableFile:
        file.close()
        raise
    return file


def read_regular(path: str | Path, limit: int | None = None, *, follow_symlinks: bool = False) -> bytes:
    """The bytes of ``path``, as many as it had when opened; errors as ``open_regular`` raises them.

    Raises:
        UnreadableFile: Also when it is larger than ``limit`` bytes.
    """
    with open_regular(path, follow_symlinks=follow_symlinks) as file:
        return file.read(_checked_size(file, limit))


def _checked_size(file: BinaryIO, limit: int | None) -> int:
    """The size of an open file, which must not be over ``limit`` bytes."""
    size = os.fstat(file.fileno()).st_size
    if limit is not None and size > limit:
        file.close()
        raise UnreadableFile(f"is {size:,} bytes, over the limit of {_size(limit)} for this file; not read")
    return size


def read_input(path: Path, limit: int) -> bytes | None:
    """The bytes of a file of a run or plan, or None when it is missing; symlinks are followed
    only when ``trust_symlinks()``.

    Raises:
        UnreadableFile: For every other reason it is not read, with a message a user can act on.
    """
    file = open_input(path, limit)
    if file is None:
        return None
    with file:
        return file.read(os.fstat(file.fileno()).st_size)


def open_input(path: Path, limit: int) -> BinaryIO | None:
    """A file of a run or plan opened for reading (``read_input``'s rules), or None when it is
    missing: for a reader that reads it a piece at a time, at most its size when opened.

    Raises:
        UnreadableFile: For every other reason it is not read, with a message a user can act on.
    """
    try:
        file = open_regular(path, follow_symlinks=trust_symlinks())
    except (FileNotFoundError, NotADirectoryError):
        return None
    except UnreadableFile:
        raise
    except OSError as error:
        raise UnreadableFile(f"cannot read: {error.strerror or error}") from error
    _checked_size(file, limit)
    return file


def require_regular(path: str | Path) -> None:
    """Raise ``OSError`` unless ``path`` itself is a regular file (for readers that take a path, like ``np.load``)."""
    _require_regular(os.lstat(path))


def _require_regular(result: os.stat_result) -> None:
    kind = stat.S_IFMT(result.st_mode)
    if kind == stat.S_IFLNK:
        raise UnreadableFile(SYMLINK_REFUSED)
    if kind != stat.S_IFREG:
        raise UnreadableFile(f"is {_KINDS.get(kind, 'not a regular file')}, not a regular file; not read")


def _size(count: int) -> str:
    for unit, name in ((1024 * _MIB, "GiB"), (_MIB, "MiB")):
        if count % unit == 0:
            return f"{count // unit} {name}"
    return f"{count:,} bytes"
