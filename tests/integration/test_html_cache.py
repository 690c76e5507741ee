"""The plugin's page cache: reused HTML is what a full build writes, and nothing stale is reused."""

from __future__ import annotations

import filecmp
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

DATA = Path(__file__).resolve().parents[1] / "data" / "runs"
MINIMAL = Path(__file__).resolve().parent / "minimal" / "mkdocs.yml"
RUNS = ["20260101_100000_base", "20260101_110000_fast", "20260102_090000_fail"]


def make_project(root: Path, **plugin: object) -> Path:
    config = yaml.safe_load(MINIMAL.read_text())
    config["plugins"] = ["search", "offline", {"rundocs": {"title": "Cache lab", **plugin}}]
    config["site_url"] = "https://lab.example/"  # so that sitemap.xml lists every page
    (root / "docs").mkdir(parents=True)
    (root / "mkdocs.yml").write_text(yaml.safe_dump(config))
    for name in RUNS:
        shutil.copytree(DATA / name, root / "runs" / name)
    return root


def mkdocs(project: Path, site: str = "site") -> str:
    """``mkdocs build --strict`` into ``site``; its log."""
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", site],
        cwd=project, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stderr


def reused(log: str) -> int:
    """How many pages the build took from the page cache, as it logged."""
    found = re.search(r"rundocs: (\d+) pages reused from the page cache, (\d+) built", log)
    assert found, log
    return int(found[1])


def same_tree(left: Path, right: Path) -> list[str]:
    """Files that differ or exist on one side only."""
    compared = filecmp.dircmp(left, right)
    differ = compared.left_only + compared.right_only + compared.diff_files + compared.funny_files
    for name in compared.common_dirs:
        differ += [f"{name}/{path}" for path in same_tree(left / name, right / name)]
    return differ


def append_epoch(project: Path, run: str) -> None:
    with open(project / "runs" / run / "metrics.jsonl", "a") as file:
        file.write(json.dumps({"epoch": 31, "time": 1860.0, "train_loss": 0.123456, "val_loss": 1.2}) + "\n")


def test_a_changed_run_is_built_again_the_others_reused_and_the_site_is_a_full_builds(tmp_path: Path) -> None:
    project = make_project(tmp_path / "cached")
    assert reused(mkdocs(project)) == 0
    page = project / "site" / "runs" / f"{RUNS[0]}.html"
    before = page.read_text()
    append_epoch(project, RUNS[0])
    log = mkdocs(project)

    assert reused(log) >= 2  # the two other run pages at least
    assert page.read_text() != before and "0.12346" in page.read_text()
    search = (project / "site" / "search" / "search_index.json").read_text()
    assert all(f"runs/{run}.html" in search for run in RUNS)
    assert f"https://lab.example/runs/{RUNS[1]}.html" in (project / "site" / "sitemap.xml").read_text()
    cold = make_project(tmp_path / "cold", reuse_html=False)
    append_epoch(cold, RUNS[0])
    mkdocs(cold)
    assert same_tree(project / "site", cold / "site") == []


def test_a_changed_setting_or_a_tampered_page_is_never_reused(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    everything = reused(mkdocs(project)) + reused(mkdocs(project))
    config = yaml.safe_load((project / "mkdocs.yml").read_text())
    config["site_name"] = "Renamed lab"
    (project / "mkdocs.yml").write_text(yaml.safe_dump(config))
    assert reused(mkdocs(project)) == 0
    assert "Renamed lab" in (project / "site" / "runs" / f"{RUNS[1]}.html").read_text()

    stored = json.loads((project / ".rundocs-cache" / "site" / "html.json").read_text())
    html = project / ".rundocs-cache" / "site" / stored["pages"][f"runs/{RUNS[1]}.md"]["html"]
    html.write_text(html.read_text().replace("Renamed lab", "Tampered lab"))
    assert reused(mkdocs(project)) == everything - 1
    assert "Tampered lab" not in (project / "site" / "runs" / f"{RUNS[1]}.html").read_text()


def test_a_hook_that_could_change_any_page_turns_reuse_off(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    (project / "hook.py").write_text("def on_page_content(html, page, config, files):\n    return html\n")
    config = yaml.safe_load((project / "mkdocs.yml").read_text())
    (project / "mkdocs.yml").write_text(yaml.safe_dump({**config, "hooks": ["hook.py"]}))
    mkdocs(project)
    log = mkdocs(project)
    assert reused(log) == 0
    assert "rundocs: pages are built again at every build, since hook.py may add" in log


def test_a_reused_page_still_warns_of_an_image_that_is_gone(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    (project / "docs" / "figs").mkdir()
    (project / "docs" / "figs" / "loss.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (project / "runs" / RUNS[1] / "notes.md").write_text("![loss](../figs/loss.png)\n")
    mkdocs(project)
    assert reused(mkdocs(project)) > 0
    (project / "docs" / "figs" / "loss.png").unlink()
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict"], cwd=project, capture_output=True, text=True, check=False
    )
    assert done.returncode == 1 and "'../figs/loss.png', but the target 'figs/loss.png' is not found" in done.stderr


def test_a_link_to_a_page_that_moved_under_the_same_url_still_breaks(tmp_path: Path) -> None:
    """``guide.md`` and ``guide/index.md`` share the URL ``guide/``: a reused page whose Markdown
    links to ``guide.md`` must warn as a full build does once the page moved."""
    project = make_project(tmp_path)
    config = yaml.safe_load((project / "mkdocs.yml").read_text())
    plugins = [plugin for plugin in config["plugins"] if plugin != "offline"]  # offline turns directory URLs off
    (project / "mkdocs.yml").write_text(yaml.safe_dump({**config, "plugins": plugins, "use_directory_urls": True}))
    (project / "docs" / "guide.md").write_text("# Guide\n")
    (project / "runs" / RUNS[1] / "notes.md").write_text("See [the guide](../guide.md).\n")
    mkdocs(project)
    assert reused(mkdocs(project)) > 0
    (project / "docs" / "guide").mkdir()
    (project / "docs" / "guide.md").rename(project / "docs" / "guide" / "index.md")
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict"], cwd=project, capture_output=True, text=True, check=False
    )
    assert done.returncode == 1 and "'../guide.md', but the target 'guide.md' is not found" in done.stderr


def test_an_extension_that_embeds_images_turns_reuse_off(tmp_path: Path) -> None:
    """pymdownx.b64 puts an image's bytes into the page: a changed image must change the page."""
    project = make_project(tmp_path)
    config = yaml.safe_load((project / "mkdocs.yml").read_text())
    extensions = [*config["markdown_extensions"], "pymdownx.b64"]
    (project / "mkdocs.yml").write_text(yaml.safe_dump({**config, "markdown_extensions": extensions}))
    mkdocs(project)
    log = mkdocs(project)
    assert reused(log) == 0
    assert "rundocs: pages are built again at every build, since pymdownx.b64 may add" in log
