"""``rundocs import csv``: Lightning's CSVLogger runs and plain CSV logs become run folders whose
pages state what the source logged."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.importers.pages import results_row, run_import, run_pages, shown, validate


@pytest.fixture(scope="module")
def lightning_logs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, list[float]]]:
    pytest.importorskip("lightning")
    from lightning.pytorch.loggers import CSVLogger

    from tests.importers.lightning_run import train_tiny

    root = tmp_path_factory.mktemp("csvlogger")
    seen = train_tiny(CSVLogger(root / "logs", name="reg"), root=root)
    return root / "logs", seen


def test_a_csvlogger_run_is_imported_with_its_hyperparameters_and_best_value(
    lightning_logs: tuple[Path, dict[str, list[float]]], tmp_path: Path
) -> None:
    logs, seen = lightning_logs
    runs = tmp_path / "runs"
    output = run_import("csv", logs, "--runs", runs, "--phase", "baseline", "--metric", "val_loss", "--goal", "min")
    assert "imported 1 csv run into" in output and "(1 written)" in output
    validate(runs)
    [run_id] = os.listdir(runs)
    record = json.loads((runs / run_id / "run.json").read_text())
    assert record["name"] == "reg/version_0" and record["config"] == {"lr": 0.05}
    assert record["phase"] == "baseline" and {"goal:min", "objective:val_loss", "imported:csv"} <= set(record["tags"])
    best = min(seen["val_loss"])
    page = run_pages(runs)[run_id]
    assert results_row(page, "val_loss")[:2] == [shown(best), str(seen["val_loss"].index(best))]
    assert results_row(page, "train_loss_epoch")[2] != ""


def test_importing_again_changes_nothing_and_a_grown_log_adds_its_new_rows(
    lightning_logs: tuple[Path, dict[str, list[float]]], tmp_path: Path
) -> None:
    logs, _ = lightning_logs
    source = tmp_path / "logs"
    source.mkdir()
    csv = source / "metrics.csv"
    csv.write_bytes((next(logs.rglob("metrics.csv"))).read_bytes())
    runs = tmp_path / "runs"
    run_import("csv", source, "--runs", runs)
    [run_id] = os.listdir(runs)
    before = {name: (runs / run_id / name).read_bytes() for name in ("run.json", "metrics.jsonl")}
    (runs / run_id / "notes.md").write_text("kept")

    assert "(1 unchanged)" in run_import("csv", source, "--runs", runs)
    assert {name: (runs / run_id / name).read_bytes() for name in before} == before

    with csv.open("a") as file:
        file.write("3,12,,,0.5\n")
    assert "(1 written)" in run_import("csv", source, "--runs", runs)
    page = run_pages(runs)[run_id]
    assert results_row(page, "val_loss")[:2] == ["0.5", "3"]
    assert (runs / run_id / "notes.md").read_text() == "kept"


def test_a_plain_csv_keeps_its_times_and_steps(tmp_path: Path) -> None:
    log = tmp_path / "exp1.csv"
    log.write_text(
        "step,timestamp,loss,acc\n"
        "0,2025-05-01T10:00:00+00:00,2.0,0.1\n"
        "100,2025-05-01T10:05:00+00:00,1.0,\n"
        "200,2025-05-01T10:10:00+00:00,1.5,0.7\n"
    )
    runs = tmp_path / "runs"
    run_import("csv", log, "--runs", runs)
    validate(runs)
    [run_id] = os.listdir(runs)
    record = json.loads((runs / run_id / "run.json").read_text())
    assert record["started_at"] == "2025-05-01T10:00:00.000+00:00"
    assert record["ended_at"] == "2025-05-01T10:10:00.000+00:00"
    lines = [json.loads(line) for line in (runs / run_id / "metrics.jsonl").read_text().splitlines()]
    assert lines[1] == {"step": 100, "time": 300.0, "loss": 1.0}
    page = run_pages(runs)[run_id]
    assert results_row(page, "loss") == ["1", "100", "1.5", "200"]
    assert results_row(page, "acc")[:2] == ["0.7", "200"]


def test_what_cannot_be_mapped_is_named_and_the_command_fails(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "metrics.csv").write_text("loss,acc\n1,2\n")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "metrics.csv").write_text("epoch,loss\n0,1.0\n")
    (tmp_path / "b" / "hparams.yaml").write_text("a: !!python/object:argparse.Namespace {}\n")
    output = run_import("csv", tmp_path, "--runs", tmp_path / "runs", expect=1)
    assert "a/metrics.csv: not imported: no epoch or step column (columns: loss, acc)" in output
    assert "imported 1 csv run" in output and "hparams.yaml not read as the config" in output
    assert "--metric and --goal go together" in run_import("csv", tmp_path, "--metric", "loss", expect=2)


def test_two_projects_with_the_same_log_layout_never_share_a_run(tmp_path: Path) -> None:
    for project, loss in (("a", 0.9), ("b", 0.1)):
        folder = tmp_path / project / "lightning_logs" / "version_0"
        folder.mkdir(parents=True)
        (folder / "metrics.csv").write_text(f"epoch,val_loss\n0,{loss + 1}\n1,{loss}\n")
    runs = tmp_path / "runs"
    run_import("csv", tmp_path / "a" / "lightning_logs", "--runs", runs)
    run_import("csv", tmp_path / "b" / "lightning_logs", "--runs", runs)
    pages = run_pages(runs)
    assert sorted(results_row(page, "val_loss")[0] for key, page in pages.items() if key != "index") == ["0.1", "0.9"]


def test_a_time_column_of_durations_is_not_taken_for_the_clock(tmp_path: Path) -> None:
    log = tmp_path / "durations.csv"
    log.write_text("epoch,time,val_loss\n0,12.5,1.0\n1,12.7,0.5\n2,12.6,0.7\n")
    runs = tmp_path / "runs"
    output = run_import("csv", log, "--runs", runs)
    assert "column 'time' holds no wall-clock times" in output
    [run_id] = os.listdir(runs)
    record = json.loads((runs / run_id / "run.json").read_text())
    assert record["started_at"] == record["ended_at"] > "2001"  # the file's time, and the page says so
    assert any("duration is unknown" in warning for warning in record["warnings"])
    assert "time" not in (runs / run_id / "metrics.jsonl").read_text()


def test_a_symlinked_run_folder_is_never_written_through(tmp_path: Path) -> None:
    log = tmp_path / "exp.csv"
    log.write_text("epoch,loss\n0,1.0\n")
    runs = tmp_path / "runs"
    run_import("csv", log, "--runs", runs)
    [run_id] = os.listdir(runs)
    elsewhere = tmp_path / "elsewhere"
    (runs / run_id).rename(elsewhere)
    (runs / run_id).symlink_to(elsewhere)
    log.write_text("epoch,loss\n0,1.0\n1,0.5\n")
    assert "left alone, its folder holds another run" in run_import("csv", log, "--runs", runs)
    assert "0.5" not in (elsewhere / "metrics.jsonl").read_text()


def test_a_time_column_of_unix_seconds_gives_the_times(tmp_path: Path) -> None:
    log = tmp_path / "unix.csv"
    log.write_text("step,wall_time,loss\n0,1746093600,2.0\n10,1746093630.5,1.0\n")
    runs = tmp_path / "runs"
    assert run_import("csv", log, "--runs", runs).count("\n") == 1  # no problem line
    [run_id] = os.listdir(runs)
    record = json.loads((runs / run_id / "run.json").read_text())
    assert (record["started_at"], record["ended_at"]) == (
        "2025-05-01T10:00:00.000+00:00",
        "2025-05-01T10:00:30.500+00:00",
    )
    lines = [json.loads(line) for line in (runs / run_id / "metrics.jsonl").read_text().splitlines()]
    assert [line["time"] for line in lines] == [0.0, 30.5]
