"""``Run(id=...)`` with an id a user or a script got wrong, or one chosen to escape: the run is
recorded inside the runs folder, under an id the reader accepts (so the site shows it), with
one warning, and nothing is created anywhere else."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest

import rundocs
from rundocs.format.schema import load_schema

ID = load_schema("run")["$defs"]["run_id"]


def everything_under(folder: Path) -> set[str]:
    return {path.relative_to(folder).as_posix() for path in folder.rglob("*")}


@pytest.mark.parametrize(
    "given_id",
    [
        "../escaped",
        "../../escaped",
        "ABSOLUTE",  # replaced by an absolute path inside the test's folder
        "my run",
        ".hidden",
        "-dash",
        "<b>",
        "x" * 220,
        "name\n",  # "$" in the id pattern also matches before a final newline
        "a/b",
        "..",
        "\x00",
        "日本",
        "index",  # the experiment log's page is runs/index.md
    ],
)
def test_an_invalid_id_is_replaced_inside_the_runs_folder_with_one_warning(tmp_path: Path, given_id: str) -> None:
    runs = tmp_path / "runs"
    if given_id == "ABSOLUTE":
        given_id = str(tmp_path / "absolute")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with rundocs.Run(id=given_id, dir=runs) as run:
            run.log(epoch=1, loss=0.5)

    (warning,) = [str(w.message) for w in caught if w.category is rundocs.RecordingWarning]
    assert warning.startswith(f"rundocs: id {given_id[:80]!r} is not a valid run id; recorded as ")
    assert run.id is not None and run.folder == runs / run.id
    assert re.fullmatch(ID["pattern"].strip("^$"), run.id) and len(run.id) <= ID["maxLength"]
    assert everything_under(tmp_path) == {
        "runs",
        f"runs/{run.id}",
        f"runs/{run.id}/run.json",
        f"runs/{run.id}/metrics.jsonl",
    }

    loaded = rundocs.load_runs(runs, strict=True)  # the site shows it: nothing left out
    assert list(loaded.records) == [run.id] and loaded.records[run.id].status == "completed"


def test_a_planted_symlink_with_the_runs_id_is_never_written_through(tmp_path: Path) -> None:
    """On a shared runs folder a link may already take the id's name: the run takes a new id."""
    runs, outside = tmp_path / "runs", tmp_path / "outside"
    runs.mkdir()
    outside.mkdir()
    (runs / "taken").symlink_to(outside)
    with (
        pytest.warns(rundocs.RecordingWarning, match="already exists; using a new id"),
        rundocs.Run(id="taken", dir=runs) as run,
    ):
        run.log(epoch=1, loss=0.5)
    assert run.id != "taken" and run.folder == runs / str(run.id)
    assert list(outside.iterdir()) == []


def test_a_runs_folder_path_the_system_refuses_records_nothing_and_raises_nothing(tmp_dir: Path) -> None:
    with (
        pytest.warns(rundocs.RecordingWarning, match="cannot create runs folder .*embedded null byte"),
        rundocs.Run(dir="runs\x00") as run,
    ):
        run.log(epoch=1, loss=0.5)
        run.summary(acc=1.0)
    assert run.folder is None and list(tmp_dir.iterdir()) == []


def test_a_run_folder_named_index_never_replaces_the_experiment_log(tmp_dir: Path) -> None:
    from tests.helpers import write_run

    write_run(tmp_dir / "runs", "index", [{"epoch": 1, "loss": 0.5}], name="planted")
    write_run(tmp_dir / "runs", "real", [{"epoch": 1, "loss": 0.5}], name="real")
    loaded = rundocs.load_runs(tmp_dir / "runs")
    assert list(loaded.records) == ["real"]
    assert any("index" in problem.path for problem in loaded.problems)
