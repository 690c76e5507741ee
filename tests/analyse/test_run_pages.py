"""What run pages and the experiment log state, built from run folders written to disk."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import rundocs
from rundocs.analyse.baseline import find_baselines
from rundocs.formatting import format_duration
from rundocs.load.plans import load_plans
from rundocs.render.filters import FILTERS
from rundocs.render.pages import PlanSet, SiteOptions, render_site
from tests.helpers import write_run

NOW = datetime(2026, 1, 2, 12, 0, tzinfo=UTC)


def site(tmp_path: Path, plans: dict[str, str] | None = None) -> dict[str, str]:
    folder = tmp_path / "plans"
    folder.mkdir(exist_ok=True)
    for name, text in (plans or {}).items():
        (folder / f"{name}.yaml").write_text(text)
    runs = rundocs.load_runs(tmp_path / "runs", now=NOW)
    built = render_site(runs, SiteOptions(), plans=PlanSet(*load_plans(folder)))
    return {path: content.decode() for path, content in built.files.items() if path.endswith(".md")}


def test_per_step_metrics_appear_in_the_run_page_table_and_figure(tmp_path: Path) -> None:
    rows: list[dict[str, Any]] = [{"step": s, "train_loss": 1 / (s + 1)} for s in range(0, 40, 10)]
    rows += [{"epoch": e, "val_loss": 1 / e} for e in (1, 2)]
    write_run(tmp_path / "runs", "r", rows)
    page = site(tmp_path)["runs/r.md"]
    assert "| Metric | Best | At | Latest | At |" in page
    assert "| train\\_loss | 0.032258 | step 30 | 0.032258 | step 30 |" in page
    assert "| val\\_loss | 0.5 | epoch 2 | 0.5 | epoch 2 |" in page
    figure = json.loads(page.split('<script type="application/json">')[1].split("</script>")[0])
    assert sorted(trace["name"] for trace in figure["data"]) == ["train_loss", "val_loss"]


def test_a_metric_logged_as_nan_is_a_row_of_results_and_a_later_nan_is_where_it_ended(tmp_path: Path) -> None:
    """A NaN the script logged is a value the page states: never a missing one. A metric logged
    only as NaN has a row (no best); one that went NaN after finite values ends on NaN."""
    rows: list[dict[str, Any]] = [
        {"epoch": 1, "train_loss": 1.0, "val_loss": "NaN"},
        {"epoch": 2, "train_loss": 0.5},
        {"epoch": 3, "train_loss": "NaN", "val_loss": "NaN"},
        {"epoch": 4},
    ]
    write_run(tmp_path / "runs", "r", rows, sweep="s")
    pages = site(tmp_path)
    page = pages["runs/r.md"]
    assert "| train\\_loss | 0.5 | 2 | NaN | 3 |" in page
    assert "| val\\_loss | — | — | NaN | 3 |" in page
    assert "| [r](../runs/r.md) | — | — | NaN | 4 |  |" in pages["sweeps/s.md"]  # val_loss: no best, ended NaN


def test_a_complete_run_counted_from_zero_shows_every_epoch(tmp_path: Path) -> None:
    write_run(tmp_path / "runs", "r", [{"epoch": e, "val_loss": 1 / (e + 1)} for e in range(10)], epochs=10)
    pages = site(tmp_path)
    assert "| E010/010 |" in pages["runs/r.md"] and "Stopped early" not in pages["runs/r.md"]
    write_run(tmp_path / "runs", "live", [{"epoch": e, "val_loss": 1.0} for e in range(3)], epochs=10,
              status="running", started_at="2026-01-02T11:58:00+00:00", updated_at="2026-01-02T11:59:59+00:00",
              ended_at=None)  # fmt: skip
    assert "running E003/010" in site(tmp_path)["runs/index.md"]


def test_a_relaunched_run_links_its_relaunch_and_the_relaunch_links_back(tmp_path: Path) -> None:
    write_run(tmp_path / "runs", "dead", [{"epoch": 1, "val_loss": 1.0}], status="failed")
    write_run(tmp_path / "runs", "again", [{"epoch": 1, "val_loss": 0.9}], restarts="dead",
              started_at="2026-01-01T12:00:00+00:00", updated_at="2026-01-01T13:00:00+00:00",
              ended_at="2026-01-01T13:00:00+00:00")  # fmt: skip
    write_run(tmp_path / "runs", "later", [], restarts="zzz_started_after", started_at="2026-01-01T14:00:00+00:00")
    write_run(tmp_path / "runs", "zzz_started_after", [], restarts="later", started_at="2026-01-01T15:00:00+00:00")
    pages = site(tmp_path)
    assert "Relaunched as [again](again.md)" in pages["runs/dead.md"]
    assert "Relaunch of [dead](dead.md)." in pages["runs/again.md"]
    assert '<span class="rd-badge rd-relaunched">relaunched</span> as [again](again.md)' in pages["runs/index.md"]
    assert "This attempt recorded the status `failed`." in pages["runs/dead.md"]
    assert (
        "Relaunch of [later](later.md)" in pages["runs/zzz_started_after.md"]
        and "Relaunch of" not in pages["runs/later.md"]
    )


def test_an_attempt_killed_before_it_could_record_its_end_reads_relaunched_not_running(tmp_path: Path) -> None:
    """SIGKILL leaves ``status: running`` with a recent heartbeat: once relaunched, every page
    calls it relaunched (the log, its run page, the home page's counts), never running."""
    write_run(tmp_path / "runs", "killed", [{"epoch": 1, "val_loss": 1.0}], status="running", ended_at=None,
              updated_at="2026-01-02T11:58:00+00:00")  # fmt: skip
    write_run(tmp_path / "runs", "again", [{"epoch": 1, "val_loss": 0.9}], restarts="killed", status="running",
              ended_at=None, started_at="2026-01-02T11:59:00+00:00",
              updated_at="2026-01-02T11:59:30+00:00")  # fmt: skip
    pages = site(tmp_path)
    assert '<span class="rd-badge rd-relaunched">relaunched</span> as [again]' in pages["runs/index.md"]
    assert pages["runs/killed.md"].count("rd-badge rd-running") == 0
    assert "2 runs: 1 running, 1 relaunched." in pages["index.md"]


PLAN_WITH_BASELINE = """
title: P
compare: {metrics: {val_loss: min}, baseline: reference}
"""


def test_the_config_diff_uses_the_plans_comparison_baseline(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    write_run(runs, "r1", [], name="first", phase="p", config={"lr": 0.1}, started_at="2026-01-01T10:00:00+00:00")
    write_run(runs, "r2", [], name="reference", phase="p", config={"lr": 0.2}, started_at="2026-01-01T11:00:00+00:00")
    write_run(runs, "r3", [], name="other", phase="p", config={"lr": 0.3}, started_at="2026-01-01T12:00:00+00:00")
    write_run(runs, "r4", [], name="own", phase="p", config={"lr": 0.4, "baseline": "first"},
              started_at="2026-01-01T13:00:00+00:00")  # fmt: skip
    pages = site(tmp_path, {"p": PLAN_WITH_BASELINE})
    assert "Compared with the baseline [reference](r2.md)" in pages["runs/r3.md"]
    assert "Compared with the baseline [reference](r2.md)" in pages["runs/r1.md"]
    assert "Compared with the baseline [first](r1.md)" in pages["runs/r4.md"]  # a run's own choice comes first
    records = rundocs.load_runs(runs).records
    assert find_baselines(records) == {"r1": None, "r2": "r1", "r3": "r1", "r4": "r1"}  # without plans: the first


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(None, "—"), (float("nan"), "—"), (0.4, "0 s"), (42, "42 s"), (59.6, "1 min 00 s"), (425, "7 min 05 s"),
     (2280, "38 min"), (3600, "1 h 00 min"), (7500, "2 h 05 min"),
     (172740, "47 h 59 min"), (184800, "2 d 03 h"), (273600, "3 d 04 h")],
)  # fmt: skip
def test_one_duration_format(seconds: float | None, text: str) -> None:
    assert format_duration(seconds) == text
    assert FILTERS["duration"] is format_duration


def test_a_kept_run_page_is_rendered_again_when_a_relaunch_or_a_plan_baseline_appears(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rundocs.site.generate import Project, build_project

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767261900")
    (tmp_path / "plans").mkdir()
    project = Project(tmp_path / "runs", tmp_path / "plans", tmp_path / "docs", tmp_path / "cache")
    write_run(tmp_path / "runs", "dead", [{"epoch": 1, "val_loss": 1.0}], status="failed", phase="p")
    write_run(tmp_path / "runs", "ref", [], phase="p", config={"lr": 1}, started_at="2026-01-01T10:30:00+00:00")
    build_project(project, SiteOptions())
    assert "runs/dead.md" in build_project(project, SiteOptions())[0].site.kept
    write_run(tmp_path / "runs", "again", [], restarts="dead", phase="p", started_at="2026-01-01T12:00:00+00:00")
    assert "runs/dead.md" not in build_project(project, SiteOptions())[0].site.kept
    assert "Relaunched as [again](again.md)" in (tmp_path / "docs" / "runs" / "dead.md").read_text()
    (tmp_path / "plans" / "p.yaml").write_text("title: P\ncompare: {metrics: {val_loss: min}, baseline: ref}\n")
    assert "runs/dead.md" not in build_project(project, SiteOptions())[0].site.kept
    assert "Compared with the baseline [ref](ref.md)" in (tmp_path / "docs" / "runs" / "dead.md").read_text()


def test_tags_are_shown_on_the_run_page_and_in_the_log(tmp_path: Path) -> None:
    write_run(tmp_path / "runs", "r", [{"epoch": 1, "val_loss": 1.0}], tags=["baseline", "wide"])
    pages = site(tmp_path)
    assert "; tags: baseline, wide" in pages["runs/r.md"]
    assert "[r](r.md)<br>baseline, wide |" in pages["runs/index.md"]


def test_the_config_diff_shows_changed_settings_first_and_folds_the_rest(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    config = {"lr": 0.1, "seed": 0, "model": {"width": 64, "depth": 2}}
    write_run(runs, "a", [], name="base", phase="p", config=config, started_at="2026-01-01T10:00:00+00:00")
    write_run(runs, "b", [], name="wide", phase="p", config={**config, "model": {"width": 128, "depth": 2}},
              started_at="2026-01-01T11:00:00+00:00")  # fmt: skip
    page = site(tmp_path)["runs/b.md"]
    configuration = page.split("## Configuration")[1].split("## Environment")[0]
    changed, folded = configuration.split('??? note "Unchanged settings (3)"')
    assert "| Changed setting | Value | Baseline |\n|---|---|---|\n| model.width | 128 | 64 |\n\n" in changed
    assert "    | lr | 0.1 |  |\n" in folded and "    | model.depth | 2 |  |\n" in folded
    assert "model.width" not in folded and "lr" not in changed


def test_an_eval_run_compares_only_the_settings_both_records_have_and_names_what_it_evaluates(
    tmp_path: Path,
) -> None:
    """An eval run records how it evaluated, not how the model trained: the training settings it
    lacks are not recorded there, never changed; the run it evaluates is named by its name."""
    runs = tmp_path / "runs"
    trained = {"lr": 0.01, "epochs": 10, "num_classes": 10, "data": {"seed": 0, "noise": 0.2}}
    write_run(runs, "t", [{"epoch": 1, "val_loss": 0.5}], name="finetune_large_shifted", phase="f", config=trained,
              started_at="2026-01-01T10:00:00+00:00")  # fmt: skip
    write_run(runs, "e", [], name="eval_finetune", kind="eval", evaluates=["t"], phase="f",
              config={"checkpoint": "best", "data": {"seed": 0, "noise": 0.3}}, summary={"test_acc": 0.96},
              started_at="2026-01-01T11:00:00+00:00")  # fmt: skip
    page = site(tmp_path)["runs/e.md"]
    assert "Evaluates: [finetune\\_large\\_shifted](t.md)." in page
    configuration = page.split("## Configuration")[1].split("## Environment")[0]
    assert "a train run: only the settings both records have are compared" in configuration
    assert "| Changed setting | Value | Baseline |\n|---|---|---|\n| data.noise | 0.3 | 0.2 |\n\n" in configuration
    assert '??? note "Unchanged settings (1)"' in configuration and "    | data.seed | 0 |  |" in configuration
    assert '??? note "Recorded by one run only (4)"' in configuration
    assert "    | lr | *not recorded* | 0.01 |" in configuration
    assert "    | checkpoint | best | *not recorded* |" in configuration
    assert [line for line in configuration.splitlines() if line.startswith("|")][2:] == ["| data.noise | 0.3 | 0.2 |"]


def log_row(pages: dict[str, str], run_id: str) -> list[str]:
    """The cells of one run's row in the experiment log."""
    line = next(line for line in pages["runs/index.md"].splitlines() if f"]({run_id}.md)" in line)
    return [cell.strip() for cell in line.strip("|").split(" | ")]


def test_the_log_shows_sweep_varied_settings_duration_and_the_best_validation_value_beside_the_summary(
    tmp_path: Path,
) -> None:
    runs = tmp_path / "runs"
    for index, (lr, seed) in enumerate([(0.1, 0), (0.1, 1), (0.01, 0)]):
        losses = [0.9, 0.2, 0.0653, 0.07]
        rows = [{"epoch": e, "val_loss": losses[e - 1], "val_acc": 0.5 + e / 10} for e in (1, 2, 3, 4)]
        start = f"2026-01-01T1{index}:00:00+00:00"
        write_run(runs, f"r{index}", rows, sweep="lr", phase="p", summary={"n_params": 1600000},
                  config={"lr": lr, "seed": seed, "epochs": 4, "out": f"/x/{index}"}, bookkeeping=["out"],
                  started_at=start, ended_at=start.replace(":00:00", ":07:05"))  # fmt: skip
    pages = site(tmp_path)
    assert (
        "| Started (UTC) | Run | State | Phase | Sweep | Settings | Duration | Best validation | Summary |"
        in (pages["runs/index.md"])
    )
    row = log_row(pages, "r0")
    assert row[3:7] == ["p", "lr", "lr=0.1, seed=0", "7 min 05 s"]
    assert row[7] == "val\\_loss 0.0653 @ E3, val\\_acc 0.9 @ E4"  # a parameter count does not replace it
    assert row[8].startswith("n\\_params=1")
    assert log_row(pages, "r2")[5] == "lr=0.01, seed=0"
    assert '<div class="rd-sortable" markdown>\n\n| Started (UTC) |' in pages["runs/index.md"]


def test_a_run_at_chance_is_marked_not_shown_with_the_green_badge(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    learned = [{"epoch": e, "val_acc": 0.3 * e, "val_loss": 2.3 / e} for e in (1, 2, 3)]
    guessing = [{"epoch": e, "val_acc": 0.1 + 0.01 * e, "val_loss": 2.3 / e} for e in (1, 2, 3)]
    stuck = [{"epoch": e, "val_loss": 2.3 + 0.1 * e} for e in (1, 2, 3)]
    write_run(runs, "good", learned, config={"num_classes": 10})
    write_run(runs, "guess", guessing, config={"num_classes": 10})
    write_run(runs, "stuck", stuck)  # no class count: a loss that never went below its first value
    pages = site(tmp_path)
    chance = '<span class="rd-badge rd-chance">completed, at chance</span>'
    assert log_row(pages, "good")[2] == '<span class="rd-badge rd-completed">completed</span>'
    assert log_row(pages, "guess")[2] == chance
    assert log_row(pages, "stuck")[2] == chance


def test_a_kept_run_page_is_rendered_again_when_a_setting_of_its_sweep_starts_to_vary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rundocs.site.generate import Project, build_project

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767261900")
    project = Project(tmp_path / "runs", tmp_path / "plans", tmp_path / "docs", tmp_path / "cache")
    write_run(tmp_path / "runs", "a", [], sweep="s", config={"lr": 0.1, "seed": 0})
    write_run(tmp_path / "runs", "b", [], sweep="s", config={"lr": 0.2, "seed": 0})
    build_project(project, SiteOptions())
    assert "runs/a.md" in build_project(project, SiteOptions())[0].site.kept
    write_run(tmp_path / "runs", "c", [], sweep="s", config={"lr": 0.2, "seed": 1})
    assert "runs/a.md" not in build_project(project, SiteOptions())[0].site.kept
    assert "| lr=0.1, seed=0 |" in (tmp_path / "docs" / "runs" / "index.md").read_text()
