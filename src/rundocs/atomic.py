"""``replace_file``: the one way rundocs replaces a file, so a reader never sees half of it."""

from __future__ import annotations

import contextlib
import errno
import itertools
import os
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


def replace_file(
    target: Path,
    content: bytes | Callable[[BinaryIO], object],
    *,
    durable: bool = True,
    dir_fd: int | None = None,
) -> None:
    """Replace ``target`` atomically: write a uniquely named hidden file beside it, then rename it
    over ``target`` (a symlink at ``target`` is replaced, never written through).

    ``content`` is the bytes, or a function that writes them to the open file. ``durable`` also
    fsyncs the file before the rename and the folder after it, so the new content survives a
    power cut (records and checkpoints; caches and pages can do without). With ``dir_fd`` (an
    open folder), ``target`` is a name in that folder: no path is resolved again, so a folder
    swapped for a symlink meanwhile cannot redirect the write. The temporary file is removed on
    any failure, and the ``OSError`` is raised for the caller to handle.
    """
    descriptor, temporary = _create_beside(target, dir_fd)
    try:
        with os.fdopen(descriptor, "wb") as file:
            if isinstance(content, bytes):
                write_all(file, content)
            else:
                content(file)
            if durable:
                file.flush()
                os.fsync(file.fileno())
        os.replace(temporary, target, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary, dir_fd=dir_fd)
        raise
    if durable:
        _fsync_folder(target.parent, dir_fd)


_counter = itertools.count()


def _create_beside(target: Path, dir_fd: int | None) -> tuple[int, Path]:
    """A new hidden file next to ``target``, unique to this process and call, created with the
    permissions a plain ``open`` gives (``mkstemp`` would make it private to the user, which a
    runs folder shared by a team cannot have)."""
    while True:
        temporary = target.with_name(f".{target.name}.{os.getpid()}.{next(_counter)}.tmp")
        try:
            return os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666, dir_fd=dir_fd), temporary
        except FileExistsError:  # left by a process that had this pid before: take the next name
            continue


def write_all(file: BinaryIO, data: bytes) -> None:
    """Write every byte; a short write is retried, so a full disk surfaces as its ``OSError``."""
    view = memoryview(data)
    while view:
        written = file.write(view)
        if not written:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        view = view[written:]


def _fsync_folder(folder: Path, dir_fd: int | None) -> None:
    """Make the rename itself durable; not every filesystem allows it, which is fine."""
    if dir_fd is not None:
        with contextlib.suppress(OSError):
            os.fsync(dir_fd)
        return
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
