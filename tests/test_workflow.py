"""The GitHub Actions workflow runs the checks the README promises for pull requests."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import yaml

from tests.helpers import write_run

WORKFLOW = Path(__file__).resolve().parents[1] / ".github" / "workflows" / "docs.yml"
ROWS = [{"epoch": e, "loss": 1.0 / e} for e in range(1, 3)]


def test_pull_requests_validate_check_and_summarise() -> None:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    assert "pull_request" in workflow[True]  # YAML 1.1 reads the key `on` as True
    steps = workflow["jobs"]["docs"]["steps"]
    commands = "\n".join(step.get("run", "") for step in steps)
    for needed in ("rundocs validate", "rundocs check", 'rundocs status --since "origin/', "$GITHUB_STEP_SUMMARY"):
        assert needed in commands
    assert steps[0]["with"]["fetch-depth"] == 0


def test_a_pull_request_runs_untrusted_with_a_read_only_token() -> None:
    """docs/security.md: forks' pull requests run on ``pull_request`` with no write access."""
    workflow = yaml.safe_load(WORKFLOW.read_text())
    assert "pull_request_target" not in workflow[True]
    assert workflow["permissions"] == {"contents": "read"}
    checkout = workflow["jobs"]["docs"]["steps"][0]
    assert checkout["with"]["persist-credentials"] is False
    assert "${{" not in "\n".join(step.get("run", "") for step in workflow["jobs"]["docs"]["steps"])


def test_check_judges_a_commit_the_same_however_late_the_job_runs(tmp_path: Path, child_env: dict[str, str]) -> None:
    """A run that was running when its folder was committed reads as running at that commit, not
    as stalled once an hour has passed: the workflow fixes "now" to the last commit that changed
    runs/ or plans/, and docs built as docs/site.md says (with that value) pass ``check`` then."""
    hour_ago = int(time.time()) - 3600
    beat = datetime.fromtimestamp(hour_ago, UTC).isoformat()
    write_run(tmp_path / "runs", "live", ROWS, status="running", started_at=beat, updated_at=beat, ended_at=None)
    git = {**child_env, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t"}
    git["GIT_COMMITTER_EMAIL"] = "t@t"

    def run(*command: str, env: dict[str, str] = git) -> subprocess.CompletedProcess[str]:
        return subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)

    def workflow_env() -> dict[str, str]:
        """The environment the workflow's steps give ``rundocs check``."""
        steps = yaml.safe_load(WORKFLOW.read_text())["jobs"]["docs"]["steps"]
        scripts = [step["run"] for step in steps if "GITHUB_ENV" in step.get("run", "") and "status" not in step["run"]]
        assert scripts, "no step sets SOURCE_DATE_EPOCH"
        env_file = tmp_path.parent / f"{tmp_path.name}.github-env"
        env_file.write_text("")
        for script in scripts:
            assert run("bash", "-e", "-c", script, env={**git, "GITHUB_ENV": str(env_file)}).returncode == 0
        return {**git, **dict(line.split("=", 1) for line in env_file.read_text().splitlines())}

    assert run("git", "init", "-q").returncode == 0
    run("git", "add", "runs")
    committed = {**git, "GIT_COMMITTER_DATE": f"{hour_ago + 60} +0000"}  # a minute after the last heartbeat
    assert run("git", "commit", "-qm", "runs", env=committed).returncode == 0
    at_commit = workflow_env()
    assert at_commit["SOURCE_DATE_EPOCH"] == str(hour_ago + 60)

    assert run(sys.executable, "-m", "rundocs", "build", env=at_commit).returncode == 0
    run("git", "add", "docs")
    assert run("git", "commit", "-qm", "docs").returncode == 0  # now: the docs commit does not move "now"
    assert b"running" in (tmp_path / "docs" / "runs" / "live.md").read_bytes()
    for cache in ([], ["--no-cache"]):
        done = run(sys.executable, "-m", "rundocs", "check", *cache, env=workflow_env())
        assert done.returncode == 0, done.stdout
    wall_clock = run(sys.executable, "-m", "rundocs", "check", "--no-cache")  # what the job judged before
    assert wall_clock.returncode == 1 and "stale: docs/runs/live.md" in wall_clock.stdout
