"""Values logged one at a time (a metric's value at a step), gathered into metrics lines: how
the TensorBoard and DVCLive readers turn their sources' series into ``Row`` objects."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from rundocs.formatting import counted
from rundocs.importers.imported import Row, line_epoch

#: The metric that gives a line its epoch instead of being a metric (Lightning logs it with
#: every call to ``log_metrics``, into TensorBoard and DVCLive alike).
EPOCH = "epoch"


class Point(NamedTuple):
    """One logged value: its step, metric name, value and when it was logged (Unix seconds)."""

    step: int
    name: str
    value: float
    wall_time: float | None = None


@dataclass
class _Line:
    values: dict[str, float] = field(default_factory=dict)
    wall_time: float | None = None


def rows_of(points: Iterable[Point], start: float | None) -> tuple[list[Row], list[str]]:
    """The lines the points make, in step order, and the problems met.

    The points of one step share a line, unless a metric comes again at that step with another
    value (both sources keep both): that starts another line for the step. A line's time is its
    first point's, in seconds after ``start``. An ``epoch`` metric gives its line its epoch, and
    the other lines of its step too when it has one value there; one that is not a whole number
    from 0 is left out, with a problem.
    """
    steps: dict[int, list[_Line]] = {}
    for point in points:
        lines = steps.setdefault(point.step, [])
        line = next((ln for ln in lines if point.name not in ln.values or ln.values[point.name] == point.value), None)
        if line is None:
            line = _Line()
            lines.append(line)
        line.values[point.name] = point.value
        if point.wall_time is not None and (line.wall_time is None or point.wall_time < line.wall_time):
            line.wall_time = point.wall_time
    rows, problems = [], []
    for step in sorted(steps):
        own = [line.values.pop(EPOCH, None) for line in steps[step]]
        known = {epoch for epoch in own if epoch is not None}
        for line, epoch in zip(steps[step], own, strict=True):
            if epoch is None and len(known) == 1:
                epoch = next(iter(known))
            whole = line_epoch(epoch) if epoch is not None else None
            if epoch is not None and whole is None:
                problems.append(f"'{EPOCH}' is {epoch!r} at step {step}")
            time = line.wall_time - start if line.wall_time is not None and start is not None else None
            rows.append(Row(line.values, whole, step, time))
    if problems:
        more = f" (and at {counted(len(problems) - 1, 'more line')})" if len(problems) > 1 else ""
        problems = [f"{problems[0]}{more}: not a whole number from 0, so not used as the epoch"]
    return rows, problems
