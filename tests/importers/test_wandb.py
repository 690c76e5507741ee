"""``rundocs import wandb``: runs logged with W&B in offline mode become run folders whose pages
state what W&B logged."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from rundocs.importers.imported import import_id
from rundocs.importers.sources import import_source
from rundocs.importers.store import ImportOptions
from tests.conftest import child_environment
from tests.importers.pages import results_row, run_import, run_pages, shown, validate

pytest.importorskip("wandb")

ROOT = Path(__file__).resolve().parents[2]
TRAIN = [(x / 4, 3 * x / 4 + 1) for x in range(8)]
VALIDATION = [(x / 4, 2 * x / 4 + 1) for x in range(8)]


def log_offline_runs(root: str) -> None:
    """In a process of its own (W&B starts a service process that ends with it): a finished
    run, its offline resumption, and a failed run; prints what was logged, as JSON."""
    import wandb

    settings = wandb.Settings(x_disable_stats=True, console="off", disable_git=True, save_code=False)
    seen: dict[str, Any] = {}

    def train(run: Any, epochs: int, lr: float, weights: tuple[float, float] = (0.0, 0.0)) -> tuple[float, float]:
        weight, bias = weights
        for epoch in range(epochs):
            for start in range(0, len(TRAIN), 2):
                batch = TRAIN[start : start + 2]
                errors = [(weight * x + bias - y, x) for x, y in batch]
                loss = sum(error**2 for error, _ in errors) / len(batch)
                if loss > 1e6:
                    raise FloatingPointError(f"loss exploded in epoch {epoch}")
                weight -= lr * sum(2 * error * x for error, x in errors) / len(batch)
                bias -= lr * sum(2 * error for error, _ in errors) / len(batch)
                run.log({"train_loss": loss, "epoch": epoch})
            val_loss = sum((weight * x + bias - y) ** 2 for x, y in VALIDATION) / len(VALIDATION)
            run.log({"val_loss": val_loss, "epoch": epoch, "model": {"weight": weight, "bias": bias}})
            seen.setdefault(run.name, []).append(val_loss)
        run.log({"weights": wandb.Histogram([weight, bias])})
        return weight, bias

    config = {"lr": 0.05, "batch_size": 2, "optimizer": {"name": "sgd", "momentum": 0.0}}
    common = {"mode": "offline", "dir": root, "project": "regression", "settings": settings}
    run = wandb.init(name="baseline", config=config, tags=["baseline"], group="lr", job_type="train", **common)
    weights = train(run, epochs=6, lr=0.05)
    run.summary["val_loss"] = min(seen["baseline"])
    run.summary["test_loss"] = 0.5
    seen["start"] = {run.name: run.start_time}
    run.finish()
    resumed = wandb.init(id=run.id, resume="allow", **common)
    train(resumed, epochs=1, lr=0.05, weights=weights)
    resumed.finish()
    failed = wandb.init(name="too-fast", config={**config, "lr": 2.0}, job_type="search", **common)
    try:
        train(failed, epochs=20, lr=2.0)
    except FloatingPointError:
        failed.finish(exit_code=1)
    print(json.dumps(seen))


@pytest.fixture(scope="module")
def offline(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """A ``wandb/`` folder of three offline runs, and what they logged."""
    root = tmp_path_factory.mktemp("wandb")
    env = child_environment()
    env.update({"WANDB_MODE": "offline", "WANDB_SILENT": "true", "WANDB_DISABLE_GIT": "true"})
    env.update({f"WANDB_{name}_DIR": str(root / name.lower()) for name in ("CONFIG", "CACHE", "DATA", "ARTIFACT")})
    code = f"from tests.importers.test_wandb import log_offline_runs; log_offline_runs({str(root)!r})"
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return root / "wandb", json.loads(done.stdout.splitlines()[-1])


def folders(wandb_dir: Path) -> list[str]:
    """The run folders, oldest first (their names start with the time)."""
    return sorted(path.name for path in wandb_dir.glob("offline-run-*"))


def test_offline_runs_are_imported_as_wandb_logged_them(offline: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    wandb_dir, seen = offline
    before = {path: path.read_bytes() for path in wandb_dir.rglob("*") if path.is_file()}
    runs = tmp_path / "runs"
    output = run_import("wandb", wandb_dir.parent, "--runs", runs, "--metric", "val_loss", "--goal", "min")
    assert "imported 3 wandb runs into" in output and "(3 written)" in output
    assert "'weights' holds W&B histogram values, which are not imported" in output
    assert {path: path.read_bytes() for path in wandb_dir.rglob("*") if path.is_file()} == before
    validate(runs)
    baseline, resumed, failed = (import_id("wandb", name) for name in folders(wandb_dir))
    records = {run_id: json.loads((runs / run_id / "run.json").read_text()) for run_id in (baseline, resumed, failed)}
    assert [(r["name"], r["status"], r["kind"], r["sweep"]) for r in records.values()] == [
        ("baseline", "completed", "train", "regression"),
        ("baseline", "completed", "train", "regression"),
        ("too-fast", "failed", "train", "regression"),
    ]
    first = records[baseline]
    assert first["config"] == {"lr": 0.05, "batch_size": 2, "optimizer": {"name": "sgd", "momentum": 0.0}}
    assert {"baseline", "group:lr", "imported:wandb", "goal:min"} <= set(first["tags"])
    assert "job_type:search" in records[failed]["tags"]
    assert first["summary"] == {"val_loss": min(seen["baseline"][:6]), "test_loss": 0.5}
    assert first["started_at"] == iso(seen["start"]["baseline"])

    lines = [json.loads(line) for line in (runs / baseline / "metrics.jsonl").read_text().splitlines()]
    assert [line["step"] for line in lines] == list(range(6 * 5))  # the histogram's step has no numbers
    assert [line["val_loss"] for line in lines if "val_loss" in line] == seen["baseline"][:6]
    assert all(line["epoch"] == index // 5 for index, line in enumerate(lines))
    assert 0 <= lines[0]["time"] <= lines[-1]["time"] and "model.weight" in lines[4]
    values = seen["baseline"][:6]
    page = run_pages(runs)[baseline]
    assert results_row(page, "val_loss")[:2] == [shown(min(values)), str(values.index(min(values)))]
    resumed_lines = (runs / resumed / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["step"] for line in resumed_lines] == list(range(5))


def test_importing_again_changes_nothing_and_a_growing_log_adds_its_new_lines(
    offline: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    wandb_dir, _ = offline
    folder = tmp_path / "wandb" / folders(wandb_dir)[0]
    shutil.copytree(wandb_dir / folder.name, folder)
    [log] = folder.glob("run-*.wandb")
    whole = log.read_bytes()
    log.write_bytes(whole[: len(whole) // 2])  # the log as a run that is still writing leaves it
    runs, run_id = tmp_path / "runs", import_id("wandb", folder.name)

    report = import_source("wandb", str(folder), runs, ImportOptions())
    assert report.written == [run_id] and not report.warnings
    record = json.loads((runs / run_id / "run.json").read_text())
    assert record["status"] == "running" and record["ended_at"] is None
    half = (runs / run_id / "metrics.jsonl").read_bytes()
    assert import_source("wandb", str(folder.parent), runs, ImportOptions()).unchanged == [run_id]
    assert (runs / run_id / "metrics.jsonl").read_bytes() == half

    log.write_bytes(whole)
    assert import_source("wandb", str(folder), runs, ImportOptions()).written == [run_id]
    lines = (runs / run_id / "metrics.jsonl").read_bytes()
    assert lines.startswith(half) and len(lines.splitlines()) == 30
    assert json.loads((runs / run_id / "run.json").read_text())["status"] == "completed"


def test_a_damaged_log_keeps_what_came_before_and_what_is_no_run_is_named(
    offline: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    wandb_dir, _ = offline
    for name in folders(wandb_dir)[:2]:
        shutil.copytree(wandb_dir / name, tmp_path / "wandb" / name)
    damaged, garbage = (next((tmp_path / "wandb" / name).glob("run-*.wandb")) for name in folders(wandb_dir)[:2])
    data = bytearray(damaged.read_bytes())
    data[len(data) // 2] ^= 0xFF
    damaged.write_bytes(bytes(data))
    garbage.write_bytes(b"PK\x03\x04" + bytes(100))

    report = import_source("wandb", str(tmp_path), tmp_path / "runs", ImportOptions())
    [run_id] = report.written
    [warning] = report.warnings[run_id]
    assert "a checksum does not match; the records after it are not read" in warning
    assert 0 < len((tmp_path / "runs" / run_id / "metrics.jsonl").read_text().splitlines()) < 30
    [unmapped] = report.unmapped
    assert unmapped.why == "not a W&B run log (its first bytes are not the W&B log header, version 0)"
    for location, why in ((tmp_path / "none", "no such file or folder"), (tmp_path / "runs", "no W&B run here")):
        [item] = import_source("wandb", str(location), tmp_path / "other", ImportOptions()).unmapped
        assert item.why.startswith(why)


def iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="milliseconds")
