"""load_runs on folders written by hand, as any language may write them."""

from __future__ import annotations

import json
import math
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import rundocs
from tests.helpers import write_run

ROWS = [{"epoch": e, "time": 10.0 * e, "train_loss": 1.0 / e, "val_acc": 0.1 * e} for e in range(1, 6)]


def test_every_problem_is_listed_and_good_runs_still_load(tmp_path: Path) -> None:
    write_run(tmp_path, "good", ROWS)
    write_run(tmp_path, "typed", ROWS, status="ok", epochs="30")
    write_run(tmp_path, "future", ROWS, format="rundocs.run/2")
    (tmp_path / "empty").mkdir()
    broken = write_run(tmp_path, "broken", ROWS)
    (broken / "run.json").write_text('{\n  "format": "rundocs.run/1",\n  "id": "broken",\n  oops\n}\n')

    loaded = rundocs.load_runs(tmp_path)

    assert list(loaded.records) == ["good"]
    assert [str(p).replace(str(tmp_path), "runs") for p in loaded.problems] == [
        "runs/broken/run.json:4: invalid JSON: unexpected character, expected a string key (column 3)",
        "runs/empty: no run.json: not a run folder, or its run never started",
        "runs/future/run.json: unknown format 'rundocs.run/2': this rundocs reads 'rundocs.run/1'",
        "runs/typed/run.json: field 'epochs': '30' is not of type 'integer', 'null'",
        "runs/typed/run.json: field 'status': 'ok' is not one of ['running', 'completed', 'failed', 'interrupted']",
    ]
    with pytest.raises(rundocs.RunFormatError, match="5 problems in the runs folder") as raised:
        rundocs.load_runs(tmp_path, strict=True)
    assert raised.value.problems == loaded.problems


def test_half_written_last_line_is_skipped_silently(tmp_path: Path) -> None:
    text = "".join(json.dumps(row) + "\n" for row in ROWS) + '{"epoch": 6, "train_lo'
    write_run(tmp_path, "crashed", text, status="running")
    loaded = rundocs.load_runs(tmp_path, strict=True)
    assert loaded.history("crashed")["epoch"].tolist() == [1, 2, 3, 4, 5]


def test_bad_lines_in_the_middle_are_reported_and_the_rest_kept(tmp_path: Path) -> None:
    lines = [json.dumps(row) for row in ROWS]
    lines[1] = '{"epoch": 2, "train_lo'  # a torn write, ended by the writer's next newline
    lines[2] = '{"epoch": 3, "val_acc": "high"}'
    lines[3] = '{"epoch": 4, "val_acc": true}'
    write_run(tmp_path, "messy", "\n".join(lines) + "\n\n")
    loaded = rundocs.load_runs(tmp_path)
    assert loaded.history("messy")["epoch"].tolist() == [1, 5]
    assert [(p.line, p.message) for p in loaded.problems] == [
        (2, "invalid JSON (unexpected end of data); line skipped"),
        (3, "field 'val_acc': expected number or one of 'NaN', 'Infinity', '-Infinity', got 'high'; line skipped"),
        (4, "field 'val_acc': expected number or one of 'NaN', 'Infinity', '-Infinity', got True; line skipped"),
    ]


def test_non_finite_numbers_read_back_as_floats(tmp_path: Path) -> None:
    rows = [{"epoch": 1, "a": "NaN", "b": "Infinity", "c": "-Infinity"}, {"epoch": 2, "a": 1, "b": 2, "c": 3}]
    write_run(tmp_path, "nonfinite", rows, summary={"best": "-Infinity"})
    loaded = rundocs.load_runs(tmp_path, strict=True)
    first = loaded.history("nonfinite").iloc[0]
    assert math.isnan(first["a"]) and first["b"] == math.inf and first["c"] == -math.inf
    assert loaded.records["nonfinite"].summary == {"best": -math.inf}
    assert loaded.runs.loc["nonfinite", "summary.best"] == -math.inf


def test_frames_flatten_config_and_join_histories(tmp_path: Path) -> None:
    write_run(tmp_path, "a", ROWS, config={"optim": {"lr": 0.1, "name": "adam"}, "seed": 1}, phase="p1")
    write_run(
        tmp_path, "b", [{"step": 7, "ood_ssim": 0.5}], config={"optim": {"lr": 0.2}}, kind="eval", evaluates=["a"]
    )
    loaded = rundocs.load_runs(tmp_path, strict=True)
    runs = loaded.runs
    assert runs.index.tolist() == ["a", "b"]
    assert runs["config.optim.lr"].tolist() == [0.1, 0.2]
    assert runs.loc["a", "config.seed"] == 1 and math.isnan(runs.loc["b", "config.seed"])
    assert runs.loc["b", "evaluates"] == ("a",) and runs.loc["a", "last_epoch"] == 5
    assert list(loaded.metrics.columns) == ["run_id", "epoch", "step", "time", "ood_ssim", "train_loss", "val_acc"]
    assert len(loaded.metrics) == 6
    assert loaded.history("b").columns.tolist() == ["run_id", "step", "ood_ssim"]


def test_stalled_threshold_follows_the_runs_own_pace(tmp_path: Path) -> None:
    start = datetime(2026, 1, 1, 10, tzinfo=UTC)
    hourly = [{"epoch": e, "time": 3600.0 * e, "loss": 1.0} for e in range(1, 4)]
    fast = [{"epoch": e, "time": 1.0 * e, "loss": 1.0} for e in range(1, 4)]
    for run_id, rows in (("hourly", hourly), ("fast", fast)):
        write_run(
            tmp_path,
            run_id,
            rows,
            status="running",
            ended_at=None,
            started_at=start.isoformat(),
            updated_at=start.isoformat(),
        )
    three_hours_in = start + timedelta(hours=3)
    states = rundocs.load_runs(tmp_path, now=three_hours_in + timedelta(minutes=20)).runs["state"]
    assert states.to_dict() == {"fast": "stalled", "hourly": "running"}
    states = rundocs.load_runs(tmp_path, now=three_hours_in + timedelta(hours=4)).runs["state"]
    assert states.to_dict() == {"fast": "stalled", "hourly": "stalled"}


def test_reload_reads_changed_folders_and_forgets_deleted_ones(tmp_path: Path) -> None:
    write_run(tmp_path, "a", ROWS)
    write_run(tmp_path, "b", ROWS)
    first = rundocs.load_runs(tmp_path)
    with open(tmp_path / "a" / "metrics.jsonl", "a") as file:
        file.write(json.dumps({"epoch": 6, "train_loss": 0.1}) + "\n")
    for name in ("run.json", "metrics.jsonl"):
        (tmp_path / "b" / name).unlink()
    (tmp_path / "b").rmdir()
    second = rundocs.load_runs(tmp_path)
    assert len(first.metrics) == 10
    assert list(second.records) == ["a"] and second.history("a")["epoch"].tolist() == [1, 2, 3, 4, 5, 6]


def test_notes_are_kept_verbatim(tmp_path: Path) -> None:
    folder = write_run(tmp_path, "noted", ROWS)
    (folder / "notes.md").write_text("Next: try **warmup**.\n<b>raw</b>\n")
    assert rundocs.load_runs(tmp_path).records["noted"].notes == "Next: try **warmup**.\n<b>raw</b>\n"


def test_missing_or_empty_folder_loads_as_no_runs(tmp_path: Path) -> None:
    for path in (tmp_path / "absent", tmp_path):
        loaded = rundocs.load_runs(path, strict=True)
        assert (len(loaded.records), len(loaded.runs), len(loaded.metrics)) == (0, 0, 0)


def test_hidden_entries_are_ignored(tmp_path: Path) -> None:
    write_run(tmp_path, "a", ROWS)
    (tmp_path / ".cache").mkdir()
    (tmp_path / "a" / ".reserve").write_bytes(b"\0" * 10)
    (tmp_path / "README.txt").write_text("not a run")
    assert list(rundocs.load_runs(tmp_path, strict=True).records) == ["a"]


def test_id_is_the_folder_name(tmp_path: Path) -> None:
    write_run(tmp_path, "copy", ROWS, id="original")
    loaded = rundocs.load_runs(tmp_path)
    assert list(loaded.records) == ["copy"]
    assert [p.message for p in loaded.problems] == ["id 'original' differs from its folder; read as 'copy'"]


def test_writes_by_another_process_owner_are_read(tmp_path: Path) -> None:
    """A metrics file without write permission (another user's run on a share) still loads."""
    folder = write_run(tmp_path, "theirs", ROWS)
    os.chmod(folder / "metrics.jsonl", 0o444)
    assert len(rundocs.load_runs(tmp_path, strict=True).metrics) == 5


def test_a_time_that_fits_the_pattern_but_does_not_exist_is_a_problem(tmp_path: Path) -> None:
    write_run(tmp_path, "late", ROWS, started_at="2026-01-01T24:00:00+00:00")
    write_run(tmp_path, "ok", ROWS)
    loaded = rundocs.load_runs(tmp_path)
    assert list(loaded.records) == ["ok"]
    assert [p.message for p in loaded.problems] == [
        "field 'started_at': '2026-01-01T24:00:00+00:00' is not a valid date and time"
    ]
