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


def run_lab(runs: Path, *options: str, cwd: Path | None = None) -> str:
    """Run the quick lab in a child process; any warning there is an error, as in pytest. Returns its output."""
    env = {k: v for k, v in os.environ.items() if k not in _RECORDING_ENV}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(SRC), env.get("PYTHONPATH")) if p)
    command = [sys.executable, "-W", "error", "-m", "demolab", "--runs", str(runs), "--quick", *options]
    result = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


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


def test_runs_have_stable_ids_from_phase_and_name(lab: rundocs.Runs) -> None:
    trained_here = [r for r in lab.records.values() if r.phase != "search"]
    assert {r.id for r in trained_here} == {rundocs.Run.id_for(r.phase, r.name) for r in trained_here}
    assert "lr-sweep--lr0.1_s0" in lab.records
    (finetune,) = by_phase(lab, "finetune", "train")
    assert finetune.config["init_from"] == "capacity--large_s0"


def git(repo: Path, *args: str) -> None:
    done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def file_states(runs: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under ``runs``: its bytes and mtime."""
    files = (path for path in runs.rglob("*") if path.is_file())
    return {path.relative_to(runs).as_posix(): (path.read_bytes(), path.stat().st_mtime_ns) for path in files}


def test_a_rerun_keeps_every_run_untouched_and_removes_runs_no_longer_planned(lab_dir: Path, tmp_path: Path) -> None:
    """Also in a fresh clone, without the checkpoints (not committed): no kept run needs one."""
    runs = tmp_path / "runs"
    shutil.copytree(lab_dir, runs, ignore=shutil.ignore_patterns("checkpoints"))
    before = file_states(runs)
    rundocs.Run("lr0.1_s0", phase="lr-sweep", id="20261121_121420_kngf", dir=runs).end()  # an id of the old rule
    rundocs.Run("mine", phase="elsewhere", id="mine", dir=runs).end()  # not a phase of the lab: not the lab's to remove
    output = run_lab(runs)
    assert "search: 12 runs (12 kept, 0 recorded)" in output
    assert "removed 1 run no longer planned: 20261121_121420_kngf" in output
    assert not (runs / "20261121_121420_kngf").exists()
    after = file_states(runs)
    assert {path: state for path, state in after.items() if not path.startswith("mine")} == before


def test_a_changed_run_is_trained_again_in_place_with_the_runs_that_start_from_it(
    lab: rundocs.Runs, lab_dir: Path, tmp_path: Path
) -> None:
    """A record whose settings or code differ is replaced under its id, and so are the runs that load
    its checkpoint; a run whose checkpoint nothing loads is kept without it (checkpoints are not committed)."""
    runs = tmp_path / "runs"
    shutil.copytree(lab_dir, runs)
    large = runs / "capacity--large_s0" / "run.json"
    large.write_text(large.read_text().replace('"lab_code": "', '"lab_code": "older-'))
    for folder in runs.glob("lr-sweep--*"):
        shutil.rmtree(folder / "checkpoints")
    before = file_states(runs)
    run_lab(runs)
    after = file_states(runs)
    changed = {path.split("/")[0] for path in before if before[path] != after.get(path)}
    assert changed == {"capacity--large_s0", "capacity--eval_large", "finetune--finetune_large_shifted",
                       "finetune--eval_finetune"}  # fmt: skip
    assert set(after) == set(before)
    again = rundocs.load_runs(runs, strict=True)
    assert summaries_by_name(again) == summaries_by_name(lab)  # seeded: the same numbers again
    pd.testing.assert_frame_equal(histories_by_name(again), histories_by_name(lab))


def test_a_checkpoint_missing_when_a_run_needs_it_is_trained_again_as_it_was(
    lab: rundocs.Runs, lab_dir: Path, tmp_path: Path
) -> None:
    """In a fresh clone the fine-tune's eval changed: it loads the fine-tune's checkpoint, which loads
    the large backbone's; both are trained again, to the same bytes, and nothing else is."""
    runs = tmp_path / "runs"
    shutil.copytree(lab_dir, runs, ignore=shutil.ignore_patterns("checkpoints"))
    evaluation = runs / "finetune--eval_finetune" / "run.json"
    evaluation.write_text(evaluation.read_text().replace('"lab_code": "', '"lab_code": "older-'))
    before = file_states(runs)
    output = run_lab(runs)
    assert "warning" not in output
    after = file_states(runs)
    changed = {path.split("/")[0] for path in after if before.get(path) != after[path]}
    assert changed == {"capacity--large_s0", "finetune--finetune_large_shifted", "finetune--eval_finetune"}
    again = rundocs.load_runs(runs, strict=True)
    assert [c.sha256 for c in again.records["capacity--large_s0"].checkpoints] == [
        c.sha256 for c in lab.records["capacity--large_s0"].checkpoints
    ]
    assert summaries_by_name(again) == summaries_by_name(lab)


def test_fresh_rerun_replaces_every_run_in_place_and_reproduces_it(
    lab: rundocs.Runs, lab_dir: Path, tmp_path: Path
) -> None:
    """In a clean git checkout whose committed runs --fresh deletes first, no run says the code had
    uncommitted changes, and none names the interpreter's path."""
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "config", "user.email", "t@example.invalid")
    git(tmp_path, "config", "user.name", "t")
    runs = tmp_path / "runs"
    shutil.copytree(lab_dir, runs, ignore=shutil.ignore_patterns("checkpoints"))
    (runs / "README.md").write_text("not a run\n")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "runs")
    output = run_lab(Path("runs"), "--fresh", cwd=tmp_path)
    assert "lr-sweep: 9 runs (0 kept, 9 recorded)" in output
    again = rundocs.load_runs(runs, strict=True)
    assert (runs / "README.md").is_file()
    assert set(again.records) - set(lab.records) == {r.id for r in by_phase(again, "search", "train")}
    assert len(again.records) == len(lab.records)
    assert summaries_by_name(again) == summaries_by_name(lab)
    pd.testing.assert_frame_equal(histories_by_name(again), histories_by_name(lab))
    assert {r.env["git"]["dirty"] for r in again.records.values()} == {False}
    commands = {r.env["command"] for r in again.records.values()}
    assert commands == {"python -W error -m demolab --runs runs --quick --fresh"}


def summaries_by_name(runs: rundocs.Runs) -> dict[str, dict[str, float]]:
    return {r.name: r.summary for r in runs.records.values()}


def histories_by_name(runs: rundocs.Runs) -> pd.DataFrame:
    names = runs.runs["name"]
    frame = runs.metrics.assign(name=runs.metrics["run_id"].map(names).astype(str))
    return frame[["name", *_HISTORY]].sort_values(["name", "epoch"]).reset_index(drop=True)
