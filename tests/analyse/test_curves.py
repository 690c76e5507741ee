"""Findings from curves, checked against numbers computed by hand."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import rundocs
from rundocs.analyse.curves import find_findings, get_curves, summarize, x_axis_name
from rundocs.analyse.names import parse_metric_name
from rundocs.analyse.rules import epochs_done
from tests.helpers import write_run


def findings_of(tmp_path: Path, rows: list[dict[str, Any]], **fields: Any) -> list[str]:
    write_run(tmp_path, "r", rows, **fields)
    runs = rundocs.load_runs(tmp_path, strict=True)
    record = runs.records["r"]
    columns = runs.curves("r")
    found = find_findings(
        get_curves(columns),
        axis=x_axis_name(columns),
        config=record.config,
        nonfinite=runs.runs.at["r", "nonfinite"],
        planned_epochs=record.epochs,
        status=record.status,
        epochs_done=epochs_done(columns.get("epoch"), record.epochs),
    )
    return [finding.text for finding in found]


@pytest.mark.parametrize(
    ("name", "split", "base", "direction"),
    [
        ("val_loss", "val", "loss", "min"),
        ("train_acc", "train", "acc", "max"),
        ("ood_ssim", "ood", "ssim", "max"),
        ("test_lsd", "test", "lsd", "min"),
        ("val_cosine", "val", "cosine", "max"),
        ("loss", None, "loss", "min"),
        ("val_loss_acc", "val", "loss_acc", "max"),
        ("lr", None, "lr", None),
        ("validation_error", "validation", "error", "min"),
        ("val/loss", "val", "loss", "min"),  # DVCLive's name for Lightning's val_loss
        ("Loss/val", None, "Loss/val", "min"),  # a common TensorBoard tag
        ("eval-accuracy", "eval", "accuracy", "max"),
        ("val_", None, "val_", None),
    ],
)
def test_metric_names_give_split_and_direction(name: str, split: str | None, base: str, direction: str | None) -> None:
    parsed = parse_metric_name(name)
    assert (parsed.split, parsed.base, parsed.direction) == (split, base, direction)


def test_directions_can_be_overridden_by_name_or_base() -> None:
    assert parse_metric_name("val_hierarchy", {"hierarchy": "min"}).direction == "min"
    assert parse_metric_name("val_loss", {"val_loss": "max"}).direction == "max"


def test_validation_loss_rising_after_its_best_epoch(tmp_path: Path) -> None:
    rows = [{"epoch": e, "val_loss": 2.0 - e * 0.0282} for e in range(1, 28)]  # 1.2386 at 27
    rows[-1]["val_loss"] = 1.237
    rows += [{"epoch": e, "val_loss": 1.237 + (e - 27) * (0.207 / 23)} for e in range(28, 51)]
    assert findings_of(tmp_path, rows) == [
        "val_loss rose after its best epoch: from 1.237 at epoch 27 to 1.444 at epoch 50 (+16.7%)."
    ]


def test_a_change_past_what_a_double_holds_states_no_percentage(tmp_path: Path) -> None:
    rows = [{"epoch": 1, "val_acc": 1e308}, {"epoch": 2, "val_acc": -1e308}]
    expected = "val_acc fell after its best epoch: from 1e308 at epoch 1 to -1e308 at epoch 2."
    assert findings_of(tmp_path, rows) == [expected]


def test_still_improving_at_the_last_epoch(tmp_path: Path) -> None:
    rows = [{"epoch": e, "val_acc": 0.5 + 0.02 * e} for e in range(1, 11)]
    assert findings_of(tmp_path, rows) == [
        "val_acc was still improving at the last epoch (10): 0.64 at epoch 7, 0.7 at epoch 10; more epochs may help."
    ]


def test_plateau(tmp_path: Path) -> None:
    values = [0.5, 0.7, 0.8, 0.85, 0.871, 0.873, 0.872, 0.874, 0.873, 0.874]
    rows = [{"epoch": e, "val_acc": v} for e, v in enumerate(values, start=1)]
    assert findings_of(tmp_path, rows) == ["val_acc plateaued: between 0.873 and 0.874 over the last 3 epochs."]


def test_a_plateau_whose_ends_print_alike_stopped_changing(tmp_path: Path) -> None:
    """ "between 0.98046 and 0.98046" says nothing: the finding says the metric stopped changing."""
    values = [0.5, 0.7, 0.9, 0.95, 0.98, 0.980461, 0.980459, 0.98046, 0.980462, 0.98046]
    rows = [{"epoch": e, "val_acc": v} for e, v in enumerate(values, start=1)]
    assert findings_of(tmp_path, rows) == ["val_acc stopped changing at 0.98046 over the last 3 epochs."]


@pytest.mark.parametrize("scale", [1, 100])
def test_an_accuracy_gap_is_stated_in_points(tmp_path: Path, scale: int) -> None:
    """Shares (0 to 1) and percentages (0 to 100) alike: train 83.19 vs valid 66.50 is a 16.7-point gap."""
    train = [0.6, 0.75, 0.8319]
    valid = [0.55, 0.6812, 0.665]
    rows = [
        {"epoch": e, "train_acc": scale * t, "valid_acc": scale * v}
        for e, (t, v) in enumerate(zip(train, valid, strict=True), 1)
    ]
    found = findings_of(tmp_path, rows)
    assert found[-1] == (
        "acc gap in points (train_acc vs valid_acc): train 83.19 vs valid 66.50 at the last epoch (3): a 16.7-point "
        "gap; train 75.00 vs valid 68.12 at the best epoch (2): a 6.9-point gap."
    )


def test_a_validation_accuracy_above_the_training_one_is_ahead(tmp_path: Path) -> None:
    rows = [{"epoch": e, "train_f1": 0.5 + 0.01 * e, "val_f1": 0.6 + 0.01 * e} for e in range(1, 4)]
    assert findings_of(tmp_path, rows)[-1] == (
        "f1 gap in points (train_f1 vs val_f1): train 53.00 vs val 63.00 at the last epoch (3): "
        "val ahead by 10.0 points."
    )


def test_a_metric_beyond_percentages_has_no_points_gap(tmp_path: Path) -> None:
    rows = [{"epoch": e, "train_acc": 150.0 + e, "val_acc": 120.0 + e} for e in range(1, 4)]
    assert not any("points" in finding for finding in findings_of(tmp_path, rows))


def test_generalisation_gap_at_the_end_and_at_the_best_epoch(tmp_path: Path) -> None:
    train = [1.0, 0.8, 0.6, 0.4, 0.2]
    val = [1.1, 0.9, 0.85, 0.95, 1.05]
    rows = [{"epoch": e, "train_loss": t, "val_loss": v} for e, (t, v) in enumerate(zip(train, val, strict=True), 1)]
    assert findings_of(tmp_path, rows) == [
        "val_loss rose after its best epoch: from 0.85 at epoch 3 to 1.05 at epoch 5 (+23.5%).",
        "Generalisation gap (val_loss − train_loss): 0.85 at the last epoch (5), 0.25 at the best epoch (3).",
    ]


def test_near_chance_level_needs_the_class_count(tmp_path: Path) -> None:
    rows = [{"epoch": e, "val_acc": 0.3} for e in range(1, 4)]
    assert findings_of(tmp_path / "a", rows, config={"num_classes": 4}) == [
        "val_acc peaked at 0.3, near chance level (0.25 for 4 classes)."
    ]
    assert findings_of(tmp_path / "b", rows) == []


def test_logged_nan_is_a_finding_but_a_missing_value_is_not(tmp_path: Path) -> None:
    rows: list[dict[str, Any]] = [{"epoch": e, "train_loss": 1.0 / e} for e in range(1, 12)]
    rows[3] = {"epoch": 4}  # train_loss not logged on this line: not a finding
    rows += [{"epoch": 12, "train_loss": "NaN"}, {"epoch": 13, "train_loss": "Infinity"}]
    assert findings_of(tmp_path, rows) == ["train_loss became NaN at epoch 12."]


def test_divergence(tmp_path: Path) -> None:
    rows = [{"epoch": e, "train_loss": v} for e, v in enumerate([0.9, 0.5, 0.6, 3.0, 48.2], start=1)]
    assert findings_of(tmp_path, rows) == ["train_loss diverged: from 0.5 at epoch 2 to 48.2 at epoch 5."]


def test_early_stop_against_the_planned_epochs(tmp_path: Path) -> None:
    rows = [{"epoch": e, "lr": 0.1} for e in range(1, 24)]
    assert findings_of(tmp_path, rows, epochs=50) == ["Stopped early after 23 of 50 planned epochs."]


def test_best_and_latest_values_per_metric(tmp_path: Path) -> None:
    rows = [
        {"epoch": e, "val_loss": v, "val_acc": a, "lr": 0.1}
        for e, v, a in [(1, 0.9, 0.5), (2, 0.7, 0.8), (3, 0.8, 0.7)]
    ]
    write_run(tmp_path, "r", rows)
    curves = get_curves(rundocs.load_runs(tmp_path).curves("r"))
    summaries = {curve.metric.name: summarize(curve) for curve in curves}
    assert [(s.best, s.best_at, s.last, s.last_at) for s in summaries.values() if s] == [
        (None, None, 0.1, 3),
        (0.8, 2, 0.7, 3),
        (0.7, 2, 0.8, 3),
    ]


def test_several_lines_of_an_epoch_read_as_its_last_line(tmp_path: Path) -> None:
    """A value a page states was logged: never an average the run did not see (gates read the same)."""
    rows = [{"epoch": 1, "step": s, "train_loss": v} for s, v in enumerate([1.0, 2.0, 3.0])]
    rows += [{"epoch": 2, "step": 3 + s, "train_loss": v} for s, v in enumerate([0.5, 1.5])]
    write_run(tmp_path, "r", rows)
    (curve,) = get_curves(rundocs.load_runs(tmp_path).curves("r"))
    assert (curve.x.tolist(), curve.y.tolist()) == ([1.0, 2.0], [3.0, 1.5])


def step_and_epoch_rows() -> list[dict[str, Any]]:
    """A per-step train_loss beside a per-epoch val_loss, as most training loops log them."""
    rows: list[dict[str, Any]] = []
    for epoch in (1, 2):
        rows += [{"step": 100 * (epoch - 1) + s, "train_loss": 2.0 / (epoch + s)} for s in (0, 50)]
        rows.append({"epoch": epoch, "val_loss": 1.0 / epoch})
    return rows


def test_per_step_metrics_keep_their_steps_beside_per_epoch_ones(tmp_path: Path) -> None:
    write_run(tmp_path, "r", step_and_epoch_rows())
    curves = {curve.metric.name: curve for curve in get_curves(rundocs.load_runs(tmp_path).curves("r"))}
    train, val = curves["train_loss"], curves["val_loss"]
    assert (train.axis, train.x.tolist(), train.y.tolist()) == ("step", [0, 50, 100, 150], [2.0, 2 / 51, 1.0, 2 / 52])
    assert (val.axis, val.x.tolist(), val.y.tolist()) == ("epoch", [1, 2], [1.0, 0.5])
    summary = summarize(train)
    assert summary is not None and (summary.best, summary.best_at, summary.axis) == (2 / 52, 150, "step")


def test_a_complete_run_counted_from_epoch_zero_did_not_stop_early(tmp_path: Path) -> None:
    rows = [{"epoch": e, "lr": 0.1} for e in range(10)]
    assert findings_of(tmp_path, rows, epochs=10) == []
