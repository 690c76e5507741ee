"""Recording under failure: killed processes, full and read-only disks, many writers at once.

Each scenario runs a real training-like loop in a child process, because what is tested is
what a process leaves on disk when it dies or when its disk fails it.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from datetime import timedelta
from pathlib import Path

import pytest

import rundocs
from tests.mounts import in_private_mount

LOOP = """
import sys, time, rundocs
with rundocs.Run("loop", dir=sys.argv[1], epochs=1000) as run:
    for epoch in range(1, 1001):
        run.log(epoch=epoch, train_loss=1.0 / epoch, val_loss=2.0 / epoch, val_acc=0.001 * epoch)
        if epoch == 50:
            print("ready", flush=True)
        time.sleep(float(sys.argv[2]))
print("loop finished", flush=True)
"""


def start_loop(runs: Path, env: dict[str, str], pause: float = 0.002, **kwargs: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", LOOP, str(runs), str(pause)], env=env, stdout=subprocess.PIPE, text=True, **kwargs
    )


def test_killed_run_keeps_its_metrics_and_reads_as_stalled(tmp_path: Path, child_env: dict[str, str]) -> None:
    with start_loop(tmp_path, child_env) as child:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)

    fresh = rundocs.load_runs(tmp_path, strict=True)
    (run_id,) = fresh.records
    assert fresh.runs.loc[run_id, "state"] == "running"  # silent for less than 10 minutes
    logged = fresh.history(run_id)["epoch"].tolist()
    assert logged[:50] == list(range(1, 51)) and logged == list(range(1, len(logged) + 1))

    later = fresh.runs.loc[run_id, "last_activity"] + timedelta(minutes=11)
    assert rundocs.load_runs(tmp_path, now=later).runs.loc[run_id, "state"] == "stalled"
    assert (
        rundocs.load_runs(tmp_path, now=later, stalled_after=timedelta(hours=1)).runs.loc[run_id, "state"] == "running"
    )


FULL_DISK_LOOP = """
import sys, warnings
import rundocs
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    with rundocs.Run("full", dir=sys.argv[1], epochs=2000) as run:
        for epoch in range(1, 2001):
            run.log(epoch=epoch, train_loss=1.0 / epoch, val_loss=2.0 / epoch)
print("loop finished after", epoch, "epochs;", *[w.message for w in caught])
"""
FILE_SIZE_LIMIT = """
import resource, signal
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (8192, 8192))
"""


@pytest.mark.parametrize("failure", ["tmpfs full (ENOSPC)", "file-size limit (EFBIG)"])
def test_full_disk_warns_once_and_training_goes_on(tmp_path: Path, child_env: dict[str, str], failure: str) -> None:
    runs = tmp_path / "runs"
    runs.mkdir()
    if failure.startswith("tmpfs"):
        kept = tmp_path / "kept"
        command = in_private_mount("size=128k", runs, [sys.executable, "-c", FULL_DISK_LOOP, str(runs)], keep=kept)
        runs = kept
        expected = "No space left on device"
    else:
        command = [sys.executable, "-c", FILE_SIZE_LIMIT + FULL_DISK_LOOP, str(runs)]
        expected = "File too large"
    done = subprocess.run(command, env=child_env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("loop finished after 2000 epochs; rundocs: cannot append to")
    assert done.stdout.count("rundocs:") == 1 and expected in done.stdout

    loaded = rundocs.load_runs(runs, strict=True)
    (record,) = loaded.records.values()
    assert record.status == "completed"
    assert any(expected in w for w in record.warnings)
    epochs = loaded.history(record.id)["epoch"].tolist()
    assert 20 < len(epochs) < 2000 and epochs == list(range(1, len(epochs) + 1))


TRAIN_ON_FULL_DISK = """
import sys, warnings, rundocs
warnings.simplefilter("ignore")
try:
    config = {"lr": 0.1, "notes": "x" * int(sys.argv[3])}
    with rundocs.Run("full", dir=sys.argv[1], heartbeat_every=0, config=config) as run:
        for epoch in range(1, 3001):  # the disk fills early; a heartbeat fails at every line after
            run.log(epoch=epoch, **{f"loss_of_head_{i}": 1.0 / epoch for i in range(8)})  # ~250 bytes
        run.summary(test_acc=0.9)  # fails too: the disk is still full
        if sys.argv[2] == "failed":
            raise RuntimeError("diverged")
except RuntimeError:
    pass
print("loop finished", flush=True)
"""


@pytest.mark.parametrize(
    ("outcome", "config_bytes", "disk"),
    [("completed", 0, "128k"), ("failed", 0, "128k"), ("completed", 100_000, "448k")],  # a record over 64 KiB
)
def test_a_run_that_trained_on_after_the_disk_filled_ends_with_its_summary(
    tmp_path: Path, child_env: dict[str, str], outcome: str, config_bytes: int, disk: str
) -> None:
    """Failed heartbeats and summary writes keep the reserve: only the final record spends it,
    and the reserve grows with the record. A real full file system (a per-file size limit would
    not do: the reserve is space shared with the other files)."""
    runs, kept = tmp_path / "runs", tmp_path / "kept"
    runs.mkdir()
    script = [sys.executable, "-c", TRAIN_ON_FULL_DISK, str(runs), outcome, str(config_bytes)]
    done = subprocess.run(in_private_mount(f"size={disk}", runs, script, keep=kept), env=child_env, check=False)
    assert done.returncode == 0

    loaded = rundocs.load_runs(kept, strict=True)
    (record,) = loaded.records.values()
    assert (record.status, record.summary) == (outcome, {"test_acc": 0.9})
    assert (record.error is not None) == (outcome == "failed")
    assert any("No space left on device" in warning for warning in record.warnings)
    assert 100 < len(loaded.history(record.id)) < 3000
    assert not (kept / record.id / ".reserve").exists()


def test_read_only_folder_warns_and_training_goes_on(tmp_path: Path, child_env: dict[str, str]) -> None:
    script = textwrap.dedent("""
        import sys, warnings, rundocs
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with rundocs.Run("ro", dir=sys.argv[1]) as run:
                for epoch in range(1, 101):
                    run.log(epoch=epoch, loss=1.0)
                run.summary(acc=1.0)
        print("loop finished;", *[w.message for w in caught])
    """)
    runs = tmp_path / "runs"
    runs.mkdir()
    command = in_private_mount("ro", runs, [sys.executable, "-c", script, str(runs)])
    done = subprocess.run(command, env=child_env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("loop finished; rundocs: cannot create run folder")
    assert "Read-only file system" in done.stdout and done.stdout.count("rundocs:") == 1


def test_twenty_processes_write_into_one_folder_at_once(tmp_path: Path, child_env: dict[str, str]) -> None:
    script = textwrap.dedent("""
        import os, sys, time, rundocs
        while not os.path.exists(sys.argv[2]):
            time.sleep(0.001)
        with rundocs.Run(f"worker{sys.argv[3]}", dir=sys.argv[1], sweep="many") as run:
            for step in range(200):
                run.log(step=step, loss=step * 0.5, worker=int(sys.argv[3]))
    """)
    go = tmp_path / "go"
    runs = tmp_path / "runs"
    workers = [
        subprocess.Popen([sys.executable, "-c", script, str(runs), str(go), str(index)], env=child_env)
        for index in range(20)
    ]
    time.sleep(1.0)  # let every interpreter start, so they all begin together
    go.touch()
    assert [worker.wait(timeout=120) for worker in workers] == [0] * 20

    loaded = rundocs.load_runs(runs, strict=True)
    assert sorted(record.name for record in loaded.records.values()) == sorted(f"worker{i}" for i in range(20))
    for run_id, record in loaded.records.items():
        history = loaded.history(run_id)
        assert history["step"].tolist() == list(range(200))
        assert set(history["worker"]) == {int(record.name.removeprefix("worker"))}


def test_reading_while_a_run_writes_never_sees_a_problem(tmp_path: Path, child_env: dict[str, str]) -> None:
    seen = []
    with start_loop(tmp_path, child_env, pause=0.0005) as child:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        try:
            for _ in range(40):
                loaded = rundocs.load_runs(tmp_path, strict=True)
                seen.append(len(loaded.metrics))
        finally:
            child.kill()
    assert seen == sorted(seen) and seen[-1] > seen[0]
