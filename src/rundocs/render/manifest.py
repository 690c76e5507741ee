"""What the last build wrote for each run, so the next build renders only what changed.

A run page is kept when its key matches (the run's files, its derived state, its baseline's
files, the templates, the options and the code: ``rundocs.fingerprint``) and the page on disk
is still the one the last build wrote: it has the size and mtime that build gave it, so a
hand edit of a generated page is still caught. A page whose mtime lies within ``RACY_NS`` of
the manifest's could be edited again in the same mtime tick with the same size; the manifest
keeps a digest of what was written for such a page, and it is kept only while its bytes still
match. The manifest is plain JSON in the cache folder; a missing or unreadable one means a
full build.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import orjson

from rundocs.atomic import replace_file
from rundocs.fingerprint import code_fingerprint
from rundocs.render.models import LogEntry
from rundocs.safe_files import RACY_NS, open_regular

MANIFEST_FILE = "pages.json"


@dataclass(frozen=True)
class PageRecord:
    key: str
    entry: LogEntry
    path: str
    stamp: tuple[int, int]
    digest: str | None = None  # of the bytes written, for a page written within RACY_NS of the manifest


@dataclass
class Manifest:
    build_key: str = ""
    pages: dict[str, PageRecord] = field(default_factory=dict)
    #: Other pages kept when unchanged (log archives, sweeps), by path.
    others: dict[str, KeptPage] = field(default_factory=dict)
    #: The mtime of the manifest file read (0: none): stamps this recent are not trusted alone.
    written_ns: int = 0

    def reusable(self, run_id: str, key: str, build_key: str, docs: Path) -> PageRecord | None:
        """The last build's record of this run page, if the page needs no new rendering."""
        record = self.pages.get(run_id)
        if record is None or build_key != self.build_key or record.key != key:
            return None
        return record if self._unchanged(os.path.join(docs, record.path), record.stamp, record.digest) else None

    def kept_data(self, path: str, key: str, build_key: str, docs: Path) -> dict[str, Any] | None:
        """What the last build stored with ``path``, if it wrote that page from the same inputs
        and nobody touched it since; None when the page must be rendered again."""
        known = self.others.get(path)
        if build_key != self.build_key or known is None or known.key != key:
            return None
        return known.data if self._unchanged(os.path.join(docs, path), known.stamp, known.digest) else None

    def _unchanged(self, path: str, stamp: tuple[int, int], digest: str | None) -> bool:
        """Whether the file at ``path`` is the one recorded: same size and mtime, and, when
        that mtime is too close to the manifest's to tell a later edit apart, same bytes."""
        if stamp_of(path) != stamp:
            return False
        if stamp[0] < self.written_ns - RACY_NS:
            return True
        try:
            with open_regular(path) as file:
                return digest is not None and digest_of(file.read()) == digest
        except OSError:
            return False


@dataclass(frozen=True)
class KeptPage:
    key: str
    stamp: tuple[int, int]
    data: dict[str, Any]
    digest: str | None = None


def read_manifest(cache_dir: Path | None) -> Manifest:
    if cache_dir is None:
        return Manifest()
    try:
        with open_regular(cache_dir / MANIFEST_FILE) as file:
            written_ns = os.fstat(file.fileno()).st_mtime_ns
            data = orjson.loads(file.read())
        pages = {
            run_id: PageRecord(
                item["key"], LogEntry(*item["entry"]), item["path"], tuple(item["stamp"]), item.get("digest")
            )
            for run_id, item in data["pages"].items()
        }
        others = {
            path: KeptPage(key, (stamp[0], stamp[1]), extra, digest)
            for path, (key, stamp, extra, digest) in data["others"].items()
        }
        return Manifest(data["build_key"], pages, others, written_ns)
    except (OSError, ValueError, KeyError, TypeError):
        return Manifest()


def write_manifest(cache_dir: Path, manifest: Manifest, written: Mapping[str, bytes]) -> None:
    """Save ``manifest``; ``written`` holds what this build wrote (or found already there), by
    path, for the digests of pages too recent to be told apart by size and mtime alone."""
    recent = time.time_ns() - 2 * RACY_NS  # twice: the manifest's mtime may lag this clock
    for run_id, page in manifest.pages.items():
        if page.stamp[0] >= recent and page.path in written:
            manifest.pages[run_id] = replace(page, digest=digest_of(written[page.path]))
    for path, kept in manifest.others.items():
        if kept.stamp[0] >= recent and path in written:
            manifest.others[path] = replace(kept, digest=digest_of(written[path]))
    data = {
        "build_key": manifest.build_key,
        "pages": {
            run_id: {
                "key": p.key,
                "entry": list(vars(p.entry).values()),
                "path": p.path,
                "stamp": list(p.stamp),
                "digest": p.digest,
            }
            for run_id, p in sorted(manifest.pages.items())
        },
        "others": {path: [p.key, list(p.stamp), p.data, p.digest] for path, p in sorted(manifest.others.items())},
    }
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        replace_file(cache_dir / MANIFEST_FILE, orjson.dumps(data), durable=False)
    except OSError:
        return


def make_key(*parts: Any) -> str:
    """A page's key: its inputs and the code that renders them (``code_fingerprint``)."""
    return hashlib.sha256(orjson.dumps([code_fingerprint(), *parts], default=str)).hexdigest()[:32]


def digest_of(content: bytes) -> str:
    return hashlib.blake2b(content, digest_size=16).hexdigest()


def stamp_of(path: str | Path) -> tuple[int, int] | None:
    try:
        result = os.stat(path)
    except OSError:
        return None
    return (result.st_mtime_ns, result.st_size)
