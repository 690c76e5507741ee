"""rundocs status, and --since against a real git repository with two commits."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from tests.helpers import write_run

PLAN = """title: Fine-tune
runs: [{name: ft_a}, {name: ft_b}]
gates:
  - {metric: val_acc, epoch: 1, green: ">= 0.6", amber: ">= 0.5"}
"""


def run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=False)


def git(repo: Path, *args: str) -> None:
    done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def test_status_since_a_ref_names_new_finished_runs_and_verdict_changes(
    tmp_dir: Path, child_env: dict[str, str]
) -> None:
    git(tmp_dir, "init", "-q", "-b", "main")
    git(tmp_dir, "config", "user.email", "t@example.invalid")
    git(tmp_dir, "config", "user.name", "t")
    (tmp_dir / "plans").mkdir()
    (tmp_dir / "plans" / "ft.yaml").write_text(PLAN)
    write_run(tmp_dir / "runs", "a", [{"epoch": 1, "val_acc": 0.55}], name="ft_a", status="running",
              ended_at=None, updated_at=datetime.now(UTC).isoformat())  # fmt: skip
    git(tmp_dir, "add", "-A")
    git(tmp_dir, "commit", "-q", "-m", "first")

    record = json.loads((tmp_dir / "runs" / "a" / "run.json").read_text())
    (tmp_dir / "runs" / "a" / "run.json").write_text(json.dumps({**record, "status": "completed"}))
    write_run(tmp_dir / "runs", "b", [{"epoch": 1, "val_acc": 0.4}], name="ft_b")
    git(tmp_dir, "add", "-A")
    git(tmp_dir, "commit", "-q", "-m", "second")

    rundocs = [sys.executable, "-m", "rundocs", "status"]
    done = run([*rundocs, "--since", "HEAD~1"], tmp_dir, child_env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "## Experiment status",
        "",
        "| Phase | Status | Progress | Verdict | Failures |",
        "|---|---|---|---|---|",
        "| Fine-tune | done | 2/2 | RED |  |",
        "",
        "Runs: 2 (2 completed).",
        "",
        "### Since `HEAD~1`",
        "",
        "- new run ft\\_b",
        "- finished ft\\_a: completed",
        "- Fine-tune: status running → done",
        "- Fine-tune: verdict AMBER → RED",
    ]
    as_json = json.loads(run([*rundocs, "--format", "json", "--since", "HEAD~1"], tmp_dir, child_env).stdout)
    assert as_json["phases"][0]["verdict"] == "red" and as_json["new_runs"] == ["ft_b"]

    missing = run([*rundocs, "--since", "no-such-ref"], tmp_dir, child_env)
    assert (missing.returncode, missing.stderr) == (1, "Error: no commit 'no-such-ref'\n")


def test_status_counts_a_relaunched_attempt_as_the_pages_do(tmp_dir: Path, child_env: dict[str, str]) -> None:
    """A SIGKILLed attempt still says running in its run.json; once relaunched, it is counted relaunched."""
    write_run(tmp_dir / "runs", "killed", [{"epoch": 1, "val_acc": 0.5}], status="running", ended_at=None)
    write_run(tmp_dir / "runs", "again", [{"epoch": 1, "val_acc": 0.6}], restarts="killed",
              started_at="2026-01-01T12:00:00+00:00")  # fmt: skip
    done = run([sys.executable, "-m", "rundocs", "status", "--format", "json"], tmp_dir, child_env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["runs"] == {"relaunched": 1, "completed": 1}


def test_status_since_a_ref_names_removed_runs_with_their_state_at_the_ref(
    tmp_dir: Path, child_env: dict[str, str]
) -> None:
    """A run folder committed at REF and gone now is listed as removed, by name and its state then."""
    git(tmp_dir, "init", "-q", "-b", "main")
    git(tmp_dir, "config", "user.email", "t@example.invalid")
    git(tmp_dir, "config", "user.name", "t")
    write_run(tmp_dir / "runs", "old-a", [{"epoch": 1, "val_acc": 0.5}], name="ft_a", phase="ft")
    write_run(tmp_dir / "runs", "old-b", [{"epoch": 1, "val_acc": 0.4}], name="ft_b", status="failed",
              error={"type": "OSError", "message": "disk full"})  # fmt: skip
    write_run(tmp_dir / "runs", "kept", [{"epoch": 1, "val_acc": 0.6}], name="kept")
    git(tmp_dir, "add", "-A")
    git(tmp_dir, "commit", "-q", "-m", "first")
    shutil.rmtree(tmp_dir / "runs" / "old-a")
    shutil.rmtree(tmp_dir / "runs" / "old-b")
    write_run(tmp_dir / "runs", "ft--ft_a", [{"epoch": 1, "val_acc": 0.5}], name="ft_a", phase="ft")

    rundocs = [sys.executable, "-m", "rundocs", "status", "--since", "HEAD"]
    done = run(rundocs, tmp_dir, child_env)
    assert done.returncode == 0, done.stderr
    since = done.stdout.split("### Since `HEAD`\n\n")[1].splitlines()
    assert since == ["- new run ft\\_a (ft)", "- removed run ft\\_a (ft): completed", "- removed run ft\\_b: failed"]
    as_json = json.loads(run([*rundocs, "--format", "json"], tmp_dir, child_env).stdout)
    assert as_json["removed_runs"] == ["ft_a (ft): completed", "ft_b: failed"]
    assert as_json["new_runs"] == ["ft_a (ft)"]
