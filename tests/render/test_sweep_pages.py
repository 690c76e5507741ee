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


def render(tmp_path: Path, plans: dict[str, str]) -> dict[str, str]:
    """The generated pages of ``tmp_path/runs`` with these plans, rendered in this process."""
    import rundocs as package
    from rundocs.load.plans import load_plans
    from rundocs.render.pages import PlanSet, SiteOptions, render_site

    folder = tmp_path / "plans"
    folder.mkdir(exist_ok=True)
    for name, text in plans.items():
        (folder / f"{name}.yaml").write_text(text)
    runs = package.load_runs(tmp_path / "runs")
    built = render_site(runs, SiteOptions(), plans=PlanSet(*load_plans(folder)))
    return {path: content.decode() for path, content in built.files.items() if path.endswith(".md")}


GRID_PLAN = "title: G\nchanged: {lr: [0.1, 0.2, 0.3]}\nsweep: {metric: val_loss, goal: min}\n"
NAMED_PLAN = "title: N\nruns: [a, b]\nsweep: {metric: val_loss, goal: min}\n"


def test_sweep_pages_and_the_index_state_runs_planned_run_time_and_wall_span_with_a_total(tmp_path: Path) -> None:
    """Run time sums the durations; the wall span runs from the first start to the last end, so
    two overlapping 10-minute runs take 20 minutes of run time in 15 minutes."""
    runs = tmp_path / "runs"
    for run_id, lr, start, end in (("g1", 0.1, "10:00", "10:10"), ("g2", 0.2, "10:05", "10:15")):
        write_run(runs, run_id, [{"epoch": 1, "val_loss": lr}], phase="g", config={"lr": lr},
                  started_at=f"2026-01-01T{start}:00+00:00", ended_at=f"2026-01-01T{end}:00+00:00")  # fmt: skip
    write_run(runs, "a", [{"epoch": 1, "val_loss": 0.5}], phase="n", config={"lr": 1},
              started_at="2026-01-01T12:00:00+00:00", ended_at="2026-01-01T12:01:00+00:00")  # fmt: skip
    pages = render(tmp_path, {"g": GRID_PLAN, "n": NAMED_PLAN})
    grid = pages["sweeps/g.md"]
    assert "2 runs (2/3 configurations planned); target" in grid
    assert "| 2 (2/3 configurations planned) | 20 min | 15 min | 2026-01-01 10:00 UTC | 2026-01-01 10:15 UTC |" in grid
    assert "1 run (1/2 runs planned)" in pages["sweeps/n.md"]
    index = pages["sweeps/index.md"]
    assert "| Sweep | Runs | Planned | Run time | Wall span |" in index
    assert "| [g](g.md) | 2 | 2/3 configurations | 20 min | 15 min |" in index
    assert "| [n](n.md) | 1 | 1/2 runs | 1 min 00 s | 1 min 00 s |" in index
    assert "| **Total** | **3** | | **21 min** | **2 h 01 min** |" in index  # 10:00 to 12:01


def test_a_float_setting_of_many_values_is_binned_and_the_trial_table_sorts(tmp_path: Path) -> None:
    lrs = [0.012, 0.019, 0.031, 0.047, 0.079, 0.084, 0.11, 0.13, 0.14, 0.21, 0.30, 0.11203254019178545]
    for index, lr in enumerate(lrs):
        write_run(tmp_path / "runs", f"t{index:02d}", [{"epoch": 1, "val_loss": lr}], sweep="s", config={"lr": lr},
                  started_at=f"2026-01-01T10:{index:02d}:00+00:00")  # fmt: skip
    page = render(tmp_path, {})["sweeps/s.md"]
    levels = page.split("## lr")[1].split("Best and final")[0]
    assert [line.split(" | ")[1] for line in levels.splitlines() if line.startswith("| ") and "–" in line] == [
        "3", "3", "3", "3"
    ]  # four bins of three runs, not twelve levels of one  # fmt: skip
    assert '<div class="rd-sortable" markdown>\n\n| Run | lr | Best |' in page
    assert "| [t11](../runs/t11.md) | 0.11203 |" in page  # the column's format, not the float's repr


def test_a_search_plan_states_its_planned_trials_and_a_bad_count_is_a_problem(tmp_path: Path) -> None:
    """``sweep: {trials: N}`` (a search's n_trials) comes before names and grids; a count that
    is not a whole number of at least one is refused with a problem, never shown."""
    from rundocs.load.plans import load_plans

    runs = tmp_path / "runs"
    for n in range(3):
        write_run(runs, f"t{n}", [{"epoch": 1, "val_loss": 1.0 + n}], phase="s", config={"lr": 0.1 * (n + 1)})
    search = "title: S\nchanged: {lr: [0.1, 0.2, 0.3]}\nsweep: {metric: val_loss, goal: min, trials: 50}\n"
    pages = render(tmp_path, {"s": search})
    assert "3 runs (3/50 runs planned)" in pages["sweeps/s.md"]
    assert "| [s](s.md) | 3 | 3/50 runs |" in pages["sweeps/index.md"]

    for bad in ("0", "2.5", "true", "lots"):
        folder = tmp_path / f"bad-{bad}"
        folder.mkdir()
        (folder / "s.yaml").write_text(f"title: S\nsweep: {{metric: val_loss, trials: {bad}}}\n")
        plans, problems = load_plans(folder)
        sweep = plans["s"].sweep
        assert sweep is not None and sweep.trials is None
        assert any("sweep.trials" in problem.message for problem in problems), bad
