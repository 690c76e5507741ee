"""What a run records about where it ran: stable ids, a command line without this machine's
paths, and a git state that the runs folder itself does not make dirty."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import rundocs
from rundocs.format.schema import load_schema
from rundocs.record.environment import command_line

_ID = load_schema("run")["$defs"]["run_id"]
_ID_PATTERN = re.compile(_ID["pattern"])


def test_a_stable_id_is_the_phase_and_name_when_they_are_id_text() -> None:
    assert rundocs.Run.id_for("lr-sweep", "lr0.01_s0") == "lr-sweep--lr0.01_s0"
    assert rundocs.Run.id_for(None, "baseline") == "baseline"
    assert rundocs.Run.id_for("lr-sweep", "lr0.01_s0") == rundocs.Run.id_for("lr-sweep", "lr0.01_s0")


def test_names_that_clean_to_the_same_text_get_different_stable_ids() -> None:
    pairs = [("p", "exp 1"), ("p", "exp-1"), ("p", "exp/1"), ("a--b", "c"), ("a", "b--c"), (None, "p--exp-1"),
             (None, "index"), ("", "x"), (None, "x")]  # fmt: skip
    ids = [rundocs.Run.id_for(phase, name) for phase, name in pairs]
    assert len(set(ids)) == len(ids), ids
    assert ids[0].startswith("p--exp-1--") and ids[1] == "p--exp-1"
    assert ids[6].startswith("index-run--")


@given(st.one_of(st.none(), st.text(max_size=300)), st.text(max_size=300))
def test_any_phase_and_name_give_a_valid_folder_name(phase: str | None, name: str) -> None:
    run_id = rundocs.Run.id_for(phase, name)
    assert _ID_PATTERN.fullmatch(run_id) and len(run_id) <= _ID["maxLength"], run_id
    assert run_id == rundocs.Run.id_for(phase, name)
    assert "/" not in run_id and not run_id.startswith(".")


def test_a_run_given_its_stable_id_lives_in_that_folder(tmp_path: Path) -> None:
    with rundocs.Run("lr0.1 s0", phase="lr sweep", id=rundocs.Run.id_for("lr sweep", "lr0.1 s0"), dir=tmp_path) as run:
        pass
    assert run.folder == tmp_path / rundocs.Run.id_for("lr sweep", "lr0.1 s0")
    assert rundocs.load_runs(tmp_path, strict=True).records[run.id].warnings == ()


def test_the_command_line_names_no_place_on_this_machine(tmp_dir: Path) -> None:
    here = str(tmp_dir)
    assert command_line(["/opt/venv/bin/python3.11", "-m", "demolab", "--runs", f"{here}/runs"]) == (
        "python -m demolab --runs runs"
    )
    assert command_line(["/usr/bin/python3", f"{here}/train.py", "--data", "/data/set"]) == (
        "python train.py --data /data/set"  # outside the working folder: as given
    )
    script = Path(sys.executable).parent / "rundocs"
    assert command_line([sys.executable, str(script), "run", "--", "ls"]) == "rundocs run -- ls"


def git(repo: Path, *args: str) -> None:
    done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def recorded_git(runs: Path) -> dict[str, object]:
    with rundocs.Run("again", dir=runs) as run:
        pass
    return dict(rundocs.load_runs(runs).records[run.id].env["git"])


@pytest.fixture
def repo(tmp_dir: Path) -> Path:
    """A git checkout with code and a committed runs folder, clean."""
    git(tmp_dir, "init", "-q", "-b", "main")
    git(tmp_dir, "config", "user.email", "t@example.invalid")
    git(tmp_dir, "config", "user.name", "t")
    (tmp_dir / "train.py").write_text("print('train')\n")
    with rundocs.Run("first", id="first", dir=tmp_dir / "runs"):
        pass
    git(tmp_dir, "add", "-A")
    git(tmp_dir, "commit", "-q", "-m", "runs")
    return tmp_dir


def test_deleting_committed_runs_before_recording_again_is_no_uncommitted_change(repo: Path) -> None:
    """What ``python -m demolab --fresh`` does: the committed run folders go, then runs are recorded."""
    shutil.rmtree(repo / "runs" / "first")
    assert recorded_git(repo / "runs")["dirty"] is False
    (repo / "train.py").write_text("print('changed')\n")
    assert recorded_git(repo / "runs")["dirty"] is True


def test_the_runs_folder_is_left_out_from_a_subfolder_too(repo: Path) -> None:
    (repo / "runs" / "first" / "run.json").write_text("{}")
    os.chdir(repo / "runs")
    assert recorded_git(Path("."))["dirty"] is False
    os.chdir(repo)
    assert recorded_git(repo.parent / "elsewhere")["dirty"] is True  # this checkout's runs folder is changed
