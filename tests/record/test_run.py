"""The Run API inside a training loop: what ends up on disk and how it loads back."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import tempfile
import textwrap
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rundocs
from rundocs.record.environment import make_run_id


def test_round_trip_keeps_every_value_including_non_finite(tmp_path: Path) -> None:
    values = [(1, 0.9, 1.2), (2, float("nan"), float("inf")), (3, -math.inf, 1e-300)]
    with rundocs.Run("lr3e-4_s1", phase="lr-sweep", sweep="lr", config={"lr": 3e-4}, epochs=3, dir=tmp_path) as run:
        for epoch, train_loss, val_loss in values:
            run.log(epoch=epoch, train_loss=train_loss, val_loss=val_loss)
        run.summary(test_acc=0.5, worst=float("-inf"))

    loaded = rundocs.load_runs(tmp_path, strict=True)
    history = loaded.history(run.id)
    assert history["epoch"].tolist() == [1, 2, 3]
    np.testing.assert_array_equal(history["train_loss"], [0.9, math.nan, -math.inf])
    np.testing.assert_array_equal(history["val_loss"], [1.2, math.inf, 1e-300])
    record = loaded.records[run.id]
    assert record.summary == {"test_acc": 0.5, "worst": -math.inf}
    assert (record.name, record.phase, record.sweep, record.epochs) == ("lr3e-4_s1", "lr-sweep", "lr", 3)
    assert record.config == {"lr": 3e-4}
    assert loaded.runs.loc[run.id, "state"] == "completed"


def test_files_are_strict_json_for_every_reader(tmp_path: Path) -> None:
    with rundocs.Run("nan", dir=tmp_path) as run:
        run.log(epoch=1, loss=float("nan"))
        run.summary(best=float("inf"))

    def refuse(token: str) -> None:
        raise ValueError(f"non-strict JSON token {token}")

    lines = (run.folder / "metrics.jsonl").read_text().splitlines()
    assert json.loads(lines[0], parse_constant=refuse)["loss"] == "NaN"
    record = json.loads((run.folder / "run.json").read_text(), parse_constant=refuse)
    assert record["summary"] == {"best": "Infinity"}


def test_exception_marks_failed_with_traceback_and_is_reraised(tmp_path: Path) -> None:
    with pytest.raises(OSError, match="No space left"), rundocs.Run("boom", dir=tmp_path, epochs=30) as run:
        run.log(epoch=20, val_loss=1.0)
        raise OSError(28, "No space left on device")

    record = rundocs.load_runs(tmp_path).records[run.id]
    assert record.status == "failed"
    assert record.error is not None
    assert record.error.type == "OSError"
    assert record.error.message == "[Errno 28] No space left on device"
    assert "raise OSError(28" in (record.error.traceback or "")
    assert record.ended_at is not None


def test_keyboard_interrupt_marks_interrupted(tmp_path: Path) -> None:
    with pytest.raises(KeyboardInterrupt), rundocs.Run("ctrl-c", dir=tmp_path) as run:
        raise KeyboardInterrupt

    assert rundocs.load_runs(tmp_path).records[run.id].status == "interrupted"


def test_run_without_context_manager_is_ended_at_exit(tmp_path: Path, child_env: dict[str, str]) -> None:
    script = """
        import sys, rundocs
        run = rundocs.Run("plain", dir=sys.argv[1])
        run.log(epoch=1, loss=0.5)
        if sys.argv[2] == "raise":
            raise RuntimeError("diverged")
    """
    for mode, status in (("ok", "completed"), ("raise", "failed")):
        runs = tmp_path / mode
        subprocess.run([sys.executable, "-c", textwrap.dedent(script), str(runs), mode], env=child_env, check=False)
        (record,) = rundocs.load_runs(runs).records.values()
        assert record.status == status
    assert record.error is not None and record.error.message == "diverged"


def test_config_from_nested_dataclass_is_recorded_as_objects(tmp_path: Path) -> None:
    @dataclass
    class Optim:
        lr: float = 1e-3
        betas: tuple[float, float] = (0.9, 0.999)

    @dataclass
    class Config:
        optim: Optim
        path: Path = Path("data/train")

    with rundocs.Run("dc", config=Config(Optim()), dir=tmp_path) as run:
        pass

    loaded = rundocs.load_runs(tmp_path, strict=True)
    assert loaded.records[run.id].config == {"optim": {"lr": 1e-3, "betas": [0.9, 0.999]}, "path": "data/train"}
    assert loaded.runs.loc[run.id, "config.optim.lr"] == 1e-3


def test_bad_values_warn_once_and_the_rest_is_kept(tmp_path: Path) -> None:
    with pytest.warns(rundocs.RecordingWarning) as caught, rundocs.Run("bad", dir=tmp_path) as run:
        for epoch in range(1, 4):
            run.log(epoch=epoch, loss=0.1 * epoch, note="fine", acc=np.float32(0.5), flag=True)
        run.log(epoch=-1, loss=9.0)

    messages = [str(w.message) for w in caught]
    assert sum("'note'" in m for m in messages) == 1
    assert sum("epoch must be a non-negative integer" in m for m in messages) == 1
    loaded = rundocs.load_runs(tmp_path, strict=True)
    history = loaded.history(run.id)
    np.testing.assert_allclose(history["loss"], [0.1, 0.2, 0.3, 9.0])
    assert history["acc"].tolist()[:3] == [0.5, 0.5, 0.5]
    assert history["flag"].tolist()[:3] == [1, 1, 1]
    assert "note" not in history.columns
    assert any("'note'" in w for w in loaded.records[run.id].warnings)


def test_heartbeat_refreshes_updated_at_while_logging(tmp_path: Path) -> None:
    run = rundocs.Run("beat", dir=tmp_path, heartbeat_every=0.0)
    first = json.loads((run.folder / "run.json").read_text())["updated_at"]
    run.log(epoch=1, loss=1.0)
    import time

    time.sleep(0.01)
    run.log(epoch=2, loss=1.0)
    beat = json.loads((run.folder / "run.json").read_text())
    assert beat["status"] == "running"
    assert beat["updated_at"] > first
    run.end()


def test_ids_sort_by_time_and_carry_the_slurm_job(monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import datetime

    monkeypatch.setenv("SLURM_JOB_ID", "4242")
    run_id = make_run_id(datetime(2025, 12, 3, 10, 15, tzinfo=UTC))
    assert run_id.startswith("20251203_101500_j4242_")
    monkeypatch.setenv("SLURM_ARRAY_JOB_ID", "4240")
    monkeypatch.setenv("SLURM_ARRAY_TASK_ID", "3")
    assert make_run_id(datetime(2025, 12, 3, 10, 15, tzinfo=UTC)).startswith("20251203_101500_j4240a3_")


def test_environment_is_captured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLURM_JOB_ID", "777")
    monkeypatch.setenv("SLURM_ARRAY_TASK_ID", "5")
    with rundocs.Run("env", dir=tmp_path) as run:
        pass
    env = rundocs.load_runs(tmp_path).records[run.id].env
    assert env["slurm"] == {"job_id": "777", "array_task_id": "5"}
    assert env["python"] == ".".join(map(str, sys.version_info[:3]))
    # as typed: `python -m pytest ...`, or `pytest ...` from an installed script (nox); no interpreter path
    assert env["host"] and env["command"].split()[0] in ("python", "pytest")
    assert sys.executable not in env["command"] and "cwd" not in env
    assert env["git"] is None or len(env["git"]["commit"]) == 40


def test_non_zero_rank_records_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RANK", "1")
    with rundocs.Run("ddp", dir=tmp_path) as run:
        run.log(epoch=1, loss=1.0)
        run.summary(acc=1.0)
    assert (run.active, run.id, run.folder) == (False, None, None)
    assert not tmp_path.exists() or not any(tmp_path.iterdir())


def test_restart_links_to_the_run_it_relaunches(tmp_path: Path) -> None:
    with pytest.raises(OSError, match="No space"), rundocs.Run("r1", dir=tmp_path) as first:
        raise OSError(28, "No space left on device")
    with rundocs.Run("r2", dir=tmp_path, restarts=first.id) as second:
        pass
    loaded = rundocs.load_runs(tmp_path)
    assert loaded.records[second.id].restarts == first.id
    assert loaded.runs.loc[second.id, "restarts"] == first.id


def test_taken_id_gets_a_fresh_one_and_nothing_is_overwritten(tmp_path: Path) -> None:
    (tmp_path / "fixed").mkdir()
    (tmp_path / "fixed" / "keep.txt").write_text("mine")
    with pytest.warns(rundocs.RecordingWarning, match="already exists"), rundocs.Run(id="fixed", dir=tmp_path) as run:
        pass
    assert run.id != "fixed"
    assert (tmp_path / "fixed" / "keep.txt").read_text() == "mine"


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.text(min_size=1, max_size=8).filter(lambda k: k.strip() and k not in ("time", "epoch", "step")),
        st.one_of(st.floats(), st.integers(-(10**30), 10**30), st.booleans()),
        max_size=6,
    )
)
def test_every_logged_line_is_strict_json_that_reads_back_exactly(metrics: dict[str, Any]) -> None:
    """The line encoder is hand-written for speed; it must agree with a JSON parser on anything."""
    with tempfile.TemporaryDirectory() as scratch, rundocs.Run("p", dir=scratch) as run:
        run.log(epoch=1, **metrics)
        line = (run.folder / "metrics.jsonl").read_text()

    def refuse(token: str) -> None:
        raise ValueError(token)

    parsed = json.loads(line, parse_constant=refuse)
    assert parsed.pop("epoch") == 1 and isinstance(parsed.pop("time"), float)
    expected = {k: int(v) if isinstance(v, bool) else v for k, v in metrics.items()}
    for key, value in expected.items():
        if isinstance(value, float) and not math.isfinite(value):
            assert parsed[key] == {math.inf: "Infinity", -math.inf: "-Infinity"}.get(value, "NaN")
        else:
            assert parsed[key] == value and type(parsed[key]) is type(value)
    assert set(parsed) == set(expected)


def test_current_run_is_the_run_this_process_opened_last_and_has_not_ended(tmp_path: Path) -> None:
    assert rundocs.current_run() is None
    first = rundocs.Run(dir=tmp_path, id="first")
    assert rundocs.current_run() is first
    with rundocs.Run(dir=tmp_path, id="second") as second:
        assert rundocs.current_run() is second
    assert rundocs.current_run() is first
    first.end()
    assert rundocs.current_run() is None
