"""An imported Optuna study's sweep page ranks its trials as Optuna does: by the objective value,
in the study's direction, complete trials only; and a study that reports from epoch 0 reads complete."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import optuna
import pytest

import rundocs
from rundocs.analyse.sweeps import group_sweeps, report_sweep
from rundocs.optuna import import_run_id, import_study

#: Intermediate values from epoch 0 and the value each trial returns. Trial 0 peaks early and
#: returns its last value; best over epochs would pick it (0.9, maximising) or trial 2 (0.1,
#: minimising), Optuna picks trial 1. Trial 3 is pruned at epoch 0 at 0.95: never Optuna's best.
TRIALS = [([0.9, 0.3, 0.2], 0.2), ([0.4, 0.6, 0.7], 0.7), ([0.1, 0.2, 0.3], 0.3), ([0.95], None)]


def maximising_study(path: str = "study.db") -> optuna.Study:
    study = optuna.create_study(study_name="demo", storage=f"sqlite:///{path}", direction="maximize")
    for number, (reports, value) in enumerate(TRIALS):
        trial = study.ask({"x": optuna.distributions.FloatDistribution(0, 1)})
        trial.set_user_attr("number_check", number)
        for epoch, report in enumerate(reports):
            trial.report(report, epoch)
        if value is None:
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        else:
            study.tell(trial, value)
    return study


def rundocs_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rundocs", *args], env=env, capture_output=True, text=True, check=False
    )


def test_an_imported_maximisation_study_ranks_its_best_trial_best(tmp_dir: Path, child_env: dict[str, str]) -> None:
    study = maximising_study()
    assert study.best_trial.number == 1
    imported = rundocs_cli("import", "optuna", "--storage", "study.db", "--study", "demo", env=child_env)
    assert imported.returncode == 0, imported.stderr
    built = rundocs_cli("build", env=child_env)
    assert built.returncode == 0, built.stderr

    best = import_run_id("demo", study.best_trial.number)
    page = (tmp_dir / "docs" / "sweeps" / "demo.md").read_text()
    assert "target **value** (higher is better)" in page
    assert f"Best run: [trial-0001](../runs/{best}.md), value = 0.7 (reported) at epoch 2." in page
    assert "declares no target metric" not in page  # the study declares its objective
    rows = [line for line in page.splitlines() if line.startswith("| ") and "trial-" in line]
    assert [re.search(r"trial-\d+", row).group() for row in rows] == [  # type: ignore[union-attr]
        "trial-0001", "trial-0002", "trial-0000", "trial-0003",
    ]  # fmt: skip  # ranked by the returned value; the pruned trial has none
    # trial 1: 3 epochs (0, 1, 2), not stopped early; the pruned trial: 1 epoch, stopped early
    assert rows[0].endswith("| 3 |  |") and rows[3].endswith("| 1 | yes |")
    index = (tmp_dir / "docs" / "sweeps" / "index.md").read_text()
    assert f"| value (max) | x | [trial-0001](../runs/{best}.md) | 0.7 |" in index
    home = (tmp_dir / "docs" / "index.md").read_text()
    assert f"[trial-0001](runs/{best}.md) | value = 0.7 |" in home


@pytest.mark.parametrize("metric", ["value", "val_acc"])
def test_the_report_names_optunas_best_trial(tmp_dir: Path, metric: str) -> None:
    study = maximising_study()
    import_study("study.db", "demo", "runs", metric=metric)
    runs = rundocs.load_runs("runs", strict=True)
    report = report_sweep("demo", group_sweeps(runs)["demo"], runs)
    assert (report.metric, report.goal, report.declared) == (metric, "max", True)
    assert report.best_run == import_run_id("demo", study.best_trial.number)
    scores = {s.run_id: s for s in report.scores}
    first = scores[import_run_id("demo", 0)]
    assert (first.score, first.reported, first.best, first.best_epoch) == (0.2, True, 0.9, 0)
    pruned = scores[import_run_id("demo", 3)]
    assert (pruned.score, pruned.stopped_early, pruned.epochs) == (None, True, 1)
    assert all(s.epochs == 3 and not s.stopped_early for s in report.scores if s is not pruned)
    assert not report.warnings


def test_a_user_direction_still_wins_over_the_study(tmp_dir: Path) -> None:
    maximising_study()
    import_study("study.db", "demo", "runs")
    runs = rundocs.load_runs("runs", strict=True)
    report = report_sweep("demo", group_sweeps(runs)["demo"], runs, directions={"value": "min"})
    assert (report.goal, report.best_run) == ("min", import_run_id("demo", 0))
