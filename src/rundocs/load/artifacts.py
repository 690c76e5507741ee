"""Files a run wrote into its folder besides the record (plots, predictions, reports): found,
sized and judged safe to publish, without reading them.

A run folder may come from a stranger, so the site copies only what cannot run in a browser:
raster images (shown inline, their first bytes checked) and plain-text data files (linked), each
of bounded size, under names made of safe characters. Everything else is listed by name only.
Symlinks, hidden entries and folders deeper than ``MAX_DEPTH`` are skipped.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from rundocs.format.schema import METRICS_FILE, NOTES_FILE, RUN_FILE
from rundocs.safe_files import UnreadableFile, read_regular

IMAGE_SIGNATURES = {
    ".png": (b"\x89PNG\r\n\x1a\n",),
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
    ".gif": (b"GIF87a", b"GIF89a"),
    ".webp": (b"RIFF",),
}
TEXT_SUFFIXES = (".txt", ".csv", ".tsv", ".json", ".jsonl", ".log", ".yaml", ".yml")
MAX_FILE_BYTES = 10 * 1024**2
MAX_PUBLISHED_BYTES = 50 * 1024**2
MAX_LISTED = 100
MAX_DEPTH = 3
_SAFE_PART = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_RECORD_FILES = {RUN_FILE, METRICS_FILE, NOTES_FILE}


@dataclass(frozen=True)
class Artifact:
    """One file of a run folder. ``kind`` is ``image`` (shown), ``file`` (linked) or ``listed``
    (named only, ``why`` says why)."""

    path: str  # relative to the run folder, with "/"
    size: int
    mtime_ns: int
    kind: str
    why: str = ""


def find_artifacts(folder: Path, skip: frozenset[str] = frozenset()) -> tuple[Artifact, ...]:
    """The files of a run folder other than its record and ``skip`` (checkpoints it recorded),
    sorted by path; at most ``MAX_LISTED``, whose copies add up to at most ``MAX_PUBLISHED_BYTES``."""
    found: list[tuple[str, os.stat_result]] = []
    _walk(folder, "", 0, found)
    found.sort()
    artifacts: list[Artifact] = []
    budget = MAX_PUBLISHED_BYTES
    for relative, stat in found:
        if relative in skip or relative in _RECORD_FILES:
            continue
        if len(artifacts) == MAX_LISTED:
            break
        kind, why = _judge(relative, stat.st_size, budget)
        if kind != "listed":
            budget -= stat.st_size
        artifacts.append(Artifact(relative, stat.st_size, stat.st_mtime_ns, kind, why))
    return tuple(artifacts)


def read_artifact(folder: Path, artifact: Artifact) -> bytes | None:
    """The bytes to publish, or None when the file changed into something not to publish (grew
    past the limit, became a symlink, an image whose first bytes are not its format's)."""
    try:
        data = read_regular(folder / artifact.path, MAX_FILE_BYTES)
    except (OSError, UnreadableFile):
        return None
    suffix = Path(artifact.path).suffix.lower()
    if artifact.kind == "image" and not data.startswith(IMAGE_SIGNATURES[suffix]):
        return None
    if suffix == ".webp" and data[8:12] != b"WEBP":
        return None
    return data


def _walk(folder: Path, prefix: str, depth: int, found: list[tuple[str, os.stat_result]]) -> None:
    try:
        entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
    except OSError:
        return
    for entry in entries:
        if entry.name.startswith(".") or len(found) > 4 * MAX_LISTED:
            continue
        try:
            if entry.is_dir(follow_symlinks=False):
                if depth + 1 < MAX_DEPTH:
                    _walk(Path(entry.path), f"{prefix}{entry.name}/", depth + 1, found)
            elif entry.is_file(follow_symlinks=False):
                found.append((prefix + entry.name, entry.stat(follow_symlinks=False)))
        except OSError:
            continue


def _judge(relative: str, size: int, budget: int) -> tuple[str, str]:
    suffix = os.path.splitext(relative)[1].lower()
    if suffix not in IMAGE_SIGNATURES and suffix not in TEXT_SUFFIXES:
        return "listed", "not an image or a text file"
    if not all(_SAFE_PART.fullmatch(part) for part in relative.split("/")):
        return "listed", "name not published (letters, digits, '.', '_', '-' only)"
    if size > min(MAX_FILE_BYTES, budget):
        return "listed", "too large to publish"
    return ("image", "") if suffix in IMAGE_SIGNATURES else ("file", "")
