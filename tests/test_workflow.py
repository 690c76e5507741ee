"""The GitHub Actions workflow runs the checks the README promises for pull requests."""

from __future__ import annotations

from pathlib import Path

import yaml

WORKFLOW = Path(__file__).resolve().parents[1] / ".github" / "workflows" / "docs.yml"


def test_pull_requests_validate_check_and_summarise() -> None:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    assert "pull_request" in workflow[True]  # YAML 1.1 reads the key `on` as True
    steps = workflow["jobs"]["docs"]["steps"]
    commands = "\n".join(step.get("run", "") for step in steps)
    for needed in ("rundocs validate", "rundocs check", 'rundocs status --since "origin/', "$GITHUB_STEP_SUMMARY"):
        assert needed in commands
    assert steps[0]["with"]["fetch-depth"] == 0
