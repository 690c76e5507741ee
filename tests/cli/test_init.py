"""``rundocs init`` from an empty folder: the written script records runs, and every command a
user and the written CI run next passes; the built pages show figures, tabs and badges."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.browser import chromium_page
from tests.conftest import child_environment

ZENSICAL = Path(sys.executable).with_name("zensical")


def _run(project: Path, *command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=project, env=child_environment(), capture_output=True, text=True, timeout=120)


def _ok(project: Path, *command: str) -> str:
    done = _run(project, *command)
    assert done.returncode == 0, f"{' '.join(command)}:\n{done.stdout}{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty folder after init, train.py, build and both site generators (Zensical's site kept
    in site-zensical/, MkDocs' in site/)."""
    project = tmp_path_factory.mktemp("project")
    _ok(project, sys.executable, "-m", "rundocs", "init")
    _ok(project, sys.executable, "train.py")
    _ok(project, sys.executable, "-m", "rundocs", "validate")
    _ok(project, sys.executable, "-m", "rundocs", "build")
    if ZENSICAL.exists():
        _ok(project, str(ZENSICAL), "build", "--strict")
        (project / "site").rename(project / "site-zensical")
    _ok(project, sys.executable, "-m", "mkdocs", "build", "--strict")
    return project


def test_the_skeleton_trains_builds_and_checks(project: Path) -> None:
    assert len(list((project / "runs").glob("*/metrics.jsonl"))) == 4
    assert "generated files up to date" in _ok(project, sys.executable, "-m", "rundocs", "check")
    phase = (project / "docs" / "phases" / "baseline.md").read_text("utf-8")
    assert "GREEN: the verdict" in phase  # the plan's gates read what train.py logs
    status = _ok(project, sys.executable, "-m", "rundocs", "status")
    assert "baseline" in status.lower()


@pytest.mark.parametrize("site", ["site", "site-zensical"])
def test_both_generators_render_tabs_figures_and_badges(project: Path, site: str) -> None:
    if not (project / site).exists():
        pytest.skip(f"{ZENSICAL} is not installed")
    built = project / site
    assert 'class="tabbed-set' in (built / "sweeps" / "lr.html").read_text("utf-8")
    (run_page, *_) = sorted((built / "runs").glob("2*.html"))
    assert 'class="rd-figure' in run_page.read_text("utf-8")
    assert "rd-badge rd-completed" in (built / "runs" / "index.html").read_text("utf-8")
    assert "=== &quot;" not in (built / "sweeps" / "lr.html").read_text("utf-8")


@pytest.mark.browser
def test_the_built_pages_show_figures_tabs_and_badges(project: Path) -> None:
    site = project / "site"
    with chromium_page() as (page, dialogs):
        (run_page, *_) = sorted((site / "runs").glob("2*.html"))
        page.goto(run_page.as_uri())
        page.locator(".rd-figure svg").first.wait_for(state="visible", timeout=15_000)
        page.goto((site / "sweeps" / "lr.html").as_uri())
        labels = page.locator(".tabbed-set .tabbed-labels label")
        assert labels.all_inner_texts()[:2] == ["Best run", "Best on the mean"]
        labels.nth(1).click()
        assert page.locator(".tabbed-set .tabbed-block").nth(1).is_visible()
        page.goto((site / "runs" / "index.html").as_uri())
        badge = page.locator(".rd-badge.rd-completed").first
        assert badge.inner_text() == "completed"
        colour = badge.evaluate("element => getComputedStyle(element).backgroundColor")
        assert colour == "rgb(46, 125, 50)"  # rundocs.css is wired in: #2e7d32
        assert dialogs == []


def test_a_second_init_refuses_and_force_shows_the_change(tmp_path: Path) -> None:
    _ok(tmp_path, sys.executable, "-m", "rundocs", "init", "lab")
    mkdocs_yml = tmp_path / "lab" / "mkdocs.yml"
    mkdocs_yml.write_text(mkdocs_yml.read_text("utf-8").replace("site_name: My experiments", "site_name: Mine"))

    again = _run(tmp_path, sys.executable, "-m", "rundocs", "init", "lab")
    assert again.returncode == 1
    assert again.stderr.count("\n") == 1 and again.stderr.startswith("Error: lab: ")
    assert "mkdocs.yml" in again.stderr and "train.py" in again.stderr and "--force" in again.stderr
    assert "site_name: Mine" in mkdocs_yml.read_text("utf-8")

    forced = _ok(tmp_path, sys.executable, "-m", "rundocs", "init", "lab", "--force")
    assert "replaced: lab/mkdocs.yml\n--- a/mkdocs.yml\n+++ b/mkdocs.yml\n" in forced
    assert "\n-site_name: Mine\n+site_name: My experiments\n" in forced
    assert "unchanged: lab/train.py" in forced
    assert "site_name: My experiments" in mkdocs_yml.read_text("utf-8")


def test_force_writes_only_the_skeleton_files(tmp_path: Path) -> None:
    (tmp_path / "plans").mkdir()
    (tmp_path / "plans" / "mine.yaml").write_text("title: Mine\n")
    (tmp_path / "train.py").write_text("print('my own')\n")
    forced = _ok(tmp_path, sys.executable, "-m", "rundocs", "init", "--force")
    assert "replaced: train.py\n" in forced and "-print('my own')\n" in forced
    assert "created: mkdocs.yml" in forced
    assert (tmp_path / "plans" / "mine.yaml").read_text() == "title: Mine\n"
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert written == [
        ".github/workflows/docs.yml",
        ".gitignore",
        "mkdocs.yml",
        "noxfile.py",
        "plans/baseline.yaml",
        "plans/mine.yaml",
        "train.py",
    ]


def test_the_docs_show_the_mkdocs_yml_that_init_writes() -> None:
    root = Path(__file__).resolve().parents[2]
    written = (root / "src" / "rundocs" / "site" / "skeleton" / "mkdocs.yml").read_text("utf-8")
    assert f"The one `rundocs init` writes:\n\n```yaml\n{written}```\n" in (root / "docs" / "site.md").read_text(
        "utf-8"
    )
