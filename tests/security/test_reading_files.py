"""Reading a stranger's runs and plans: nothing is read through a symlink (unless trusted), from a
special file or past a size limit; each such file is one problem line, and the build ends.

Real symlinks, FIFOs and devices, read by ``rundocs`` in a child process with a timeout and a
memory limit: a read that blocks or never ends fails the test instead of hanging the suite.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import rundocs
from rundocs.env import RUNDOCS_TRUST_SYMLINKS
from rundocs.load.cache import forget
from rundocs.load.plans import load_plans
from rundocs.safe_files import MAX_METRICS_BYTES, MAX_NOTES_BYTES, MAX_PLAN_BYTES, MAX_RUN_BYTES
from tests.helpers import write_run
from tests.security.reading import run_rundocs, site_text
from tests.settle import settle

ROWS = [{"epoch": e, "time": 10.0 * e, "loss": 1.0 / e} for e in range(1, 4)]
SECRET = "SECRET-7f3a9c"
SYMLINK = "is a symlink; not read (RUNDOCS_TRUST_SYMLINKS=1 follows them; see Security model)"
FIFO = "is a FIFO, not a regular file; not read"
DEVICE = "is a character device, not a regular file; not read"


@pytest.fixture(autouse=True)
def untrusting(monkeypatch: pytest.MonkeyPatch) -> None:
    """Symlinks are refused here unless a test trusts them, whatever the developer's shell says."""
    monkeypatch.delenv(RUNDOCS_TRUST_SYMLINKS, raising=False)


def _secrets(tmp_path: Path) -> Path:
    """Files outside the project that a pull request must not get into the site."""
    outside = tmp_path / "outside"
    write_run(outside, "theirs", ROWS, name=SECRET)
    (outside / "secret.txt").write_text(f"token: {SECRET}\n")
    (outside / "plan.yaml").write_text(f"title: {SECRET}\n")
    return outside


def _hostile_project(tmp_path: Path) -> Path:
    """A project with every kind of file a run or plan must not be read from, and one good run."""
    project, outside = tmp_path / "project", _secrets(tmp_path)
    runs = project / "runs"
    write_run(runs, "good", ROWS)
    (runs / "good" / "notes.md").write_text("good notes\n")
    write_run(runs, "notes-link", ROWS)
    (runs / "notes-link" / "notes.md").symlink_to(outside / "secret.txt")
    write_run(runs, "notes-zero", ROWS)
    (runs / "notes-zero" / "notes.md").symlink_to("/dev/zero")
    write_run(runs, "notes-fifo", ROWS)
    os.mkfifo(runs / "notes-fifo" / "notes.md")
    write_run(runs, "metrics-random", ROWS)
    (runs / "metrics-random" / "metrics.jsonl").unlink()
    (runs / "metrics-random" / "metrics.jsonl").symlink_to("/dev/urandom")
    write_run(runs, "metrics-fifo", ROWS)
    (runs / "metrics-fifo" / "metrics.jsonl").unlink()
    os.mkfifo(runs / "metrics-fifo" / "metrics.jsonl")
    (runs / "run-link").mkdir()
    (runs / "run-link" / "run.json").symlink_to(outside / "theirs" / "run.json")
    (runs / "run-fifo").mkdir()
    os.mkfifo(runs / "run-fifo" / "run.json")
    (runs / "folder-link").symlink_to(outside / "theirs", target_is_directory=True)
    plans = project / "plans"
    plans.mkdir()
    (plans / "ok.yaml").write_text("title: fine\n")
    (plans / "leak.yaml").symlink_to(outside / "plan.yaml")
    os.mkfifo(plans / "fifo.yaml")
    (plans / "zero.yml").symlink_to("/dev/zero")
    return project


EXPECTED = sorted(
    [
        f"runs/folder-link: {SYMLINK}",
        f"runs/metrics-fifo/metrics.jsonl: {FIFO}",
        f"runs/metrics-random/metrics.jsonl: {SYMLINK}",
        f"runs/notes-fifo/notes.md: {FIFO}",
        f"runs/notes-link/notes.md: {SYMLINK}",
        f"runs/notes-zero/notes.md: {SYMLINK}",
        f"runs/run-fifo/run.json: {FIFO}",
        f"runs/run-link/run.json: {SYMLINK}",
        f"plans/fifo.yaml: {FIFO}",
        f"plans/leak.yaml: {SYMLINK}",
        f"plans/zero.yml: {SYMLINK}",
    ]
)


def test_nothing_is_read_through_links_or_special_files(tmp_path: Path) -> None:
    project = _hostile_project(tmp_path)

    validate = run_rundocs(project, "validate")
    build = run_rundocs(project, "build")

    assert sorted(validate.stdout.splitlines()) == EXPECTED, validate.stderr
    assert validate.returncode == 1
    assert build.returncode == 1 and "11 problems in runs and plans" in build.stderr, build.stderr
    site = site_text(project)
    assert SECRET not in site and "good notes" in site
    assert "runs/notes-link/notes.md | — | is a symlink; not read" in site
    for run in ("good", "notes-link", "notes-zero", "notes-fifo", "metrics-random", "metrics-fifo"):
        assert (project / "docs" / "runs" / f"{run}.md").is_file()  # the run stays, without that file


def test_trusted_symlinks_are_followed_but_special_files_never_read(tmp_path: Path) -> None:
    project = _hostile_project(tmp_path)

    validate = run_rundocs(project, "validate", RUNDOCS_TRUST_SYMLINKS="1")
    build = run_rundocs(project, "build", "--allow-problems", RUNDOCS_TRUST_SYMLINKS="1")

    assert sorted(validate.stdout.splitlines()) == sorted(
        [
            f"runs/metrics-fifo/metrics.jsonl: {FIFO}",
            f"runs/metrics-random/metrics.jsonl: {DEVICE}",
            f"runs/notes-fifo/notes.md: {FIFO}",
            f"runs/notes-zero/notes.md: {DEVICE}",
            f"runs/run-fifo/run.json: {FIFO}",
            "runs/folder-link/run.json: id 'theirs' differs from its folder; read as 'folder-link'",
            "runs/run-link/run.json: id 'theirs' differs from its folder; read as 'run-link'",
            f"plans/fifo.yaml: {FIFO}",
            f"plans/zero.yml: {DEVICE}",
        ]
    ), validate.stderr
    assert build.returncode == 0, build.stderr
    assert SECRET in (project / "docs" / "runs" / "folder-link.md").read_text()
    assert SECRET in (project / "docs" / "phases" / "leak.md").read_text()


@pytest.mark.parametrize("folder", ["runs", "plans"])
def test_a_symlinked_runs_or_plans_folder_is_not_read(tmp_path: Path, folder: str) -> None:
    project, outside = tmp_path / "project", _secrets(tmp_path)
    project.mkdir()
    (project / folder).symlink_to(outside, target_is_directory=True)

    validate = run_rundocs(project, "validate")
    trusted = run_rundocs(project, "validate", RUNDOCS_TRUST_SYMLINKS="1")

    assert validate.stdout.splitlines() == [f"{folder}: {SYMLINK}"]
    assert validate.returncode == 1
    assert f"{folder}: {SYMLINK}" not in trusted.stdout


def _sized(path: Path, size: int) -> None:
    """A file of ``size`` bytes; sparse, so that even 8 GiB costs nothing."""
    with open(path, "wb") as file:
        file.truncate(size)


def test_files_past_their_size_limit_are_problems_and_read_only_by_fstat(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    write_run(runs, "big-notes", ROWS)
    _sized(runs / "big-notes" / "notes.md", MAX_NOTES_BYTES + 1)
    write_run(runs, "big-run", ROWS)
    run_json = runs / "big-run" / "run.json"
    run_json.write_text(run_json.read_text() + " " * (MAX_RUN_BYTES - run_json.stat().st_size + 1))
    write_run(runs, "big-metrics", ROWS)
    _sized(runs / "big-metrics" / "metrics.jsonl", MAX_METRICS_BYTES + 1)
    write_run(runs, "at-limit", ROWS)
    notes = runs / "at-limit" / "notes.md"
    notes.write_text("x" * MAX_NOTES_BYTES)
    (tmp_path / "plans").mkdir()
    (tmp_path / "plans" / "big.yaml").write_text("title: big\n" + "#" * MAX_PLAN_BYTES)

    loaded = rundocs.load_runs(runs)
    _, plan_problems = load_plans(tmp_path / "plans")

    assert [str(p) for p in [*loaded.problems, *plan_problems]] == [
        f"{runs}/big-metrics/metrics.jsonl: is 8,589,934,593 bytes, over the limit of 8 GiB for this file; not read",
        f"{runs}/big-notes/notes.md: is 1,048,577 bytes, over the limit of 1 MiB for this file; not read",
        f"{runs}/big-run/run.json: is 4,194,305 bytes, over the limit of 4 MiB for this file; not read",
        f"{tmp_path}/plans/big.yaml: is 1,048,587 bytes, over the limit of 1 MiB for this file; not read",
    ]
    assert sorted(loaded.records) == ["at-limit", "big-metrics", "big-notes"]
    assert loaded.records["at-limit"].notes == "x" * MAX_NOTES_BYTES
    assert loaded.records["big-notes"].notes is None and len(loaded.history("big-metrics")) == 0


def test_a_folder_or_undecodable_text_in_place_of_a_file_is_a_problem(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    write_run(runs, "dir-notes", ROWS)
    (runs / "dir-notes" / "notes.md").mkdir()
    write_run(runs, "latin1", ROWS)
    (runs / "latin1" / "notes.md").write_bytes("café".encode("latin-1"))
    write_run(runs, "dir-run", ROWS)
    (runs / "dir-run" / "run.json").unlink()
    (runs / "dir-run" / "run.json").mkdir()

    loaded = rundocs.load_runs(runs)

    assert [str(p) for p in loaded.problems] == [
        f"{runs}/dir-notes/notes.md: is a folder, not a regular file; not read",
        f"{runs}/dir-run/run.json: is a folder, not a regular file; not read",
        f"{runs}/latin1/notes.md: not UTF-8 text; not shown",
    ]
    assert sorted(loaded.records) == ["dir-notes", "latin1"]


def test_the_disk_cache_serves_a_refused_file_as_refused(tmp_path: Path) -> None:
    """A run read from the disk cache keeps its problems and never reads the symlinked notes."""
    runs, cache = tmp_path / "runs", tmp_path / "cache"
    for name in "abcdefghijklmnopqrstu":  # enough folders read for the cache to be saved
        write_run(runs, name, ROWS)
    (tmp_path / "secret.txt").write_text(SECRET)
    (runs / "a" / "notes.md").symlink_to(tmp_path / "secret.txt")
    settle(runs)
    os.utime(runs / "a" / "notes.md", ns=(0, 0), follow_symlinks=False)

    first = rundocs.load_runs(runs, cache_dir=cache)
    forget(runs, [])  # as a new process: only the disk cache is left
    second = rundocs.load_runs(runs, cache_dir=cache)

    assert json.loads((cache / "runs.json").read_text())["runs"]["a"]["problems"]
    for loaded in (first, second):
        assert [str(p) for p in loaded.problems] == [f"{runs}/a/notes.md: {SYMLINK}"]
        assert loaded.records["a"].notes is None
