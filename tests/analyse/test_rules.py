"""The one-place rules, each checked against a deliberately naive reference on generated inputs."""

from __future__ import annotations

import itertools
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from rundocs.analyse.rules import Relaunches, best_index, best_point, epochs_done, metric_axis, pick_best
from rundocs.load.records import RunRecord

FLOATS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 1.0, 1.0, math.nan, math.inf, -math.inf, 1e308, -1e308, 5e-324]),
)
DIRECTIONS = st.sampled_from(["min", "max"])
SETTINGS = settings(max_examples=150, deadline=None, derandomize=True)


def naive_best(values: list[float], direction: str) -> int | None:
    """Walk once; a strictly better finite value replaces the current one (so ties keep the first)."""
    winner = None
    for index, value in enumerate(values):
        if not math.isfinite(value):
            continue
        if winner is None or (value < values[winner] if direction == "min" else value > values[winner]):
            winner = index
    return winner


@SETTINGS
@given(st.lists(FLOATS, max_size=30), DIRECTIONS)
def test_best_index_is_the_first_best_finite_value(values: list[float], direction: str) -> None:
    assert best_index(np.array(values, dtype=np.float64), direction) == naive_best(values, direction)  # type: ignore[arg-type]


@SETTINGS
@given(st.lists(FLOATS, max_size=30), DIRECTIONS)
def test_pick_best_agrees_with_best_index(values: list[float], direction: str) -> None:
    scored: list[tuple[int, float | None]] = [(i, v) for i, v in enumerate(values)]
    scored.insert(len(scored) // 2, (-1, None))  # a missing score never wins
    assert pick_best(scored, direction) == naive_best(values, direction)  # type: ignore[arg-type]


@SETTINGS
@given(st.lists(st.tuples(FLOATS, st.one_of(st.none(), st.integers(0, 50))), min_size=1, max_size=20), DIRECTIONS)
def test_best_point_names_the_x_of_the_best_value(pairs: list[tuple[float, int | None]], direction: str) -> None:
    y = np.array([v for v, _ in pairs], dtype=np.float64)
    x = np.array([math.nan if at is None else at for _, at in pairs], dtype=np.float64)
    point = best_point(x, y, direction)  # type: ignore[arg-type]
    index = naive_best([v for v, _ in pairs], direction)
    if index is None:
        assert point is None
    else:
        assert point is not None and point.value == pairs[index][0] and point.at == pairs[index][1]


@SETTINGS
@given(
    start=st.sampled_from([0, 1]),
    count=st.integers(1, 40),
    repeats=st.lists(st.integers(1, 3), min_size=40, max_size=40),
    gaps=st.lists(st.booleans(), min_size=40, max_size=40),
    planned_offset=st.one_of(st.none(), st.integers(-3, 3)),
    shuffle=st.randoms(use_true_random=False),
)
def test_epochs_done_counts_epochs_from_zero_or_one(
    start: int, count: int, repeats: list[int], gaps: list[bool], planned_offset: int | None, shuffle: Any
) -> None:
    """A run that logged epochs start..start+count-1 (several lines per epoch, lines without an
    epoch between them, in any order) finished ``count`` epochs; a 0-based run that reached its
    planned count (0..n, n planned) evaluated at epoch 0 and finished n."""
    epochs: list[float] = []
    for offset in range(count):
        epochs += [float(start + offset)] * repeats[offset]
        if gaps[offset]:
            epochs.append(math.nan)  # a per-step line without an epoch
    shuffle.shuffle(epochs)
    last = start + count - 1
    planned = None if planned_offset is None else max(1, count + planned_offset)
    expected = count - 1 if start == 0 and planned == last else count
    assert epochs_done(np.array(epochs), planned) == expected


def test_epochs_done_without_epochs_is_none() -> None:
    assert epochs_done(None, 10) is None
    assert epochs_done(np.array([math.nan, math.nan]), 10) is None


LINE = st.fixed_dictionaries(
    {},
    optional={
        "epoch": st.integers(0, 5).map(float),
        "step": st.integers(0, 500).map(float),
        "m": st.sampled_from([0.5, 1.5, math.inf, math.nan]),  # a NaN the line wrote carries it too
    },
)


@SETTINGS
@given(st.lists(LINE, min_size=1, max_size=15).filter(lambda lines: any("m" in line for line in lines)))
def test_metric_axis_follows_the_lines_that_carry_the_metric(lines: list[dict[str, float]]) -> None:
    keys = {key for line in lines for key in line}
    columns = {key: np.array([line.get(key, math.nan) for line in lines]) for key in keys}
    carrying = [line for line in lines if "m" in line]
    if "epoch" in keys and all("epoch" in line for line in carrying):
        expected = "epoch"
    elif "step" in keys and all("step" in line for line in carrying):
        expected = "step"
    elif any("epoch" in line for line in carrying):
        expected = "epoch"
    elif any("step" in line for line in carrying):
        expected = "step"
    else:
        expected = "line"
    axis = metric_axis(columns, np.array(["m" in line for line in lines]))
    assert axis.name == expected and len(axis.x) == len(lines)
    if expected == "line":
        assert axis.x.tolist() == list(range(1, len(lines) + 1))


def record(run_id: str, started: int, restarts: str | None) -> RunRecord:
    moment = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=started)
    return RunRecord(
        id=run_id, name=run_id, kind="train", phase=None, sweep=None, tags=(), config={}, bookkeeping=(),
        status="failed",
        started_at=moment, updated_at=moment, ended_at=moment, epochs=None, summary={}, summary_text={}, evaluates=(),
        restarts=restarts, error=None, env={}, checkpoints=(), warnings=(), folder=Path(run_id), notes=None,
    )  # fmt: skip


@SETTINGS
@given(st.lists(st.tuples(st.integers(0, 5), st.one_of(st.none(), st.integers(0, 9))), min_size=1, max_size=10))
def test_relaunch_chains_are_finite_forward_in_time_and_partition_the_runs(
    specs: list[tuple[int, int | None]],
) -> None:
    """Any ``restarts`` graph (cycles, self-loops, unknown ids, two relaunches of one run) gives
    chains that end, go forward in start order, hold every run exactly once, and end in the
    one attempt of the chain that nobody relaunched."""
    ids = [f"r{index}" for index in range(len(specs))]
    records = {
        run_id: record(run_id, started, None if target is None else f"r{target}")
        for run_id, (started, target) in zip(ids, specs, strict=True)
    }
    relaunches = Relaunches(records)
    order = {run_id: (r.started_at, run_id) for run_id, r in records.items()}
    seen: list[str] = []
    for run_id in ids:
        chain = relaunches.chain(run_id)
        assert run_id in chain and len(chain) <= len(ids)
        assert all(order[a] < order[b] for a, b in itertools.pairwise(chain))
        assert relaunches.effective(run_id) == chain[-1] and not relaunches.superseded(chain[-1])
        assert all(relaunches.superseded(attempt) for attempt in chain[:-1])
        if chain[0] == run_id:
            seen += chain
    assert sorted(seen) == sorted(ids)
    # naive reference: an edge exists only where a run names an earlier run
    for run_id, target in relaunches.restarts.items():
        assert order[target] < order[run_id]
        named = records[run_id].restarts
        assert named is not None and (target == named or named in relaunches.chain(target))
    assert relaunches.effective_only(ids) == [r for r in ids if not relaunches.superseded(r)]


def test_a_second_relaunch_of_one_run_follows_the_first() -> None:
    records = {"a": record("a", 0, None), "b": record("b", 1, "a"), "c": record("c", 2, "a")}
    relaunches = Relaunches(records)
    assert relaunches.chain("c") == ["a", "b", "c"] and relaunches.effective("a") == "c"


def test_two_runs_naming_each_other_form_one_chain() -> None:
    records = {"a": record("a", 0, "b"), "b": record("b", 1, "a")}
    relaunches = Relaunches(records)
    assert relaunches.chain("a") == relaunches.chain("b") == ["a", "b"]
