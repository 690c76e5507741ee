"""Reading rules: liberal where a writer's meaning is unambiguous, strict (a named problem) elsewhere,
and no value, however large or odd, raises."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

import rundocs
from rundocs.load.cache import fill_memo_from_disk, forget
from rundocs.load.plans import load_plans
from rundocs.render.pages import PlanSet, SiteOptions, render_site
from tests.helpers import write_run

ROWS = [{"epoch": e, "time": 10.0 * e, "loss": 1.0 / e} for e in range(1, 4)]
#: What a writer in another language may write for fields it has nothing to put in.
LIBERAL = {
    "evaluates": None,
    "tags": None,
    "restarts": "",
    "summary": None,
    "config": None,
    "env": None,
    "checkpoints": None,
    "warnings": None,
    "ended_at": "",
    "epochs": 30.0,
}


def _raw(root: Path, run_id: str, text: str) -> None:
    (root / run_id / "run.json").write_text(text)


def test_unambiguous_shapes_are_read(tmp_path: Path) -> None:
    write_run(tmp_path, "nulls", ROWS, **LIBERAL)
    write_run(tmp_path, "strings", ROWS, kind="eval", evaluates="nulls", tags="x", phase=2, sweep=7, name=12)
    loaded = rundocs.load_runs(tmp_path, strict=True)
    nulls, strings = loaded.records["nulls"], loaded.records["strings"]
    assert (nulls.evaluates, nulls.tags, nulls.restarts, nulls.ended_at) == ((), (), None, None)
    assert (nulls.summary, nulls.config, nulls.env, nulls.checkpoints, nulls.warnings) == ({}, {}, {}, (), ())
    assert nulls.epochs == 30 and type(nulls.epochs) is int
    assert (strings.evaluates, strings.tags) == (("nulls",), ("x",))
    assert (strings.phase, strings.sweep, strings.name) == ("2", "7", "12")


def test_a_one_item_restarts_list_names_the_run_it_relaunches(tmp_path: Path) -> None:
    """What the writer makes of ``Run(restarts=["a"])``, the reader takes too; two ids stay a problem."""
    write_run(tmp_path, "a", ROWS, status="interrupted")
    write_run(tmp_path, "b", ROWS, restarts=["a"], started_at="2026-01-01T12:00:00+00:00")
    write_run(tmp_path, "c", ROWS, restarts=["a", "b"], started_at="2026-01-01T13:00:00+00:00")
    loaded = rundocs.load_runs(tmp_path)
    assert loaded.records["b"].restarts == "a"
    assert "c" not in loaded.records and [p.path.split("/")[-2] for p in loaded.problems] == ["c"]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"epochs": 30.5}, "field 'epochs': 30.5 is not of type 'integer', 'null'"),
        ({"epochs": "30"}, "field 'epochs': '30' is not of type 'integer', 'null'"),
        ({"phase": 2.5}, "field 'phase': 2.5 is not of type 'string', 'null'"),
        ({"phase": True}, "field 'phase': True is not of type 'string', 'null'"),
        ({"evaluates": ["a", None]}, "field 'evaluates.1': None is not of type 'string'"),
        ({"tags": {"a": 1}}, "field 'tags': {'a': 1} is not of type 'array'"),
        ({"status": None}, "field 'status': None is not one of ['running', 'completed', 'failed', 'interrupted']"),
    ],
)
def test_ambiguous_shapes_stay_problems(tmp_path: Path, fields: dict[str, object], message: str) -> None:
    write_run(tmp_path, "odd", ROWS, **fields)
    loaded = rundocs.load_runs(tmp_path)
    assert (list(loaded.records), [p.message for p in loaded.problems]) == ([], [message])


def test_normalising_is_idempotent_and_leaves_strict_records_alone() -> None:
    from rundocs.format.decode import normalise_record

    strict = {"format": "rundocs.run/1", "id": "a", "tags": ["x"], "epochs": 3, "config": {"seed": 1}}
    assert normalise_record(strict) == strict
    once = normalise_record({**strict, **LIBERAL})
    assert normalise_record(once) == once
    assert normalise_record([1, 2]) == [1, 2]


def test_the_disk_cache_reads_a_liberal_run_as_its_folder_does(tmp_path: Path) -> None:
    runs, cache = tmp_path / "runs", tmp_path / "cache"
    write_run(runs, "nulls", ROWS, **LIBERAL)
    for index in range(20):  # enough changed folders for the cache to be written
        write_run(runs, f"other{index:02}", ROWS)
    first = rundocs.load_runs(runs, cache_dir=cache)
    forget(runs, [])  # a new process: nothing in memory, everything from the disk cache
    fill_memo_from_disk(cache, runs)
    second = rundocs.load_runs(runs, cache_dir=cache)
    assert second.records["nulls"] == first.records["nulls"]
    assert second.records["nulls"].epochs == 30


def test_a_phase_shows_a_liberal_run_completed_not_queued(tmp_path: Path) -> None:
    write_run(tmp_path / "runs", "a1", ROWS, name="a1", phase="p", **LIBERAL)
    (tmp_path / "plans").mkdir()
    (tmp_path / "plans" / "p.yaml").write_text("title: P\nruns:\n  - name: a1\n")
    runs = rundocs.load_runs(tmp_path / "runs", now=datetime(2026, 2, 1, tzinfo=UTC))
    site = render_site(runs, SiteOptions(), plans=PlanSet(*load_plans(tmp_path / "plans")))
    page = site.files["phases/p.md"].decode()
    assert "1/1 planned runs completed" in page
    assert "not started" not in page


HUGE = "1" + "0" * 400


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.replace('"epochs": null', f'"epochs": {2**70}'), "field 'epochs': 1.18059"),
        (lambda t: t.replace("2026-01-01T10", "9999-12-31T23"), "field 'started_at': '9999-12-31T23:00:00+00:00' is"),
        (lambda t: t.replace("2026-01-01T10", "0001-01-01T00"), "field 'started_at': '0001-01-01T00:00:00+00:00' is"),
        (lambda t: t.replace("2026-01-01T10:00:00+00:00", "9999-12-31T23:00:00-05:00"), "field 'started_at'"),
    ],
)
def test_values_no_page_can_use_are_named_never_raised(tmp_path: Path, edit: object, message: str) -> None:
    write_run(tmp_path / "runs", "ok", ROWS)
    folder = write_run(tmp_path / "runs", "odd", ROWS)
    assert callable(edit)
    (folder / "run.json").write_text(edit((folder / "run.json").read_text()))
    runs = rundocs.load_runs(tmp_path / "runs")
    render_site(runs, SiteOptions())  # builds
    assert list(runs.records) == ["ok"]
    assert runs.problems[0].message.startswith(message)


def test_a_setting_too_large_for_arithmetic_is_kept_as_its_text(tmp_path: Path) -> None:
    folder = write_run(tmp_path / "runs", "big", ROWS)
    text = (folder / "run.json").read_text()
    (folder / "run.json").write_text(text.replace('"config": {}', f'"config": {{"x": {HUGE}, "seed": {2**64 - 1}}}'))
    runs = rundocs.load_runs(tmp_path / "runs", strict=True)
    assert runs.records["big"].config == {"x": HUGE, "seed": 2**64 - 1}
    assert HUGE[:30] in render_site(runs, SiteOptions()).files["runs/big.md"].decode()


def test_metric_lines_past_the_limits_are_named_and_the_rest_kept(tmp_path: Path) -> None:
    lines = [
        json.dumps(ROWS[0]),
        f'{{"epoch": {2**70}, "loss": 0.5}}',
        '{"epoch": 2, "time": 1e300, "loss": 0.5}',
        f'{{"epoch": 3, "loss": {HUGE}, "acc": 0.5}}',
    ]
    write_run(tmp_path / "runs", "m", "\n".join(lines) + "\n")
    runs = rundocs.load_runs(tmp_path / "runs")
    render_site(runs, SiteOptions())  # builds
    history = runs.history("m")
    assert history["epoch"].tolist() == [1, 3]
    assert history["acc"].tolist()[1] == 0.5
    assert [(p.line, p.message.split(":")[0]) for p in runs.problems] == [
        (2, "field 'epoch'"),
        (3, "field 'time'"),
        (4, "field 'loss'"),
    ]


def test_a_summary_value_too_large_for_a_double_is_skipped_alone(tmp_path: Path) -> None:
    folder = write_run(tmp_path / "runs", "odd", ROWS, summary={"y": 0.5})
    (folder / "run.json").write_text((folder / "run.json").read_text().replace('"y": 0.5', f'"x": {HUGE}, "y": 0.5'))
    runs = rundocs.load_runs(tmp_path / "runs")
    assert runs.records["odd"].summary == {"y": 0.5}
    assert [p.message for p in runs.problems] == ["field 'summary.x': too large for a double; value skipped"]
