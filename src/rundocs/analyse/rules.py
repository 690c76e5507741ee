"""The rules every page states its numbers by, each in one place.

- ``best_index`` / ``best_point`` / ``pick_best``: the best value (finite only, in the metric's
  direction, ties to the earliest).
- ``epochs_done``: how many epochs a run finished, whether it counts epochs from 0 or from 1.
- ``metric_axis`` / ``last_per_x``: the x axis a metric was logged against (epoch, step or
  line), and its value at each x (the last line there).
- ``Relaunches``: which run relaunches which, and so which attempt of a chain counts.
- ``resolve_direction``: whether lower or higher is better, from every place that may say so.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import NamedTuple, TypeVar

import numpy as np

from rundocs.analyse.names import Direction, parse_metric_name
from rundocs.load.records import RunRecord
from rundocs.load.runs import Runs

K = TypeVar("K")


# -- best value ---------------------------------------------------------------------------


def best_index(values: np.ndarray, direction: Direction) -> int | None:
    """Index of the best finite value (the first one on a tie); None when no value is finite.

    NaN and infinities never win: a diverged run has no best point past its divergence.
    """
    finite = np.isfinite(values)
    if not finite.any():
        return None
    if direction == "min":
        return int(np.argmin(np.where(finite, values, np.inf)))
    return int(np.argmax(np.where(finite, values, -np.inf)))


class Point(NamedTuple):
    value: float
    at: int | None


def best_point(x: np.ndarray, y: np.ndarray, direction: Direction) -> Point | None:
    """The best finite value of a curve and the x it was logged at (the earliest on a tie)."""
    index = best_index(y, direction)
    if index is None:
        return None
    at = x[index]
    return Point(float(y[index]), int(at) if np.isfinite(at) else None)


def pick_best(scored: Iterable[tuple[K, float | None]], direction: Direction) -> K | None:
    """The key with the best finite score; on a tie the first in the given order; None if none is finite."""
    winner: K | None = None
    winning: float | None = None
    for key, score in scored:
        if score is None or not math.isfinite(score):
            continue
        if winning is None or (score < winning if direction == "min" else score > winning):
            winner, winning = key, score
    return winner


def is_better(value: float, other: float, direction: Direction) -> bool:
    """``value`` strictly better than ``other`` (both finite)."""
    return value < other if direction == "min" else value > other


# -- epochs -------------------------------------------------------------------------------


def epochs_done(
    epochs: np.ndarray | None, planned: int | None = None, *, counted_from: float | None = None
) -> int | None:
    """How many epochs a run finished, from the epoch numbers it logged.

    Epochs counted from 1 (``range(1, n + 1)``): the last epoch. Counted from 0
    (``range(n)``): the last epoch + 1. A run that logs epoch 0 and then reaches its
    planned count (``0..n`` with ``n`` planned) evaluated before training: the last epoch.
    None when the run logged no epoch. ``counted_from``: the first epoch the earlier attempts
    of its relaunch chain logged, for a relaunch that resumes where they stopped.
    """
    if epochs is None:
        return None
    present = epochs[np.isfinite(epochs)]
    if not present.size:
        return None
    first, last = int(present.min()), int(present.max())
    if counted_from is not None:
        first = min(first, int(counted_from))
    if first > 0:
        return last
    if planned is not None and last == planned:
        return last
    return last + 1


# -- x axis -------------------------------------------------------------------------------


class Axis(NamedTuple):
    name: str  # "epoch", "step" or "line"
    x: np.ndarray  # one x per row of the run's columns (NaN where the row has none)


def metric_axis(columns: Mapping[str, np.ndarray], logged: np.ndarray) -> Axis:
    """The axis a metric was logged against: epoch if every line carrying it has an epoch, else
    step if every such line has a step, else epoch or step where some lines have one, else the
    line number. Per-step metrics logged beside per-epoch ones so keep their own axis.
    ``logged``: the rows that carry the metric (``load.metrics.logged_rows``)."""
    candidates = [name for name in ("epoch", "step") if name in columns]
    for name in candidates:
        if not np.isnan(columns[name][logged]).any():
            return Axis(name, columns[name])
    for name in candidates:
        if (~np.isnan(columns[name][logged])).any():
            return Axis(name, columns[name])
    return Axis("line", np.arange(1, len(logged) + 1, dtype=np.float64))


def last_per_x(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One value per x, in x order: the last line logged at that x.

    A metric logged on several lines of one epoch (per batch, with the epoch number) reads as
    its last line there, the value a gate at that epoch reads: every number a page states was
    logged, none is an average the run never saw.
    """
    order = np.argsort(x, kind="stable")
    x, y = x[order], y[order]
    unique, starts, counts = np.unique(x, return_index=True, return_counts=True)
    return unique, y[starts + counts - 1]


# -- relaunch chains ----------------------------------------------------------------------


class Relaunches:
    """Who relaunches whom, from each run's ``restarts`` field.

    A run can only relaunch a run that started before it (ties by id), so ``restarts`` cycles
    cannot exist here. A run that names an attempt already relaunched relaunches the end of
    that chain (a second relaunch of a killed run follows the first). The last run of a chain
    is its *effective attempt*: the only one gates, progress, comparisons, sweeps and seed
    statistics count. Earlier attempts stay listed, marked relaunched.
    """

    def __init__(self, records: Mapping[str, RunRecord]) -> None:
        order = {run_id: (r.started_at, run_id) for run_id, r in records.items()}
        self.restarted_by: dict[str, str] = {}
        self.restarts: dict[str, str] = {}
        for run_id in sorted(records, key=order.__getitem__):
            target = records[run_id].restarts
            if target is None or target not in records or order[target] >= order[run_id]:
                continue
            target = self.effective(target)  # every attempt of it started before run_id
            self.restarted_by[target] = run_id
            self.restarts[run_id] = target

    def superseded(self, run_id: str) -> bool:
        """True for an attempt that a later run relaunched."""
        return run_id in self.restarted_by

    def effective(self, run_id: str) -> str:
        """The last attempt of the chain ``run_id`` belongs to."""
        while run_id in self.restarted_by:  # edges point forward in time, so this ends
            run_id = self.restarted_by[run_id]
        return run_id

    def first(self, run_id: str) -> str:
        """The first attempt of the chain ``run_id`` belongs to."""
        while run_id in self.restarts:
            run_id = self.restarts[run_id]
        return run_id

    def chain(self, run_id: str) -> list[str]:
        """Every attempt of ``run_id``'s chain, first to last."""
        chain = [self.first(run_id)]
        while chain[-1] in self.restarted_by:
            chain.append(self.restarted_by[chain[-1]])
        return chain

    def effective_attempts(self, run_ids: Iterable[str]) -> list[str]:
        """The effective attempt of each run's chain, each once, in the order of ``run_ids``."""
        return list(dict.fromkeys(self.effective(run_id) for run_id in run_ids))

    def effective_only(self, run_ids: Iterable[str]) -> list[str]:
        """``run_ids`` without the attempts a later run relaunched, order kept."""
        return [run_id for run_id in run_ids if run_id not in self.restarted_by]


def run_epochs_done(runs: Runs, run_id: str, relaunches: Relaunches) -> int | None:
    """``epochs_done`` of one run, counted from the first epoch of its relaunch chain: a relaunch
    that resumes from a checkpoint (epochs 4..9 after an attempt killed at 3) did 10 of 10."""
    chain = relaunches.chain(run_id)
    earlier = [runs.curves(r).get("epoch") for r in chain[: chain.index(run_id)]]
    starts = [float(np.nanmin(e)) for e in earlier if e is not None and np.isfinite(e).any()]
    record = runs.records[run_id]
    return epochs_done(runs.curves(run_id).get("epoch"), record.epochs, counted_from=min(starts, default=None))


# -- direction ----------------------------------------------------------------------------


def resolve_direction(
    metric: str,
    *,
    overrides: Mapping[str, Direction] | None = None,
    plan: Direction | None = None,
    study: Direction | None = None,
) -> Direction | None:
    """Whether lower or higher is better for ``metric``, first found in this order:

    1. the user's overrides (``rundocs build --direction``, the plugin's ``directions``), by full
       name then by base name (``loss`` for ``val_loss``);
    2. the phase plan (``sweep.goal``, a ``compare`` metric's goal);
    3. the study that produced the runs (an imported Optuna study's direction, ``goal:`` tags);
    4. the metric's name (loss, error... lower; acc, f1... higher).

    None when nothing says: no best value is claimed for such a metric.
    """
    named = parse_metric_name(metric, overrides)
    if overrides and (metric in overrides or named.base in overrides):
        return named.direction
    return plan or study or named.direction
