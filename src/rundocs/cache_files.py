"""Reading files from a cache folder, which may hold anything: a planted symlink, a FIFO, a device.

Only regular files are read, never through a symlink, and opening never blocks. Also the one
rule of when a file's size and mtime stand for its content (``RACY_NS``).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

#: A file changed less than this before its size and mtime were taken may change again within
#: the same mtime tick (up to 2 s on some file systems) and keep both: a cache must not trust
#: them alone (see ``rundocs.load.cache`` and ``rundocs.render.manifest``).
RACY_NS = 2_000_000_000

_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)


def open_regular(path: str | Path) -> BinaryIO:
    """``path`` opened for reading in binary mode.

    Raises:
        OSError: When it is missing, a symlink, or not a regular file.
    """
    descriptor = os.open(path, _FLAGS)
    file = os.fdopen(descriptor, "rb")
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        file.close()
        raise OSError(f"not a regular file: {path}")
    return file


def read_regular(path: str | Path) -> bytes:
    """The bytes of ``path``; raises ``OSError`` as ``open_regular`` does."""
    with open_regular(path) as file:
        return file.read()


def require_regular(path: str | Path) -> None:
    """Raise ``OSError`` unless ``path`` itself is a regular file (for readers that take a path, like ``np.load``)."""
    if not stat.S_ISREG(os.lstat(path).st_mode):
        raise OSError(f"not a regular file: {path}")
