"""``rundocs import tensorboard``: event folders written by torch's ``SummaryWriter`` and by
Lightning's ``TensorBoardLogger`` become run folders whose pages state what TensorBoard's own
reader (``EventAccumulator``, keeping every scalar) reports."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.importers.pages import results_row, run_import, run_pages, shown, validate

pytest.importorskip("tensorboard")
pytest.importorskip("torch")
pytestmark = pytest.mark.torch


def scalars(folder: Path, tag: str) -> list[Any]:
    """The events of a scalar tag as TensorBoard's reader reports them (size guidance 0: all)."""
    from tensorboard.backend.event_processing import event_accumulator

    accumulator = event_accumulator.EventAccumulator(str(folder), size_guidance={event_accumulator.SCALARS: 0})
    return list(accumulator.Reload().Scalars(tag))


def first_event(folder: Path) -> str:
    from tensorboard.backend.event_processing import event_accumulator

    moment = event_accumulator.EventAccumulator(str(folder)).Reload().FirstEventTimestamp()
    return datetime.fromtimestamp(moment, UTC).isoformat(timespec="milliseconds")


def write_losses(folder: Path, steps: range, best_at: int | None = None) -> None:
    """``loss`` and ``acc`` at each step with ``SummaryWriter`` (``loss`` lowest at ``best_at``)."""
    from torch.utils.tensorboard import SummaryWriter

    with SummaryWriter(folder) as writer:
        for step in steps:
            writer.add_scalar("loss", 0.5 if step == best_at else 1 + 1 / (step + 1), step)
            writer.add_scalar("val_acc", step / 100, step)


def lines(run: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def files_below(folder: Path) -> dict[str, bytes]:
    return {path.relative_to(folder).as_posix(): path.read_bytes() for path in folder.rglob("*") if path.is_file()}


def test_a_summarywriter_log_keeps_every_step_its_hyperparameters_and_names_its_image(tmp_path: Path) -> None:
    import numpy as np
    from torch.utils.tensorboard import SummaryWriter

    log = tmp_path / "tb" / "exp1"
    write_losses(log, range(0, 200, 5), best_at=120)
    with SummaryWriter(log) as writer:
        writer.add_image("samples", np.zeros((3, 4, 4)), 195)
        writer.add_hparams({"lr": 0.1, "batch": 32, "optimizer": "sgd"}, {"hparam/accuracy": 0.75})
    source = files_below(tmp_path / "tb")
    runs = tmp_path / "runs"

    output = run_import("tensorboard", tmp_path / "tb", "--runs", runs, expect=0)
    assert "imported 1 tensorboard run into" in output  # the add_hparams subfolder is part of exp1
    assert f"{log}: tag 'samples': left out: 1 image summary; only scalars are read" in output
    validate(runs)
    assert files_below(tmp_path / "tb") == source
    [run_id] = os.listdir(runs)
    record = json.loads((runs / run_id / "run.json").read_text())
    assert record["name"] == "exp1" and record["status"] == "completed"
    assert record["config"] == {"batch": 32, "lr": 0.1, "optimizer": "sgd"}
    assert record["summary"] == {"hparam/accuracy": 0.75}
    assert record["started_at"] == first_event(log)
    losses = scalars(log, "loss")
    written = lines(runs / run_id)
    assert [(line["step"], line["loss"]) for line in written] == [(event.step, event.value) for event in losses]
    assert all("epoch" not in line for line in written)
    best = min(losses, key=lambda event: event.value)
    page = run_pages(runs)[run_id]
    assert results_row(page, "loss") == [shown(best.value), "120", shown(losses[-1].value), "195"]
    accuracy = scalars(log, "val_acc")
    assert results_row(page, "val_acc")[:2] == [shown(max(event.value for event in accuracy)), "195"]


def test_tensor_scalars_as_tensorflow_2_writes_them_are_read_too(tmp_path: Path) -> None:
    """``tf.summary.scalar`` writes a tensor with the scalars plugin's metadata, on a tag's first
    value only; here TensorBoard's own writer and metadata stand in for TensorFlow."""
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.plugins.scalar import metadata
    from tensorboard.summary.writer.event_file_writer import EventFileWriter
    from tensorboard.util import tensor_util

    writer = EventFileWriter(str(tmp_path / "keras" / "validation"))
    for step, value in enumerate([0.5, 0.75, 0.625]):
        scalar = summary_pb2.Summary.Value(tag="epoch_f1", tensor=tensor_util.make_tensor_proto(value))
        if step == 0:
            scalar.metadata.CopyFrom(metadata.create_summary_metadata(display_name="epoch_f1", description=""))
        summary = summary_pb2.Summary(value=[scalar])
        writer.add_event(event_pb2.Event(step=step, wall_time=1.7e9 + step, summary=summary))
    writer.close()
    runs = tmp_path / "runs"
    assert "(1 written)" in run_import("tensorboard", tmp_path / "keras", "--runs", runs)
    [run_id] = os.listdir(runs)
    assert lines(runs / run_id) == [
        {"step": 0, "time": 0.0, "epoch_f1": 0.5},
        {"step": 1, "time": 1.0, "epoch_f1": 0.75},
        {"step": 2, "time": 2.0, "epoch_f1": 0.625},
    ]
    assert json.loads((runs / run_id / "run.json").read_text())["name"] == "validation"


@pytest.fixture(scope="module")
def lightning_logs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, list[float]]]:
    pytest.importorskip("lightning")
    from lightning.pytorch.loggers import TensorBoardLogger

    from tests.importers.lightning_run import train_tiny

    root = tmp_path_factory.mktemp("tensorboardlogger")
    seen = train_tiny(TensorBoardLogger(root / "lightning_logs", name="reg"), root=root)
    return root / "lightning_logs", seen


def test_a_tensorboardlogger_run_is_imported_by_epoch_with_its_hyperparameters(
    lightning_logs: tuple[Path, dict[str, list[float]]], tmp_path: Path
) -> None:
    logs, seen = lightning_logs
    runs = tmp_path / "runs"
    output = run_import("tensorboard", logs, "--runs", runs, "--metric", "val_loss", "--goal", "min")
    assert output.splitlines() == [f"imported 1 tensorboard run into {runs.as_posix()} (1 written)"]
    validate(runs)
    [run_id] = os.listdir(runs)
    record = json.loads((runs / run_id / "run.json").read_text())
    assert record["name"] == "reg/version_0" and record["config"] == {"lr": 0.05}
    assert {"goal:min", "objective:val_loss", "imported:tensorboard"} <= set(record["tags"])
    events = scalars(logs / "reg" / "version_0", "val_loss")
    assert [event.value for event in events] == seen["val_loss"]
    best = min(event.value for event in events)
    page = run_pages(runs)[run_id]
    assert results_row(page, "val_loss")[:2] == [shown(best), str(seen["val_loss"].index(best))]
    validation = [line for line in lines(runs / run_id) if "val_loss" in line]
    assert [(line["epoch"], line["step"]) for line in validation] == [
        (epoch, event.step) for epoch, event in enumerate(events)
    ]


def test_importing_again_changes_nothing_and_a_grown_folder_adds_its_new_steps(tmp_path: Path) -> None:
    log = tmp_path / "runs_tb" / "exp"
    write_losses(log, range(10))
    runs = tmp_path / "runs"
    run_import("tensorboard", log, "--runs", runs)
    [run_id] = os.listdir(runs)
    before = files_below(runs)
    (runs / run_id / "notes.md").write_text("kept")

    assert "(1 unchanged)" in run_import("tensorboard", log, "--runs", runs)
    assert {name: data for name, data in files_below(runs).items() if name in before} == before

    write_losses(log, range(10, 15), best_at=12)  # a second writer adds a second event file
    assert len(list(log.glob("events.out.tfevents.*"))) == 2
    assert "(1 written)" in run_import("tensorboard", log, "--runs", runs)
    assert [line["step"] for line in lines(runs / run_id)] == list(range(15))
    assert results_row(run_pages(runs)[run_id], "loss")[:2] == ["0.5", "12"]
    assert (runs / run_id / "notes.md").read_text() == "kept"


def test_damaged_and_unreadable_event_files_are_named_and_the_rest_is_imported(tmp_path: Path) -> None:
    import numpy as np
    from torch.utils.tensorboard import SummaryWriter

    source = tmp_path / "tb"
    write_losses(source / "cut", range(20))
    [events] = (source / "cut").glob("events.out.tfevents.*")
    events.write_bytes(events.read_bytes()[:-7])
    (source / "garbage").mkdir()
    (source / "garbage" / "events.out.tfevents.1.host").write_bytes(b"\x00\x01not an event file" * 10)
    with SummaryWriter(source / "pictures") as writer:
        writer.add_image("x", np.zeros((3, 2, 2)), 0)
    (source / "linked").mkdir()
    (source / "linked" / "events.out.tfevents.2.host").symlink_to(events)

    output = run_import("tensorboard", source, "--runs", tmp_path / "runs", expect=1)
    assert "imported 1 tensorboard run" in output
    assert f"{events}: not imported: its last " in output and "the events before them are read" in output
    assert f"{source / 'garbage' / 'events.out.tfevents.1.host'}: not imported: its last 190 bytes" in output
    assert f"{source / 'pictures'}: not imported: no scalars in its event files" in output
    assert f"{source / 'linked' / 'events.out.tfevents.2.host'}: not imported: a link or not a regular file" in output
    validate(tmp_path / "runs")
    [run_id] = os.listdir(tmp_path / "runs")
    imported = lines(tmp_path / "runs" / run_id)
    assert [line["step"] for line in imported] == list(range(20)) and "val_acc" not in imported[-1]
    assert "no event file (tfevents in its name)" in run_import("tensorboard", tmp_path / "runs", expect=1)


def test_a_folder_past_the_size_limit_is_named_not_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from rundocs.importers import tensorboard
    from rundocs.importers.store import Unmapped

    write_losses(tmp_path / "exp", range(3))
    size = sum(file.stat().st_size for file in (tmp_path / "exp").iterdir())
    monkeypatch.setattr(tensorboard, "MAX_EVENTS_BYTES", size - 1)
    assert list(tensorboard.read_tensorboard_source(str(tmp_path / "exp"))) == [
        Unmapped(str(tmp_path / "exp"), f"its event files hold {size:,} bytes, over {size - 1:,}")
    ]
