"""``rundocs import dvclive``: folders written by ``dvclive.Live`` and Lightning's
``DVCLiveLogger`` become run folders whose pages state the values DVCLive wrote."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.importers.pages import results_row, run_import, run_pages, shown, validate

pytest.importorskip("dvclive")


@pytest.fixture(autouse=True)
def offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """DVCLive runs in a folder outside any Git or DVC repository, with no analytics or Studio:
    it writes only its own folder and the ``dvc.yaml`` beside it."""
    for name in ("DVC_NO_ANALYTICS", "DO_NOT_TRACK"):
        monkeypatch.setenv(name, "1")
    for name in ("DVC_STUDIO_TOKEN", "DVC_ROOT", "DVC_EXP_BASELINE_REV", "DVC_EXP_NAME", "DVCLIVE_RESUME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def train(folder: Path, accuracies: list[float], resume: bool = False) -> dict[str, Any]:
    """A training loop logging with ``Live``: params, ``train/loss`` (with timestamps) and
    ``val_acc`` at each step, a summary value and an image; what DVCLive's own parser reads back."""
    import numpy as np
    from dvclive import Live
    from dvclive.utils import parse_metrics

    with Live(dir=str(folder), save_dvc_exp=False, resume=resume) as live:
        live.log_params({"lr": 0.1, "model": {"layers": 2}})
        for accuracy in accuracies:
            live.log_metric("train/loss", 1 - accuracy, timestamp=True)
            live.log_metric("val_acc", accuracy)
            live.next_step()
        live.summary["test_acc"] = 0.8
        live.log_image("sample.png", np.zeros((4, 4, 3), dtype=np.uint8))
    plots, _ = parse_metrics(live)
    metrics = folder / "plots" / "metrics"
    return {Path(path).relative_to(metrics).with_suffix("").as_posix(): rows for path, rows in plots.items()}


def lines(run: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def test_a_live_loop_is_imported_with_its_params_summary_steps_and_times(tmp_path: Path) -> None:
    written = train(tmp_path / "project" / "dvclive", [0.5, 0.7, 0.9, 0.6])
    assert (tmp_path / "project" / "dvclive" / "plots" / "images" / "sample.png").is_file()
    runs = tmp_path / "runs"

    output = run_import("dvclive", tmp_path / "project", "--runs", runs, expect=0)
    assert "imported 1 dvclive run into" in output
    images = tmp_path / "project" / "dvclive" / "plots" / "images"
    assert f"{images}: left out: 1 file: images (log_image); only metrics are read" in output
    validate(runs)
    [run_id] = os.listdir(runs)
    record = json.loads((runs / run_id / "run.json").read_text())
    assert record["name"] == "dvclive" and record["status"] == "completed"
    assert record["config"] == {"lr": 0.1, "model": {"layers": 2}}
    assert record["summary"] == {"test_acc": 0.8}
    stamps = [int(row["timestamp"]) / 1000 for row in written["train/loss"]]
    assert record["started_at"] == datetime.fromtimestamp(min(stamps), UTC).isoformat(timespec="milliseconds")
    assert [(line["step"], line["val_acc"]) for line in lines(runs / run_id)] == [
        (int(row["step"]), float(row["val_acc"])) for row in written["val_acc"]
    ]
    best = max(written["val_acc"], key=lambda row: float(row["val_acc"]))
    page = run_pages(runs)[run_id]
    assert results_row(page, "val_acc") == [shown(float(best["val_acc"])), best["step"], "0.6", "3"]


def test_importing_again_changes_nothing_and_a_resumed_run_adds_its_new_steps(tmp_path: Path) -> None:
    folder = tmp_path / "dvclive"
    train(folder, [0.5, 0.6])
    runs = tmp_path / "runs"
    run_import("dvclive", folder, "--runs", runs, expect=0)
    [run_id] = os.listdir(runs)
    before = {name: (runs / run_id / name).read_bytes() for name in ("run.json", "metrics.jsonl")}

    assert "(1 unchanged)" in run_import("dvclive", folder, "--runs", runs, expect=0)
    assert {name: (runs / run_id / name).read_bytes() for name in before} == before

    train(folder, [0.95, 0.7], resume=True)
    assert "(1 written)" in run_import("dvclive", folder, "--runs", runs, expect=0)
    assert [line["step"] for line in lines(runs / run_id)] == [0, 1, 2, 3]
    assert results_row(run_pages(runs)[run_id], "val_acc") == ["0.95", "2", "0.7", "3"]


def test_a_dvclivelogger_run_is_imported_by_epoch(tmp_path: Path) -> None:
    pytest.importorskip("lightning")
    from dvclive.lightning import DVCLiveLogger

    from tests.importers.lightning_run import train_tiny

    seen = train_tiny(DVCLiveLogger(dir="dvclive", save_dvc_exp=False), root=tmp_path)
    runs = tmp_path / "runs"
    output = run_import("dvclive", "dvclive", "--runs", runs)
    head, note = output.splitlines()  # DVCLiveLogger writes no timestamps: the report says so
    assert head == f"imported 1 dvclive run into {runs.as_posix()} (1 written)"
    assert note.endswith("its duration is unknown")
    validate(runs)
    [run_id] = os.listdir(runs)
    assert json.loads((runs / run_id / "run.json").read_text())["config"] == {"lr": 0.05}
    validation = [line for line in lines(runs / run_id) if "val/loss" in line]  # DVCLive's name for val_loss
    assert [(line["epoch"], line["val/loss"]) for line in validation] == list(enumerate(seen["val_loss"]))
    page = run_pages(runs)[run_id]  # "val/loss" reads as a validation loss: lower is better
    best = min(seen["val_loss"])
    assert results_row(page, "val/loss")[:2] == [shown(best), str(seen["val_loss"].index(best))]


def test_damaged_files_are_named_and_the_rest_is_imported(tmp_path: Path) -> None:
    plots = tmp_path / "live" / "plots" / "metrics"
    plots.mkdir(parents=True)
    (plots / "loss.tsv").write_text("step\tloss\n0\t1.5\n1\tTrue\n2\t0.5\n-3\t0.1\n")
    (plots / "acc.tsv").write_text("epoch,acc\n0,1\n")
    (plots / "bad.tsv").write_bytes(b"step\tbad\n\xff\xfe\n")
    (tmp_path / "live" / "metrics.json").write_text('{"step": 2, "note": "ok", "curve": [1, 2]')
    (tmp_path / "live" / "params.yaml").write_text("lr: 0.1\nlr: 0.2\n")
    (tmp_path / "empty" / "plots" / "metrics").mkdir(parents=True)

    output = run_import("dvclive", tmp_path, "--runs", tmp_path / "runs", expect=1)
    assert "imported 1 dvclive run" in output
    assert f"{plots / 'loss.tsv'}: line 3 and 1 more: not imported: not a whole step from 0 and a number" in output
    assert f"{plots / 'acc.tsv'}: not imported: no 'step' and 'acc' columns (columns: epoch,acc)" in output
    assert f"{plots / 'bad.tsv'}: not imported: cannot read: 'utf-8' codec can't decode" in output
    assert f"{tmp_path / 'live' / 'metrics.json'}: not imported: not read: Expecting ',' delimiter" in output
    assert "params.yaml not read as the config: key 'lr' is given twice" in output
    assert f"{tmp_path / 'empty'}: not imported: no metrics" in output
    validate(tmp_path / "runs")
    [run_id] = os.listdir(tmp_path / "runs")
    assert [(line["step"], line["loss"]) for line in lines(tmp_path / "runs" / run_id)] == [(0, 1.5), (2, 0.5)]
    assert "no DVCLive folder" in run_import("dvclive", tmp_path / "runs", expect=1)
