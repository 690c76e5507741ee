"""Plans from a stranger: YAML that would expand without end, nest past any use, repeat a key or
hold a value Python cannot make is one problem line with its place, never a hang or a traceback."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from rundocs.load.bounded_yaml import MAX_DEPTH, MAX_VALUES
from rundocs.load.plans import load_plans, read_plan
from tests.security.reading import run_rundocs

#: Ten lines that stand for 9**9 (387 million) strings when every alias is copied.
BILLION_LAUGHS = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{new}: &{new} [{', '.join([f'*{old}'] * 9)}]\n" for old, new in zip("abcdefgh", "bcdefghi", strict=True)
)
#: The bomb where the checker prints it: a gate that is not a mapping is quoted in its message.
BOMB_IN_A_GATE = BILLION_LAUGHS.replace("i: &i [", "gates: [[").rstrip("\n") + "]\n"


def _plan(tmp_path: Path, text: str | bytes, name: str = "p.yaml") -> Path:
    folder = tmp_path / "plans"
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


@pytest.mark.parametrize("text", [BILLION_LAUGHS, BOMB_IN_A_GATE])
def test_an_alias_bomb_is_refused_quickly_by_build_and_validate(tmp_path: Path, text: str) -> None:
    _plan(tmp_path, "title: fine\n", "ok.yaml")
    _plan(tmp_path, text, "bomb.yaml")
    expected = f"plans/bomb.yaml:6: more than {MAX_VALUES:,} values, counting each alias as a copy; not read"

    started = time.monotonic()
    validate = run_rundocs(tmp_path, "validate", timeout=30)
    build = run_rundocs(tmp_path, "build", timeout=30)

    assert validate.stdout.splitlines() == [expected], validate.stderr
    assert build.returncode == 1 and "1 problem in runs and plans" in build.stderr, build.stderr
    assert (tmp_path / "docs" / "phases" / "ok.md").is_file()
    assert time.monotonic() - started < 30  # two processes; each reads the bomb in milliseconds


def test_the_count_stops_at_the_limit_not_at_the_end_of_the_text(tmp_path: Path) -> None:
    plan = _plan(tmp_path, "runs: [" + ", ".join(["x"] * (MAX_VALUES + 10)) + "]\n")
    started = time.perf_counter()
    assert read_plan(plan)[1][0].message.startswith(f"more than {MAX_VALUES:,} values")
    assert time.perf_counter() - started < 5


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("title: a\ngoal: b\ntitle: c\n", 3, "key 'title' is given twice (first on line 1); not read"),
        ("gates:\n  - {metric: m, green: '>= 1', metric: n}\n", 2, "key 'metric' is given twice (first on line 2)"),
        ("fixed:\n  lr: 1\n  'lr': 2\n", 3, "key 'lr' is given twice (first on line 2); not read"),
        ("fixed: &f [1, *f]\n", 1, "alias *f is inside the node it names; not read"),
        ("fixed: &f {a: {b: *f}}\n", 1, "alias *f is inside the node it names; not read"),
        (
            "fixed: " + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1) + "\n",
            1,
            f"lists and mappings nested more than {MAX_DEPTH} deep",
        ),
        ("date: 2026-13-45\n", 1, "cannot read this value: month must be in 1..12"),
        ("fixed: {seed: 1" + "0" * 5000 + "}\n", 1, "cannot read this value: Exceeds the limit (4300 digits)"),
        ("fixed: {n: !!int nine}\n", 1, "cannot read this value: invalid literal for int()"),
        ("title: [\n", 2, "invalid YAML: "),
    ],
)
def test_yaml_a_plan_must_not_have_is_one_problem_at_its_line(
    tmp_path: Path, text: str, line: int, message: str
) -> None:
    plan, problems = read_plan(_plan(tmp_path, text))
    assert plan is None
    assert [(p.line, p.message[: len(message)]) for p in problems] == [(line, message)]


def test_merge_keys_and_shared_anchors_still_read(tmp_path: Path) -> None:
    text = "fixed: &base {lr: 0.1, seed: 1}\nchanged:\n  <<: *base\n  lr: 0.2\nruns: [&r {name: a}, {match: 'b*'}]\n"
    plan, problems = read_plan(_plan(tmp_path, text))
    assert problems == [] and plan is not None
    assert plan.changed == {"lr": 0.2, "seed": 1} and plan.fixed == {"lr": 0.1, "seed": 1}


def test_non_utf8_plan_is_a_problem_not_a_traceback(tmp_path: Path) -> None:
    _plan(tmp_path, b"title: ok\ngoal: caf\xe9\n", "latin.yaml")

    build = run_rundocs(tmp_path, "build")
    validate = run_rundocs(tmp_path, "validate")

    assert "Traceback" not in build.stderr and build.returncode == 1, build.stderr
    assert validate.stdout.splitlines() == ["plans/latin.yaml:2: not UTF-8 text (byte 0xe9); not read"]


def test_messages_print_a_bounded_part_of_a_large_value(tmp_path: Path) -> None:
    """A value of many items (within the limits) is quoted by its first few, in a short message."""
    items = ", ".join(f"k{i}: {'v' * 200}" for i in range(1000))
    plan, problems = read_plan(_plan(tmp_path, f"title: {{{items}}}\ngates: [[{items}]]\n1: one\nkeys: 1\n"))
    assert plan is not None
    assert sorted(p.message[:45] for p in problems) == [
        "'gates[0]': expected a mapping with metric, g",
        "'keys': unknown key; expected one of ['change",
        "'title': expected text, got dict {'k0': 'vvvv",
        "1: unknown key; expected one of ['changed', '",
    ]
    assert max(len(p.message) for p in problems) < 250


def test_plans_load_together_with_one_refused(tmp_path: Path) -> None:
    _plan(tmp_path, "title: A\n", "a.yaml")
    _plan(tmp_path, BILLION_LAUGHS, "b.yaml")
    plans, problems = load_plans(tmp_path / "plans")
    assert list(plans) == ["a"] and len(problems) == 1


@pytest.mark.parametrize(
    ("gate", "message"),
    [
        ("{metric: m, green: '<= 1e999'}", "'gates[0].green': expected a threshold like '>= 0.52'"),
        ("{metric: m, green: '>= 0.5', epoch: 99999999999999999999999}", "'gates[0].epoch': expected a whole number"),
    ],
)
def test_a_gate_past_what_a_double_holds_is_a_problem(tmp_path: Path, gate: str, message: str) -> None:
    plan, problems = read_plan(_plan(tmp_path, f"title: P\ngates: [{gate}]\n"))
    assert plan is not None and plan.gates == ()
    assert [p.message[: len(message)] for p in problems] == [message]
