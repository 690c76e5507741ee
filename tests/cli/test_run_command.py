"""``rundocs run -- CMD``: real commands under the real wrapper, each recorded as a run."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import rundocs
from rundocs.load.records import RunRecord
from tests.conftest import child_environment

_WRAPPER = (sys.executable, "-m", "rundocs", "run", "--runs", "runs")


def _wrap(cwd: Path, *command: str, options: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    argv = [*_WRAPPER, *options, "--", *command]
    return subprocess.run(argv, cwd=cwd, env=child_environment(), capture_output=True, text=True, timeout=60)


def _only_run(cwd: Path) -> tuple[RunRecord, float]:
    """The one run recorded under ``cwd/runs`` (read strictly) and its duration in seconds."""
    runs = rundocs.load_runs(cwd / "runs", strict=True)
    assert len(runs.records) == 1
    (record,) = runs.records.values()
    return record, float(runs.runs.loc[record.id, "duration_s"])


def test_a_command_that_exits_0_is_completed_with_its_options(tmp_path: Path) -> None:
    done = _wrap(
        tmp_path,
        sys.executable,
        "-c",
        "print('hello')",
        options=("--name", "hello", "--phase", "p", "--sweep", "s", "--tag", "a", "--tag", "b", "--epochs", "3"),
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "hello\n"  # the child writes to the wrapper's stdout
    record, duration = _only_run(tmp_path)
    assert (record.status, record.error, duration > 0) == ("completed", None, True)
    assert (record.name, record.phase, record.sweep, record.tags, record.epochs) == ("hello", "p", "s", ("a", "b"), 3)
    assert record.config == {"command": [sys.executable, "-c", "print('hello')"]}
    assert "rundocs run" in record.env["command"]


def test_a_command_that_exits_3_failed_and_the_wrapper_exits_3(tmp_path: Path) -> None:
    done = _wrap(tmp_path, sys.executable, "-c", "raise SystemExit(3)")
    assert done.returncode == 3
    record, duration = _only_run(tmp_path)
    assert record.status == "failed"
    assert record.error is not None and record.error.message == "exit code 3"
    assert duration > 0


def test_sigterm_sent_to_the_wrapper_reaches_the_command_and_reads_interrupted(tmp_path: Path) -> None:
    ready = tmp_path / "ready"
    script = f"import pathlib, time; pathlib.Path({str(ready)!r}).touch(); time.sleep(60)"
    wrapper = subprocess.Popen([*_WRAPPER, "--", sys.executable, "-c", script], cwd=tmp_path, env=child_environment())
    try:
        deadline = time.monotonic() + 30
        while not ready.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ready.exists()
        wrapper.send_signal(signal.SIGTERM)
        # 128 + 15: the child died of the SIGTERM passed on, the wrapper itself exited normally
        assert wrapper.wait(timeout=30) == 128 + signal.SIGTERM
    finally:
        if wrapper.poll() is None:
            wrapper.kill()
            wrapper.wait()
    record, duration = _only_run(tmp_path)
    assert record.status == "interrupted"
    assert record.error is not None and record.error.message == "SIGTERM"
    assert duration > 0


def test_a_run_the_command_opens_is_tagged_with_the_wrappers_run(tmp_path: Path) -> None:
    script = "import rundocs\nwith rundocs.Run('inner', dir='runs', tags=['mine']) as run:\n    run.log(loss=0.5)"
    done = _wrap(tmp_path, sys.executable, "-c", script)
    assert done.returncode == 0, done.stderr
    runs = rundocs.load_runs(tmp_path / "runs", strict=True)
    by_name = {record.name: record for record in runs.records.values()}
    inner = by_name.pop("inner")
    (outer,) = by_name.values()
    assert outer.status == inner.status == "completed"
    assert inner.tags == ("mine", f"parent:{outer.id}")
    assert "parent:" not in " ".join(outer.tags)
    durations = runs.runs["duration_s"]
    assert durations[outer.id] > 0 and durations[inner.id] > 0
