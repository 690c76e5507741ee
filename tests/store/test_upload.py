"""Recording into a real S3 API: ``Run(dir="s3://...")`` in this process and in many killed or
finished child processes, read back through ``load_runs``."""

from __future__ import annotations

import contextlib
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import s3fs

import rundocs
from rundocs.format.schema import METRICS_FILE
from rundocs.record.warn import RecordingWarning
from rundocs.store import upload
from tests.conftest import child_environment

#: A training loop as a user writes it: the store comes from RUNDOCS_DIR; it prints each line's
#: number once logged, so the test knows how far it got.
LOOP = """
import sys, time, rundocs
lines, pause, heartbeat = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
with rundocs.Run(sys.argv[4], heartbeat_every=heartbeat) as run:
    for step in range(lines):
        run.log(step=step, loss=1.0 / (step + 1))
        print(step + 1, flush=True)
        time.sleep(pause)
"""


def start_loop(store: str, name: str, lines: int, pause: float, heartbeat: float) -> subprocess.Popen[str]:
    env = {**child_environment(), "RUNDOCS_DIR": store}
    command = [sys.executable, "-c", LOOP, str(lines), str(pause), str(heartbeat), name]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_objects(prefix: str, name: str = "") -> None:
    """Until an object whose key ends in ``name`` is stored under ``prefix`` (uploads run in the background)."""
    objects = s3fs.S3FileSystem()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        objects.invalidate_cache()
        if any(key.endswith(name) for key in objects.find(prefix)):
            return
        time.sleep(0.05)
    raise AssertionError(f"no {name or 'object'} under {prefix} after 60 s")


def test_a_run_is_visible_at_its_start_and_complete_at_its_end(store: str, staging: Path, tmp_path: Path) -> None:
    run = rundocs.Run("live", dir=store, heartbeat_every=3600)
    wait_for_objects(f"{store}/{run.id}")
    assert rundocs.load_runs(store, cache_dir=tmp_path / "cache").records[run.id].status == "running"
    for step in range(5):
        run.log(step=step, loss=0.5)
    run.end()

    runs = rundocs.load_runs(store, cache_dir=tmp_path / "cache")
    assert runs.records[run.id].status == "completed"
    assert list(runs.history(run.id)["step"]) == [0, 1, 2, 3, 4]
    assert run.folder is not None and run.folder.parent.parent == staging  # the staging copy stays


def test_many_writer_processes_into_one_prefix(store: str, staging: Path, tmp_path: Path) -> None:
    loops = [start_loop(store, f"worker{n}", lines=20, pause=0.0, heartbeat=0.0) for n in range(4)]
    for loop in loops:
        _, errors = loop.communicate(timeout=120)
        assert (loop.returncode, errors) == (0, "")

    runs = rundocs.load_runs(store, cache_dir=tmp_path / "cache", strict=True)
    assert sorted(record.name for record in runs.records.values()) == [f"worker{n}" for n in range(4)]
    assert {record.status for record in runs.records.values()} == {"completed"}
    assert {len(runs.history(run_id)) for run_id in runs.records} == {20}


def test_a_killed_writer_loses_at_most_about_one_heartbeat(store: str, staging: Path, tmp_path: Path) -> None:
    pause, heartbeat = 0.04, 0.4  # about 10 lines a heartbeat
    loop = start_loop(store, "killed", lines=10_000, pause=pause, heartbeat=heartbeat)
    assert loop.stdout is not None
    logged = int(loop.stdout.readline())
    wait_for_objects(f"{store}/", METRICS_FILE)  # the first uploads also start the store's client
    for _ in range(80):  # eight heartbeats
        logged = int(loop.stdout.readline())
    loop.send_signal(signal.SIGKILL)
    _, errors = loop.communicate(timeout=30)

    runs = rundocs.load_runs(store, cache_dir=tmp_path / "cache", strict=True)  # strict: no torn line
    (record,) = runs.records.values()
    uploaded = len(runs.history(record.id))
    assert record.status == "running"
    # One interval, plus the upload on its way when the process died (up to a second on a loaded
    # machine); without uploads at heartbeats, the 80 lines since the first upload would be lost.
    assert logged - (heartbeat + 1.0) / pause <= uploaded <= logged, errors


@pytest.mark.usefixtures("fresh_store_clients")
def test_a_missing_bucket_warns_once_and_training_goes_on(s3_env: str, staging: Path, tmp_path: Path) -> None:
    with (
        pytest.warns(RecordingWarning) as caught,
        rundocs.Run("orphan", dir="s3://no-such-bucket/runs", heartbeat_every=0) as run,
    ):
        for step in range(50):
            run.log(step=step, loss=1.0)
        time.sleep(0.2)  # a background upload fails meanwhile
        run.log(step=50, loss=1.0)

    messages = [str(w.message) for w in caught if "upload" in str(w.message)]
    assert len(messages) == 1
    assert f"cannot upload run {run.id} to s3://no-such-bucket/runs: " in messages[0]
    assert f"the run is kept in {run.folder}" in messages[0]
    assert run.folder is not None and len((run.folder / "metrics.jsonl").read_text().splitlines()) == 51
    assert rundocs.load_runs(run.folder.parent).records[run.id].status == "completed"


#: A script that leaves its run open: Python's exit, or a signal, ends it.
OPEN_RUN = """
import sys, time, rundocs
run = rundocs.Run("left-open", heartbeat_every=3600)
for step in range(3):
    run.log(step=step, loss=0.5)
print("logged", flush=True)
if sys.argv[1] == "wait":
    time.sleep(60)
"""


@pytest.mark.parametrize(("how", "status"), [("exit", "completed"), ("sigterm", "interrupted")])
def test_the_end_of_a_process_uploads_its_open_run(
    store: str, s3_env: str, staging: Path, tmp_path: Path, how: str, status: str
) -> None:
    # A host name, not an address: the last upload must still resolve it while Python exits.
    env = {**child_environment(), "RUNDOCS_DIR": store, "AWS_ENDPOINT_URL": s3_env.replace("127.0.0.1", "localhost")}
    command = [sys.executable, "-c", OPEN_RUN, "wait" if how == "sigterm" else "exit"]
    with subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as child:
        assert child.stdout is not None and child.stdout.readline() == "logged\n"
        if how == "sigterm":
            child.send_signal(signal.SIGTERM)
        _, errors = child.communicate(timeout=60)
    assert errors == ""

    runs = rundocs.load_runs(store, cache_dir=tmp_path / "cache", strict=True)
    (record,) = runs.records.values()
    assert (record.status, len(runs.history(record.id))) == (status, 3)


def test_optuna_trials_recorded_into_a_store(store: str, staging: Path, tmp_path: Path) -> None:
    optuna = pytest.importorskip("optuna")  # the optuna extra, which CI installs
    from rundocs.optuna import RundocsCallback

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    recorder = RundocsCallback(store, metric="x")
    study = optuna.create_study(study_name="search")
    study.optimize(lambda trial: trial.suggest_float("x", 0, 1), n_trials=2, callbacks=[recorder])  # after each trial
    study.optimize(recorder.track(lambda trial: trial.suggest_float("x", 0, 1)), n_trials=1)  # while it runs

    runs = rundocs.load_runs(store, cache_dir=tmp_path / "cache", strict=True)
    assert sorted(runs.records) == sorted(recorder.run_ids)
    assert {record.sweep for record in runs.records.values()} == {"search"}
    assert len(runs.records) == 3


def test_a_requeued_job_resumes_its_run_from_the_store(store: str, staging: Path, tmp_path: Path) -> None:
    with rundocs.Run(id="resnet-4242", dir=store) as first:
        for step in range(3):
            first.log(step=step, loss=1.0)
    assert first.folder is not None
    started = rundocs.load_runs(store, cache_dir=tmp_path / "cache").records["resnet-4242"].started_at
    shutil.rmtree(first.folder)  # another machine: no staging copy

    with rundocs.Run(id="resnet-4242", dir=store, resume=True) as second:
        for step in range(3, 5):
            second.log(step=step, loss=0.5)

    runs = rundocs.load_runs(store, cache_dir=tmp_path / "cache", strict=True)
    assert list(runs.records) == ["resnet-4242"]
    assert list(runs.history("resnet-4242")["step"]) == [0, 1, 2, 3, 4]
    assert runs.records["resnet-4242"].started_at == started


@pytest.fixture
def silent_endpoint(s3_env: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A store endpoint that accepts connections and never answers (a hung proxy)."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                held.append(listener.accept()[0])

    acceptor = threading.Thread(target=accept, daemon=True)
    acceptor.start()
    endpoint = f"http://127.0.0.1:{listener.getsockname()[1]}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    s3fs.S3FileSystem.clear_instance_cache()
    yield endpoint
    stop.set()
    acceptor.join()
    for connection in [*held, listener]:
        connection.close()
    s3fs.S3FileSystem.clear_instance_cache()


def test_a_store_that_never_answers_delays_the_end_of_a_run_by_a_bounded_time(
    silent_endpoint: str, staging: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(upload, "FINAL_UPLOAD_SECONDS", 1.0)
    run = rundocs.Run("hung", dir="s3://bucket/project/runs", heartbeat_every=0)
    started = time.monotonic()
    for step in range(5):
        run.log(step=step, loss=0.5)
    assert time.monotonic() - started < 1.0  # log never waits for the store
    with pytest.warns(RecordingWarning, match=r"cannot upload run .*no answer within 1 s.*rundocs sync"):
        run.end()
    assert time.monotonic() - started < 10.0
    assert run.folder is not None and len((run.folder / METRICS_FILE).read_text().splitlines()) == 5
