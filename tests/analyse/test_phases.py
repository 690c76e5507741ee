"""Phase status, gates and comparison, derived only from runs written to disk."""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import rundocs
from rundocs.analyse.phases import PhaseReport, report_phase
from rundocs.load.plans import read_plan
from tests.helpers import write_run

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def at(minutes_ago: float) -> str:
    return (NOW - timedelta(minutes=minutes_ago)).isoformat()


def epochs(values: dict[str, list[Any]]) -> list[dict[str, Any]]:
    count = len(next(iter(values.values())))
    return [{"epoch": e + 1, "time": 60.0 * (e + 1), **{k: v[e] for k, v in values.items()}} for e in range(count)]


def phase(tmp_path: Path, plan_yaml: str) -> PhaseReport:
    file = tmp_path / "plans" / "p.yaml"
    file.parent.mkdir(exist_ok=True)
    file.write_text(plan_yaml)
    plan, problems = read_plan(file)
    assert plan is not None and problems == []
    return report_phase(plan, rundocs.load_runs(tmp_path / "runs", now=NOW), NOW)


PLAN = """
title: P
runs: [{name: a}, {name: b}, {name: c}]
"""


def test_a_phase_with_no_runs_is_planned(tmp_path: Path) -> None:
    report = phase(tmp_path, PLAN)
    assert (report.status, report.done, [row.state for row in report.rows]) == ("planned", 0, ["queued"] * 3)


def test_states_running_stalled_completed_and_the_eta(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    write_run(runs, "ra", epochs({"val_loss": [3.0, 2.0]}), name="a", status="running", epochs=10,
              started_at=at(2), updated_at=at(0.1), ended_at=None)  # fmt: skip
    write_run(runs, "rb", epochs({"val_loss": [3.0]}), name="b", status="running", epochs=10,
              started_at=at(120), updated_at=at(118), ended_at=None)  # fmt: skip
    write_run(runs, "rc", epochs({"val_loss": [1.0]}), name="c", started_at=at(300))
    report = phase(tmp_path, PLAN)
    (a,), (b,), (c,) = (row.attempts for row in report.rows)
    assert (a.state, b.state, c.state) == ("running", "stalled", "completed")
    assert a.latest == "val_loss=2" and a.last_epoch == 2
    assert a.eta is not None and timedelta(minutes=7) < a.eta < timedelta(minutes=9)  # 1 min/epoch, 8 left
    assert report.status == "blocked"  # the stalled run is dead and not relaunched
    assert report.done == 1


def test_a_failure_then_its_relaunch(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    error = {"type": "OSError", "message": "[Errno 28] No space left on device", "traceback": None}
    write_run(runs, "r1", epochs({"val_loss": [1.0] * 20}), name="a", status="failed", error=error, epochs=30,
              started_at=at(100))  # fmt: skip
    assert phase(tmp_path, PLAN).status == "blocked"
    write_run(runs, "r2", epochs({"val_loss": [1.0] * 2}), name="a_r2", status="running", restarts="r1",
              epochs=30, started_at=at(3), updated_at=at(0), ended_at=None)  # fmt: skip
    report = phase(tmp_path, PLAN)
    first, second = report.rows[0].attempts
    assert first.state == "relaunched" and first.relaunched_as == "r2"
    assert first.error == "stopped at epoch 20: OSError: [Errno 28] No space left on device"
    assert second.state == "running" and report.rows[0].state == "running"
    assert report.status == "running" and report.unplanned == ()


def test_done_when_every_planned_run_completed_and_unplanned_runs_are_listed(tmp_path: Path) -> None:
    for name in ("a", "b", "c"):
        write_run(tmp_path / "runs", f"r{name}", epochs({"val_loss": [1.0]}), name=name)
    write_run(tmp_path / "runs", "rx", epochs({"val_loss": [1.0]}), name="extra", phase="p")
    report = phase(tmp_path, PLAN)
    assert (report.status, report.done) == ("done", 3)
    assert [a.name for a in report.unplanned] == ["extra"]


GATES = """
title: G
runs: [{match: "*"}]
gates:
  - {metric: val_acc, epoch: 2, green: ">= 0.50", amber: ">= 0.40"}
  - {metric: val_loss, green: "<= 1.0"}
"""


@pytest.mark.parametrize(
    ("value", "colour"), [(0.50, "green"), (0.4999, "amber"), (0.40, "amber"), (0.3999, "red"), ("NaN", "red")]
)
def test_gate_boundaries(tmp_path: Path, value: Any, colour: str) -> None:
    write_run(tmp_path / "runs", "r", epochs({"val_acc": [0.9, value, 0.9], "val_loss": [0.5] * 3}), name="r")
    gate = phase(tmp_path, GATES).gates[0]
    assert gate.colour == colour
    assert (gate.observed == value) if isinstance(value, float) else math.isnan(gate.observed or 0.0)


def test_an_epoch_not_reached_is_pending_and_a_missing_one_is_not_judged(tmp_path: Path) -> None:
    write_run(tmp_path / "runs", "live", epochs({"val_acc": [0.9], "val_loss": [0.5]}), name="live",
              status="running", started_at=at(1), updated_at=at(0), ended_at=None)  # fmt: skip
    report = phase(tmp_path, GATES)
    assert [(g.colour, g.note) for g in report.gates] == [
        ("pending", "epoch 2 not reached yet"),
        ("pending", "best so far; judged when the run ends"),
    ]
    assert report.gates[1].observed == 0.5 and report.verdict == "pending"


def test_the_worst_colour_wins(tmp_path: Path) -> None:
    write_run(tmp_path / "runs", "good", epochs({"val_acc": [0.9, 0.6], "val_loss": [0.9, 0.8]}), name="good")
    write_run(tmp_path / "runs", "meh", epochs({"val_acc": [0.9, 0.45], "val_loss": [0.9, 0.8]}), name="meh")
    assert phase(tmp_path, GATES).verdict == "amber"
    write_run(tmp_path / "runs", "bad", epochs({"val_acc": [0.9, 0.6], "val_loss": [1.5, 1.2]}), name="bad")
    report = phase(tmp_path, GATES)
    assert [(g.run_id, g.gate.metric, g.colour) for g in report.gates] == [
        ("bad", "val_acc", "green"), ("good", "val_acc", "green"), ("meh", "val_acc", "amber"),
        ("bad", "val_loss", "red"), ("good", "val_loss", "green"), ("meh", "val_loss", "green"),
    ]  # fmt: skip
    assert report.verdict == "red"


def test_a_gate_on_an_eval_metric_reads_the_eval_runs(tmp_path: Path) -> None:
    write_run(tmp_path / "runs", "model", epochs({"val_loss": [0.5]}), name="model", phase="p")
    write_run(tmp_path / "runs", "ood", [], name="ood_eval", kind="eval", evaluates=["model"],
              summary={"ood_cosine": 0.55})  # fmt: skip
    plan = 'title: E\ngates: [{metric: ood_cosine, green: ">= 0.58", amber: ">= 0.50"}]\n'
    (gate,) = phase(tmp_path, plan).gates
    assert (gate.run_id, gate.observed, gate.colour) == ("ood", 0.55, "amber")


def test_comparison_marks_the_best_per_metric_and_deltas_against_the_baseline(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    write_run(runs, "m1", epochs({"val_lsd": [3.0, 2.0]}), name="baseline", phase="p", summary={"ssim": 0.80})
    write_run(runs, "m2", epochs({"val_lsd": [2.5, 1.5]}), name="small", phase="p", summary={"ssim": 0.70},
              started_at="2026-01-01T10:30:00+00:00")  # fmt: skip
    write_run(runs, "e2", [], name="eval_small", kind="eval", evaluates=["m2"], summary={"ssim": 0.85})
    plan = "title: C\ncompare: {metrics: {ssim: max, val_lsd: min}, baseline: baseline}\n"
    rows = {row.name: row for row in phase(tmp_path, plan).comparison}
    assert rows["baseline"].values == {"ssim": 0.80, "val_lsd": 2.0} and rows["baseline"].is_baseline
    assert rows["small"].values == {"ssim": 0.85, "val_lsd": 1.5}  # the eval run's number wins
    assert rows["small"].best == {"ssim", "val_lsd"} and rows["baseline"].best == frozenset()
    assert rows["small"].deltas == pytest.approx({"ssim": 0.05, "val_lsd": -0.5})


def test_a_plan_without_a_run_list_takes_the_runs_of_its_phase(tmp_path: Path) -> None:
    for name in ("t1", "t2"):
        write_run(tmp_path / "runs", f"r{name}", epochs({"val_loss": [1.0]}), name=name, phase="p")
    report = phase(tmp_path, "title: Search\n")
    assert [row.label for row in report.rows] == ["t1", "t2"] and report.unplanned == ()
    assert (report.status, report.done) == ("done", 2)


SPLIT_LINES = """
title: S
runs: [{match: "*"}]
gates:
  - {metric: val_acc, epoch: 2, green: ">= 0.50"}
  - {metric: val_acc, green: "== 0.6"}
"""


def split_epochs(val_acc: list[Any]) -> list[dict[str, Any]]:
    """Each epoch logs a train line, a validation line, then another train line (val_acc is on one of three)."""
    rows: list[dict[str, Any]] = []
    for epoch, value in enumerate(val_acc, start=1):
        rows += [{"epoch": epoch, "step": 10 * epoch, "train_loss": 1.0}, {"epoch": epoch, "val_acc": value}]
        rows += [{"epoch": epoch, "step": 10 * epoch + 5, "train_loss": 0.9}]
    return rows


def test_a_metric_on_one_of_several_lines_of_an_epoch_is_read_at_that_epoch(tmp_path: Path) -> None:
    write_run(tmp_path / "runs", "r", split_epochs([0.9, 0.55, 0.6]), name="r")
    at_epoch, last = phase(tmp_path, SPLIT_LINES).gates
    assert (at_epoch.colour, at_epoch.observed, at_epoch.at_epoch) == ("green", 0.55, 2)
    assert (last.colour, last.observed, last.at_epoch) == ("green", 0.6, 3)  # == reads the last line carrying it


def test_a_logged_nan_on_a_split_line_still_never_passes(tmp_path: Path) -> None:
    write_run(tmp_path / "runs", "r", split_epochs([0.9, "NaN", 0.6]), name="r")
    gate = phase(tmp_path, SPLIT_LINES).gates[0]
    assert gate.colour == "red" and gate.observed is not None and math.isnan(gate.observed)
    diverged = [{"epoch": 1, "val_acc": 0.9}, {"epoch": 1, "val_acc": "NaN"}, {"epoch": 2, "train_loss": 1.0}]
    write_run(tmp_path / "runs", "s", diverged, name="s", started_at=at(1))
    gate = {g.run_id: g for g in phase(tmp_path, SPLIT_LINES).gates if g.gate.epoch == 2}["s"]
    assert gate.colour == "red" and gate.note == "NaN never passes a gate"  # NaN since epoch 1, never logged again


def test_epochs_counted_from_zero_are_all_done_and_the_eta_counts_them(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    zero_based = [{"epoch": e, "time": 60.0 * (e + 1), "val_loss": 1 / (e + 1)} for e in range(10)]
    write_run(runs, "ra", zero_based, name="a", epochs=10)
    write_run(runs, "rb", zero_based[:2], name="b", epochs=10, status="running",
              started_at=at(2), updated_at=at(0), ended_at=None)  # fmt: skip
    report = phase(tmp_path, PLAN)
    (a,), (b,), _ = (row.attempts for row in report.rows)
    assert (a.epochs_done, a.last_epoch, b.epochs_done) == (10, 9, 2)
    assert b.eta is not None and timedelta(minutes=7) < b.eta < timedelta(minutes=9)  # 1 min/epoch, 8 left
    from rundocs.render.phase_models import make_phase_page

    rows = make_phase_page(report, NOW, []).rows
    assert [row.progress for row in rows[:2]] == ["E010/010 val_loss=0.1", "E002/010 val_loss=0.5"]


RELAUNCH = """
title: R
runs: [{name: a}, {name: b}]
gates:
  - {metric: val_acc, epoch: 1, green: ">= 0.5"}
compare: {metrics: {val_acc: max}}
"""


def test_a_relaunch_supersedes_the_killed_attempt(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    write_run(runs, "ra", epochs({"val_acc": [0.9, 0.9]}), name="a", epochs=2, started_at=at(300))
    write_run(runs, "rb", epochs({"val_acc": [0.1]}), name="b", epochs=2, status="interrupted", started_at=at(200))
    write_run(runs, "rb2", epochs({"val_acc": [0.8, 0.85]}), name="b_again", epochs=2, restarts="rb",
              started_at=at(100))  # fmt: skip
    report = phase(tmp_path, RELAUNCH)
    assert [g.run_id for g in report.gates] == ["ra", "rb2"] and report.verdict == "green"
    assert [[(a.run_id, a.state) for a in row.attempts] for row in report.rows] == [
        [("ra", "completed")],
        [("rb", "relaunched"), ("rb2", "completed")],
    ]
    assert report.rows[1].attempts[0].relaunched_as == "rb2"
    assert (report.status, report.done) == ("done", 2)
    assert [row.run_id for row in report.comparison] == ["ra", "rb2"]


def test_a_relaunch_not_yet_logging_the_gate_metric_is_pending(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    write_run(runs, "ra", epochs({"val_acc": [0.9]}), name="a", started_at=at(300))
    write_run(runs, "rb", epochs({"val_acc": [0.1]}), name="b", status="failed", started_at=at(200))
    write_run(runs, "rb2", [], name="b", restarts="rb", status="running", started_at=at(1), updated_at=at(0),
              ended_at=None)  # fmt: skip
    report = phase(tmp_path, RELAUNCH)
    assert [(g.run_id, g.colour) for g in report.gates] == [("ra", "green"), ("rb2", "pending")]
    assert report.verdict == "pending" and report.status == "running"


def test_a_gate_epoch_only_the_killed_attempt_reached_is_read_from_it_when_the_relaunch_resumed_later(
    tmp_path: Path,
) -> None:
    """A SLURM requeue resumes from a checkpoint after epoch 1: the gate at epoch 1 reads what
    the killed attempt logged there; a relaunch that starts over is judged on its own epoch 1."""
    runs = tmp_path / "runs"
    write_run(runs, "ra", epochs({"val_acc": [0.9]}), name="a", started_at=at(300))
    write_run(runs, "rb", epochs({"val_acc": [0.7]}), name="b", status="interrupted", started_at=at(200))
    resumed = [{"epoch": 2, "time": 60.0, "val_acc": 0.2}]
    write_run(runs, "rb2", resumed, name="b", restarts="rb", started_at=at(100))
    report = phase(tmp_path, RELAUNCH)
    assert [(g.run_id, g.colour, g.observed) for g in report.gates] == [("ra", "green", 0.9), ("rb2", "green", 0.7)]
    shutil.rmtree(runs / "rb2")
    write_run(runs, "rb2", epochs({"val_acc": [0.3, 0.9]}), name="b", restarts="rb", started_at=at(100))
    report = phase(tmp_path, RELAUNCH)
    assert [(g.run_id, g.colour, g.observed) for g in report.gates][1] == ("rb2", "red", 0.3)


def test_a_run_that_ended_without_the_gate_epoch_is_red_not_pending_forever(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    write_run(runs, "ra", [{"epoch": 2, "time": 60.0, "val_acc": 0.9}], name="a", started_at=at(300))
    write_run(runs, "rb", [{"epoch": 1, "time": 60.0, "train_loss": 0.5}, {"epoch": 2, "time": 120.0, "val_acc": 0.9}],
              name="b", started_at=at(200))  # fmt: skip
    report = phase(tmp_path, RELAUNCH)
    assert [(g.run_id, g.colour) for g in report.gates] == [("ra", "red"), ("rb", "red")]
    assert "ended without" in report.gates[0].note and report.verdict == "red"


def test_an_unreadable_run_folder_of_the_phase_blocks_it_and_keeps_the_verdict_from_green(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    write_run(runs, "ra", epochs({"val_acc": [0.9]}), name="a", started_at=at(300))
    write_run(runs, "rb", epochs({"val_acc": [0.9]}), name="b", started_at=at(200))
    assert phase(tmp_path, RELAUNCH).status == "done" and phase(tmp_path, RELAUNCH).verdict == "green"
    (runs / "rb" / "run.json").write_text('{"format": "rundocs.run/1", "name": "b", "status": "succeeded"}')
    report = phase(tmp_path, RELAUNCH)
    assert report.unreadable == ("rb",)
    assert report.status == "blocked" and report.verdict == "pending"


def test_two_runs_naming_each_other_in_restarts_do_not_hang_the_build(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    write_run(runs, "rx", epochs({"val_acc": [0.9]}), name="a", restarts="ry", started_at=at(20), status="failed")
    write_run(runs, "ry", epochs({"val_acc": [0.9]}), name="a_retry", restarts="rx", started_at=at(10))
    (tmp_path / "plans").mkdir()
    (tmp_path / "plans" / "p.yaml").write_text(RELAUNCH)
    code = f"""
import resource
resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))  # a runaway chain fails fast instead of swapping
from datetime import datetime
import rundocs
from rundocs.load.plans import load_plans
from rundocs.render.pages import PlanSet, SiteOptions, render_site
runs = rundocs.load_runs({str(runs)!r}, now=datetime.fromisoformat({NOW.isoformat()!r}))
site = render_site(runs, SiteOptions(), plans=PlanSet(*load_plans({str(tmp_path / "plans")!r})))
print(sorted(p for p in site.files if p.startswith("phases/")))
"""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "OPENBLAS_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "phases/p.md" in done.stdout
    report = phase(tmp_path, RELAUNCH)
    assert [a.run_id for a in report.rows[0].attempts] == ["rx", "ry"]  # rx started first: ry relaunches it


def test_the_best_value_is_finite_and_ties_go_to_the_earliest_run(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    write_run(runs, "z1", epochs({"val_acc": [0.5, "Infinity", 0.7], "val_loss": [1.0, 0.5, 0.6]}), name="first",
              phase="p", started_at=at(300))  # fmt: skip
    write_run(runs, "a2", epochs({"val_acc": [0.6], "val_loss": [0.5]}), name="second", phase="p", started_at=at(200))
    plan = "title: C\ncompare: {metrics: {val_acc: max, val_loss: min}}\n"
    rows = {row.run_id: row for row in phase(tmp_path, plan).comparison}
    assert rows["z1"].values == {"val_acc": 0.7, "val_loss": 0.5}  # an infinity is not a best value
    assert rows["z1"].best == {"val_acc", "val_loss"} and rows["a2"].best == frozenset()  # 0.5 tie: the earlier run


ORACLE_GATES = """
title: O
runs: [{match: "*"}]
gates:
  - {metric: val_acc, epoch: %d, green: ">= 0.5", amber: ">= 0.4"}
  - {metric: val_acc, green: ">= 0.5", amber: ">= 0.4"}
"""


def naive_colour(value: float | None, running: bool = True) -> str:
    """A missing value is pending while the run runs, red once it ended without one."""
    if value is None:
        return "pending" if running else "red"
    if not math.isfinite(value):
        return "red"
    return "green" if value >= 0.5 else "amber" if value >= 0.4 else "red"


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(
    first=st.sampled_from([0, 1]),
    lines=st.lists(
        st.lists(st.sampled_from([None, None, 0.3, 0.45, 0.5, 0.6, "Infinity"]), min_size=1, max_size=3),
        min_size=1,
        max_size=4,
    ),
    nan_at=st.one_of(st.none(), st.tuples(st.integers(0, 3), st.integers(0, 2))),
    gate_epoch=st.integers(0, 5),
    running=st.booleans(),
)
@example(first=1, lines=[[0.6, None]], nan_at=(0, 1), gate_epoch=1, running=False)  # NaN after a value
@example(first=1, lines=[[0.6, None], [None]], nan_at=(0, 1), gate_epoch=2, running=False)  # NaN since
@example(first=0, lines=[[0.6], [0.3, 0.45]], nan_at=None, gate_epoch=1, running=True)
@example(first=1, lines=[[None]], nan_at=(0, 0), gate_epoch=1, running=False)  # logged only as NaN: red
def test_gates_equal_a_naive_reading_of_the_raw_lines(
    tmp_path_factory: pytest.TempPathFactory,
    first: int,
    lines: list[list[Any]],
    nan_at: tuple[int, int] | None,
    gate_epoch: int,
    running: bool,
) -> None:
    """Split epoch lines, 0- or 1-based epochs, a logged NaN, infinities, running or ended: each
    gate colour and value equals a reading of the raw lines written here without numpy."""
    rows, logged = [], []
    for i, epoch_lines in enumerate(lines):
        for j, value in enumerate(epoch_lines):
            value = "NaN" if nan_at == (i, j) else value
            row: dict[str, Any] = {"epoch": first + i, "train_loss": 1.0}
            if value is not None:
                row["val_acc"] = value
                logged.append((first + i, float(value)))
            rows.append(row)
    tmp = tmp_path_factory.mktemp("oracle")
    status: dict[str, Any] = {"status": "running", "ended_at": None, "updated_at": at(0)} if running else {}
    write_run(tmp / "runs", "r", rows, **status)
    gates = phase(tmp, ORACLE_GATES % gate_epoch).gates
    if not logged:
        assert gates == ()
        return
    at_epoch = [value for epoch, value in logged if epoch == gate_epoch]
    reached = [index for index, row in enumerate(rows) if row["epoch"] == gate_epoch]
    before = [value for index, row in enumerate(rows) if reached and index <= reached[-1] for value in
              ([float(row["val_acc"])] if "val_acc" in row else [])]  # fmt: skip
    expected = at_epoch[-1] if at_epoch else (math.nan if before and math.isnan(before[-1]) else None)
    per_epoch = {epoch: value for epoch, value in logged}  # one value an epoch: its last line
    finite = [value for value in per_epoch.values() if math.isfinite(value)]
    best = max(finite) if finite else list(per_epoch.values())[-1]
    epoch_gate, best_gate = gates
    assert epoch_gate.colour == naive_colour(expected, running)
    assert same(epoch_gate.observed, expected)
    assert best_gate.colour == ("pending" if running else naive_colour(best))
    assert same(best_gate.observed, best)


def same(value: float | None, expected: float | None) -> bool:
    """Equal, NaN equal to NaN."""
    if value is None or expected is None:
        return value is expected
    return value == expected or (math.isnan(value) and math.isnan(expected))


def test_a_relaunch_resuming_from_a_checkpoint_counts_the_epochs_of_its_chain(tmp_path: Path) -> None:
    """The SLURM requeue: killed after epochs 0..3, resumed at epoch 4 up to 9 of 10: E010/010."""
    from rundocs.analyse.rules import Relaunches, run_epochs_done

    write_run(tmp_path, "a", [{"epoch": e, "val_loss": 1.0} for e in range(4)], epochs=10, status="interrupted")
    write_run(
        tmp_path,
        "b",
        [{"epoch": e, "val_loss": 0.5} for e in range(4, 10)],
        epochs=10,
        restarts="a",
        started_at="2026-01-01T12:00:00+00:00",
    )
    runs = rundocs.load_runs(tmp_path)
    relaunches = Relaunches(runs.records)
    assert run_epochs_done(runs, "b", relaunches) == 10
    assert run_epochs_done(runs, "a", relaunches) == 4


def test_an_equality_gate_without_an_epoch_reads_and_says_the_last_value(tmp_path: Path) -> None:
    write_run(tmp_path / "runs", "ra", epochs({"val_acc": [0.5, 0.2]}), name="a", phase="p")
    plan = "title: E\ngates:\n  - {metric: val_acc, green: '== 0.2'}\n  - {metric: val_acc, green: '>= 0.5'}\n"
    equal, best = phase(tmp_path, plan).gates
    assert (equal.reads, equal.observed, equal.colour) == ("last", 0.2, "green")
    assert (best.reads, best.observed, best.colour) == ("best", 0.5, "green")


def test_a_relaunch_resumed_from_a_checkpoint_continues_its_attempts_curve(tmp_path: Path) -> None:
    """Killed after epoch 3 (val_loss 0.3, 0.2, 0.1), resumed at epoch 4 (0.5 each): the chain's
    best is 0.1 at epoch 3, for the best-over-the-run gate, the comparison and the sweep alike."""
    from rundocs.analyse.sweeps import report_sweep

    runs = tmp_path / "runs"
    write_run(runs, "a1", epochs({"val_loss": [0.3, 0.2, 0.1]}), name="a", sweep="s", status="interrupted",
              started_at=at(300), epochs=6)  # fmt: skip
    resumed = [{"epoch": e, "time": 60.0 * e, "val_loss": 0.5} for e in (4, 5, 6)]
    write_run(runs, "a2", resumed, name="a", sweep="s", restarts="a1", started_at=at(200), epochs=6)
    plan = "title: R\nruns: [{name: a}]\ngates: [{metric: val_loss, green: '<= 0.2'}]\n"
    plan += "compare: {metrics: {val_loss: min}}\n"
    report = phase(tmp_path, plan)
    (gate,) = report.gates
    assert (gate.run_id, gate.observed, gate.at_epoch, gate.colour) == ("a2", 0.1, 3, "green")
    assert report.comparison[0].values["val_loss"] == 0.1
    loaded = rundocs.load_runs(runs, now=NOW)
    sweep = report_sweep("s", list(loaded.records), loaded)
    assert sweep.best_run == "a2" and sweep.best is not None and (sweep.best.score, sweep.best.best_epoch) == (0.1, 3)
    assert (sweep.best.final, sweep.best.final_epoch) == (0.5, 6)


def test_a_relaunch_of_lines_without_epoch_or_step_is_judged_on_its_own_lines(tmp_path: Path) -> None:
    """Line numbers of two attempts do not say where one resumed the other: only the relaunch counts."""
    runs = tmp_path / "runs"
    write_run(runs, "a1", [{"loss": 0.5}, {"loss": 0.05}], name="a", phase="p", status="interrupted",
              started_at=at(300))  # fmt: skip
    write_run(runs, "a2", [{"loss": 0.9}, {"loss": 0.8}, {"loss": 0.7}], name="a", phase="p", restarts="a1",
              started_at=at(200))  # fmt: skip
    (gate,) = phase(tmp_path, "title: L\ngates: [{metric: loss, green: '<= 0.1'}]\n").gates
    assert (gate.run_id, gate.observed, gate.colour) == ("a2", 0.7, "red")
