"""``rundocs import mlflow``: runs logged with MLflow to a SQLite store and to a file store become
run folders whose pages state what MLflow's own client reports."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from rundocs.importers.imported import import_id
from rundocs.importers.sources import import_source
from rundocs.importers.store import ImportOptions
from tests.importers.pages import results_row, run_import, run_pages, shown, validate

# The reader imports MLflow with its telemetry off; imported first, MLflow would start it here.
reader = pytest.importorskip("rundocs.importers.mlflow_store")
import mlflow  # noqa: E402 - after the reader

#: A regression fitted on one line and validated on another: the validation loss falls, then
#: rises again once the fit passes the validation line, so its best is not its last value.
TRAIN = [(x / 4, 3 * x / 4 + 1) for x in range(8)]
VALIDATION = [(x / 4, 2 * x / 4 + 1) for x in range(8)]


@contextlib.contextmanager
def tracking(uri: str) -> Iterator[Any]:
    """MLflow's fluent API on ``uri`` for a while, with the settings a local script needs."""
    with pytest.MonkeyPatch.context() as patch, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # MLflow's and SQLAlchemy's deprecation notes
        patch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
        patch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
        for name in ("MLFLOW_TRACKING_URI", "MLFLOW_EXPERIMENT_ID"):  # MLflow sets them: restored after
            patch.delenv(name, raising=False)
        mlflow.set_tracking_uri(uri)
        try:
            yield mlflow.MlflowClient(tracking_uri=uri)
        finally:
            mlflow.set_tracking_uri(None)


def train(
    epochs: int, lr: float, weights: tuple[float, float] = (0.0, 0.0), first_epoch: int = 0
) -> tuple[float, float]:
    """SGD over ``TRAIN`` in batches of two, logging as a training loop does: ``train_loss`` per
    step, ``val_loss`` with ``epoch`` at each epoch's last step. Raises once the loss explodes;
    returns the weight and bias."""
    weight, bias = weights
    step = first_epoch * len(TRAIN) // 2
    for epoch in range(first_epoch, first_epoch + epochs):
        for start in range(0, len(TRAIN), 2):
            batch = TRAIN[start : start + 2]
            errors = [(weight * x + bias - y, x) for x, y in batch]
            loss = sum(error**2 for error, _ in errors) / len(batch)
            if loss > 1e6:
                raise FloatingPointError(f"loss exploded at step {step}")
            weight -= lr * sum(2 * error * x for error, x in errors) / len(batch)
            bias -= lr * sum(2 * error for error, _ in errors) / len(batch)
            mlflow.log_metric("train_loss", loss, step=step)
            step += 1
        val_loss = sum((weight * x + bias - y) ** 2 for x, y in VALIDATION) / len(VALIDATION)
        mlflow.log_metrics({"val_loss": val_loss, "epoch": epoch}, step=step - 1)
    return weight, bias


def log_runs(uri: str, artifacts: Path) -> dict[str, str]:
    """A finished run, a failed one and a parent with a nested child; their run ids by name."""
    ids = {}
    with tracking(uri) as client:
        client.create_experiment("regression", artifact_location=artifacts.as_uri())
        mlflow.set_experiment("regression")
        with mlflow.start_run(run_name="baseline") as run:
            mlflow.log_params({"lr": 0.05, "batch_size": 2, "shuffle": False, "optimizer": "sgd", "seed": "007"})
            mlflow.set_tag("team", "vision")
            weight, bias = train(epochs=6, lr=0.05)
            mlflow.log_params({"final_weight": repr(weight), "final_bias": repr(bias)})
            ids["baseline"] = run.info.run_id
        with contextlib.suppress(FloatingPointError), mlflow.start_run(run_name="too-fast") as run:
            mlflow.log_param("lr", 2.0)
            ids["too-fast"] = run.info.run_id
            train(epochs=20, lr=2.0)
        with mlflow.start_run(run_name="search") as parent:
            ids["search"] = parent.info.run_id
            with mlflow.start_run(run_name="trial-0", nested=True) as child:
                mlflow.log_param("lr", 0.01)
                mlflow.log_text("weights", "model/weights.txt")
                train(epochs=2, lr=0.01)
                ids["trial-0"] = child.info.run_id
    return ids


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One SQLite store and one file store, each holding ``log_runs``."""
    root = tmp_path_factory.mktemp("mlflow")
    database, folder = root / "mlflow.db", root / "mlruns"
    return {
        "database": database,
        "folder": folder,
        "sqlite": log_runs(f"sqlite:///{database}", root / "artifacts"),
        "file": log_runs(folder.as_uri(), folder / "regression"),
    }


def reported(uri: str, run_id: str) -> tuple[Any, dict[str, list[Any]]]:
    """The run and its metric histories, as MLflow's own client reports them."""
    with tracking(uri) as client:
        run = client.get_run(run_id)
        return run, {key: client.get_metric_history(run_id, key) for key in run.data.metrics}


def iso(milliseconds: int) -> str:
    return datetime.fromtimestamp(milliseconds / 1000, UTC).isoformat(timespec="milliseconds")


def test_a_sqlite_store_is_imported_as_mlflow_reports_it(stores: dict[str, Any], tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    output = run_import("mlflow", stores["database"], "--runs", runs, "--metric", "val_loss", "--goal", "min")
    assert "imported 4 mlflow runs into" in output and "(4 written)" in output
    validate(runs)
    pages = run_pages(runs)
    uri = f"sqlite:///{stores['database']}"
    for name, status in (("baseline", "completed"), ("too-fast", "failed"), ("trial-0", "completed")):
        run, histories = reported(uri, stores["sqlite"][name])
        run_id = import_id("mlflow", run.info.run_id)
        record = json.loads((runs / run_id / "run.json").read_text())
        assert (record["name"], record["status"], record["sweep"]) == (name, status, "regression")
        assert record["started_at"] == iso(run.info.start_time) and record["ended_at"] == iso(run.info.end_time)
        assert {"imported:mlflow", "goal:min", "objective:val_loss"} <= set(record["tags"])
        lines = [json.loads(line) for line in (runs / run_id / "metrics.jsonl").read_text().splitlines()]
        for key, history in histories.items():
            if key == "epoch":
                continue
            assert [(line["step"], line[key]) for line in lines if key in line] == [(p.step, p.value) for p in history]
        starts: dict[int, int] = {}  # a line's time: its step's first point
        for point in (point for history in histories.values() for point in history):
            starts[point.step] = min(starts.get(point.step, point.timestamp), point.timestamp)
        assert [line["time"] for line in lines] == [
            round((starts[line["step"]] - run.info.start_time) / 1000, 3) for line in lines
        ]
        if "val_loss" in histories:
            values = {point.step: point.value for point in histories["val_loss"]}
            epochs = {point.step: int(point.value) for point in histories["epoch"]}
            best = min(values, key=values.__getitem__)
            assert results_row(pages[run_id], "val_loss")[:2] == [shown(values[best]), f"epoch {epochs[best]}"]
    baseline = json.loads((runs / import_id("mlflow", stores["sqlite"]["baseline"]) / "run.json").read_text())
    assert {key: baseline["config"][key] for key in ("lr", "batch_size", "shuffle", "optimizer", "seed")} == {
        "lr": 0.05,
        "batch_size": 2,
        "shuffle": False,
        "optimizer": "sgd",
        "seed": "007",
    }
    assert "team:vision" in baseline["tags"] and baseline["summary"] == {}
    child = json.loads((runs / import_id("mlflow", stores["sqlite"]["trial-0"]) / "run.json").read_text())
    assert f"parent:{import_id('mlflow', stores['sqlite']['search'])}" in child["tags"] and not child["warnings"]


def test_a_file_store_is_read_through_mlflow_without_a_byte_written_to_it(
    stores: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MLFLOW_ALLOW_FILE_STORE", raising=False)
    before = tree(stores["folder"])
    runs = tmp_path / "runs"
    output = run_import("mlflow", stores["folder"].as_uri(), "--runs", runs)
    assert "imported 4 mlflow runs into" in output
    assert tree(stores["folder"]) == before
    validate(runs)
    run, histories = reported(stores["folder"].as_uri(), stores["file"]["baseline"])
    page = run_pages(runs)[import_id("mlflow", run.info.run_id)]
    best = min(histories["train_loss"], key=lambda point: point.value)
    assert results_row(page, "train_loss")[:2] == [shown(best.value), f"step {best.step}"]
    failed = runs / import_id("mlflow", stores["file"]["too-fast"]) / "run.json"
    assert json.loads(failed.read_text())["status"] == "failed"


def test_importing_again_changes_nothing_and_a_resumed_run_adds_its_new_steps(
    stores: dict[str, Any], tmp_path: Path
) -> None:
    database = tmp_path / "mlflow.db"
    shutil.copyfile(stores["database"], database)
    runs = tmp_path / "runs"
    assert import_source("mlflow", str(database), runs, ImportOptions()).written
    files = {path: path.read_bytes() for path in runs.rglob("*") if path.is_file()}
    again = import_source("mlflow", f"sqlite:///{database}", runs, ImportOptions())
    assert len(again.unchanged) == 4 and not again.written
    assert {path: path.read_bytes() for path in runs.rglob("*") if path.is_file()} == files

    run_id = stores["sqlite"]["baseline"]
    with tracking(f"sqlite:///{database}") as client:
        mlflow.set_experiment("regression")
        params = client.get_run(run_id).data.params
        with mlflow.start_run(run_id=run_id):
            train(
                epochs=2, lr=0.05, weights=(float(params["final_weight"]), float(params["final_bias"])), first_epoch=6
            )
    grown = import_source("mlflow", str(database), runs, ImportOptions())
    assert grown.written == [import_id("mlflow", run_id)] and len(grown.unchanged) == 3
    lines = (runs / import_id("mlflow", run_id) / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == 4 * 8 and json.loads(lines[-1])["epoch"] == 7


def test_what_is_no_local_mlflow_store_is_named_and_left_untouched(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    (tmp_path / "notes.db").write_text("not a database")
    (tmp_path / "mlruns").mkdir()
    reasons = {
        location: [item.why for item in reader.read_mlflow_source(location)]
        for location in (str(empty), str(tmp_path / "notes.db"), str(tmp_path / "mlruns"), "http://localhost:5000")
    }
    assert reasons == {
        str(empty): ["not an MLflow database: it has no experiments, runs, metrics and params tables"],
        str(tmp_path / "notes.db"): ["not read as a SQLite database: file is not a database"],
        str(tmp_path / "mlruns"): ["not an MLflow file store: no .trash folder (a copy may have lost the empty one)"],
        "http://localhost:5000": ["only local stores are read (sqlite:///, file:// or a path), not http:"],
    }
    assert empty.stat().st_size == 0 and sorted(os.listdir(tmp_path)) == ["empty.db", "mlruns", "notes.db"]


@pytest.mark.parametrize(
    ("text", "value"),
    [("0.05", 0.05), ("32", 32), ("-1e-3", -0.001), ("True", True), ("False", False)]
    + [(text, text) for text in ("007", "1_000", "+1", ".5", "nan", "1e999", "None", "[1, 2]", "sgd")],
)
def test_a_param_is_the_number_or_boolean_its_text_names_else_the_text(text: str, value: Any) -> None:
    assert reader.param_value(text) == value and type(reader.param_value(text)) is type(value)


def tree(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        path.relative_to(folder).as_posix(): (path.stat().st_size, path.stat().st_mtime_ns)
        for path in folder.rglob("*")
    }
