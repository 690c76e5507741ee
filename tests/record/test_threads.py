"""Threads and the end of a run: the final record stays final, late calls write nothing."""

from __future__ import annotations

import json
import os
import threading
import time
import warnings
from pathlib import Path

import pytest

import rundocs
from rundocs.record.warn import WarnOnce
from rundocs.record.writer import RunWriter
from tests.helpers import RUN_DEFAULTS


def record_of(folder: Path, status: str) -> dict[str, object]:
    """A whole, valid record (the writer refuses records the reader would not accept)."""
    return {**RUN_DEFAULTS, "id": folder.name, "name": folder.name, "status": status}


def race_end_with_a_logging_thread(run: rundocs.Run) -> None:
    started = threading.Event()
    stop = threading.Event()

    def log_until_stopped() -> None:
        epoch = 0
        while not stop.is_set():
            epoch += 1
            run.log(epoch=epoch, loss=1.0)
            started.set()

    logger = threading.Thread(target=log_until_stopped)
    with warnings.catch_warnings():  # log() after end() warns; tested below
        warnings.simplefilter("ignore", rundocs.RecordingWarning)
        logger.start()
        started.wait(10)
        run.end()
        stop.set()
        logger.join(10)


def test_a_heartbeat_racing_end_never_replaces_the_final_record(tmp_path: Path) -> None:
    """A logging thread beats on every call (heartbeat_every=0) while the main thread ends the run."""
    for attempt in range(40):
        run = rundocs.Run(f"race{attempt}", dir=tmp_path, heartbeat_every=0.0)
        race_end_with_a_logging_thread(run)
        assert run.folder is not None
        final = json.loads((run.folder / "run.json").read_text())
        assert final["status"] == "completed", f"attempt {attempt}: a heartbeat replaced the final record"
        assert final["ended_at"] is not None


def test_calls_after_end_warn_once_and_write_nothing(tmp_path: Path) -> None:
    run = rundocs.Run("late", dir=tmp_path)
    run.log(epoch=1, loss=1.0)
    run.end()
    assert run.folder is not None
    files = {path.name: path.read_bytes() for path in run.folder.iterdir()}

    with pytest.warns(rundocs.RecordingWarning) as caught:
        for epoch in range(2, 5):
            run.log(epoch=epoch, loss=0.5)
        run.summary(acc=1.0)
        run.update(tags=["late"])
    assert [str(w.message) for w in caught] == [
        "rundocs: log() after end() does nothing; the line was not recorded",
        "rundocs: summary() after end() does nothing",
        "rundocs: update() after end() does nothing",
    ]
    assert {path.name: path.read_bytes() for path in run.folder.iterdir()} == files


def test_a_line_written_to_the_old_descriptor_after_end_reaches_no_other_file(tmp_path: Path) -> None:
    """A thread that read the metrics descriptor just before end() writes to it just after."""
    run = rundocs.Run("fd", dir=tmp_path)
    run.log(epoch=1, loss=1.0)
    writer = run._writer
    assert writer is not None and writer.fast_fd is not None
    stale = writer.fast_fd
    run.end()
    other = tmp_path / "other.txt"
    with open(other, "wb") as file:  # the lowest free descriptor number, were the old one closed
        os.write(stale, b'{"epoch":2}\n')
        file.flush()
    assert other.read_bytes() == b""
    assert run.folder is not None
    assert len((run.folder / "metrics.jsonl").read_text().splitlines()) == 1


def test_a_record_is_encoded_under_the_lock_so_a_waiting_write_is_never_older(tmp_path: Path) -> None:
    """A write that waits for the lock writes the record as it is when it gets the lock, not
    a copy taken before: otherwise a heartbeat waiting behind end() lands a stale `running`."""
    writer = RunWriter(tmp_path, WarnOnce())
    record = record_of(tmp_path, "running")
    with writer.lock:
        heartbeat = threading.Thread(target=writer.write_record, args=(record,))
        heartbeat.start()
        time.sleep(0.2)  # the heartbeat now waits for the lock
        record["status"] = "completed"
    heartbeat.join(10)
    assert json.loads((tmp_path / "run.json").read_text())["status"] == "completed"


def test_the_writer_writes_nothing_after_finish(tmp_path: Path) -> None:
    writer = RunWriter(tmp_path, WarnOnce())
    writer.append_metrics(b'{"epoch":1}\n')
    writer.finish(record_of(tmp_path, "completed"))
    writer.write_record(record_of(tmp_path, "running"))
    writer.append_metrics(b'{"epoch":2}\n')
    writer.sync()
    assert json.loads((tmp_path / "run.json").read_text())["status"] == "completed"
    assert (tmp_path / "metrics.jsonl").read_bytes() == b'{"epoch":1}\n'
    assert sorted(path.name for path in tmp_path.iterdir()) == ["metrics.jsonl", "run.json"]


def test_every_writer_checks_the_record_against_the_schema(tmp_path: Path) -> None:
    """Writers other than ``Run`` (the Optuna callback) pass through the same schema check."""
    from rundocs.load.records import read_record

    writer = RunWriter(tmp_path, WarnOnce())
    with pytest.warns(rundocs.RecordingWarning, match="summary"):
        writer.write_record({**record_of(tmp_path, "completed"), "summary": {"acc": [0.9, 0.8]}})
    record, _, problems = read_record(tmp_path)
    assert record is not None, problems
    assert record.summary == {} and record.summary_text == {}
