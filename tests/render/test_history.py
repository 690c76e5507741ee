"""The history page: every phase in time order with its dates, verdict, the decision taken and
what it superseded, derived from plans and run folders on disk."""

from __future__ import annotations

import re
from pathlib import Path

from rundocs.load.plans import load_plans
from tests.helpers import write_run
from tests.render.test_escaping import FENCED, FIGURES, OWN_TAGS
from tests.render.test_phase_pages import build, curve

SMOKE = """
title: Smoke test
date: 2026-01-02
goal: Does the filtered <i>context</i> recover OOD?
gates: [{metric: ood_cos, green: ">= 0.57", amber: ">= 0.50"}]
decisions:
  green: {text: Proceed to full training., next: full}
  amber: Two tracks.
"""
FIRST_TRY = """
title: First try
date: 2026-01-01
superseded_by: smoke
"""
FULL = """
title: Full training
expected: {total: 3h}
"""


def write_lab(runs: Path) -> None:
    write_run(runs, "s1", curve("ood_cos", [0.5, 0.6]), name="smoke", phase="smoke",
              started_at="2026-01-02T09:00:00+00:00", updated_at="2026-01-02T10:00:00+00:00",
              ended_at="2026-01-02T10:00:00+00:00")  # fmt: skip
    write_run(runs, "f1", curve("val_loss", [1.0]), name="full", phase="full", status="running", ended_at=None,
              started_at="2026-02-27T11:00:00+02:00", updated_at="2026-03-01T11:59:00+00:00")  # fmt: skip
    write_run(runs, "o1", curve("val_loss", [2.0]), name="old", phase="first-try",
              started_at="2026-01-01T09:00:00+00:00", updated_at="2026-01-01T09:30:00+00:00",
              ended_at="2026-01-01T09:30:00+00:00")  # fmt: skip


def test_the_history_lists_every_phase_in_time_order_with_its_decision(tmp_path: Path) -> None:
    write_lab(tmp_path / "runs")
    pages = build(tmp_path, {"smoke": SMOKE, "first-try": FIRST_TRY, "full": FULL})
    history = pages["history.md"]
    assert "3 phases (1 open, 1 superseded), 3 runs" in history
    rows = [line for line in history.splitlines() if line.startswith("| [")]
    assert [row.split("]")[0] for row in rows] == ["| [First try", "| [Smoke test", "| [Full training"]
    first, smoke, full = rows
    assert first.endswith(" Superseded by [Smoke test](phases/smoke.md). |")
    assert "| 2026-01-02 | 2026-01-02 09:00 UTC | 2026-01-02 10:00 UTC | 1 | 1 h 00 min |" in smoke
    assert smoke.endswith("GREEN</span> | Proceed to full training. → [Full training](phases/full.md) |")
    assert "| — | 2026-02-27 09:00 UTC | — | 1 |" in full  # no plan date, started, not ended (running)
    assert (
        "**Time.** 1 run, run time not known yet, started 2026-02-27 09:00 UTC, still running; expected 3 h 00 min."
        in pages["phases/full.md"]
    )
    assert "**Supersedes** [First try](phases/first-try.md)." in history
    assert "**Superseded by** [Smoke test](phases/smoke.md): kept for the record, no longer open." in history
    assert "**Decision taken (GREEN).** Proceed to full training. Next: [Full training](phases/full.md)." in history
    assert "**Goal.** Does the filtered &lt;i&gt;context&lt;/i&gt; recover OOD?" in history
    # a superseded plan's page still builds, marked and linked; it is not open in the tracker
    assert '!!! note "Superseded by smoke"' in pages["phases/first-try.md"]
    assert "replaced by [smoke](smoke.md)" in pages["phases/first-try.md"]
    tracker = pages["phases/index.md"]
    assert "| [First try](first-try.md) (superseded by [smoke](smoke.md)) |" in tracker
    assert "**Total: 3 phases, 1 open**" in tracker
    assert "- [History](history.md)" in pages["index.md"]


def test_superseded_by_must_name_another_plan(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("title: A\nsuperseded_by: nowhere\n")
    (tmp_path / "b.yaml").write_text("title: B\nsuperseded_by: b\n")
    (tmp_path / "c.yaml").write_text("title: C\nsuperseded_by: {id: a}\n")
    plans, problems = load_plans(tmp_path)
    assert [(p.path.rsplit("/", 1)[-1], p.message, p.warning) for p in problems] == [
        ("c.yaml", "'superseded_by': expected a phase id (the name of its plan file), got {'id': 'a'}", False),
        ("a.yaml", "'superseded_by': 'nowhere' names no plan in this folder", False),
        ("b.yaml", "'superseded_by': 'b' names the plan itself", False),
    ]
    assert plans["a"].superseded_by == "nowhere"  # kept: the page says what the plan says


def test_no_plans_no_history(tmp_path: Path) -> None:
    assert "No phase plans yet" in build(tmp_path, {})["history.md"]


HOSTILE = """
title: "A | <script>alert(1)</script>"
date: 2026-01-03
goal: "<img src=x onerror=alert(1)> | [x](javascript:alert(1))"
gates: [{metric: acc, green: ">= 0.5"}]
decisions:
  green:
    text: "[go](javascript:alert(1)) | <b>bold</b>"
    next: other
    then:
      - {if: "a | b <i>", text: "`x` | </pre><script>", next: other}
"""


def test_plan_text_on_the_history_tracker_and_phase_page_stays_text(tmp_path: Path) -> None:
    write_run(tmp_path / "runs", "h1", curve("acc", [0.9]), name="h", phase="hostile")
    other = 'title: "B ]( <u>"\nsuperseded_by: hostile\n'
    pages = build(tmp_path, {"hostile": HOSTILE, "other": other})
    for name in ("history.md", "phases/index.md", "phases/hostile.md", "phases/other.md", "index.md"):
        page = pages[name]
        text = OWN_TAGS.sub("", FIGURES.sub("", FENCED.sub("", page)))
        assert re.findall(r"<[a-zA-Z/!]", text) == [], name
        assert re.findall(r"(?<!\\)\]\(\s*(?:javascript|vbscript|data):", text) == [], name
        for table in re.findall(r"(?:^\|.*\|\n)+", page, flags=re.MULTILINE):
            assert len({len(re.split(r"(?<!\\)\|", row)) for row in table.splitlines()}) == 1, (name, table)
    assert "Next: [other](other.md)" in pages["phases/hostile.md"]
