"""The demo lab end to end: ``python -m demolab --quick`` into a temporary folder, read back strictly."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

import rundocs
from rundocs.load.records import RunRecord

pytestmark = pytest.mark.torch

SRC = Path(__file__).resolve().parents[2] / "src"
#: Variables under which a run records elsewhere or not at all (a torchrun rank other than 0).
_RECORDING_ENV = ("RUNDOCS_DIR", "RANK", "LOCAL_RANK", "WORLD_SIZE")
_HISTORY = ["epoch", "train_loss", "train_acc", "val_loss", "val_acc"]


def run_lab(runs: Path, *options: str) -> None:
    """Run the quick lab in a child process; any warning there is an error, as in pytest."""
    env = {k: v for k, v in os.environ.items() if k not in _RECORDING_ENV}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(SRC), env.get("PYTHONPATH")) if p)
    command = [sys.executable, "-W", "error", "-m", "demolab", "--runs", str(runs), "--quick", *options]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module")
def lab_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One quick lab, shared by the tests that only read it."""
    runs = tmp_path_factory.mktemp("lab") / "runs"
    run_lab(runs)
    return runs


@pytest.fixture(scope="module")
def lab(lab_dir: Path) -> rundocs.Runs:
    return rundocs.load_runs(lab_dir, strict=True)


def by_phase(lab: rundocs.Runs, phase: str, kind: str) -> list[RunRecord]:
    return [r for r in lab.records.values() if r.phase == phase and r.kind == kind]


def test_phases_record_the_expected_runs(lab: rundocs.Runs) -> None:
    counts = Counter((r.phase, r.kind) for r in lab.records.values())
    assert counts == {
        ("lr-sweep", "train"): 9,
        ("capacity", "train"): 2,
        ("capacity", "eval"): 2,
        ("finetune", "train"): 1,
        ("finetune", "eval"): 1,
        ("search", "train"): 12,
    }


def test_every_run_completed_cleanly(lab: rundocs.Runs) -> None:
    assert lab.problems == []
    assert {r.status for r in lab.records.values()} == {"completed"}
    assert all(r.warnings == () for r in lab.records.values())
    assert set(lab.runs["state"]) == {"completed"}


def test_lr_sweep_crosses_learning_rates_with_seeds(lab: rundocs.Runs) -> None:
    runs = by_phase(lab, "lr-sweep", "train")
    assert {r.sweep for r in runs} == {"lr"}
    grid = sorted((r.config["lr"], r.config["seed"]) for r in runs)
    assert grid == [(lr, seed) for lr in (0.01, 0.1, 0.3) for seed in (0, 1, 2)]


def trained(lab: rundocs.Runs) -> list[RunRecord]:
    """The lab's own training runs; the Optuna search trials are tested in tests/optuna."""
    return [r for r in lab.records.values() if r.kind == "train" and r.phase != "search"]


def test_train_runs_log_every_epoch_and_a_test_summary(lab: rundocs.Runs) -> None:
    for record in trained(lab):
        history = lab.history(record.id)
        assert history["epoch"].tolist() == list(range(1, record.config["epochs"] + 1)), record.name
        assert set(_HISTORY) <= set(history.columns)
        assert set(record.summary) == {"test_acc", "test_loss"}
        assert record.config["num_classes"] == 10


def test_eval_runs_evaluate_train_runs_in_and_out_of_distribution(lab: rundocs.Runs) -> None:
    for record in (r for r in lab.records.values() if r.kind == "eval"):
        (evaluated,) = record.evaluates
        assert lab.records[evaluated].kind == "train"
        assert lab.records[evaluated].phase == record.phase
        assert set(record.summary) == {"test_acc", "test_loss", "ood_acc", "ood_loss"}
        assert 0.0 <= record.summary["ood_acc"] <= 1.0


def test_finetune_starts_from_the_large_capacity_run(lab: rundocs.Runs) -> None:
    (finetune,) = by_phase(lab, "finetune", "train")
    source = lab.records[finetune.config["init_from"]]
    assert (source.phase, source.kind, source.name) == ("capacity", "train", "large_s0")
    assert finetune.config["channels"] == source.config["channels"]
    assert finetune.config["train_on"] == "shifted"


def test_checkpoints_are_recorded_with_their_sha256(lab: rundocs.Runs) -> None:
    for record in trained(lab):
        assert sorted(c.path for c in record.checkpoints) == ["checkpoints/best.pt", "checkpoints/last.pt"]
        for checkpoint in record.checkpoints:
            data = (record.folder / checkpoint.path).read_bytes()
            assert hashlib.sha256(data).hexdigest() == checkpoint.sha256
            assert len(data) == checkpoint.bytes
            assert checkpoint.arch == {"channels": record.config["channels"], "hidden": 64, "num_classes": 10}


def test_fresh_rerun_replaces_old_runs_and_reproduces_them(lab: rundocs.Runs, lab_dir: Path, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    shutil.copytree(lab_dir, runs)
    (runs / "README.md").write_text("not a run\n")
    run_lab(runs, "--fresh")
    again = rundocs.load_runs(runs, strict=True)
    assert (runs / "README.md").is_file()
    assert len(again.records) == len(lab.records)
    assert not set(again.records) & set(lab.records)
    assert summaries_by_name(again) == summaries_by_name(lab)
    pd.testing.assert_frame_equal(histories_by_name(again), histories_by_name(lab))


def summaries_by_name(runs: rundocs.Runs) -> dict[str, dict[str, float]]:
    return {r.name: r.summary for r in runs.records.values()}


def histories_by_name(runs: rundocs.Runs) -> pd.DataFrame:
    names = runs.runs["name"]
    frame = runs.metrics.assign(name=runs.metrics["run_id"].map(names).astype(str))
    return frame[["name", *_HISTORY]].sort_values(["name", "epoch"]).reset_index(drop=True)
