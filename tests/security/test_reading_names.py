"""Folder and file names are data from a stranger: a run folder or plan file whose name is not an
id is never read (so its name never becomes a path or a link target), and its problem shows the
name as quoted text."""

from __future__ import annotations

import re
from pathlib import Path

import rundocs
from rundocs.format.decode import RUN_ID_RULE, is_run_id
from rundocs.load.plans import load_plans
from tests.helpers import write_run
from tests.security.reading import run_rundocs

ROWS = [{"epoch": e, "time": 10.0 * e, "loss": 1.0 / e} for e in range(1, 4)]
HOSTILE = [
    "javascript:alert(1)",
    "my run",
    "<img src=x onerror=alert(1)>",
    "-dash",
    "_under",
    "pwn {autofocus onfocus=alert(1)}",
    "line\nbreak",
    "日本",
    "a" * 201,
]


def test_only_run_ids_are_ids() -> None:
    assert [name for name in HOSTILE if is_run_id(name)] == []
    assert all(is_run_id(name) for name in ("a", "20260101_100000_base", "A.b-c_d", "a" * 200))
    assert not is_run_id("ok\n")  # a pattern ending in $ alone matches before a final newline


def test_a_run_folder_not_named_as_an_id_is_a_problem_not_a_run(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    write_run(runs, "good", ROWS)
    for name in HOSTILE:
        write_run(runs, name, ROWS, id="good")
    (runs / ".hidden").mkdir()

    loaded = rundocs.load_runs(runs)

    assert list(loaded.records) == ["good"] and list(loaded.unreadable) == []
    assert sorted(p.message for p in loaded.problems) == sorted(
        f"folder {name!r} is not a run id ({RUN_ID_RULE}); not read" for name in HOSTILE
    )
    assert {p.path for p in loaded.problems} == {str(runs)}  # the name is in the message, quoted, only
    assert all("\n" not in str(p) for p in loaded.problems)


def test_a_plan_file_not_named_as_an_id_is_a_problem_not_a_phase(tmp_path: Path) -> None:
    plans = tmp_path / "plans"
    plans.mkdir()
    (plans / "good.yaml").write_text("title: Good\n")
    (plans / ".#good.yaml").symlink_to("user@host.1234")  # an editor's lock file: hidden, left out
    for name in HOSTILE[:-1]:  # 201 characters and .yaml pass the file system's 255
        (plans / f"{name}.yaml").write_text("title: T\n")

    plans_read, problems = load_plans(plans)

    assert list(plans_read) == ["good"]
    assert sorted(p.message for p in problems) == sorted(
        f"file {name + '.yaml'!r}: not a phase id ({RUN_ID_RULE}); not read" for name in HOSTILE[:-1]
    )


def test_hostile_names_reach_no_path_or_link_of_the_built_site(tmp_path: Path) -> None:
    write_run(tmp_path / "runs", "good", ROWS, phase="p")
    for name in HOSTILE:
        write_run(tmp_path / "runs", name, ROWS, id="good", phase="p")
    (tmp_path / "plans").mkdir()
    (tmp_path / "plans" / "p.yaml").write_text("title: P\n")
    (tmp_path / "plans" / "javascript:alert(2).yaml").write_text("title: P2\n")

    build = run_rundocs(tmp_path, "build")

    assert build.returncode == 1 and f"{len(HOSTILE) + 1} problems in runs and plans" in build.stderr, build.stderr
    assert f"1 run, {len(HOSTILE) + 1} problems" in build.stdout  # the same count on both lines
    generated = sorted(p.relative_to(tmp_path / "docs").as_posix() for p in (tmp_path / "docs").rglob("*.md"))
    assert [p for p in generated if p.startswith(("runs/", "phases/"))] == [
        "phases/index.md",
        "phases/p.md",
        "runs/good.md",
        "runs/index.md",
    ]
    pages = "\n".join((tmp_path / "docs" / page).read_text() for page in generated)
    targets = re.findall(r"\]\(([^)]*)\)|href=\"([^\"]*)\"", pages)
    assert not [t for pair in targets for t in pair if "javascript" in t or "alert" in t or " " in t]
    assert "| runs | — | folder &#39;javascript:alert(1)&#39; is not a run id" in pages  # the runs folder, not runs/.
    assert "file &#39;javascript:alert(2).yaml&#39;: not a phase id" in pages
