"""A run that cannot be read is named on the site, and one page that fails leaves the others."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import markdown
import pytest

import rundocs
from rundocs.load.plans import load_plans
from rundocs.render import pages
from rundocs.render.pages import PlanSet, SiteOptions, render_site
from tests.helpers import write_run

ROWS = [{"epoch": e, "time": 10.0 * e, "loss": 1.0 / e} for e in range(1, 4)]
NOW = datetime(2026, 2, 1, tzinfo=UTC)
HOSTILE = "pwn {autofocus onfocus=alert(1)} <b>x</b> | [l](javascript:alert(1))"


def _site(root: Path, templates: Path | None = None) -> dict[str, str]:
    runs = rundocs.load_runs(root / "runs", now=NOW)
    plans = PlanSet(*load_plans(root / "plans"))
    site = render_site(runs, SiteOptions(templates=templates), plans=plans)
    return {path: text.decode() for path, text in site.files.items() if path.endswith(".md")}


def _anchor(folder: str) -> str:
    return "run-" + hashlib.sha256(folder.encode()).hexdigest()[:12]


def _project(root: Path) -> None:
    write_run(root / "runs", "a1", ROWS, name="a1", phase="p", sweep="s")
    write_run(root / "runs", "b1", ROWS, name="b1", phase="p", sweep="s", status="done")  # unreadable
    write_run(root / "runs", "c1", ROWS, name="c1", phase="p", sweep="s")
    (root / "runs" / "c1" / "metrics.jsonl").write_text('{"epoch": 1, "loss": 0.5}\n{"epoch": "two"}\n')
    (root / "plans").mkdir()
    (root / "plans" / "p.yaml").write_text("title: P\nruns:\n  - name: a1\n  - name: b1\n  - name: c1\n")


def test_an_unreadable_run_is_named_and_linked_from_home_phase_and_sweep(tmp_path: Path) -> None:
    _project(tmp_path)
    site = _site(tmp_path)

    problems = site["problems.md"]
    b1 = _anchor("b1")
    assert f'<a id="{b1}"></a>runs/b1/run.json | — | field &#39;status&#39;: &#39;done&#39; is not one' in problems
    assert "</a>runs/c1/metrics.jsonl | 2 | field &#39;epoch&#39;: &#39;two&#39;" in problems
    assert "**2 problems** in the runs, plans or pages: see [Problems](problems.md)" in site["index.md"]
    phase = site["phases/p.md"]
    b1_row = next(line for line in phase.splitlines() if line.startswith("| b1 |"))
    assert "rd-unreadable" in b1_row and f"[could not be read](../problems.md#{_anchor('b1')})" in b1_row
    assert "queued" not in b1_row and "not started" not in b1_row
    assert f"1 run folder of this phase could not be read and is left out: [b1](../problems.md#{b1})" in phase
    assert f"could not be read and is left out: [b1](../problems.md#{_anchor('b1')})" in site["sweeps/s.md"]


def test_no_problems_says_so(tmp_path: Path) -> None:
    write_run(tmp_path / "runs", "a1", ROWS)
    site = _site(tmp_path)
    assert "No problems: every run folder, metrics line and plan was read" in site["problems.md"]
    assert "problems** in the runs" not in site["index.md"]
    assert "- [Problems](problems.md)" in site["index.md"]


def test_problems_are_data_never_markup(tmp_path: Path) -> None:
    write_run(tmp_path / "runs", "h1", ROWS, status=HOSTILE)
    folder = write_run(tmp_path / "runs", "h2", ROWS)
    (folder / "metrics.jsonl").write_text(f'{{"epoch": 1, "loss": "{HOSTILE}"}}\n')
    (tmp_path / "plans").mkdir()
    (tmp_path / "plans" / "h.yaml").write_text(f"title: T\n'{HOSTILE}': 1\n")
    text = _site(tmp_path)["problems.md"]
    html = markdown.markdown(text, extensions=["tables", "attr_list", "md_in_html"])
    tags = _Tags()
    tags.feed(html)
    assert text.count("pwn") == 3  # shown, as text, in all three problems
    assert {tag for tag, _ in tags.found} == {"h1", "p", "h2", "table", "thead", "tbody", "tr", "th", "td", "a", "code"}
    assert [attrs for _, attrs in tags.found if attrs] == [[("id", _anchor("h1"))], [("id", _anchor("h2"))]]


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, attrs))


def test_a_page_that_raises_becomes_an_error_page_and_the_rest_builds(tmp_path: Path) -> None:
    write_run(tmp_path / "runs", "good", ROWS)
    write_run(tmp_path / "runs", "bad", ROWS)
    write_run(tmp_path / "runs", "fine", ROWS)
    templates = tmp_path / "templates"
    templates.mkdir()
    packaged = Path(rundocs.__file__).parent / "render" / "templates" / "run.md.j2"
    (templates / "run.md.j2").write_text(
        '{% if page.record.id == "bad" %}{{ none.missing.attribute }}{% endif %}' + packaged.read_text()
    )
    runs = rundocs.load_runs(tmp_path / "runs", now=NOW)
    site = render_site(runs, SiteOptions(templates=templates))
    pages = {path: text.decode() for path, text in site.files.items()}

    assert [(f.path, f.input) for f in site.failures] == [("runs/bad.md", "run bad (runs/bad)")]
    assert "# Page not built" in pages["runs/bad.md"] and "Built from: run bad (runs/bad)" in pages["runs/bad.md"]
    assert "UndefinedError" in pages["runs/bad.md"]
    assert "# Page not built" not in pages["runs/good.md"] + pages["runs/fine.md"] + pages["index.md"]
    assert "| runs/bad.md | run bad (runs/bad) | UndefinedError" in pages["problems.md"]
    assert "**1 problem** in the runs, plans or pages" in pages["index.md"]
    assert "bad" not in site.manifest.pages  # rendered again next build, never kept as it is


def test_a_plan_that_breaks_its_phase_page_leaves_the_other_phases(tmp_path: Path) -> None:
    write_run(tmp_path / "runs", "a1", ROWS, phase="p")
    write_run(tmp_path / "runs", "q1", ROWS, phase="q")
    (tmp_path / "plans").mkdir()
    (tmp_path / "plans" / "p.yaml").write_text("title: boom\n")
    (tmp_path / "plans" / "q.yaml").write_text("title: Q\n")
    templates = tmp_path / "templates"
    templates.mkdir()
    packaged = Path(rundocs.__file__).parent / "render" / "templates" / "phase.md.j2"
    (templates / "phase.md.j2").write_text(
        '{% if page.report.plan.title == "boom" %}{{ 1 / 0 }}{% endif %}' + packaged.read_text()
    )
    site = _site(tmp_path, templates)
    assert "Built from: plan plans/p.yaml and runs" in site["phases/p.md"]
    assert "ZeroDivisionError" in site["phases/p.md"]
    assert "# Q" in site["phases/q.md"]
    assert "error" in site["phases/index.md"] and "[Q](q.md)" in site["phases/index.md"]


def test_a_run_whose_log_entry_raises_keeps_its_place_in_the_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No input is known to make a log entry raise (that is the point); the fault is injected."""
    write_run(tmp_path / "runs", "good", ROWS)
    write_run(tmp_path / "runs", "bad", ROWS, name="Bad run")
    real = pages.make_log_entry

    def failing(runs: rundocs.Runs, run_id: str, *args: object) -> object:
        if run_id == "bad":
            raise ValueError("injected")
        return real(runs, run_id, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(pages, "make_log_entry", failing)
    site = _site(tmp_path)
    assert "Built from: run bad (runs/bad)" in site["runs/bad.md"] and "ValueError: injected" in site["runs/bad.md"]
    assert "[Bad run](bad.md)" in site["runs/index.md"] and "[good](good.md)" in site["runs/index.md"]
    assert "| runs/bad.md | run bad (runs/bad) | ValueError: injected |" in site["problems.md"]
