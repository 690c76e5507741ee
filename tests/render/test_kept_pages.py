"""Incremental builds: which pages a build keeps from the last one, and that keeping never shows."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from rundocs.render.pages import SiteOptions
from rundocs.site.generate import Project, build_project
from tests.helpers import write_run
from tests.settle import settle

ROWS = [{"epoch": e, "loss": 1.0 / e} for e in range(1, 4)]


def build(root: Path, at: str, monkeypatch: pytest.MonkeyPatch) -> set[str]:
    """Build at ``at`` (SOURCE_DATE_EPOCH) with the cache, check it against a clean build, return the kept pages."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", at)
    options = SiteOptions(title="Lab")
    generation, _ = build_project(Project(root / "runs", root / "plans", root / "docs", root / "cache"), options)
    build_project(Project(root / "runs", root / "plans", root / "clean", None), options)
    for page in sorted((root / "clean").rglob("*.md")):
        assert page.read_bytes() == (root / "docs" / page.relative_to(root / "clean")).read_bytes(), page
    return generation.site.kept


def test_a_phase_page_is_kept_until_its_runs_or_the_clock_of_a_running_one_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "plans").mkdir()
    for phase in ("a", "b"):
        (tmp_path / "plans" / f"{phase}.yaml").write_text(f"title: Phase {phase}\nruns:\n  - name: {phase}1\n")
        write_run(tmp_path / "runs", f"{phase}1", ROWS, phase=phase, epochs=6)
    record = json.loads((tmp_path / "runs" / "b1" / "run.json").read_text())
    running = {**record, "status": "running", "ended_at": None, "updated_at": "2026-01-01T10:10:00+00:00"}
    (tmp_path / "runs" / "b1" / "run.json").write_text(json.dumps(running))
    settle(tmp_path / "runs", tmp_path / "plans")

    assert "phases/a.md" not in build(tmp_path, "1767261900", monkeypatch)  # 10:05 UTC: b1 running, time left
    later = build(tmp_path, "1767262020", monkeypatch)  # two minutes later
    assert "phases/a.md" in later and "phases/b.md" not in later
    assert b"left at the current epoch rate" in (tmp_path / "docs" / "phases" / "b.md").read_bytes()
    with open(tmp_path / "runs" / "a1" / "metrics.jsonl", "a") as file:
        file.write(json.dumps({"epoch": 4, "loss": 0.1}) + "\n")
    settle(tmp_path / "runs" / "a1", seconds=30)
    changed = build(tmp_path, "1767262020", monkeypatch)
    assert "phases/a.md" not in changed and b"E004" in (tmp_path / "docs" / "phases" / "a.md").read_bytes()
    assert "phases/a.md" in build(tmp_path, "1767262020", monkeypatch)


def test_pages_just_written_are_kept_while_their_bytes_match(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A page written within a tick of the manifest is kept by its digest, not by size and mtime
    alone; a run read within a tick of its last change is read again, its page kept while its
    files hash the same."""
    write_run(tmp_path / "runs", "a", ROWS, epochs=3)
    build(tmp_path, "1767261900", monkeypatch)
    assert "runs/a.md" in build(tmp_path, "1767261900", monkeypatch)  # at once: kept, its bytes checked

    page = tmp_path / "docs" / "runs" / "a.md"
    status, text = page.stat(), page.read_bytes()
    assert b"E003" in text
    page.write_bytes(text.replace(b"E003", b"E004"))  # same size, and the same tick for a coarse clock
    os.utime(page, ns=(status.st_atime_ns, status.st_mtime_ns))
    assert "runs/a.md" not in build(tmp_path, "1767261900", monkeypatch) and page.read_bytes() == text
