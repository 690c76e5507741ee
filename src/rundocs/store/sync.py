"""Copy run folders from one side to the other, only what changed: ``rundocs sync SRC DST``,
and the mirror through which every reader loads runs from a store.

A small manifest (JSON, in the cache folder) remembers the size and ETag (or mtime) each copied
file had at its source. A file is copied again when its source's tag changed or the target lacks
it; listing both sides is the only cost of an unchanged file. Copies run in a thread pool (the
store's calls wait on the network, not on Python).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from rundocs.atomic import replace_file
from rundocs.exceptions import StoreError
from rundocs.formatting import counted
from rundocs.load.problems import Problem
from rundocs.safe_files import read_regular
from rundocs.store.locations import describe_error, location_key, mirror_folder
from rundocs.store.sides import FolderSide, Side, StoreSide, Tag, open_side

logger = logging.getLogger(__name__)

#: Copies in flight at once.
WORKERS = 16
_MANIFEST = "manifest.json"
_VERSION = 1


@dataclass
class SyncReport:
    """What one sync did: keys copied and deleted, how many were unchanged, and the problems
    (a refused object name, an object that could not be copied)."""

    copied: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)

    def line(self, source: str, target: str) -> str:
        return (
            f"{source} -> {target}: {len(self.copied)} copied, {self.unchanged} unchanged, "
            f"{len(self.deleted)} deleted, {counted(len(self.problems), 'problem')}"
        )


def sync(
    source: Side, target: Side, manifest: Path | None, *, delete: bool = False, workers: int = WORKERS
) -> SyncReport:
    """Copy every run file of ``source`` whose tag differs from the manifest's, or that
    ``target`` lacks; with ``delete``, remove target files the source no longer has.

    Raises:
        StoreError: When either side cannot be listed.
    """
    wanted, problems = source.list()
    present, _ = target.list()  # the target's refused names are not this copy's concern
    known = _read_manifest(manifest, source.name, target.name)
    changed = sorted(key for key, tag in wanted.items() if key not in present or known.get(key) != tag)
    report = SyncReport(unchanged=len(wanted) - len(changed), problems=problems)
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for key, error in zip(changed, pool.map(lambda key: copy_file(source, target, key), changed), strict=True):
            if error is None:
                report.copied.append(key)
                known[key] = wanted[key]
            elif error is GONE:
                known.pop(key, None)
            else:
                report.problems.append(Problem(f"{source.name}/{key}", None, f"not copied to {target.name}: {error}"))
                known.pop(key, None)
        gone = sorted(set(present) - set(wanted)) if delete else []
        for key, error in zip(gone, pool.map(lambda key: _delete(target, key), gone), strict=True):
            if error is None:
                report.deleted.append(key)
            else:
                report.problems.append(Problem(f"{target.name}/{key}", None, f"not deleted: {error}"))
    for key in set(known) - set(wanted):
        del known[key]
    if manifest is not None:
        _write_manifest(manifest, source.name, target.name, known)
    logger.info("%s", report.line(source.name, target.name))
    return report


def sync_locations(source: str, target: str, cache: Path, *, delete: bool = False) -> SyncReport:
    """``rundocs sync``: between two locations (paths or URLs), with the manifest in ``cache``."""
    manifest = cache / "stores" / location_key(source, target) / _MANIFEST
    return sync(open_side(source), open_side(target), manifest, delete=delete)


def mirror_store(url: str, cache: Path) -> tuple[Path, SyncReport]:
    """Bring the local copy of the store ``url`` up to date (files gone from the store are
    removed from it); returns its folder, which the local loader reads with its own rules."""
    folder = mirror_folder(url, cache)
    # a dot name: never the mirror's own folder, whose name (the URL's last part) has no leading dot
    report = sync(StoreSide(url), FolderSide(folder), folder.parent / f".{_MANIFEST}", delete=True)
    return folder, report


@contextmanager
def local_runs(location: Path | str, cache: Path) -> Iterator[Path]:
    """A folder to write runs into for ``location`` (``rundocs import --runs``): the folder
    itself, or for a store its mirror, brought up to date first; the files the block changed
    are uploaded when it ends.

    Raises:
        StoreError: When the store cannot be listed, or a changed file not uploaded.
    """
    if not isinstance(location, str):
        yield location
        return
    folder, _ = mirror_store(location, cache)
    local, store = FolderSide(folder), StoreSide(location)
    before, _ = local.list()
    yield folder
    after, _ = local.list()
    changed = [key for key, tag in sorted(after.items()) if before.get(key) != tag]
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        errors = pool.map(lambda key: copy_file(local, store, key), changed)
        failed = [(key, error) for key, error in zip(changed, errors, strict=True) if error not in (None, GONE)]
    if failed:
        key, error = failed[0]
        raise StoreError(
            location, "upload to", f"{len(failed)} of {counted(len(changed), 'file')} not uploaded; {key}: {error}"
        )


#: What ``copy_file`` returns for a file the source no longer has (removed or being replaced
#: since it was listed): not an error; the next sync sees what is there then.
GONE = "gone since listed"


def copy_file(source: Side, target: Side, key: str) -> str | None:
    """Copy one file; None when done, ``GONE``, else why not (one line)."""
    try:
        data = source.read(key)
    except FileNotFoundError:
        return GONE
    except Exception as error:  # each store package raises its own types; one file must not stop the rest
        return describe_error(error)
    try:
        target.write(key, data)
    except Exception as error:  # as above
        return describe_error(error)
    return None


def _delete(target: Side, key: str) -> str | None:
    try:
        target.delete(key)
    except Exception as error:  # as in copy_file
        return describe_error(error)
    return None


def _read_manifest(path: Path | None, source: str, target: str) -> dict[str, Tag]:
    """The tags recorded for this source and target; empty when missing, unreadable or another pair's."""
    if path is None:
        return {}
    try:
        data = json.loads(read_regular(path))  # a link in its place is not followed
        if data["version"] != _VERSION or data["source"] != source or data["target"] != target:
            return {}
        return {str(key): (int(size), str(version)) for key, (size, version) in data["files"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def _write_manifest(path: Path, source: str, target: str, files: dict[str, Tag]) -> None:
    """Replace the manifest; a cache that cannot be written only costs copies next time."""
    data = {"version": _VERSION, "source": source, "target": target, "files": dict(sorted(files.items()))}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        replace_file(path, json.dumps(data, indent=1).encode() + b"\n", durable=False)
    except OSError as error:
        logger.warning("cannot write %s: %s", path, error)
