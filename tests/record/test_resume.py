"""``Run(id=..., resume=True)`` continues a requeued job's run; ``started_at``/``time``/``ended_at``
replay a past run with its own clock (what importers need)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import rundocs
from rundocs.load.runs import load_runs

# A training script as a SLURM job runs it: the run id comes from the job, a requeue runs the
# same script again, which resumes the checkpointed epoch and the same run folder.
JOB = textwrap.dedent(
    """
    import json, os, sys, time
    import rundocs

    def main():
        ckpt = os.path.join(sys.argv[1], "ckpt.json")
        start = json.load(open(ckpt))["epoch"] + 1 if os.path.exists(ckpt) else 0
        run = rundocs.Run(id="job-4242", resume=True, dir=sys.argv[1] + "/runs", config={"lr": 0.1}, epochs=6)
        for epoch in range(start, 6):
            run.log(epoch=epoch, loss=1.0 / (epoch + 1))
            json.dump({"epoch": epoch}, open(ckpt, "w"))
            print("epoch", epoch, flush=True)
            if epoch == 2 and start == 0:
                time.sleep(60)  # preempted here

    main()
    """
)


def test_a_requeued_job_resumes_its_run_with_the_time_axis_going_on(tmp_path: Path) -> None:
    script = tmp_path / "job.py"
    script.write_text(JOB)
    with subprocess.Popen([sys.executable, str(script), str(tmp_path)], stdout=subprocess.PIPE, text=True) as first:
        assert first.stdout is not None
        while first.stdout.readline().strip() != "epoch 2":
            pass
        first.send_signal(signal.SIGTERM)  # what SLURM sends before a requeue
        first.wait(timeout=30)
    interrupted = json.loads((tmp_path / "runs/job-4242/run.json").read_text())
    assert interrupted["status"] == "interrupted"
    time.sleep(0.2)

    subprocess.run([sys.executable, str(script), str(tmp_path)], check=True, capture_output=True, timeout=60)

    runs = load_runs(tmp_path / "runs", strict=True)
    assert list(runs.records) == ["job-4242"]  # one run, not two
    record = runs.records["job-4242"]
    assert record.status == "completed" and record.error is None
    assert record.started_at.isoformat(timespec="milliseconds") == datetime.fromisoformat(
        interrupted["started_at"]
    ).isoformat(timespec="milliseconds")
    history = runs.history("job-4242")
    assert history["epoch"].tolist() == [0, 1, 2, 3, 4, 5]
    times = history["time"].tolist()
    assert times == sorted(times) and times[3] >= times[2] + 0.2  # counted from the first start
    assert record.config == {"lr": 0.1}


def test_a_run_folder_that_cannot_be_read_is_not_resumed(tmp_path: Path) -> None:
    (tmp_path / "job").mkdir()
    (tmp_path / "job" / "run.json").write_text("{not json")
    with pytest.warns(rundocs.RecordingWarning) as caught:
        run = rundocs.Run(id="job", resume=True, dir=tmp_path)
    run.end()
    assert any("cannot resume" in str(warning.message) and "invalid JSON" in str(warning.message) for warning in caught)
    assert run.id != "job" and (tmp_path / "job" / "run.json").read_text() == "{not json"


def test_resume_without_an_id_warns_that_it_cannot_resume(tmp_path: Path) -> None:
    with pytest.warns(rundocs.RecordingWarning, match="resume=True needs a fixed id"):
        run = rundocs.Run("x", resume=True, dir=tmp_path)
    run.end()


def test_resume_without_a_folder_starts_the_run(tmp_path: Path) -> None:
    run = rundocs.Run(id="fresh", resume=True, dir=tmp_path)
    run.log(epoch=0, loss=1.0)
    run.end()
    assert load_runs(tmp_path, strict=True).records["fresh"].status == "completed"


def test_a_resumed_run_whose_last_line_was_cut_keeps_every_whole_line(tmp_path: Path) -> None:
    run = rundocs.Run(id="cut", dir=tmp_path)
    run.log(epoch=0, loss=1.0)
    run.end("interrupted")
    with open(tmp_path / "cut" / "metrics.jsonl", "ab") as file:
        file.write(b'{"epoch":1,"lo')  # the process died inside a write
    with pytest.warns(rundocs.RecordingWarning, match="removed the half-written line"):
        resumed = rundocs.Run(id="cut", resume=True, dir=tmp_path)
        resumed.log(epoch=1, loss=0.5)
    resumed.end()
    runs = load_runs(tmp_path, strict=True)  # no problem left for the reader
    assert runs.history("cut")["loss"].tolist() == [1.0, 0.5]
    assert any("half-written line" in warning for warning in runs.records["cut"].warnings)


def test_a_replayed_run_keeps_the_times_it_is_given(tmp_path: Path) -> None:
    start = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    run = rundocs.Run(id="old", dir=tmp_path, started_at=start.isoformat())
    run.log(epoch=0, time=30, loss=1.0)
    run.log(epoch=1, time=start + timedelta(minutes=2), loss=0.5)
    run.end(ended_at=start.timestamp() + 150)
    runs = load_runs(tmp_path, strict=True)
    record = runs.records["old"]
    assert (record.started_at, record.ended_at) == (start, start + timedelta(seconds=150))
    assert record.updated_at == record.ended_at
    assert runs.history("old")["time"].tolist() == [30.0, 120.0]


def test_a_running_replay_is_as_fresh_as_its_latest_line(tmp_path: Path) -> None:
    start = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    run = rundocs.Run(id="live", dir=tmp_path, started_at=start)
    run.log(step=5, time=600, loss=1.0)
    record = json.loads((tmp_path / "live" / "run.json").read_text())
    assert record["updated_at"] == "2025-03-01T12:00:00.000+00:00"  # written before the line
    run.summary(best=1.0)
    record = json.loads((tmp_path / "live" / "run.json").read_text())
    assert record["updated_at"] == "2025-03-01T12:10:00.000+00:00"
    run.end()


@pytest.mark.parametrize("moment", ["yesterday", float("nan"), datetime(1900, 1, 1, tzinfo=UTC), object()])
def test_a_moment_that_is_not_one_warns_and_the_clock_is_used(tmp_path: Path, moment: object) -> None:
    with pytest.warns(rundocs.RecordingWarning, match="started_at must be"):
        run = rundocs.Run(id="bad", dir=tmp_path, started_at=moment)  # type: ignore[arg-type]
    run.end()
    record = load_runs(tmp_path, strict=True).records["bad"]
    assert abs((record.started_at - datetime.now(UTC)).total_seconds()) < 60


def test_a_resumed_record_without_optional_fields_records_on(tmp_path: Path) -> None:
    """A valid run.json written by another language may hold only the required fields."""
    (tmp_path / "min").mkdir()
    (tmp_path / "min" / "run.json").write_text(
        json.dumps(
            {
                "format": "rundocs.run/1",
                "id": "min",
                "name": "min",
                "kind": "train",
                "status": "interrupted",
                "started_at": "2026-01-01T00:00:00+00:00",
                "updated_at": "2026-01-01T00:00:00+00:00",
            }
        )
    )
    run = rundocs.Run(id="min", resume=True, dir=tmp_path)
    run.log(epoch=0, loss=1.0)
    run.summary(acc=0.5)
    run.update(config={"lr": 0.1})
    run.end()
    record = load_runs(tmp_path, strict=True).records["min"]
    assert (record.status, record.summary, record.config) == ("completed", {"acc": 0.5}, {"lr": 0.1})


def test_a_symlinked_run_folder_is_not_resumed(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    with rundocs.Run(id="target", dir=elsewhere):
        pass
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "job").symlink_to(elsewhere / "target")
    with pytest.warns(rundocs.RecordingWarning) as caught:
        run = rundocs.Run(id="job", resume=True, dir=tmp_path / "runs")
    run.end()
    assert any("a symlink" in str(warning.message) for warning in caught)
    assert run.folder is not None and not run.folder.is_symlink()
    assert not (elsewhere / "target" / "metrics.jsonl").exists()


def test_an_end_before_the_start_is_refused(tmp_path: Path) -> None:
    run = rundocs.Run(id="r", dir=tmp_path, started_at="2025-01-01T00:00:00+00:00")
    with pytest.warns(rundocs.RecordingWarning, match="before the start"):
        run.end(ended_at="2000-01-01T00:00:00+00:00")
    record = load_runs(tmp_path, strict=True).records["r"]
    assert record.ended_at is not None and record.ended_at > record.started_at
