"""Sweep pages, the sweeps index and the home page state the sweep's best run, in the direction
the user, the plan, the study or the metric's name gives (in that order)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

from tests.helpers import write_run
from tests.integration.test_plugin import make_project


def rundocs(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rundocs", *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )


def score_runs(runs: Path, values: dict[str, float], **fields: object) -> None:
    """One run per value, logging ``val_score`` (a name with no direction) over two epochs."""
    for minute, (run_id, value) in enumerate(values.items()):
        rows = [{"epoch": 1, "val_score": 0.5}, {"epoch": 2, "val_score": value}]
        started = f"2026-01-01T10:{minute:02d}:00+00:00"
        write_run(runs, run_id, rows, sweep="s", config={"lr": minute}, started_at=started, **fields)


def test_the_best_run_line_and_the_index_read_the_best_run(tmp_dir: Path, child_env: dict[str, str]) -> None:
    rows = [{"epoch": 1, "val_loss": 0.5}]
    write_run(tmp_dir / "runs", "a", rows, sweep="s", config={"lr": 1}, started_at="2026-01-01T10:00:00+00:00")
    write_run(tmp_dir / "runs", "b", [], sweep="s", config={"lr": 2}, summary={"val_loss": "NaN"},
              started_at="2026-01-01T10:01:00+00:00")  # fmt: skip
    write_run(tmp_dir / "runs", "c", [{"epoch": 1, "val_loss": 0.1}], sweep="s", config={"lr": 3},
              started_at="2026-01-01T10:02:00+00:00")  # fmt: skip
    assert rundocs("build", cwd=tmp_dir, env=child_env).returncode == 0
    page = (tmp_dir / "docs" / "sweeps" / "s.md").read_text()
    assert "Best run: [c](../runs/c.md), val\\_loss = 0.1 at epoch 1." in page
    index = (tmp_dir / "docs" / "sweeps" / "index.md").read_text()
    assert "| [c](../runs/c.md) | 0.1 |" in index
    home = (tmp_dir / "docs" / "index.md").read_text()
    assert "| [c](runs/c.md) | val\\_loss = 0.1 |" in home


def test_direction_flag_reaches_sweep_pages(tmp_dir: Path, child_env: dict[str, str]) -> None:
    score_runs(tmp_dir / "runs", {"low": 0.1, "high": 0.9})
    done = rundocs("build", "--direction", "val_score=max", cwd=tmp_dir, env=child_env)
    assert done.returncode == 0, done.stderr
    page = (tmp_dir / "docs" / "sweeps" / "s.md").read_text()
    assert "(higher is better)" in page and "nothing says" not in page
    assert "Best run: [high](../runs/high.md), val\\_score = 0.9 at epoch 2." in page
    assert (
        "| val\\_score (max) | lr | [high](../runs/high.md) | 0.9 |" in (tmp_dir / "docs/sweeps/index.md").read_text()
    )
    assert rundocs("check", "--no-cache", "--direction", "val_score=max", cwd=tmp_dir, env=child_env).returncode == 0

    assert rundocs("build", cwd=tmp_dir, env=child_env).returncode == 0
    page = (tmp_dir / "docs" / "sweeps" / "s.md").read_text()
    assert "nothing says whether lower or higher val\\_score is better" in page  # and says how to tell it


def test_the_flag_wins_over_the_plan(tmp_dir: Path, child_env: dict[str, str]) -> None:
    score_runs(tmp_dir / "runs", {"low": 0.1, "high": 0.9}, phase="p")
    plan = {"title": "P", "sweep": {"metric": "val_score", "goal": "min"}}
    (tmp_dir / "plans").mkdir()
    (tmp_dir / "plans" / "p.yaml").write_text(yaml.safe_dump(plan))
    assert rundocs("build", cwd=tmp_dir, env=child_env).returncode == 0
    assert "Best run: [low](../runs/low.md)" in (tmp_dir / "docs" / "sweeps" / "s.md").read_text()
    assert rundocs("build", "--direction", "val_score=max", cwd=tmp_dir, env=child_env).returncode == 0
    assert "Best run: [high](../runs/high.md)" in (tmp_dir / "docs" / "sweeps" / "s.md").read_text()


def test_the_plugins_directions_reach_sweep_pages(tmp_path: Path, child_env: dict[str, str]) -> None:
    project = make_project(tmp_path, [])
    config = yaml.safe_load((project / "mkdocs.yml").read_text())
    config["plugins"] = ["search", {"rundocs": {"title": "Plugin lab", "directions": {"val_score": "max"}}}]
    (project / "mkdocs.yml").write_text(yaml.safe_dump(config))
    score_runs(project / "runs", {"low": 0.1, "high": 0.9})
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build"],
        cwd=project,
        env=child_env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    page = (project / "docs" / "sweeps" / "s.md").read_text()
    assert "(higher is better)" in page and "Best run: [high](../runs/high.md)" in page


def test_a_target_logged_per_step_is_placed_at_its_step_not_called_an_epoch(
    tmp_dir: Path, child_env: dict[str, str]
) -> None:
    for minute, (run_id, best) in enumerate({"a": 0.3, "b": 0.2}.items()):
        rows = [{"step": 100, "val_loss": 0.9}, {"step": 200, "val_loss": best}, {"step": 300, "val_loss": 0.5}]
        write_run(tmp_dir / "runs", run_id, rows, sweep="s", config={"lr": minute},
                  started_at=f"2026-01-01T10:{minute:02d}:00+00:00")  # fmt: skip
    assert rundocs("build", cwd=tmp_dir, env=child_env).returncode == 0
    page = (tmp_dir / "docs" / "sweeps" / "s.md").read_text()
    assert "Best run: [b](../runs/b.md), val\\_loss = 0.2 at step 200." in page
    assert "| Best | At step | Final |" in page and "At epoch" not in page
    assert "| 0.2 | 200 | 0.5 |" in page


def test_direction_flag_reaches_the_phase_comparison(tmp_dir: Path, child_env: dict[str, str]) -> None:
    """``--direction`` comes first in the resolution order, before the plan's compare goal."""
    score_runs(tmp_dir / "runs", {"low": 0.1, "high": 0.9}, phase="p")
    (tmp_dir / "plans").mkdir()
    (tmp_dir / "plans" / "p.yaml").write_text("title: P\ncompare: {metrics: {val_score: min}}\n")
    assert rundocs("build", cwd=tmp_dir, env=child_env).returncode == 0
    page = (tmp_dir / "docs" / "phases" / "p.md").read_text()
    assert "val\\_score (lower is better)" in page and "| [low](../runs/low.md) | **0.1** |" in page
    assert rundocs("build", "--direction", "val_score=max", cwd=tmp_dir, env=child_env).returncode == 0
    page = (tmp_dir / "docs" / "phases" / "p.md").read_text()
    assert "val\\_score (higher is better)" in page and "| [high](../runs/high.md) | **0.9** |" in page
