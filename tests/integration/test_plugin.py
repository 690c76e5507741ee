"""The optional MkDocs plugin: a plain `mkdocs build` regenerates the pages first."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
DATA = HERE.parents[0] / "data" / "runs"


def make_project(root: Path, runs: list[str]) -> Path:
    config = yaml.safe_load((HERE / "minimal" / "mkdocs.yml").read_text())
    config["plugins"] = ["search", {"rundocs": {"title": "Plugin lab"}}]
    config.pop("strict")
    (root / "docs").mkdir(parents=True)
    (root / "mkdocs.yml").write_text(yaml.safe_dump(config))
    for name in runs:
        shutil.copytree(DATA / name, root / "runs" / name)
    return root


def mkdocs(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", *args], cwd=project, capture_output=True, text=True, check=False
    )


def test_build_generates_pages_from_the_runs(tmp_path: Path) -> None:
    project = make_project(tmp_path, ["20260101_100000_base", "20260102_090000_fail"])
    done = mkdocs(project, "--strict")
    assert done.returncode == 0, done.stderr
    assert (project / "docs" / "runs" / "20260102_090000_fail.md").is_file()
    html = (project / "site" / "runs" / "20260102_090000_fail" / "index.html").read_text()
    assert "No space left on device" in html
    assert "# Plugin lab" in (project / "docs" / "index.md").read_text()


def test_a_broken_run_fails_strict_builds_but_not_the_site(tmp_path: Path) -> None:
    project = make_project(tmp_path, ["20260101_100000_base", "broken"])
    strict = mkdocs(project, "--strict")
    assert strict.returncode == 1
    assert "WARNING -  runs/broken/run.json:2: invalid JSON" in strict.stderr.replace(str(project) + "/", "")
    relaxed = mkdocs(project)
    assert relaxed.returncode == 0
    assert (project / "site" / "runs" / "20260101_100000_base" / "index.html").is_file()


def test_the_plugin_judges_states_at_source_date_epoch_like_the_command(tmp_path: Path) -> None:
    project = make_project(tmp_path, ["20260101_100000_base", "20260102_093000_r2"])
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1767346800"}  # 2026-01-02 09:40 UTC: r2 beat 5 minutes before
    plugin = subprocess.run([sys.executable, "-m", "mkdocs", "build"], cwd=project, env=env, capture_output=True)
    command = subprocess.run(
        [sys.executable, "-m", "rundocs", "build", "--title", "Plugin lab", "--docs", "by-command", "--no-cache"],
        cwd=project, env=env, capture_output=True,
    )  # fmt: skip
    assert plugin.returncode == 0 and command.returncode == 0, (plugin.stderr, command.stderr)
    log = (project / "docs" / "runs" / "index.md").read_text()
    assert "running" in log and "stalled" not in log
    for page in ("runs/index.md", "runs/20260102_093000_r2.md", "index.md"):
        assert (project / "docs" / page).read_bytes() == (project / "by-command" / page).read_bytes()


def test_a_config_without_the_pages_extensions_fails_strict_and_gets_the_assets_wired(tmp_path: Path) -> None:
    """Without pymdownx.tabbed a sweep page shows '=== "Best run"' as text: --strict fails with the
    lines to add. The stylesheet and script the pages need are wired in when the config lacks them."""
    project = make_project(tmp_path, ["20260101_100000_base"])
    config = yaml.safe_load((project / "mkdocs.yml").read_text())
    config["markdown_extensions"] = [e for e in config["markdown_extensions"] if "tabbed" not in str(e)]
    del config["extra_css"], config["extra_javascript"]
    (project / "mkdocs.yml").write_text(yaml.safe_dump(config))
    strict = mkdocs(project, "--strict")
    assert strict.returncode == 1
    assert "the generated pages need these Markdown extensions" in strict.stderr
    assert "  - pymdownx.tabbed" in strict.stderr
    relaxed = mkdocs(project)
    assert relaxed.returncode == 0, relaxed.stderr
    html = (project / "site" / "runs" / "20260101_100000_base" / "index.html").read_text()
    assert "assets/rundocs/rundocs.css" in html and "assets/rundocs/rundocs.js" in html
