"""``rundocs check`` with its cache says what ``check --no-cache`` says, whatever changed since the build.

Every command runs in a child process, as a user runs it; the rundocs it runs is a copy of the
package when the test changes the code.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rundocs.render.pages import SiteOptions
from rundocs.site.generate import Project, build_project
from tests.helpers import write_run
from tests.settle import settle

SRC = Path(__file__).resolve().parents[2] / "src"
ROWS = [{"epoch": e, "time": 10.0 * e, "loss": 1.0 / e} for e in range(1, 6)]


def rundocs(project: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rundocs", *args], cwd=project, env=env, capture_output=True, text=True, timeout=120
    )


def check_both(project: Path, env: dict[str, str]) -> tuple[tuple[int, list[str]], tuple[int, list[str]]]:
    """What ``check`` says with the cache and without it (run side by side): exit code and reported pages."""
    children = [
        subprocess.Popen(
            [sys.executable, "-m", "rundocs", *args], cwd=project, env=env, stdout=subprocess.PIPE, text=True
        )
        for args in (["check"], ["check", "--no-cache"])
    ]
    results = []
    for child in children:
        out, _ = child.communicate(timeout=120)
        assert child.returncode in (0, 1), out
        results.append((child.returncode, sorted(line for line in out.splitlines() if ": docs/" in line)))
    return results[0], results[1]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write_run(tmp_path / "runs", "a", ROWS, epochs=5)
    write_run(tmp_path / "runs", "b", ROWS, epochs=5)
    settle(tmp_path / "runs")
    return tmp_path


@pytest.fixture
def code(tmp_path: Path, child_env: dict[str, str]) -> tuple[Path, dict[str, str]]:
    """A copy of the rundocs package, and an environment that runs it."""
    copy = tmp_path / "code"
    shutil.copytree(SRC / "rundocs", copy / "rundocs", ignore=shutil.ignore_patterns("__pycache__"))
    return copy / "rundocs", {**child_env, "PYTHONPATH": str(copy)}


@pytest.mark.parametrize(
    ("module", "edit"),
    [
        ("render/templates/run.md.j2", lambda text: text + "\nEdited template.\n"),
        (  # a rule changes: every loss is read as twice its value (the parsed-runs cache must go too)
            "load/metrics.py",
            lambda text: (
                text
                + "\n\n_parse = parse_metrics\n\n\ndef parse_metrics(raw, path):\n"
                + "    parsed, problems = _parse(raw, path)\n"
                + '    parsed.columns.update((k, v * 2) for k, v in list(parsed.columns.items()) if k == "loss")\n'
                + "    return parsed, problems\n"
            ),
        ),
    ],
    ids=["template", "loading"],
)
def test_check_with_its_cache_sees_a_code_change(
    project: Path, code: tuple[Path, dict[str, str]], module: str, edit: object
) -> None:
    package, env = code
    assert rundocs(project, env, "build").returncode == 0
    assert rundocs(project, env, "check").returncode == 0

    path = package / module
    path.write_text(edit(path.read_text()))  # type: ignore[operator]
    with_cache, without = check_both(project, env)
    assert with_cache == without and without[0] == 1 and "stale: docs/runs/a.md" in without[1], without

    assert rundocs(project, env, "build").returncode == 0
    assert rundocs(project, env, "check", "--no-cache").returncode == 0  # the cache held nothing stale


def test_a_run_rewritten_within_one_mtime_tick_is_read_again(
    project: Path, child_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two writes of the same size in one tick of a coarse clock leave size and mtime as they were."""
    metrics = project / "runs" / "a" / "metrics.jsonl"
    tick = time.time_ns()  # both writes get this mtime, as within one tick of a coarse clock (whole seconds, say)
    os.utime(metrics, ns=(tick, tick))
    monkeypatch.chdir(project)  # built here as `rundocs build` would, at once (a child process takes longer to start)
    build_project(Project(Path("runs"), Path("plans"), Path("docs"), Path(".rundocs-cache")), SiteOptions())
    before = (project / "docs" / "runs" / "a.md").read_text()

    text = metrics.read_text()
    changed = text.replace('"loss": 0.2}', '"loss": 0.1}')
    assert changed != text and len(changed) == len(text)
    metrics.write_text(changed)
    os.utime(metrics, ns=(tick, tick))

    assert check_both(project, child_env) == ((1, ["stale: docs/runs/a.md"]), (1, ["stale: docs/runs/a.md"]))
    assert rundocs(project, child_env, "build").returncode == 0
    assert (project / "docs" / "runs" / "a.md").read_text() != before
    assert check_both(project, child_env) == ((0, []), (0, []))


def test_settled_runs_come_from_the_cache_which_holds_no_code(project: Path, child_env: dict[str, str]) -> None:
    """The rule above costs nothing once files are older than a tick: an unchanged run is not
    read again (its pages keep their keys). Nothing is cached outside the cache folder, and
    nothing in it is code: no compiled templates, no signing key."""
    home = project / "home"
    env = {**child_env, "HOME": str(home), "XDG_CACHE_HOME": str(home / ".cache")}
    assert rundocs(project, env, "build").returncode == 0
    pages = json.loads((project / ".rundocs-cache" / "pages.json").read_text())["pages"]
    done = rundocs(project, env, "build")
    assert done.returncode == 0 and done.stdout.startswith("0 written"), done.stdout
    assert json.loads((project / ".rundocs-cache" / "pages.json").read_text())["pages"] == pages
    names = sorted(p.name for p in (project / ".rundocs-cache").iterdir())
    assert names[:-1] == ["pages.json", "runs.json"] and names[-1].startswith("values-"), names
    assert not home.exists()


def test_a_page_edited_within_one_mtime_tick_is_not_trusted(project: Path, child_env: dict[str, str]) -> None:
    """The page manifest trusts size and mtime only for pages older than a tick before it."""
    assert rundocs(project, child_env, "build").returncode == 0
    page = project / "docs" / "runs" / "a.md"
    status = page.stat()
    text = page.read_text()
    edited = text.replace("# ", "#\u00a0", 1).encode()[: status.st_size]  # same size, other bytes
    assert len(edited) == status.st_size and edited != text.encode()
    page.write_bytes(edited)
    os.utime(page, ns=(status.st_atime_ns, status.st_mtime_ns))

    assert check_both(project, child_env) == ((1, ["stale: docs/runs/a.md"]), (1, ["stale: docs/runs/a.md"]))
