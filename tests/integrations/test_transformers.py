"""``RundocsCallback`` for transformers: a real ``Trainer`` trains a tiny model on CPU, and the run says
what the Trainer's own log history says."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("transformers")
pytest.importorskip("torch")
pytest.importorskip("accelerate")  # the Trainer needs it

import rundocs
from rundocs.formatting import format_number
from rundocs.integrations.recorder import SUPERSEDED
from rundocs.integrations.transformers import RundocsCallback
from tests.integrations.helpers import lines, only_run, run_page
from tests.integrations.hf_models import data, make_trainer

pytestmark = pytest.mark.torch

ROOT = Path(__file__).resolve().parents[2]

CRASH_SCRIPT = """
import sys

from rundocs.integrations.transformers import RundocsCallback
from tests.integrations.hf_models import make_trainer

make_trainer("out", RundocsCallback(dir=sys.argv[1]), fail_at=7).train()
"""


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing is fetched from the Hugging Face hub: the model is built from its config."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def as_logged(entry: dict[str, Any], strategy: str) -> dict[str, Any]:
    """A ``log_history`` entry as the run should hold it: the whole epoch on lines that close an epoch."""
    line = {key: value for key, value in entry.items() if key != "epoch"}
    return {"epoch": round(entry["epoch"]), **line} if strategy == "epoch" else line


def test_a_training_records_the_trainers_log_history_with_steps_and_epochs(tmp_dir: Path) -> None:
    trainer = make_trainer("out", RundocsCallback("tiny", dir="runs", config={"data": "sum4"}))
    trainer.train()
    test = trainer.evaluate(data()[1], metric_key_prefix="test")

    runs, record = only_run(tmp_dir / "runs")
    assert record.status == "completed" and record.error is None and record.name == "tiny"
    assert record.config["data"] == "sum4"
    assert record.config["args"]["learning_rate"] == 0.05 and record.config["args"]["eval_strategy"] == "epoch"
    assert record.config["model"]["width"] == 8 and record.config["model"]["model_type"] == "rundocs-tiny"
    assert record.epochs == 3
    *logged, totals, _ = trainer.state.log_history
    # Evaluations run once per epoch: their lines carry it (1, 2, 3, as the Trainer's epoch reads);
    # training logs every 2 steps: their lines carry the step alone.
    expected = [as_logged(entry, "epoch" if "eval_loss" in entry else "steps") for entry in logged]
    assert lines(runs, record.id) == expected
    assert [line["epoch"] for line in expected if "epoch" in line] == [1, 2, 3]
    closing = {key: value for key, value in totals.items() if key not in ("epoch", "step")}
    assert record.summary == {**closing, **{key: value for key, value in test.items() if key != "epoch"}}

    page = run_page(runs, record.id)
    assert "| E003/003 |" in page
    assert f"| eval\\_loss | {format_number(logged[-1]['eval_loss'])} | epoch 3 |" in page
    assert "| step 12 |" in page.split("| loss |")[1].splitlines()[0]


def test_training_logged_per_epoch_is_recorded_per_epoch(tmp_dir: Path) -> None:
    trainer = make_trainer("out", RundocsCallback(dir="runs"), logging_strategy="epoch")
    trainer.train()

    runs, record = only_run(tmp_dir / "runs")
    *logged, _ = trainer.state.log_history
    assert lines(runs, record.id) == [as_logged(entry, "epoch") for entry in logged]
    assert [line["epoch"] for line in lines(runs, record.id) if "loss" in line] == [1, 2, 3]


def test_a_callback_that_starts_a_new_training_ends_the_crashed_one_failed(tmp_dir: Path) -> None:
    """The Trainer tells callbacks nothing of the exception; a program that catches it and trains
    again (a search over settings) leaves a run that never ended, and the next one ends it."""
    callback = RundocsCallback(dir="runs")
    with pytest.raises(ValueError, match="loss exploded"):
        make_trainer("out", callback, fail_at=3).train()
    make_trainer("out", callback).train()

    runs = {record.status: record for record in rundocs.load_runs("runs", strict=True).records.values()}
    assert sorted(runs) == ["completed", "failed"]
    assert runs["failed"].error is not None and runs["failed"].error.message == SUPERSEDED


def test_a_crash_mid_training_ends_the_run_failed_with_the_error(tmp_dir: Path, child_env: dict[str, str]) -> None:
    script = tmp_dir / "train.py"
    script.write_text(CRASH_SCRIPT)
    env = {**child_env, "PYTHONPATH": f"{child_env['PYTHONPATH']}:{ROOT}", "HF_HUB_OFFLINE": "1"}
    done = subprocess.run([sys.executable, str(script), "runs"], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stderr

    runs, record = only_run(tmp_dir / "runs")
    assert record.status == "failed"
    assert record.error is not None and record.error.type == "ValueError"
    assert record.error.message == "loss exploded at call 7"
    assert [line["step"] for line in lines(runs, record.id)] == [2, 4, 4, 6]  # up to step 6, with epoch 1's evaluation
