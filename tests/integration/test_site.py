"""The fixture runs built into a real Material for MkDocs site, then opened in a real browser."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
DATA = HERE.parents[0] / "data" / "runs"
CHROMIUM = Path("/usr/bin/chromium")
HOSTILE_TEXT = "<img src=x onerror=alert(1)>|a b **bold** `tick` [link](javascript:alert(2)) ü"
HOSTILE = "runs/20260103_090000_hostile.html"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = tmp_path_factory.mktemp("project")
    shutil.copy(HERE / "minimal" / "mkdocs.yml", project)
    shutil.copytree(DATA, project / "runs")
    shutil.copytree(DATA.parent / "plans", project / "plans")
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1767346800"}  # 2026-01-02 09:40 UTC
    # The fixture holds broken runs on purpose: they are named on the problems page, not fatal here.
    build = ["-m", "rundocs", "build", "--title", "Fixture lab", "--allow-problems"]
    for command in (build, ["-m", "mkdocs", "build", "--strict"]):
        done = subprocess.run([sys.executable, *command], cwd=project, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    return project / "site"


def test_strict_build_writes_every_page_with_plotly_once(site: Path) -> None:
    pages = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html"))
    assert "runs/20260101_100000_base.html" in pages and "runs/index.html" in pages and "format.html" in pages
    assert len(list(site.rglob("plotly.min.js"))) == 1
    assert all("Plotly" not in p.read_text()[:2000] for p in site.rglob("*.html"))


def test_hostile_name_is_escaped_in_html(site: Path) -> None:
    html = (site / HOSTILE).read_text()
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert 'href="javascript:' not in html
    sweep = (site / "sweeps" / "b-s-w-b-daab7811.html").read_text()
    assert "<script>alert(5)" not in sweep and "&lt;script&gt;alert(5)&lt;/script&gt;" in sweep


def test_pages_make_no_request_off_the_machine(site: Path) -> None:
    for page in site.rglob("*.html"):
        text = page.read_text()
        assert "fonts.googleapis" not in text and "https://unpkg" not in text and "cdn.jsdelivr" not in text


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("CI must install Debian's chromium (see .ci/run)")
        pytest.skip("needs Debian's chromium at /usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()


@pytest.mark.browser
def test_run_page_in_a_real_browser(site: Path, browser: object, tmp_path: Path) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    requests: list[str] = []
    dialogs: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto((site / HOSTILE).as_uri())
    page.wait_for_selector(".rd-figure svg.main-svg", timeout=20_000)

    assert page.locator("h1").first.inner_text() == HOSTILE_TEXT
    assert page.locator(".rd-figure .scatterlayer .trace").count() == 2
    assert page.evaluate("document.querySelectorAll('article img').length") == 0
    assert dialogs == []
    assert requests and all(url.startswith("file://") for url in requests), requests

    base = site / "runs" / "20260101_100000_base.html"
    page.goto(base.as_uri())
    page.wait_for_selector(".rd-figure svg.main-svg", timeout=20_000)
    assert page.locator(".rd-figure .scatterlayer .trace").count() == 3
    page.screenshot(path=tmp_path / "run-page.png", full_page=True)

    page.goto((site / "phases" / "lr-sweep.html").as_uri())
    page.wait_for_selector("pre.rd-mermaid svg", timeout=20_000)
    assert "Stop and check the data pipeline" in (page.locator("pre.rd-mermaid svg").text_content() or "")
    assert page.locator(".admonition.failure").inner_text().startswith("RED: the verdict")
    assert dialogs == []
    assert all(url.startswith("file://") for url in requests), requests
    if os.environ.get("RUNDOCS_SCREENSHOT"):
        shutil.copy(tmp_path / "run-page.png", os.environ["RUNDOCS_SCREENSHOT"])


def test_the_same_docs_build_with_zensical(site: Path, tmp_path: Path) -> None:
    """Zensical reads mkdocs.yml and plain Markdown: no plugin is needed for the pages."""
    zensical = Path(sys.executable).with_name("zensical")
    if not zensical.exists():
        if os.environ.get("CI"):
            pytest.fail("the test environment must install zensical")
        pytest.skip("zensical is not installed")
    project = site.parent
    done = subprocess.run([str(zensical), "build"], cwd=project, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    html = (project / "site" / HOSTILE).read_text()
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "<img src=x" not in html
    assert '<div class="rd-figure"><script type="application/json">' in html
    assert "<title>Run 20260103_090000_hostile" in html  # Zensical does not escape a derived title
