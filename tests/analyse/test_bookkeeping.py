"""Settings that are not hyperparameters (paths, logging intervals, flags) are marked bookkeeping,
in ``Run(...)`` or in the plan's ``sweep:``, and sweeps and config diffs ignore them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import rundocs
from rundocs.analyse.sweep_groups import names_setting
from rundocs.analyse.sweeps import group_sweeps, report_sweep
from rundocs.load.plans import load_plans
from tests.analyse.test_run_pages import site


def record_sweep(root: Path, bookkeeping: list[str] | None = None) -> None:
    """Four runs of a real ``Run``: two learning rates, each saved to its own folder."""
    for index, lr in enumerate([0.1, 0.1, 0.3, 0.3]):
        config = {"lr": lr, "paths": {"out": f"/scratch/job{index}"}, "log_every": 10 * (index + 1), "save_model": True}
        arguments: dict[str, Any] = {"bookkeeping": bookkeeping} if bookkeeping is not None else {}
        with rundocs.Run(id=f"r{index}", sweep="s", dir=root / "runs", config=config, **arguments) as run:
            run.log(epoch=1, val_loss=1.0 - lr - 0.01 * index)


def test_without_bookkeeping_every_varied_path_is_a_dimension(tmp_path: Path) -> None:
    record_sweep(tmp_path)
    runs = rundocs.load_runs(tmp_path / "runs", strict=True)
    report = report_sweep("s", group_sweeps(runs)["s"], runs, metric="val_loss", goal="min")
    assert report.dimensions == ["log_every", "lr", "paths.out"]
    assert all(len(config.run_ids) == 1 for config in report.configs)


def test_bookkeeping_named_by_the_run_is_no_dimension_and_repeats_group_again(tmp_path: Path) -> None:
    record_sweep(tmp_path, bookkeeping=["paths", "log_*"])
    runs = rundocs.load_runs(tmp_path / "runs", strict=True)
    report = report_sweep("s", group_sweeps(runs)["s"], runs, metric="val_loss", goal="min")
    assert report.dimensions == ["lr"]
    assert sorted(len(config.run_ids) for config in report.configs) == [2, 2]
    assert report.best_config == {"lr": 0.3, "save_model": True}


def test_bookkeeping_named_by_the_plan_is_no_dimension(tmp_path: Path) -> None:
    record_sweep(tmp_path)
    pages = site(
        tmp_path,
        {
            "p": "title: P\nsweep: {metric: val_loss, goal: min, bookkeeping: [paths.out, log_every]}\n"
            "runs: [r0, r1, r2, r3]\n"
        },
    )
    page = pages["sweeps/s.md"]
    assert "paths.out" not in page and "log\\_every" not in page and "lr" in page


def test_a_plan_naming_bookkeeping_wrongly_is_a_problem(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text("title: P\nsweep: {bookkeeping: {a: 1}}\n")
    _, problems = load_plans(tmp_path)
    assert any(
        "sweep.bookkeeping" in problem.message and "list of setting names" in problem.message for problem in problems
    )


def test_the_config_diff_marks_bookkeeping_not_changed(tmp_path: Path) -> None:
    record_sweep(tmp_path, bookkeeping=["paths", "log_every"])
    with rundocs.Run(id="base", dir=tmp_path / "runs", config={"lr": 0.1, "paths": {"out": "/x"}, "log_every": 1}):
        pass
    with rundocs.Run(
        id="tuned",
        dir=tmp_path / "runs",
        config={"lr": 0.2, "paths": {"out": "/y"}, "log_every": 5, "baseline": "base"},
        bookkeeping=["paths", "log_every"],
    ):
        pass
    page = site(tmp_path)["runs/tuned.md"]
    changed, folded = page.split('??? note "Unchanged settings')
    assert "| Changed setting | Value | Baseline |\n" in changed and "| lr | 0.2 | 0.1 |\n" in changed
    assert "    | paths.out | /y | *bookkeeping*, baseline /x |" in folded
    assert "    | log\\_every | 5 | *bookkeeping*, baseline 1 |" in folded


@pytest.mark.parametrize(
    ("key", "names", "named"),
    [
        ("seed", ["seed"], True),
        ("data.seed", ["seed"], True),
        ("paths.out", ["paths"], True),
        ("paths_extra", ["paths"], False),
        ("log_every", ["log_*"], True),
        ("train.log_every", ["log_*"], True),
        ("paths.out", ["paths.*"], True),
        ("lr", ["paths", "log_*"], False),
    ],
)
def test_one_rule_names_a_setting(key: str, names: list[str], named: bool) -> None:
    assert names_setting(key, names) is named


def test_one_run_alone_cannot_hide_a_setting_of_the_sweep(tmp_path: Path) -> None:
    """Only names every run gives count: a stranger's run.json cannot change the sweep's conclusion."""
    for index, (lr, seed) in enumerate([(0.1, 1), (0.1, 2), (0.01, 1), (0.01, 2)]):
        marked: list[str] = ["lr"] if index == 3 else []
        with rundocs.Run(
            id=f"r{index}", sweep="s", dir=tmp_path / "runs", config={"lr": lr, "seed": seed}, bookkeeping=marked
        ) as run:
            run.log(epoch=1, val_loss=lr + seed / 100)
    runs = rundocs.load_runs(tmp_path / "runs", strict=True)
    report = report_sweep("s", group_sweeps(runs)["s"], runs, metric="val_loss", goal="min")
    assert report.dimensions == ["lr"] and len(report.configs) == 2


def test_an_empty_repeat_list_means_no_repeat_keys(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text("title: P\nsweep: {metric: val_acc, goal: max, repeat: []}\n")
    plans, problems = load_plans(tmp_path)
    assert not problems and plans["p"].sweep is not None and plans["p"].sweep.repeat == ()
