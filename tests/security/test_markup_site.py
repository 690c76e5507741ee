"""A site built from hostile runs and plans with the shipped mkdocs.yml carries no markup from them.

One real ``rundocs build`` and ``mkdocs build --strict`` per module; every page is audited as
HTML (no handler, script URL, style, duplicate id or element that data made) and then opened in
headless Chromium, its figures and diagram drawn, every element hovered, focused and clicked:
no dialog may open, and the drawn DOM passes the same audit.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.browser import POKE_ELEMENTS, audit_html, chromium_page
from tests.security.hostile import CARRIERS, STRINGS, build, write_hostile_project

#: Ids Material and its extensions give their own elements; no heading from data may take one.
THEME_ID = re.compile(r"__(drawer|search|palette_\d+|nav_[\d_]+(_label)?|toc|config|consent|tabbed_\d+_\d+)")
#: Each drawn figure of a page with the hover label of its first point shown: its text, and
#: how many links and elements with a style from data (a 90px font) it holds.
DRAWN_FIGURES = """() => [...document.querySelectorAll(".rd-figure")].map(figure => {
  window.Plotly.Fx.hover(figure, [{curveNumber: 0, pointNumber: 0}]);
  const styled = [...figure.querySelectorAll("[style]")].filter(e => e.getAttribute("style").includes("90px"));
  const text = [...figure.querySelectorAll("svg")].map(svg => svg.textContent).join(" ");
  return {text: text, links: figure.querySelectorAll("a").length, styled: styled.length};
})"""
GUIDE_STUBS = {"benchmarks.html", "optuna.html", "plans.html", "recording.html", "site.html", "sweeps.html"}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = tmp_path_factory.mktemp("hostile")
    write_hostile_project(project)
    return build(project)


def _pages(site: Path) -> list[Path]:
    pages = [p for p in site.rglob("*.html") if "assets" not in p.parts and p.name not in GUIDE_STUBS | {"404.html"}]
    return sorted(pages)


def _tokens(audit_tags: list[tuple[str, dict[str, str]]], attribute: str) -> set[str]:
    return {token for _, attributes in audit_tags for token in attributes.get(attribute, "").split()}


def test_every_generated_page_is_built(site: Path) -> None:
    names = {p.relative_to(site).as_posix() for p in _pages(site)}
    assert {"index.html", "runs/20260101_100000_pwn.html", "phases/pwn.html", "problems.html"} <= names
    assert any(name.startswith("sweeps/pwn-") for name in names)


def test_no_cell_of_a_csv_download_starts_a_spreadsheet_formula(site: Path) -> None:
    tables = sorted((site / "assets" / "rundocs" / "tables").rglob("*.csv"))
    cells = [cell for table in tables for row in csv.reader(io.StringIO(table.read_text("utf-8"))) for cell in row]
    assert len(tables) == 3 and "'- pwnlist" in cells and '\'=== "pwntab"' in cells
    assert [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r")) and not _finite(c)] == []


def _finite(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def test_no_handler_script_url_style_or_duplicate_id_in_the_html(site: Path) -> None:
    findings = {p.name: audit_html(p.read_text("utf-8")).findings for p in _pages(site)}
    assert {page: found for page, found in findings.items() if found} == {}


def test_no_element_class_or_heading_made_by_data(site: Path) -> None:
    for page in _pages(site):
        audit = audit_html(page.read_text("utf-8"))
        tags = [tag for tag, _ in audit.tags]
        assert [t for t in tags if t in ("img", "iframe", "object", "embed", "b", "i", "base")] == [], page
        # the only folds are rundocs' own (a run page's unchanged and one-sided settings)
        folds = [attributes.get("class") for tag, attributes in audit.tags if tag == "details"]
        assert folds == ["note"] * len(folds) and len(folds) <= 2, page
        assert tags.count("h1") == 1, page
        assert {c for c in _tokens(audit.tags, "class") if "pwn" in c or c == "mermaid"} == set(), page
        assert [i for i in audit.ids if i.startswith("_") and not THEME_ID.fullmatch(i)] == [], page
        tabs = [i for i in audit.ids if i.startswith("__tabbed_")]
        summary = page.parent.name == "sweeps" and page.name != "index.html"  # its two "Best configurations" tabs
        assert tabs == (["__tabbed_1_1", "__tabbed_1_2"] if summary else []), page


def test_links_go_to_pages_of_the_site_or_nowhere(site: Path) -> None:
    for page in _pages(site):
        audit = audit_html(page.read_text("utf-8"))
        for tag, attributes in audit.tags:
            target = urlsplit(attributes.get("href", "")) if tag == "a" else None
            if target is None or target.scheme == "https" or not target.path:
                continue
            assert target.path.startswith("unsafe-") or (page.parent / target.path).exists(), (page, target)


@pytest.fixture(scope="module")
def browser(site: Path) -> Iterator[tuple[Any, list[str]]]:
    """One headless Chromium page for the module, with the dialogs it opened."""
    with chromium_page() as opened:
        yield opened


@pytest.mark.browser
def test_no_dialog_on_any_page_and_the_drawn_dom_stays_clean(site: Path, browser: tuple[Any, list[str]]) -> None:
    page, dialogs = browser
    for path in _pages(site):
        page.goto(path.as_uri())
        if page.locator(".rd-figure").count():
            page.wait_for_selector(".rd-figure .main-svg", state="attached", timeout=10_000)
        if page.locator("pre.rd-mermaid").count():
            page.wait_for_selector("pre.rd-mermaid svg", state="attached", timeout=10_000)
        page.evaluate(POKE_ELEMENTS)
        page.wait_for_timeout(50)
        assert audit_html(page.content()).findings == [], path
    assert dialogs == []


@pytest.mark.browser
def test_hostile_text_reads_as_written(site: Path, browser: tuple[Any, list[str]]) -> None:
    page, _ = browser
    page.goto((site / "runs" / "20260101_100000_pwn.html").as_uri())
    heading = page.locator("h1").first.inner_text()
    assert heading.startswith("pwn {autofocus onfocus=alert(1) tabindex=1} x {: onclick=alert(2)} <script>")
    page.goto((site / "phases" / "pwn.html").as_uri())
    page.wait_for_selector("pre.rd-mermaid svg", state="attached", timeout=10_000)
    diagram = page.locator("pre.rd-mermaid svg").first.text_content() or ""
    assert "click A call alert(9)" in diagram and '%%{init: {"securityLevel":"loose"}}%%' in diagram


@pytest.mark.browser
def test_figure_text_from_data_is_drawn_as_text(site: Path, browser: tuple[Any, list[str]]) -> None:
    page, _ = browser
    run_name = " ".join(STRINGS[:3]).replace("\n", " ")  # the hover text of the first run's curve
    for path, expected in [
        (site / "runs" / "20260101_100000_pwn.html", CARRIERS),  # metric names: legend, axis titles
        (next((site / "sweeps").glob("pwn-*.html")), [*CARRIERS, run_name]),  # legend, categories, hover
    ]:
        page.goto(path.as_uri())
        page.wait_for_selector(".rd-figure .main-svg", state="attached", timeout=10_000)
        figures = page.evaluate(DRAWN_FIGURES)
        assert [(f["links"], f["styled"]) for f in figures] == [(0, 0)] * len(figures), path
        text = " ".join(f["text"] for f in figures)
        assert [literal for literal in expected if literal not in text] == [], path
        assert "&lt;" not in text and "&#" not in text, path  # no entity left undecoded (parcoords ticks)
