"""The files of run folders on one side of a copy: a local folder or an object store prefix.

Both sides name a file by its key under the runs folder, ``<run id>/<file>``, and copy only the
files a run is made of (``run.json``, ``metrics.jsonl``, ``notes.md``); other files
(checkpoints) and hidden ones are left alone. Object names are untrusted: a key that could
leave the runs folder (``..``, an empty part, a backslash, a control character) or whose folder
is no run id is refused with a problem and never written (``copied_key``).

A local metrics file is read up to its last newline, so a line being written is never copied
half (the next copy takes it whole).
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from rundocs.atomic import replace_file
from rundocs.exceptions import StoreError
from rundocs.format.decode import RUN_ID_RULE, is_run_id
from rundocs.format.schema import METRICS_FILE, NOTES_FILE, RUN_FILE
from rundocs.load.problems import Problem
from rundocs.safe_files import MAX_METRICS_BYTES, MAX_NOTES_BYTES, MAX_RUN_BYTES, UnreadableFile, read_input
from rundocs.store.locations import describe_error, open_store

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

#: The files of a run folder that are copied, with the most bytes a reader reads of each.
COPIED_FILES = {RUN_FILE: MAX_RUN_BYTES, METRICS_FILE: MAX_METRICS_BYTES, NOTES_FILE: MAX_NOTES_BYTES}

#: What a side knows of a file without reading it: its size and its ETag (a store) or mtime (a folder).
Tag = tuple[int, str]

_UNSAFE = re.compile(r"[\\\x00-\x1f\x7f]")


class KeyRefused(ValueError):
    """An object name that is not copied because it could leave the runs folder."""


def copied_key(key: str) -> bool:
    """Whether the file ``key`` (``<run id>/<file>``) is one a run folder is made of; False for
    files left alone (checkpoints, hidden files, files at the top).

    Raises:
        KeyRefused: For a key with an empty, ``.`` or ``..`` part, a backslash or a control
            character, or under a folder that is no run id.
    """
    parts = key.split("/")
    if _UNSAFE.search(key) or any(part in ("", ".", "..") for part in parts):
        raise KeyRefused("object name could leave the runs folder; not copied")
    if len(parts) == 1 or parts[0].startswith("."):
        return False
    if not is_run_id(parts[0]):
        raise KeyRefused(f"folder {parts[0]!r} is not a run id ({RUN_ID_RULE}); not copied")
    return len(parts) == 2 and parts[1] in COPIED_FILES


class Side(Protocol):
    """One end of a copy."""

    #: The location as the user gave it (a path or a URL), for messages.
    name: str

    def list(self) -> tuple[dict[str, Tag], list[Problem]]:
        """Every copied file by key, and a problem for each one refused."""
        ...

    def read(self, key: str) -> bytes: ...

    def write(self, key: str, data: bytes) -> None: ...

    def delete(self, key: str) -> None: ...


def open_side(location: str | os.PathLike[str]) -> Side:
    """The side for a path or an fsspec URL."""
    from rundocs.store.locations import is_url

    return StoreSide(location) if isinstance(location, str) and is_url(location) else FolderSide(Path(location))


class FolderSide:
    """Run folders in a local folder, read with the reader's rules (no symlinks, bounded sizes)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.name = root.as_posix()

    def list(self) -> tuple[dict[str, Tag], list[Problem]]:
        from rundocs.load.runs import run_folder_names

        names, problems = run_folder_names(self.root)
        found = {}
        for name in names:
            for file in COPIED_FILES:
                tag = self.tag(f"{name}/{file}")
                if tag is not None:
                    found[f"{name}/{file}"] = tag
        return found, problems

    def tag(self, key: str) -> Tag | None:
        """Size and mtime of a regular file; None for anything else (missing, a symlink)."""
        try:
            result = os.lstat(self.root / key)
        except OSError:
            return None
        return (result.st_size, str(result.st_mtime_ns)) if stat.S_ISREG(result.st_mode) else None

    def read(self, key: str) -> bytes:
        """The file's bytes; a metrics file's up to its last newline.

        Raises:
            OSError: When it is missing or refused (``UnreadableFile``).
        """
        name = key.rpartition("/")[2]
        data = read_input(self.root / key, COPIED_FILES[name])
        if data is None:
            raise FileNotFoundError(f"{self.root / key}: no such file")
        return data[: data.rfind(b"\n") + 1] if name == METRICS_FILE else data

    def write(self, key: str, data: bytes) -> None:
        """Replace the file atomically; a symlink where its folder goes is refused."""
        folder = self.root / key.partition("/")[0]
        folder.mkdir(parents=True, exist_ok=True)
        if folder.is_symlink():
            raise OSError(f"{folder} is a symlink; not written through")
        replace_file(self.root / key, data, durable=False)

    def delete(self, key: str) -> None:
        path = self.root / key
        path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            path.parent.rmdir()  # the run folder, once nothing is left in it


class StoreSide:
    """Run folders under a prefix of an object store.

    Listing errors (no bucket, no credentials) raise ``StoreError``: the store as a whole cannot
    be used. Errors of one object are the caller's to report.
    """

    def __init__(self, url: str) -> None:
        self.name = url.rstrip("/")
        self.fs: AbstractFileSystem
        self.fs, self.prefix = open_store(url)

    def list(self) -> tuple[dict[str, Tag], list[Problem]]:
        """One paginated listing of the prefix (1,000 keys a request on S3)."""
        self.fs.invalidate_cache(self.prefix)  # listings are cached per file system object
        try:
            found = self.fs.find(self.prefix, detail=True)
        except Exception as error:  # each store package raises its own types (botocore's NoCredentialsError)
            raise StoreError(self.name, "list", describe_error(error)) from error
        entries, problems = {}, []
        start = len(self.prefix) + 1
        for path, info in sorted(found.items()):
            key = path[start:]
            if not path.startswith(self.prefix + "/") or info.get("type") == "directory":
                continue
            try:
                copied = copied_key(key)
            except KeyRefused as error:
                problems.append(Problem(f"{self.name}/{key}", None, str(error)))
                continue
            size = int(info.get("size") or 0)
            limit = COPIED_FILES.get(key.rpartition("/")[2], 0)
            if copied and size > limit:
                problems.append(Problem(f"{self.name}/{key}", None, f"is {size:,} bytes, over the limit of {limit:,}"))
            elif copied:
                entries[key] = (size, _version(info))
        return entries, problems

    def read(self, key: str) -> bytes:
        """The object's bytes, never more than its file's limit (an object replaced by a larger
        one since it was listed is refused, not read whole).

        Raises:
            OSError: When it is missing, or over the limit (``UnreadableFile``).
        """
        limit = COPIED_FILES[key.rpartition("/")[2]]
        data = bytes(self.fs.cat_file(f"{self.prefix}/{key}", start=0, end=limit + 1))
        if len(data) > limit:
            raise UnreadableFile(f"{self.name}/{key}: over the limit of {limit:,} bytes")
        return data

    def write(self, key: str, data: bytes) -> None:
        """One PUT: a reader sees the old object or the new one, never a part."""
        self.fs.pipe_file(f"{self.prefix}/{key}", data)

    def delete(self, key: str) -> None:
        self.fs.rm_file(f"{self.prefix}/{key}")


def _version(info: dict[str, object]) -> str:
    """What changes when an object is replaced: its ETag, else its modification time."""
    for field in ("ETag", "etag", "md5Hash", "mtime", "LastModified", "last_modified"):
        if info.get(field) is not None:
            return str(info[field])
    return ""
