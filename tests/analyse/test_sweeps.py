"""Sweep grouping and statistics, checked against numbers computed by hand."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import rundocs
from rundocs.analyse import sweep_groups
from rundocs.analyse.sweeps import SweepReport, group_sweeps, report_sweep
from rundocs.render.environment import make_environment
from rundocs.render.sweep_models import make_sweep_page
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
    assert len(report.levels) == 6 and sum(row.runs for row in report.levels) == 40
    assert report.levels[0].label == "0.0001–0.000316"  # log-spaced bins: the range spans three decades
    assert next(row for row in report.levels if row.is_best).label == "0.001–0.00316"  # holds 10**-2.54


def test_a_dozen_trials_of_a_float_setting_are_a_few_bins_not_a_dozen_one_run_levels(tmp_path: Path) -> None:
    lrs = [0.012, 0.019, 0.031, 0.047, 0.079, 0.084, 0.11, 0.13, 0.14, 0.21, 0.30, 0.40]
    for index, lr in enumerate(lrs):
        write_run(tmp_path, f"t{index:02d}", curve_rows([1.0, lr]), sweep="s", config={"lr": lr, "width": 8})
    report = sweep(tmp_path, metric="val_loss", goal="min")
    assert [(row.label, row.runs) for row in report.levels] == [
        ("0.012–0.043", 3), ("0.043–0.097", 3), ("0.097–0.158", 3), ("0.158–0.4", 3)
    ]  # fmt: skip  # quartiles of the values
    for index, lr in enumerate([0.1, 0.2, 0.3, 0.4, 0.5, 0.6]):  # six values: each its own level
        write_run(tmp_path / "few", f"f{index}", curve_rows([1.0, lr]), sweep="s", config={"lr": lr})
    assert [row.label for row in sweep(tmp_path / "few", metric="val_loss").levels] == [
        "0.1", "0.2", "0.3", "0.4", "0.5", "0.6"
    ]  # fmt: skip


def test_a_goal_tag_gives_the_direction_of_a_metric_named_value(tmp_path: Path) -> None:
    for index, value in enumerate([0.2, 0.9, 0.5]):
        write_run(tmp_path, f"t{index}", [], sweep="s", tags=["optuna", "goal:max"], summary={"value": value},
                  config={"x": index})  # fmt: skip
    report = sweep(tmp_path, metric="value")
    assert (report.goal, report.best_run) == ("max", "t1")


# -- issue 9: a sweep's winner, levels and statistics are true for every input -------------------------------------


def summary_run(root: Path, run_id: str, value: Any, minute: int, **fields: Any) -> None:
    """A run that logged no curve and reported ``val_loss`` in its summary, started at 10:<minute>."""
    started = f"2026-01-01T10:{minute:02d}:00+00:00"
    write_run(root, run_id, [], sweep="s", summary={"val_loss": value}, started_at=started, **fields)


@pytest.mark.parametrize("goal", ["min", "max"])
def test_nan_and_infinities_never_win_a_sweep_a_level_or_a_mean(tmp_path: Path, goal: str) -> None:
    cheat = "-Infinity" if goal == "min" else "Infinity"
    summary_run(tmp_path, "nan", "NaN", 0, config={"lr": 1, "seed": 1})
    summary_run(tmp_path, "inf", cheat, 1, config={"lr": 2, "seed": 1})
    summary_run(tmp_path, "ok", 0.3, 2, config={"lr": 1, "seed": 2})
    summary_run(tmp_path, "worse", 0.2 if goal == "max" else 0.4, 3, config={"lr": 3, "seed": 1})
    summary_run(tmp_path, "worse2", 0.2 if goal == "max" else 0.4, 4, config={"lr": 3, "seed": 2})
    summary_run(tmp_path, "single", 0.9 if goal == "max" else 0.1, 5, config={"lr": 4, "seed": 1})
    report = sweep(tmp_path, metric="val_loss", goal=goal)

    assert (
        report.best_run == "single" and report.best is not None and report.best.score == (0.9 if goal == "max" else 0.1)
    )
    assert [s.run_id for s in report.ranked()][:4] == ["single", "ok", "worse", "worse2"]  # non-finite scores last
    levels = {row.label: row for row in report.levels if row.dimension == "lr"}
    assert levels["4"].is_best and not levels["2"].is_best
    best_in_1 = levels["1"].best
    assert best_in_1 is not None and best_in_1.run_id == "ok"  # not the NaN run of the same value
    assert levels["2"].best is None  # its only run scored an infinity: no best value
    means = {c.settings: c for c in report.configs}
    # NaN left out of the mean, and counted out: a configuration with a diverged seed is not best on the mean
    assert (means[(("lr", 1),)].mean, means[(("lr", 1),)].scored) == (0.3, 1) and not means[(("lr", 1),)].is_best_mean
    # best on the mean: among configurations run more than once (lr=4 ran once), their std exact
    assert means[(("lr", 3),)].is_best_mean and means[(("lr", 3),)].std == 0.0
    assert not means[(("lr", 4),)].is_best_mean
    assert (("lr", 2),) not in means


def test_a_curve_that_diverges_to_an_infinity_keeps_its_best_finite_point(tmp_path: Path) -> None:
    write_run(tmp_path, "a", curve_rows([0.5, 0.4, "-Infinity"]), sweep="s", config={"lr": 1})
    write_run(tmp_path, "b", curve_rows([0.45, 0.42]), sweep="s", config={"lr": 2})
    report = sweep(tmp_path, metric="val_loss", goal="min")
    scores = {s.run_id: s for s in report.scores}
    assert (scores["a"].score, scores["a"].best_epoch) == (0.4, 2)
    assert report.best_run == "a"


def test_close_learning_rates_fall_in_distinct_bins_and_no_trial_vanishes(tmp_path: Path) -> None:
    ids = [f"t{index:02d}" for index in range(40)]
    for index, run_id in enumerate(ids):  # 1e-3 .. 1e-3 + 3.9e-8: every bin edge prints as 0.001 at 3 digits
        write_run(tmp_path, run_id, curve_rows([1.0, 0.5]), sweep="s", config={"lr": 1e-3 + index * 1e-9})
    report = sweep(tmp_path, metric="val_loss", goal="min")
    labels = [row.label for row in report.levels]
    assert len(labels) == 6 and len(set(labels)) == 6
    assert sum(row.runs for row in report.levels) == 40
    members = [run_id for ids_ in sweep_groups.group_levels("lr", report.settings).values() for run_id in ids_]
    assert sorted(members) == ids  # every run in exactly one bin


def test_a_value_and_its_text_are_different_levels(tmp_path: Path) -> None:
    for index, value in enumerate([1, "1", None, "(not set)"]):
        write_run(tmp_path, f"r{index}", curve_rows([1.0]), sweep="s", config={"x": value})
    groups = sweep_groups.group_levels("x", sweep(tmp_path, metric="val_loss").settings)
    assert sorted(len(ids) for ids in groups.values()) == [1, 1, 1, 1]


def test_a_relaunch_chain_counts_once(tmp_path: Path) -> None:
    # "a" reached 0.05 at epoch 1 and was killed; its relaunch "a2" (no sweep name of its own) counts instead.
    write_run(tmp_path, "a", curve_rows([0.05]), sweep="s", status="failed", epochs=3,
              config={"lr": 0.1, "seed": 1, "restarts": 0}, started_at="2026-01-01T09:00:00+00:00")  # fmt: skip
    write_run(tmp_path, "a2", curve_rows([0.5, 0.4, 0.3]), sweep=None, restarts="a", epochs=3,
              config={"lr": 0.1, "seed": 1, "restarts": 1}, started_at="2026-01-01T09:30:00+00:00")  # fmt: skip
    write_run(
        tmp_path, "b", curve_rows([0.6, 0.5, 0.2]), sweep="s", epochs=3, config={"lr": 0.1, "seed": 2, "restarts": 0}
    )
    write_run(
        tmp_path, "c", curve_rows([0.6, 0.5, 0.25]), sweep="s", epochs=3, config={"lr": 0.3, "seed": 1, "restarts": 0}
    )
    report = sweep(tmp_path, metric="val_loss", goal="min")

    assert [s.run_id for s in report.scores] == ["a2", "b", "c"]
    assert report.relaunched == {"a": "a2"}
    assert (report.dimensions, report.repeats) == (["lr"], ["seed"])  # restarts is no dimension
    assert report.best_run == "b"  # not the dead attempt's 0.05
    stats = {c.settings: c for c in report.configs}
    assert stats[(("lr", 0.1),)].run_ids == ("a2", "b")
    assert stats[(("lr", 0.1),)].mean == pytest.approx(0.25)
    assert [row.runs for row in report.levels] == [2, 1]


def test_zero_based_epochs_are_complete_runs(tmp_path: Path) -> None:
    rows = [{"epoch": e, "val_loss": 1.0 / (e + 1)} for e in range(10)]  # range(10): epochs 0..9
    write_run(tmp_path, "zero", rows, sweep="s", epochs=10, config={"lr": 1})
    write_run(tmp_path, "short", rows[:4], sweep="s", epochs=10, config={"lr": 2})
    scores = {s.run_id: s for s in sweep(tmp_path, metric="val_loss").scores}
    assert (scores["zero"].epochs, scores["zero"].stopped_early) == (10, False)
    assert (scores["short"].epochs, scores["short"].stopped_early) == (4, True)


def test_a_reported_summary_value_ranks_the_run_and_the_curve_keeps_the_epochs(tmp_path: Path) -> None:
    # "a" touched 0.1 at epoch 1 but reports 0.5 as its answer; "b" reports 0.3, a value its curve never logged
    write_run(tmp_path, "a", curve_rows([0.1, 0.5]), sweep="s", summary={"val_loss": 0.5}, config={"lr": 1})
    write_run(tmp_path, "b", curve_rows([0.2, 0.35]), sweep="s", summary={"val_loss": 0.3}, config={"lr": 2})
    report = sweep(tmp_path, metric="val_loss", goal="min")
    scores = {s.run_id: s for s in report.scores}
    assert report.best_run == "b"
    assert (scores["a"].score, scores["a"].reported, scores["a"].best, scores["a"].best_epoch) == (0.5, True, 0.1, 1)
    assert (scores["a"].score_epoch, scores["b"].score_epoch) == (2, None)  # where the curve logged the score


def test_direction_overrides_win_over_the_plan_and_the_study(tmp_path: Path) -> None:
    for index, value in enumerate([0.2, 0.9, 0.5]):
        write_run(tmp_path, f"t{index}", [], sweep="s", tags=["optuna", "goal:min", "objective:val_score"],
                  summary={"val_score": value, "val_loss": 1 - value}, config={"x": index})  # fmt: skip
    assert sweep(tmp_path, metric="val_score").goal == "min"  # the study
    assert sweep(tmp_path, metric="val_score", goal="max").goal == "max"  # the plan wins over the study
    overridden = sweep(tmp_path, metric="val_score", goal="max", directions={"val_score": "min"})
    assert (overridden.goal, overridden.best_run) == ("min", "t0")  # the user wins over the plan
    assert sweep(tmp_path, metric="val_loss").goal == "min"  # a study's goal is about its objective only


def test_a_metric_nothing_gives_a_direction_says_so(tmp_path: Path) -> None:
    write_run(tmp_path, "a", [{"epoch": 1, "val_score": 1.0}], sweep="s", config={"x": 1})
    report = sweep(tmp_path, metric="val_score")
    assert report.goal == "min"
    assert report.warnings[-1].startswith("nothing says whether lower or higher val_score is better")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=8,
)  # fmt: skip
configs = st.lists(
    st.dictionaries(st.sampled_from(["lr", "layers", "seed", "opt.x", "restarts"]), json_values), max_size=16
)


def test_a_list_of_mappings_is_a_setting_like_any_other(tmp_path: Path) -> None:
    for index, layers in enumerate([[{"width": 64}, {"width": 32}], [{"width": 64}], [{"width": 64}, {"width": 32}]]):
        write_run(tmp_path, f"r{index}", curve_rows([1.0 - index / 10]), sweep="s", config={"layers": layers})
    report = sweep(tmp_path, metric="val_loss", goal="min")
    assert report.dimensions == ["layers"]
    assert [(row.label, row.runs) for row in report.levels] == [
        ('[{"width":64},{"width":32}]', 2), ('[{"width":64}]', 1),
    ]  # fmt: skip
    assert report.best_config == {"layers": ({"width": 64}, {"width": 32})}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(configs=configs, values=st.lists(st.floats() | st.none(), min_size=16, max_size=16))
@example(configs=[{"layers": [{"width": 64}]}, {"layers": [{"width": 32}]}], values=[0.5] * 16)
def test_any_json_configs_give_a_sweep_page(configs: list[dict[str, Any]], values: list[float | None]) -> None:
    """Any settings, any logged value (NaN and infinities included): the report and page never
    fail, every run is in one level of each dimension, and the winner is the naive one."""
    written = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        logged = {}
        for index, config in enumerate(configs):
            value = values[index]
            rows = [] if value is None else [{"epoch": 1, "val_loss": written.get(str(value), value)}]
            write_run(root, f"r{index:02d}", rows, sweep="s", config=config)
            logged[f"r{index:02d}"] = value
        runs = rundocs.load_runs(root, strict=True)
        for name, ids in group_sweeps(runs).items():
            report = report_sweep(name, ids, runs, metric="val_loss")
            page = make_sweep_page(report, runs)
            for dimension in report.dimensions:
                members = [i for group in sweep_groups.group_levels(dimension, report.settings).values() for i in group]
                assert sorted(members) == sorted(ids)
            finite = {i: v for i, v in logged.items() if v is not None and math.isfinite(v)}
            naive = min(sorted(finite), key=finite.__getitem__) if finite else None  # lower is better, ties: earliest
            assert report.best_run == naive
            make_environment().get_template("sweep.md.j2").render(source="runs", page=page)


def test_seed_statistics_count_only_finite_scores_and_a_diverged_seed_never_wins_the_mean(tmp_path: Path) -> None:
    """n states how many runs the mean is over; a configuration with a NaN seed is not "best on the mean"."""

    def curve(value: float | str) -> list[dict[str, Any]]:
        return [{"epoch": 1, "val_loss": value}]

    def at(minute: int) -> str:
        return f"2026-01-01T10:0{minute}:00+00:00"

    write_run(
        tmp_path, "a1", curve(0.1), sweep="s", config={"lr": 1, "seed": 1}, started_at="2026-01-01T10:00:00+00:00"
    )
    write_run(
        tmp_path, "a2", curve("NaN"), sweep="s", config={"lr": 1, "seed": 2}, started_at="2026-01-01T10:01:00+00:00"
    )
    write_run(
        tmp_path, "b1", curve(0.3), sweep="s", config={"lr": 2, "seed": 1}, started_at="2026-01-01T10:02:00+00:00"
    )
    write_run(
        tmp_path, "b2", curve(0.5), sweep="s", config={"lr": 2, "seed": 2}, started_at="2026-01-01T10:03:00+00:00"
    )
    runs = rundocs.load_runs(tmp_path)
    report = report_sweep("s", group_sweeps(runs)["s"], runs, metric="val_loss", goal="min")
    by_lr = {dict(c.settings)["lr"]: c for c in report.configs}
    assert (by_lr[1].scored, len(by_lr[1].run_ids), by_lr[1].mean) == (1, 2, 0.1)
    assert not by_lr[1].is_best_mean and by_lr[2].is_best_mean


def test_lost_after_the_best_is_measured_from_the_score_shown(tmp_path: Path) -> None:
    """A level row's Best and Lost describe the same value: a reported score has no "lost"."""
    rows = [{"epoch": 1, "val_loss": 0.5}, {"epoch": 2, "val_loss": 0.2}, {"epoch": 3, "val_loss": 0.4}]
    write_run(tmp_path, "curve", rows, sweep="s", config={"lr": 1})
    write_run(tmp_path, "told", rows, sweep="s", config={"lr": 2}, summary={"val_loss": 0.3})
    runs = rundocs.load_runs(tmp_path)
    report = report_sweep("s", group_sweeps(runs)["s"], runs, metric="val_loss", goal="min")
    by_run = {score.run_id: score for score in report.scores}
    assert by_run["curve"].lost == pytest.approx(0.2)  # final 0.4, best 0.2
    assert by_run["told"].score == 0.3 and by_run["told"].lost is None


def test_a_running_run_cannot_win_the_sweep_until_it_ends(tmp_path: Path) -> None:
    """Its score is provisional, as a gate on it is pending: the best ended run wins meanwhile."""
    write_run(tmp_path, "done", [{"epoch": 1, "val_loss": 0.5}], sweep="s", config={"lr": 1})
    write_run(tmp_path, "live", [{"epoch": 1, "val_loss": 0.1}], sweep="s", config={"lr": 2}, status="running")
    runs = rundocs.load_runs(tmp_path)
    report = report_sweep("s", group_sweeps(runs)["s"], runs, metric="val_loss", goal="min")
    assert report.best_run == "done"
    assert {s.run_id: s.running for s in report.scores} == {"done": False, "live": True}


def test_running_runs_stay_out_of_seed_statistics_and_an_infinite_end_reads_infinite(tmp_path: Path) -> None:
    """A running seed's score is provisional (as for the best run); a run ending on +inf ends on inf."""

    def at(minute: int) -> str:
        return f"2026-01-01T10:0{minute}:00+00:00"

    write_run(tmp_path, "a1", [{"epoch": 1, "val_loss": 0.3}], sweep="s", config={"lr": 1, "seed": 1}, started_at=at(0))
    write_run(tmp_path, "a2", [{"epoch": 1, "val_loss": 0.3}], sweep="s", config={"lr": 1, "seed": 2}, started_at=at(1))
    live = [{"epoch": 1, "val_loss": 0.05}]
    write_run(tmp_path, "b1", live, sweep="s", config={"lr": 2, "seed": 1}, started_at=at(2), status="running")
    ends = [{"epoch": 1, "val_loss": 0.4}, {"epoch": 2, "val_loss": "Infinity"}]
    write_run(tmp_path, "b2", ends, sweep="s", config={"lr": 2, "seed": 2}, started_at=at(3))
    runs = rundocs.load_runs(tmp_path)
    report = report_sweep("s", group_sweeps(runs)["s"], runs, metric="val_loss", goal="min")
    by_lr = {dict(c.settings)["lr"]: c for c in report.configs}
    assert (by_lr[2].scored, by_lr[2].mean) == (1, 0.4) and not by_lr[2].is_best_mean
    assert by_lr[1].is_best_mean
    assert {s.run_id: s.final for s in report.scores}["b2"] == math.inf
