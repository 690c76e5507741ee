"""The rundocs command as a user runs it: exit codes, one-line output, files written."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from tests.helpers import write_run

ROWS = [{"epoch": e, "loss": 1.0 / e} for e in range(1, 4)]


def rundocs(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rundocs", *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )


def test_validate_lists_every_problem_and_exits_1(tmp_dir: Path, child_env: dict[str, str]) -> None:
    write_run(tmp_dir / "runs", "good", ROWS)
    write_run(tmp_dir / "runs", "bad", ROWS, status="ok")
    (tmp_dir / "runs" / "good" / "metrics.jsonl").write_text(json.dumps(ROWS[0]) + '\n{"epoch": "x"}\n')

    done = rundocs("validate", cwd=tmp_dir, env=child_env)

    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        "runs/bad/run.json: field 'status': 'ok' is not one of ['running', 'completed', 'failed', 'interrupted']",
        "runs/good/metrics.jsonl:2: field 'epoch': 'x' is not of type 'integer'; line skipped",
    ]


def test_validate_passes_a_clean_folder(tmp_dir: Path, child_env: dict[str, str]) -> None:
    write_run(tmp_dir / "runs", "good", ROWS)
    done = rundocs("validate", cwd=tmp_dir, env=child_env)
    assert (done.returncode, done.stdout) == (0, "runs, plans: no problems\n")


def test_build_twice_writes_once_and_check_passes(tmp_dir: Path, child_env: dict[str, str]) -> None:
    write_run(tmp_dir / "runs", "a", ROWS, summary={"test_acc": 0.91234})
    first = rundocs("build", cwd=tmp_dir, env=child_env)
    page = (tmp_dir / "docs" / "runs" / "a.md").read_bytes()
    second = rundocs("build", cwd=tmp_dir, env=child_env)
    check = rundocs("check", cwd=tmp_dir, env=child_env)

    assert first.stdout == "16 written, 0 unchanged, 0 removed; 1 run, 0 problems\n"
    assert second.stdout == "0 written, 16 unchanged, 0 removed; 1 run, 0 problems\n"
    assert (tmp_dir / "docs" / "runs" / "a.md").read_bytes() == page
    assert "| test\\_acc (summary) | — | — | 0.91234 | — |".encode() in page
    assert (check.returncode, check.stdout) == (0, "docs: 16 generated files up to date\n")


def test_check_names_stale_missing_and_orphaned_pages(tmp_dir: Path, child_env: dict[str, str]) -> None:
    for name in ("a", "b", "c"):
        write_run(tmp_dir / "runs", name, ROWS)
    assert rundocs("build", cwd=tmp_dir, env=child_env).returncode == 0
    (tmp_dir / "docs" / "notes.md").write_text("# Written by hand\n")
    with open(tmp_dir / "docs" / "runs" / "a.md", "a") as file:
        file.write("edited by hand\n")
    (tmp_dir / "docs" / "runs" / "b.md").unlink()
    shutil.rmtree(tmp_dir / "runs" / "c")

    check = rundocs("check", cwd=tmp_dir, env=child_env)
    assert check.returncode == 1
    assert check.stdout.splitlines() == [
        "stale: docs/index.md",
        "stale: docs/runs/a.md",
        "stale: docs/runs/index.md",
        "missing: docs/runs/b.md",
        "orphaned: docs/runs/c.md",
    ]
    assert "run 'rundocs build' and commit the result" in check.stderr

    build = rundocs("build", cwd=tmp_dir, env=child_env)
    assert build.stdout == "4 written, 13 unchanged, 1 removed; 2 runs, 0 problems\n"
    assert not (tmp_dir / "docs" / "runs" / "c.md").exists()
    assert (tmp_dir / "docs" / "notes.md").read_text() == "# Written by hand\n"
    assert rundocs("check", cwd=tmp_dir, env=child_env).returncode == 0


def test_a_rebuild_renders_only_the_changed_run(tmp_dir: Path, child_env: dict[str, str]) -> None:
    for name in ("a", "b", "c"):
        write_run(tmp_dir / "runs", name, ROWS)
    rundocs("build", cwd=tmp_dir, env=child_env)
    before = {name: (tmp_dir / "docs" / "runs" / f"{name}.md").stat().st_mtime_ns for name in ("a", "b", "c")}
    with open(tmp_dir / "runs" / "b" / "metrics.jsonl", "a") as file:
        file.write(json.dumps({"epoch": 4, "loss": 0.2}) + "\n")

    build = rundocs("build", cwd=tmp_dir, env=child_env)
    after = {name: (tmp_dir / "docs" / "runs" / f"{name}.md").stat().st_mtime_ns for name in ("a", "b", "c")}
    assert build.stdout == "1 written, 17 unchanged, 0 removed; 3 runs, 0 problems\n"
    assert [name for name in before if before[name] != after[name]] == ["b"]
    clean = rundocs("build", "--no-cache", "--docs", "clean", cwd=tmp_dir, env=child_env)
    assert clean.returncode == 0
    for page in ("runs/a.md", "runs/b.md", "runs/c.md", "runs/index.md", "index.md"):
        assert (tmp_dir / "clean" / page).read_bytes() == (tmp_dir / "docs" / page).read_bytes()


def test_validate_lists_plan_mistakes_and_warns_about_references(tmp_dir: Path, child_env: dict[str, str]) -> None:
    write_run(tmp_dir / "runs", "a", ROWS, name="lr1e-3_s1", phase="p")
    (tmp_dir / "plans").mkdir()
    (tmp_dir / "plans" / "p.yaml").write_text(
        "title: P\nruns: [{name: lr1e-3_s1}, {match: 'x_*'}]\ncompare: {metrics: {loss: min}, baseline: nobody}\n"
    )
    done = rundocs("validate", cwd=tmp_dir, env=child_env)
    assert (done.returncode, done.stdout.splitlines()) == (0, [
        "plans/p.yaml: warning: 'runs[1].match': 'x_*' matches no run yet",
        "plans/p.yaml: warning: 'compare.baseline': 'nobody' names no run of this phase",
        "runs, plans: no problems (2 warnings)",
    ])  # fmt: skip

    (tmp_dir / "plans" / "q.yaml").write_text('title: Q\ngates: [{metric: acc, green: "big"}]\nextra: 1\n')
    done = rundocs("validate", cwd=tmp_dir, env=child_env)
    assert done.returncode == 1
    assert done.stdout.splitlines()[:2] == [
        "plans/q.yaml: 'extra': unknown key; expected one of ['changed', 'compare', 'date', 'decisions', 'expected', "
        "'fixed', 'gates', 'goal', 'hypothesis', 'notes', 'runs', 'superseded_by', 'sweep', 'title']",
        "plans/q.yaml: 'gates[0].green': expected a threshold like '>= 0.52' (>=, <=, >, <, == and a number), "
        "got 'big'",
    ]


def test_incremental_builds_equal_a_clean_build_across_archive_pages(tmp_dir: Path, child_env: dict[str, str]) -> None:
    """130 runs: 100 on the log's first page, 30 in an archive page kept between builds."""
    for index in range(130):
        started = f"2026-01-01T{index // 60:02d}:{index % 60:02d}:00+00:00"
        write_run(tmp_dir / "runs", f"r{index:03d}", ROWS, started_at=started, updated_at=started, ended_at=started,
                  sweep=f"s{index % 3}", config={"lr": index % 7})  # fmt: skip
    rundocs("build", cwd=tmp_dir, env=child_env)
    archive = tmp_dir / "docs" / "runs" / "archive" / "2026-01.md"
    before = archive.read_bytes()
    sweeps = {name: (tmp_dir / "docs" / "sweeps" / f"{name}.md").stat().st_mtime_ns for name in ("s0", "s1", "s2")}
    record = json.loads((tmp_dir / "runs" / "r005" / "run.json").read_text())
    (tmp_dir / "runs" / "r005" / "run.json").write_text(json.dumps({**record, "summary": {"test_acc": 0.5}}))
    with open(tmp_dir / "runs" / "r005" / "metrics.jsonl", "a") as file:
        file.write(json.dumps({"epoch": 4, "loss": 0.01}) + "\n")  # the new best of sweep s2

    rebuilt = rundocs("build", cwd=tmp_dir, env=child_env)
    assert rebuilt.stdout == "6 written, 146 unchanged, 0 removed; 130 runs, 0 problems\n"  # s2's page and its CSV
    assert archive.read_bytes() != before and b"test\\_acc=0.5" in archive.read_bytes()
    changed = [n for n, ns in sweeps.items() if (tmp_dir / "docs" / "sweeps" / f"{n}.md").stat().st_mtime_ns != ns]
    assert changed == ["s2"]  # r005 is in s2; the other sweeps keep their pages
    rundocs("build", "--no-cache", "--docs", "clean", cwd=tmp_dir, env=child_env)
    for page in sorted([*(tmp_dir / "clean").rglob("*.md"), *(tmp_dir / "clean").rglob("*.csv")]):
        assert page.read_bytes() == (tmp_dir / "docs" / page.relative_to(tmp_dir / "clean")).read_bytes(), page


def test_direction_overrides_reach_the_pages(tmp_dir: Path, child_env: dict[str, str]) -> None:
    """val_hierarchy has no direction word: only an override lets the pages name its best value."""
    rows = [{"epoch": e, "val_hierarchy": v} for e, v in enumerate([3.0, 1.0, 2.0], start=1)]
    write_run(tmp_dir / "runs", "h", rows)
    rundocs("build", cwd=tmp_dir, env=child_env)
    assert "| val\\_hierarchy | — | — | 2 | 3 |".encode() in (tmp_dir / "docs" / "runs" / "h.md").read_bytes()

    done = rundocs("build", "--direction", "val_hierarchy=min", cwd=tmp_dir, env=child_env)
    assert done.returncode == 0, done.stderr
    assert b"| val\\_hierarchy | 1 | 2 | 2 | 3 |" in (tmp_dir / "docs" / "runs" / "h.md").read_bytes()
    assert b"val\\_hierarchy 1 @ E2" in (tmp_dir / "docs" / "runs" / "index.md").read_bytes()
    assert rundocs("check", "--direction", "val_hierarchy=min", cwd=tmp_dir, env=child_env).returncode == 0

    bad = rundocs("build", "--direction", "val_hierarchy=down", cwd=tmp_dir, env=child_env)
    assert bad.returncode == 2 and "expected METRIC=min or METRIC=max, got 'val_hierarchy=down'" in bad.stderr


def test_a_hand_edited_asset_is_stale_and_written_again(tmp_dir: Path, child_env: dict[str, str]) -> None:
    write_run(tmp_dir / "runs", "a", ROWS)
    assert rundocs("build", cwd=tmp_dir, env=child_env).returncode == 0
    asset = tmp_dir / "docs" / "assets" / "rundocs" / "rundocs.css"
    shipped = asset.read_bytes()
    with open(asset, "ab") as file:
        file.write(b"body { display: none }\n")

    check = rundocs("check", cwd=tmp_dir, env=child_env)
    build = rundocs("build", cwd=tmp_dir, env=child_env)
    assert (check.returncode, check.stdout) == (1, "stale: docs/assets/rundocs/rundocs.css\n")
    assert build.stdout == "1 written, 15 unchanged, 0 removed; 1 run, 0 problems\n"
    assert asset.read_bytes() == shipped


def test_a_bad_source_date_epoch_is_one_line(tmp_dir: Path, child_env: dict[str, str]) -> None:
    write_run(tmp_dir / "runs", "a", ROWS)
    for value in ("soon", "99999999999999999999"):
        done = rundocs("build", cwd=tmp_dir, env={**child_env, "SOURCE_DATE_EPOCH": value})
        assert (done.returncode, done.stderr) == (
            1,
            f"Error: SOURCE_DATE_EPOCH must be whole seconds since 1970, up to year 9999, got {value!r}\n",
        )
    assert not (tmp_dir / "docs").exists()


def test_build_writes_the_site_then_exits_1_when_it_dropped_something(tmp_dir: Path, child_env: dict[str, str]) -> None:
    write_run(tmp_dir / "runs", "good", ROWS)
    write_run(tmp_dir / "runs", "bad", ROWS, status="ok")
    (tmp_dir / "runs" / "good" / "metrics.jsonl").write_text(json.dumps(ROWS[0]) + '\n{"epoch": "x"}\n')

    build = rundocs("build", cwd=tmp_dir, env=child_env)
    check = rundocs("check", cwd=tmp_dir, env=child_env)
    allowed = [rundocs(command, "--allow-problems", cwd=tmp_dir, env=child_env) for command in ("build", "check")]

    assert build.returncode == 1
    assert build.stdout == "16 written, 0 unchanged, 0 removed; 1 run, 2 problems\n"
    assert build.stderr == "2 problems in runs and plans: see docs/problems.md (--allow-problems to exit 0)\n"
    assert "runs/bad/run.json" in (tmp_dir / "docs" / "problems.md").read_text()
    assert (check.returncode, check.stdout) == (1, "docs: 16 generated files up to date\n")
    assert check.stderr == build.stderr
    assert [done.returncode for done in allowed] == [0, 0]
    assert rundocs("validate", cwd=tmp_dir, env=child_env).returncode == 1  # as before


def test_a_page_that_fails_is_named_and_the_build_exits_1(tmp_dir: Path, child_env: dict[str, str]) -> None:
    write_run(tmp_dir / "runs", "good", ROWS)
    write_run(tmp_dir / "runs", "bad", ROWS)
    (tmp_dir / "templates").mkdir()
    (tmp_dir / "templates" / "run.md.j2").write_text(
        '{% if page.record.id == "bad" %}{{ 1 / 0 }}{% endif %}<!-- generated by rundocs -->\n# {{ page.title }}\n'
    )
    build = rundocs("build", cwd=tmp_dir, env=child_env)
    assert build.returncode == 1
    assert build.stderr.splitlines() == [
        "page not built: docs/runs/bad.md: run bad (runs/bad): ZeroDivisionError: division by zero",
        "1 page not built: see docs/problems.md (--allow-problems to exit 0)",
    ]
    assert (tmp_dir / "docs" / "runs" / "good.md").read_text().endswith("# good\n")
    assert "# Page not built" in (tmp_dir / "docs" / "runs" / "bad.md").read_text()
