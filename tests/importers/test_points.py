"""Values logged one at a time become metrics lines: one a step, a second where a metric comes
again with another value, the epoch from an ``epoch`` metric."""

from __future__ import annotations

from rundocs.importers.imported import Row
from rundocs.importers.points import Point, rows_of


def test_the_values_of_a_step_share_a_line_in_step_order_timed_from_the_start() -> None:
    points = [Point(5, "loss", 1.0, 105.0), Point(0, "loss", 2.0, 100.0), Point(5, "acc", 0.5, 104.0)]
    rows = [Row({"loss": 2.0}, None, 0, 0.0), Row({"loss": 1.0, "acc": 0.5}, None, 5, 4.0)]
    assert rows_of(points, 100.0) == (rows, [])
    assert rows_of(points, None)[0][1].time is None


def test_a_metric_again_at_a_step_starts_a_line_only_when_its_value_differs() -> None:
    points = [Point(3, "loss", 1.0), Point(3, "loss", 1.0), Point(3, "loss", 0.5), Point(3, "acc", 0.9)]
    assert rows_of(points, None)[0] == [Row({"loss": 1.0, "acc": 0.9}, None, 3), Row({"loss": 0.5}, None, 3)]


def test_an_epoch_metric_gives_the_lines_of_its_step_their_epoch() -> None:
    points = [
        Point(1, "epoch", 0.0),
        Point(1, "loss", 2.0),
        Point(1, "loss", 1.5),  # a second line at step 1, without an epoch of its own
        Point(2, "loss", 1.0),
        Point(2, "epoch", 1.0),
        Point(2, "loss", 0.8),  # at a step where the epoch changed, each line keeps its own
        Point(2, "epoch", 2.0),
    ]
    assert rows_of(points, None) == (
        [
            Row({"loss": 2.0}, 0, 1),
            Row({"loss": 1.5}, 0, 1),
            Row({"loss": 1.0}, 1, 2),
            Row({"loss": 0.8}, 2, 2),
        ],
        [],
    )


def test_an_epoch_that_is_not_a_whole_number_from_0_is_not_used() -> None:
    points = [Point(0, "epoch", 0.5), Point(0, "loss", 1.0), Point(1, "epoch", -1.0), Point(1, "loss", 0.5)]
    rows, problems = rows_of(points, None)
    assert [row.epoch for row in rows] == [None, None]
    assert problems == [
        "'epoch' is 0.5 at step 0 (and at 1 more line): not a whole number from 0, so not used as the epoch"
    ]
