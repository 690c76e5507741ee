"""Phase pages built from run folders and plans on disk: the baseline beside each gate, nested
decisions, expected and spent run time, pruned trials, and the tracker's order and totals."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import markdown
import pytest

import rundocs
from rundocs.load.plans import load_plans, parse_duration
from rundocs.render.pages import PlanSet, SiteOptions, render_site
from tests.helpers import write_run

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def build(tmp_path: Path, plans: dict[str, str]) -> dict[str, str]:
    """Every generated page of the runs under ``tmp_path/runs`` and these plan files."""
    folder = tmp_path / "plans"
    folder.mkdir(exist_ok=True)
    for name, text in plans.items():
        (folder / f"{name}.yaml").write_text(text)
    runs = rundocs.load_runs(tmp_path / "runs", now=NOW)
    site = render_site(runs, SiteOptions(), plans=PlanSet(*load_plans(folder)))
    return {path: content.decode() for path, content in site.files.items() if path.endswith(".md")}


def curve(metric: str, values: list[float]) -> list[dict[str, Any]]:
    return [{"epoch": epoch, metric: value} for epoch, value in enumerate(values, start=1)]


def section(page: str, heading: str) -> str:
    start = page.index(heading)
    end = page.find("\n## ", start + len(heading))
    return page[start : end if end != -1 else None]


GATED = """
title: Gated
runs: [base, wide]
gates:
  - metric: val_acc
    green: ">= 0.7"
    amber: ">= 0.6"
  - metric: val_acc
    epoch: 3
    green: ">= 0.5"
compare: {metrics: {val_acc: max}, baseline: base}
"""


def test_each_gate_shows_the_baseline_value_read_as_the_gate_reads(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    write_run(runs, "r1", curve("val_acc", [0.5, 0.6375, 0.61]), name="base", phase="gated",
              started_at="2026-01-01T10:00:00+00:00")  # fmt: skip
    write_run(runs, "r2", curve("val_acc", [0.6, 0.72, 0.7]), name="wide", phase="gated",
              started_at="2026-01-01T11:00:00+00:00")  # fmt: skip
    gates = section(build(tmp_path, {"gated": GATED})["phases/gated.md"], "## Gates")
    assert "| Observed | Baseline | Result |" in gates
    # best over the run: the baseline's best (0.6375, epoch 2), not its last value (0.61)
    assert "| 0.7200 (epoch 2) | 0.6375 ([base](../runs/r1.md)) | " in gates
    # at epoch 3: the baseline's value at epoch 3
    assert "| epoch 3 | &gt;= 0.5 | — | 0.7000 | 0.6100 ([base](../runs/r1.md)) | " in gates  # the observed format
    assert gates.count("| this run |") == 2  # the baseline's own rows


NESTED = """
title: Smoke test
gates: [{metric: ood_cos, green: ">= 0.57", amber: ">= 0.50"}]
decisions:
  green: Proceed to full training.
  amber:
    text: Two-track approach.
    then:
      - if: "filtered ctx=5 holds"
        text: Track A, full training on filtered ctx=5.
        next: full
      - if: "low-coherence <b>remainder</b>"
        text: Track B, salvage with ctx=7.
        then:
          - {if: "ctx=7 passes", next: salvage}
  red: Stick with the baseline.
"""


def test_nested_decisions_render_as_nested_bullets_and_in_the_flowchart(tmp_path: Path) -> None:
    write_run(tmp_path / "runs", "s1", curve("ood_cos", [0.4, 0.53]), name="smoke", phase="smoke")
    pages = build(tmp_path, {"smoke": NESTED, "full": "title: Full training\n"})
    page = pages["phases/smoke.md"]
    decision = section(page, "## Decision")
    assert '!!! warning "AMBER: the verdict, so this is the decision"' in decision
    assert "    Two-track approach.\n" in decision
    assert (
        "    - **If filtered ctx=5 holds**: Track A, full training on filtered ctx=5. Next: [full](full.md).\n"
        "    - **If low-coherence &lt;b&gt;remainder&lt;/b&gt;**: Track B, salvage with ctx=7.\n"
        "        - **If ctx=7 passes**: Next: [salvage](salvage.md).\n"
    ) in decision
    assert "- **GREEN**: Proceed to full training.\n" in decision
    html = markdown.markdown(decision, extensions=["admonition"])  # the tracks stay inside the admonition
    assert 'salvage.md">salvage</a>.</li>\n</ul>\n</li>\n</ul>\n</div>\n<ul>\n<li><strong>RED</strong>' in html
    assert "- **RED**: Stick with the baseline.\n" in decision
    diagram = page[page.index('<pre class="rd-mermaid">') :]
    assert "Damber --&gt;|&#34;filtered ctx=5 holds&#34;| Damber_0[&#34;Track A" in diagram
    assert "Damber_1 --&gt;|&#34;ctx=7 passes&#34;| Damber_1_0[&#34;next: salvage&#34;]" in diagram
    assert "#lt;b#gt;remainder" in diagram  # markup in a plan is a Mermaid entity, never a tag
    assert "class Damber taken" in diagram
    # a next phase without a plan yet is a warning, not an error
    problems = section(page, "## Problems in this plan")
    assert "warning: &#39;decisions.amber&#39;: next phase &#39;salvage&#39; has no plan yet" in problems
    assert "full" not in problems


@pytest.mark.parametrize(
    ("decisions", "message"),
    [
        ("{amber: {then: [{text: no condition}]}}", "'decisions.amber.then[0].if': missing"),
        ("{amber: {text: t, then: go}}", "'decisions.amber.then': expected a list of"),
        ("{amber: {text: t, then: []}}", "'decisions.amber.then': expected a list of"),
        ("{amber: {text: t, when: x}}", "'decisions.amber.when': unknown key; expected text, next, then"),
        ("{amber: {if: x, text: t}}", "'decisions.amber.if': unknown key; expected text, next, then"),
        ("{amber: {next: ../etc}}", "'decisions.amber.next': expected a phase id"),
        ("{amber: {}}", "'decisions.amber': expected at least one of text, next, then"),
        ("{amber: {then: [[1]]}}", "'decisions.amber.then[0]': expected a mapping with if, text, next, then"),
        (
            "{amber: {then: [{if: a, then: [{if: b, then: [{if: c, then: [{if: d, text: e}]}]}]}]}}",
            "'decisions.amber.then[0].then[0].then[0].then': decisions nest at most 3 levels",
        ),
    ],
)
def test_a_badly_shaped_decision_is_a_problem(tmp_path: Path, decisions: str, message: str) -> None:
    (tmp_path / "p.yaml").write_text(f"title: P\ndecisions: {decisions}\n")
    _, problems = load_plans(tmp_path)
    assert len(problems) == 1 and not problems[0].warning
    assert message in str(problems[0]), problems


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("20 min", 1200), ("2h", 7200), ("1 h 30 min", 5400), ("1h30m", 5400), ("90 s", 90), ("1.5 days", 129600),
     ("20", None), ("soon", None), ("2 h later", None), ("", None)],
)  # fmt: skip
def test_durations_in_a_plan(text: str, seconds: float | None) -> None:
    assert parse_duration(text) == seconds


def test_a_bad_expected_time_is_a_problem(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text("title: P\nexpected: {per_run: 20, total: soon, each: 1h}\n")
    _, problems = load_plans(tmp_path)
    assert [p.message for p in problems] == [
        "'expected.each': unknown key; expected per_run, total",
        "'expected.per_run': expected a duration like '20 min', '2h', '1 h 30 min', got 20",
        "'expected.total': expected a duration like '20 min', '2h', '1 h 30 min', got 'soon'",
    ]


TIMED = """
title: Timed
date: 2026-01-01
runs: [a, b, c]
expected: {per_run: 20 min}
"""


def test_expected_and_spent_time_on_the_phase_page_and_the_tracker(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    write_run(runs, "ta", curve("val_loss", [1.0]), name="a", phase="timed",
              started_at="2026-01-01T10:00:00+00:00", updated_at="2026-01-01T10:30:00+00:00",
              ended_at="2026-01-01T10:30:00+00:00")  # fmt: skip
    write_run(runs, "tb", curve("val_loss", [1.0]), name="b", phase="timed",
              started_at="2026-01-01T11:00:00+00:00", updated_at="2026-01-01T11:45:00+00:00",
              ended_at="2026-01-01T11:45:00+00:00")  # fmt: skip
    plans = {"timed": TIMED, "later": "title: Later\ndate: 2026-02-01\nexpected: {total: 2h}\n"}
    pages = build(tmp_path, plans)
    assert (
        "**Time.** 1 h 15 min of run time over 2 runs, 1 h 45 min from first start to last activity; "
        "expected 1 h 00 min (20 min a run × 3)." in pages["phases/timed.md"]
    )
    assert "**Time.** no run yet; expected 2 h 00 min." in pages["phases/later.md"]
    tracker = pages["phases/index.md"]
    assert "| Phase | Planned | Status | Progress | Runs | Spent | Expected | Verdict | Last activity |" in tracker
    assert "| [Timed](timed.md) | 2026-01-01 | " in tracker
    assert "| 2/3 runs | 2 | 1 h 15 min | 1 h 00 min |" in tracker
    assert "| **Total: 2 phases, 2 open** | | | | **2** | **1 h 15 min** | **3 h 00 min** | | |" in tracker


def test_the_tracker_sorts_by_time_not_by_id(tmp_path: Path) -> None:
    write_run(tmp_path / "runs", "m1", [], name="m", phase="m-undated", started_at="2026-01-15T10:00:00+00:00")
    plans = {
        "a-late": "title: Late\ndate: 2026-03-01\n",
        "m-undated": "title: Undated but started\n",
        "z-early": "title: Early\ndate: 2026-01-01\n",
        "b-never": "title: Never started\n",
    }
    tracker = build(tmp_path, plans)["phases/index.md"]
    order = [tracker.index(f"]({phase}.md)") for phase in ("z-early", "m-undated", "a-late", "b-never")]
    assert order == sorted(order)


def test_pruned_trials_are_marked_and_counted(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    for number, tags in enumerate([["optuna"], ["optuna", "pruned"], ["optuna", "pruned"]]):
        write_run(runs, f"t{number}", curve("value", [0.5]), name=f"trial-{number}", phase="search", tags=tags,
                  started_at=f"2026-01-01T1{number}:00:00+00:00")  # fmt: skip
    pages = build(tmp_path, {"search": "title: Search\n"})
    page = pages["phases/search.md"]
    assert "| 3/3 runs | 3 (2 pruned) |" in pages["phases/index.md"]
    assert "3/3 planned runs completed; 3 runs, 2 pruned;" in page
    rows = [line for line in section(page, "## Execution status").splitlines() if line.startswith("| trial-")]
    assert [("rd-pruned" in row) for row in rows] == [False, True, True]
