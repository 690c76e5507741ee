"""Real tiny torch training loops recorded by ``rundocs.Run``: killed, failing, and logging tensors."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

import rundocs
from rundocs import RecordingWarning

pytestmark = pytest.mark.torch

KILLED_SCRIPT = """
import json
import sys
import time

import torch

import rundocs

runs_dir, pause_after = sys.argv[1], int(sys.argv[2])
torch.manual_seed(0)
model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1))
optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
x = torch.randn(64, 8)
y = 2 * x[:, :1] - x[:, 1:2]
with rundocs.Run("killed", dir=runs_dir, epochs=100) as run:
    print(json.dumps({"id": run.id}), flush=True)
    for epoch in range(1, 101):
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()
        run.log(epoch=epoch, train_loss=loss.detach(), lr=torch.tensor(0.05))
        print(json.dumps({"epoch": epoch, "train_loss": loss.item()}), flush=True)
        if epoch == pause_after:
            time.sleep(120)  # SIGKILLed here, in the middle of training
"""


def test_a_killed_training_run_reads_as_stalled_with_every_logged_line(
    tmp_path: Path, child_env: dict[str, str]
) -> None:
    script, runs_dir = tmp_path / "train.py", tmp_path / "runs"
    script.write_text(KILLED_SCRIPT)
    child = subprocess.Popen(
        [sys.executable, str(script), str(runs_dir), "5"],
        env={**child_env, "OMP_NUM_THREADS": "1"},
        stdout=subprocess.PIPE,
        text=True,
    )
    watchdog = threading.Timer(60, child.kill)  # a hung child ends the readline loop below
    watchdog.start()
    try:
        assert child.stdout is not None
        run_id = json.loads(child.stdout.readline())["id"]
        printed = [json.loads(child.stdout.readline()) for _ in range(5)]
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
    finally:
        watchdog.cancel()
        child.kill()
        child.wait()
        child.stdout.close()  # type: ignore[union-attr]
    assert [line["epoch"] for line in printed] == [1, 2, 3, 4, 5]
    # The kill may cut a write in half: a last line without its newline is skipped, not a problem.
    metrics_file = runs_dir / run_id / "metrics.jsonl"
    with open(metrics_file, "ab") as file:
        file.write(b'{"epoch":6,"time":0.91,"train_loss":0.1')

    now = datetime.now(UTC)
    assert rundocs.load_runs(runs_dir, strict=True, now=now).runs.loc[run_id, "state"] == "running"
    runs = rundocs.load_runs(runs_dir, strict=True, now=now + timedelta(minutes=5), stalled_after=timedelta(seconds=30))
    assert runs.records[run_id].status == "running"
    assert runs.runs.loc[run_id, "state"] == "stalled"
    assert runs.records[run_id].ended_at is None
    history = runs.history(run_id)
    assert history["epoch"].tolist() == [1, 2, 3, 4, 5]
    assert history["train_loss"].tolist() == [line["train_loss"] for line in printed]
    assert history["lr"].tolist() == [torch.tensor(0.05).item()] * 5  # the float32 value, widened exactly


def train_until_a_shape_error(runs_dir: Path) -> None:
    """Two good epochs, then a batch with the wrong number of features: torch raises."""
    torch.manual_seed(0)
    model = nn.Linear(3, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with rundocs.Run("shape-bug", dir=runs_dir, epochs=5) as run:
        for epoch in range(1, 6):
            x = torch.randn(8, 3 if epoch < 3 else 5)
            optimizer.zero_grad()
            loss = model(x).pow(2).mean()
            loss.backward()
            optimizer.step()
            run.log(epoch=epoch, train_loss=loss)


def test_a_torch_error_in_the_loop_marks_the_run_failed_and_is_re_raised(tmp_dir: Path) -> None:
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied \(8x5 and 3x1\)") as info:
        train_until_a_shape_error(tmp_dir / "runs")

    runs = rundocs.load_runs(tmp_dir / "runs", strict=True)
    [record] = runs.records.values()
    assert record.status == "failed"
    assert record.ended_at is not None
    assert record.error is not None
    assert (record.error.type, record.error.message) == ("RuntimeError", str(info.value))
    assert record.error.traceback is not None
    assert record.error.traceback.startswith("Traceback (most recent call last):\n")
    assert "in train_until_a_shape_error\n" in record.error.traceback
    assert record.error.traceback.endswith(f"RuntimeError: {info.value}\n")
    assert runs.history(record.id)["epoch"].tolist() == [1, 2]
    assert runs.runs.loc[record.id, "error_type"] == "RuntimeError"


def read_lines(path: Path) -> list[dict[str, object]]:
    """The raw metrics lines, without the wall-clock ``time``."""
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    for line in lines:
        del line["time"]
    return lines


def test_tensors_and_numpy_scalars_are_logged_as_numbers(tmp_dir: Path) -> None:
    torch.manual_seed(0)
    model = nn.Linear(2, 1)
    loss = model(torch.randn(4, 2)).pow(2).mean()  # still attached to the graph
    assert loss.requires_grad
    with rundocs.Run("tensors", dir="runs", config={"lr": torch.tensor(0.5), "dtype": torch.float16}) as run:
        run.log(
            epoch=torch.tensor(1),
            step=np.int64(10),
            loss=loss,
            acc=torch.tensor([0.75]),  # one element, one dimension
            correct=torch.tensor(30),
            half=torch.tensor(0.25, dtype=torch.float16),
            nan=torch.tensor(math.nan),
            done=torch.tensor(True),
            f32=np.float32(0.1),
            f64=np.float64(0.2),
            i32=np.int32(-7),
            flag=np.bool_(False),
            zero_d=np.array(1.5),
        )
        run.summary(test_acc=torch.tensor(0.875), best_epoch=np.int64(1))

    assert run.folder is not None
    [line] = read_lines(run.folder / "metrics.jsonl")
    assert line == {
        "epoch": 1,
        "step": 10,
        "loss": loss.item(),
        "acc": 0.75,
        "correct": 30,
        "half": 0.25,
        "nan": "NaN",
        "done": 1,
        "f32": float(np.float32(0.1)),
        "f64": 0.2,
        "i32": -7,
        "flag": 0,
        "zero_d": 1.5,
    }
    assert type(line["correct"]) is int
    runs = rundocs.load_runs("runs", strict=True)
    record = runs.records[run.id]
    assert record.summary == {"test_acc": 0.875, "best_epoch": 1}
    assert record.config == {"lr": 0.5, "dtype": "torch.float16"}
    assert record.env["torch"] == torch.__version__
    assert record.warnings == ()
    assert math.isnan(runs.metrics.loc[runs.metrics["run_id"] == run.id, "nan"].item())


def test_a_multi_element_tensor_is_dropped_with_one_warning_and_the_rest_of_the_line_kept(tmp_dir: Path) -> None:
    weights = torch.tensor([0.1, 0.2, 0.3])
    with rundocs.Run("tensors", dir="runs") as run, pytest.warns(RecordingWarning) as caught:
        run.log(epoch=1, loss=torch.tensor(0.5), weights=weights)
        run.log(epoch=2, loss=torch.tensor(0.25), weights=weights * 2)  # the same metric: no second warning

    assert [str(w.message) for w in caught] == [
        "rundocs: 'weights' got Tensor tensor([0.1000, 0.2000, 0.3000]), not a number; dropped"
    ]
    assert caught[0].filename == __file__  # points at the log call, not into rundocs
    assert run.folder is not None
    assert read_lines(run.folder / "metrics.jsonl") == [{"epoch": 1, "loss": 0.5}, {"epoch": 2, "loss": 0.25}]
    record = rundocs.load_runs("runs", strict=True).records[run.id]
    assert record.warnings == tuple(str(w.message).removeprefix("rundocs: ") for w in caught)
