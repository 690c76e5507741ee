"""What the last build wrote for each run, so the next build renders only what changed.

A run page is kept when its key matches (the run's files, its derived state, its baseline's
files, the templates, the options and the code: ``rundocs.fingerprint``) and the page on disk
still has the size and mtime the last build gave it, so a hand edit of a generated page is
still caught. The manifest is plain JSON in the cache folder; a missing or unreadable one
means a full build.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from rundocs.cache_files import read_regular
from rundocs.fingerprint import code_fingerprint
from rundocs.render.models import LogEntry

MANIFEST_FILE = "pages.json"


@dataclass(frozen=True)
class PageRecord:
    key: str
    entry: LogEntry
    path: str
    stamp: tuple[int, int]


@dataclass
class Manifest:
    build_key: str = ""
    pages: dict[str, PageRecord] = field(default_factory=dict)
    #: Other pages kept when unchanged (log archives, sweeps), by path.
    others: dict[str, KeptPage] = field(default_factory=dict)

    def reusable(self, run_id: str, key: str, build_key: str, docs: Path) -> PageRecord | None:
        """The last build's record of this run page, if the page needs no new rendering."""
        record = self.pages.get(run_id)
        if record is None or build_key != self.build_key or record.key != key:
            return None
        return record if stamp_of(os.path.join(docs, record.path)) == record.stamp else None

    def kept_data(self, path: str, key: str, build_key: str, docs: Path) -> dict[str, Any] | None:
        """What the last build stored with ``path``, if it wrote that page from the same inputs
        and nobody touched it since; None when the page must be rendered again."""
        known = self.others.get(path)
        if build_key != self.build_key or known is None or known.key != key:
            return None
        return known.data if stamp_of(os.path.join(docs, path)) == known.stamp else None


@dataclass(frozen=True)
class KeptPage:
    key: str
    stamp: tuple[int, int]
    data: dict[str, Any]


def read_manifest(cache_dir: Path | None) -> Manifest:
    if cache_dir is None:
        return Manifest()
    try:
        data = orjson.loads(read_regular(cache_dir / MANIFEST_FILE))
        pages = {
            run_id: PageRecord(item["key"], LogEntry(*item["entry"]), item["path"], tuple(item["stamp"]))
            for run_id, item in data["pages"].items()
        }
        others = {
            path: KeptPage(key, (stamp[0], stamp[1]), extra) for path, (key, stamp, extra) in data["others"].items()
        }
        return Manifest(data["build_key"], pages, others)
    except (OSError, ValueError, KeyError, TypeError):
        return Manifest()


def write_manifest(cache_dir: Path, manifest: Manifest) -> None:
    data = {
        "build_key": manifest.build_key,
        "pages": {
            run_id: {"key": p.key, "entry": list(vars(p.entry).values()), "path": p.path, "stamp": list(p.stamp)}
            for run_id, p in sorted(manifest.pages.items())
        },
        "others": {path: [p.key, list(p.stamp), p.data] for path, p in sorted(manifest.others.items())},
    }
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        temporary = cache_dir / f".{MANIFEST_FILE}.{os.getpid()}"
        temporary.write_bytes(orjson.dumps(data))
        os.replace(temporary, cache_dir / MANIFEST_FILE)
    except OSError:
        return


def make_key(*parts: Any) -> str:
    """A page's key: its inputs and the code that renders them (``code_fingerprint``)."""
    return hashlib.sha256(orjson.dumps([code_fingerprint(), *parts], default=str)).hexdigest()[:32]


def stamp_of(path: str | Path) -> tuple[int, int] | None:
    try:
        result = os.stat(path)
    except OSError:
        return None
    return (result.st_mtime_ns, result.st_size)
