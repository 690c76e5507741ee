"""A phase of many runs stays a page to read: each table lists what needs a reader first."""

from __future__ import annotations

from pathlib import Path

import rundocs
from rundocs.load.plans import load_plans
from rundocs.render.pages import PlanSet, SiteOptions, render_site
from tests.helpers import write_run

RUNS = 120
PLAN = """title: Big sweep
gates:
  - {metric: val_loss, green: "<= 0.5", amber: "<= 0.6"}
decisions: {green: Go., amber: Look., red: Stop.}
compare:
  metrics: {val_loss: min}
  baseline: r000
"""


def test_a_phase_of_120_runs_lists_failures_reds_and_the_baseline_first(tmp_path: Path) -> None:
    for index in range(RUNS):
        final = 0.7 if index == 90 else 0.3 + index / 1000  # r090 fails its gate
        rows = [{"epoch": e, "val_loss": final + 1 / e} for e in range(1, 4)] + [{"epoch": 4, "val_loss": final}]
        started = f"2026-01-01T{index // 60:02d}:{index % 60:02d}:00+00:00"
        fields = {"started_at": started, "updated_at": started, "ended_at": started}
        if index == 100:
            fields["status"], fields["error"] = "failed", {"type": "OSError", "message": "disk full"}
        write_run(tmp_path / "runs", f"r{index:03d}", rows, phase="big", **fields)
    (tmp_path / "plans").mkdir()
    (tmp_path / "plans" / "big.yaml").write_text(PLAN)
    runs = rundocs.load_runs(tmp_path / "runs")
    site = render_site(runs, SiteOptions(), plans=PlanSet(*load_plans(tmp_path / "plans")))
    page = site.files["phases/big.md"].decode()

    execution = page.split("## Execution status")[1].split("##")[0]
    assert execution.count("](../runs/r") == 50 and "50 of 120 rows" in execution
    assert "](../runs/r100.md)" in execution and "disk full" in execution  # the failure, though late
    gates = page.split("## Gates")[1].split("##")[0]
    assert gates.count("\n| [r") == 50 and "](../runs/r090.md)" in gates  # one row per result
    assert "50 of 120 results (119 green, 1 red), red and amber first." in gates
    comparison = page.split("## Comparison")[1]
    assert comparison.count("](../runs/r") == 50 and "(baseline)" in comparison
    assert "50 of 120 models: the baseline and the best per metric, then the best by val\\_loss." in comparison
    assert len(page) < 40_000
