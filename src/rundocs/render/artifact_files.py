"""The copies of run artifacts the site publishes (``rundocs.load.artifacts`` decides which).

They live under the assets folder, which is rundocs's own (``DocsFolder(owned=...)``): a run
that no longer has a file loses its copy at the next build, and ``check`` names a stale one.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Protocol

from rundocs.load.artifacts import Artifact, read_artifact
from rundocs.render.manifest import make_key
from rundocs.render.models import ArtifactView

#: Inside the site's assets folder (``pages.ASSETS_DIR``), which rundocs owns.
ARTIFACTS_DIR = "assets/rundocs/runs"


class PageKeeper(Protocol):
    def reuse(self, path: str, key: str) -> dict[str, Any] | None: ...
    def note(self, path: str, key: str, data: dict[str, Any] | None = None) -> None: ...


def artifact_path(run_id: str, artifact: Artifact) -> str:
    """Where the copy goes under ``docs/``."""
    return f"{ARTIFACTS_DIR}/{run_id}/{artifact.path}"


def publish_artifacts(
    folder: Path, run_id: str, artifacts: tuple[Artifact, ...], keeper: PageKeeper
) -> tuple[tuple[Artifact, ...], dict[str, bytes]]:
    """The artifacts as the page shows them, and the copies to write. A copy the last build
    wrote from the same file (same size and modification time) is kept without reading; a file
    that turns out not to be what its name says is listed only."""
    shown, files = [], {}
    for artifact in artifacts:
        if artifact.kind == "listed":
            shown.append(artifact)
            continue
        path = artifact_path(run_id, artifact)
        key = make_key(path, artifact.size, artifact.mtime_ns, artifact.kind)
        if keeper.reuse(path, key) is None:
            data = read_artifact(folder, artifact)
            if data is None:
                shown.append(dataclasses.replace(artifact, kind="listed", why="not what its name says, or changed"))
                continue
            keeper.note(path, key)
            files[path] = data
        shown.append(artifact)
    return tuple(shown), files


def artifact_views(run_id: str, artifacts: tuple[Artifact, ...]) -> tuple[ArtifactView, ...]:
    """The artifacts as the run page (``runs/<id>.md``) lists them, with links to the copies."""
    return tuple(
        ArtifactView(a.path, a.size, a.kind, a.why, None if a.kind == "listed" else "../" + artifact_path(run_id, a))
        for a in artifacts
    )


def artifacts_key(artifacts: tuple[Artifact, ...]) -> list[tuple[str, int, int, str]]:
    """What a run page depends on of its artifacts."""
    return [(a.path, a.size, a.mtime_ns, a.kind) for a in artifacts]
