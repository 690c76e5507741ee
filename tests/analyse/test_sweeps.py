"""Sweep grouping and statistics, checked against numbers computed by hand."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

import rundocs
from rundocs.analyse.sweeps import SweepReport, group_sweeps, report_sweep
from tests.helpers import write_run


def curve_rows(values: list[Any]) -> list[dict[str, Any]]:
    return [{"epoch": e, "time": 10.0 * e, "val_loss": v} for e, v in enumerate(values, start=1)]


def sweep(tmp_path: Path, name: str = "s", **options: Any) -> SweepReport:
    runs = rundocs.load_runs(tmp_path, strict=True)
    return report_sweep(name, group_sweeps(runs)[name], runs, **options)


def test_one_dimension_with_seeds_gives_levels_and_seed_statistics(tmp_path: Path) -> None:
    # best val_loss per run: lr 0.1 -> 0.2, 0.4 (seeds 1, 2); lr 0.3 -> 0.1, 0.7
    write_run(tmp_path, "a", curve_rows([1.0, 0.2, 0.6]), sweep="s", config={"lr": 0.1, "seed": 1})
    write_run(tmp_path, "b", curve_rows([1.0, 0.5, 0.4]), sweep="s", config={"lr": 0.1, "seed": 2})
    write_run(tmp_path, "c", curve_rows([0.9, 0.1, 0.9]), sweep="s", config={"lr": 0.3, "seed": 1})
    write_run(tmp_path, "d", curve_rows([0.8, 0.7, 0.9]), sweep="s", config={"lr": 0.3, "seed": 2})
    report = sweep(tmp_path, metric="val_loss", goal="min")

    assert (report.dimensions, report.repeats) == (["lr"], ["seed"])
    rows = {row.label: row for row in report.levels}
    assert rows["0.3"].is_best and not rows["0.1"].is_best
    best = rows["0.3"].best
    assert best is not None and (best.run_id, best.best, best.best_epoch, best.final) == ("c", 0.1, 2, 0.9)
    assert best.lost == pytest.approx(0.8)  # peaked at epoch 2, then degraded
    assert rows["0.1"].wall_s == 7200.0  # two runs of an hour each (started_at to ended_at)
    stats = {c.settings: c for c in report.configs}
    low = stats[(("lr", 0.1),)]
    assert (low.mean, low.low, low.high) == pytest.approx((0.3, 0.2, 0.4))
    assert low.std == pytest.approx(math.sqrt(((0.2 - 0.3) ** 2 + (0.4 - 0.3) ** 2) / 1))  # sample std, n - 1 = 1
    high = stats[(("lr", 0.3),)]
    assert high.mean == pytest.approx(0.4) and low.is_best_mean and not high.is_best_mean
    assert report.best_run == "c" and report.lucky_seed  # the best single run is in the worse configuration


def test_two_dimensions_and_a_nested_key(tmp_path: Path) -> None:
    for index, (lr, width) in enumerate([(0.1, 32), (0.1, 64), (0.3, 32), (0.3, 64)]):
        config = {"optim": {"lr": lr}, "model": {"width": width, "depth": 2}}
        write_run(tmp_path, f"r{index}", curve_rows([1.0, 0.5 - index * 0.1]), sweep="s", config=config)
    report = sweep(tmp_path, metric="val_loss", goal="min")
    assert report.dimensions == ["model.width", "optim.lr"]
    assert [(row.dimension, row.label, row.runs) for row in report.levels] == [
        ("model.width", "32", 2), ("model.width", "64", 2), ("optim.lr", "0.1", 2), ("optim.lr", "0.3", 2),
    ]  # fmt: skip
    assert report.best_config == {"model.depth": 2, "model.width": 64, "optim.lr": 0.3}


def test_seeds_only_is_one_configuration(tmp_path: Path) -> None:
    for seed, values in enumerate([[0.5, 0.3], [0.6, 0.2], [0.4, 0.4]]):
        write_run(tmp_path, f"r{seed}", curve_rows(values), sweep="s", config={"lr": 0.1, "seed": seed})
    report = sweep(tmp_path, metric="val_loss", goal="min")
    assert (report.dimensions, report.levels) == ([], [])
    (config,) = report.configs
    assert (config.mean, config.std, len(config.run_ids)) == pytest.approx((0.3, 0.1, 3))


def test_a_run_without_the_target_metric_and_a_nan_run(tmp_path: Path) -> None:
    write_run(tmp_path, "ok", curve_rows([0.5, 0.3]), sweep="s", config={"lr": 1})
    write_run(tmp_path, "nan", curve_rows([0.5, "NaN"]), sweep="s", config={"lr": 2})
    write_run(tmp_path, "other", [{"epoch": 1, "train_loss": 0.1}], sweep="s", config={"lr": 3})
    report = sweep(tmp_path, metric="val_loss", goal="min")
    scores = {s.run_id: s for s in report.scores}
    assert (scores["nan"].best, scores["nan"].best_epoch) == (0.5, 1)
    assert math.isnan(scores["nan"].final or 0.0) and scores["nan"].final_epoch == 2
    assert scores["other"].best is None
    assert report.warnings == ["1 run(s) of sweep 's' never logged val_loss: other"]
    assert report.best_run == "ok"


def test_without_a_declared_metric_the_validation_loss_is_used_with_a_warning(tmp_path: Path) -> None:
    write_run(tmp_path, "a", [{"epoch": 1, "val_loss": 1.0, "val_acc": 0.5}], sweep="s")
    report = sweep(tmp_path)
    assert (report.metric, report.goal, report.declared) == ("val_loss", "min", False)
    assert report.warnings[0].startswith("sweep 's' declares no target metric; using val_loss (lower is better)")


def test_early_value_and_best_value_correlate(tmp_path: Path) -> None:
    firsts = [1.0, 2.0, 3.0, 4.0, 5.0]
    bests = [0.1, 0.3, 0.2, 0.5, 0.4]
    for index, (first, best) in enumerate(zip(firsts, bests, strict=True)):
        write_run(tmp_path, f"r{index}", curve_rows([first, best]), sweep="s", config={"lr": index})
    correlation = sweep(tmp_path, metric="val_loss", goal="min").correlation
    assert correlation is not None and correlation.n == 5
    # Pearson by hand: x mean 3, y mean 0.3; sum dx*dy = 0.8; sum dx^2 = 10; sum dy^2 = 0.1
    assert correlation.pearson == pytest.approx(0.8 / math.sqrt(10 * 0.1))
    # Spearman: ranks of bests are 1, 3, 2, 5, 4; d^2 sums to 4: 1 - 6 * 4 / (5 * 24) = 0.8
    assert correlation.spearman == pytest.approx(0.8)


def test_pruned_and_short_runs_are_marked_stopped_early(tmp_path: Path) -> None:
    write_run(tmp_path, "full", curve_rows([0.5, 0.4, 0.3]), sweep="s", epochs=3, config={"lr": 1})
    write_run(tmp_path, "short", curve_rows([0.5]), sweep="s", epochs=3, config={"lr": 2})
    write_run(tmp_path, "pruned", curve_rows([0.9, 0.8, 0.7]), sweep="s", tags=["pruned"], config={"lr": 3})
    scores = {s.run_id: s.stopped_early for s in sweep(tmp_path, metric="val_loss", goal="min").scores}
    assert scores == {"full": False, "short": True, "pruned": True}


def test_a_search_over_a_continuous_range_is_binned(tmp_path: Path) -> None:
    for index in range(40):
        lr = 10 ** (-4 + 3 * index / 39)
        write_run(tmp_path, f"t{index:02d}", curve_rows([1.0, abs(math.log10(lr) + 2.5)]), sweep="s", config={"lr": lr})
    report = sweep(tmp_path, metric="val_loss", goal="min")
    assert len(report.levels) == 8 and sum(row.runs for row in report.levels) == 40
    assert report.levels[0].label == "[0.0001, 0.000237)"  # log-spaced bins: the range spans three decades
    assert next(row for row in report.levels if row.is_best).label == "[0.00133, 0.00316)"  # holds 10**-2.54


def test_a_goal_tag_gives_the_direction_of_a_metric_named_value(tmp_path: Path) -> None:
    for index, value in enumerate([0.2, 0.9, 0.5]):
        write_run(tmp_path, f"t{index}", [], sweep="s", tags=["optuna", "goal:max"], summary={"value": value},
                  config={"x": index})  # fmt: skip
    report = sweep(tmp_path, metric="value")
    assert (report.goal, report.best_run) == ("max", "t1")
