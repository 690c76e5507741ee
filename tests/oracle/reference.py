"""A deliberately naive reference: the numbers a page must state, from the raw files alone.

Plain loops over ``run.json``, the lines of ``metrics.jsonl`` and the plan YAML; no numpy, no
rundocs. Each rule is written the way the issue states it, so a reader can check it by eye.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, localcontext
from fractions import Fraction
from pathlib import Path
from typing import Any

import yaml

NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
STALLED_AFTER = timedelta(minutes=10)  # the projects never come near it: silent 1 minute, or days


def direction(metric: str) -> str | None:
    """min for a loss, max for an accuracy."""
    return "min" if "loss" in metric else "max" if "acc" in metric else None


def _refuse(token: str) -> Any:
    raise ValueError(f"bare {token} is not JSON")


def parse_line(text: str) -> dict[str, Any] | None:
    """One metrics line as the schema accepts it, else None (the line is skipped)."""
    try:
        row = json.loads(text, parse_constant=_refuse)
    except ValueError:
        return None
    if not isinstance(row, dict):
        return None
    for key, value in row.items():
        if key in ("epoch", "step"):
            if type(value) is not int or value < 0:
                return None
        elif key == "time":
            if type(value) not in (int, float) or not value >= 0:
                return None
        elif value not in NON_FINITE and type(value) not in (int, float):
            return None
    return row


def number(value: Any) -> float:
    return NON_FINITE[value] if isinstance(value, str) else float(value)


@dataclass
class Run:
    id: str
    record: dict[str, Any]
    rows: list[dict[str, Any]]

    def __getattr__(self, key: str) -> Any:
        return self.record.get(key)

    def points(self, metric: str) -> list[tuple[int, float]]:
        """(x, value) of every line logging the metric: on epochs if any such line has one, else on steps."""
        on_epochs = [(row["epoch"], number(row[metric])) for row in self.rows if "epoch" in row and metric in row]
        if on_epochs:
            return on_epochs
        return [(row["step"], number(row[metric])) for row in self.rows if "step" in row and metric in row]

    def curve(self, metric: str) -> list[tuple[int, float]]:
        """One point per x, in x order: the last line logged at that x (how every page reads it)."""
        last: dict[int, float] = {}
        for x, value in self.points(metric):
            last[x] = value
        return sorted(last.items())

    def on_epochs(self, metric: str) -> bool:
        """Whether ``points`` places the metric on epochs."""
        return any("epoch" in row and metric in row for row in self.rows)

    def logs(self, metric: str) -> bool:
        return any(metric in row for row in self.rows)

    def epochs_done(self, earlier: tuple[int, ...] | list[int] = ()) -> int | None:
        """``earlier``: the epochs the attempts it relaunches logged (a resumed run goes on counting)."""
        epochs = [row["epoch"] for row in self.rows if "epoch" in row]
        if not epochs:
            return None
        if min([*epochs, *earlier]) > 0:
            return max(epochs)
        # counted from 0, except an evaluation at epoch 0 before n planned epochs (0..n): docs/plans.md
        return max(epochs) if max(epochs) == self.record.get("epochs") else max(epochs) + 1

    def state(self, now: datetime) -> str:
        if self.status != "running":
            return str(self.status)
        last = datetime.fromisoformat(self.updated_at)
        for row in self.rows:
            try:
                last = max(last, datetime.fromisoformat(self.started_at) + timedelta(seconds=row.get("time", 0)))
            except OverflowError:  # a time past the year 9999 (a tainted run)
                continue
        return "stalled" if now - last > STALLED_AFTER else "running"

    @property
    def evaluated(self) -> list[str]:
        value = self.record.get("evaluates")
        return [] if value is None else [value] if isinstance(value, str) else list(value)


def read_runs(runs_dir: Path, ids: list[str]) -> dict[str, Run]:
    """The given (readable) runs, in start order (their ids sort in start order)."""
    runs = {}
    for run_id in sorted(ids):
        folder = runs_dir / run_id
        text = (folder / "metrics.jsonl").read_text("utf-8")
        complete = text[: text.rfind("\n") + 1]  # a last line without its newline is a write in progress
        rows = [row for line in complete.split("\n") if line.strip() and (row := parse_line(line)) is not None]
        runs[run_id] = Run(run_id, json.loads((folder / "run.json").read_text("utf-8")), rows)
    return runs


def best(points: list[tuple[int, float]], goal: str) -> tuple[int, float] | None:
    """The best finite value and where it was; ties go to the earliest."""
    chosen = None
    for x, value in points:
        if math.isfinite(value) and (chosen is None or (value < chosen[1] if goal == "min" else value > chosen[1])):
            chosen = (x, value)
    return chosen


def earlier_epochs(runs: dict[str, Run], run_id: str) -> list[int]:
    """Epochs logged by the attempts ``run_id`` relaunches (a resumed run goes on counting)."""
    return [row["epoch"] for attempt in attempts(runs, run_id)[1:] for row in runs[attempt].rows if "epoch" in row]


def attempts(runs: dict[str, Run], run_id: str) -> list[str]:
    """``run_id`` and the attempts it relaunches, followed back through ``restarts`` while each
    started before the one naming it."""
    found, current = [run_id], runs[run_id]
    while current.restarts in runs and current.restarts not in found:
        attempt = runs[current.restarts]
        if (_start(attempt), attempt.id) >= (_start(current), current.id):
            break
        found.append(attempt.id)
        current = attempt
    return found


def chain_curve(runs: dict[str, Run], run_id: str, metric: str) -> list[tuple[int, float]]:
    """The metric over ``run_id`` and the attempts it relaunches: its own points, then each earlier
    attempt's points before the first x (on any line) of the attempts after it (a resumed
    relaunch continues; one that starts over replaces from where it started)."""
    chain = attempts(runs, run_id)  # the latest first
    latest = next((a for a in chain if runs[a].logs(metric)), None)
    if latest is None:
        return []
    key = "epoch" if runs[latest].on_epochs(metric) else "step"
    found: list[tuple[int, float]] = []
    cutoff = math.inf
    for attempt in chain:
        if runs[attempt].logs(metric) and (key == "epoch") == runs[attempt].on_epochs(metric):
            found = [(x, value) for x, value in runs[attempt].curve(metric) if x < cutoff] + found
        xs = [row[key] for row in runs[attempt].rows if key in row]
        if xs:
            cutoff = min(cutoff, min(xs))
    return found


def _start(run: Run) -> datetime:
    return datetime.fromisoformat(run.started_at)


def superseded(runs: dict[str, Run]) -> set[str]:
    """Attempts that a later-started run relaunches (whatever their state, as docs/plans.md says):
    no longer judged, counted or ranked."""
    return {
        run.restarts
        for run in runs.values()
        if run.restarts in runs and (_start(runs[run.restarts]), run.restarts) < (_start(run), run.id)
    }


def in_cycles(runs: dict[str, Run]) -> set[str]:
    found = set()
    for start in runs:
        seen, current = [start], runs[start].restarts
        while current in runs and current not in seen:
            seen.append(current)
            current = runs[current].restarts
        if current == start:
            found.update(seen)
    return found


def read_plans(plans_dir: Path) -> dict[str, dict[str, Any]]:
    return {path.stem: yaml.safe_load(path.read_text("utf-8")) for path in sorted(plans_dir.glob("*.yaml"))}


def members(phase: str, plan: dict[str, Any], runs: dict[str, Run]) -> list[str]:
    names = {item["name"] for item in plan.get("runs") or []}
    train = {i for i, r in runs.items() if r.phase == phase or (r.phase is None and r.name in names)}
    return [i for i, r in runs.items() if i in train or (r.kind == "eval" and train & set(r.evaluated))]


def gate_key(gate: dict[str, Any]) -> tuple[Any, ...]:
    green_op, green = gate["green"].split()
    amber_op, amber = gate["amber"].split() if "amber" in gate else (None, None)
    return (gate["metric"], gate.get("epoch"), green_op, float(green), amber_op, amber and float(amber))


def holds(op: str, observed: float, threshold: float) -> bool:
    return {">=": observed >= threshold, "<=": observed <= threshold, ">": observed > threshold,
            "<": observed < threshold, "==": observed == threshold}[op]  # fmt: skip


def colour(gate: dict[str, Any], value: float) -> str:
    key = gate_key(gate)
    if not math.isfinite(value):
        return "red"  # NaN and infinities never pass (docs/plans.md)
    if holds(key[2], value, key[3]):
        return "green"
    return "amber" if key[4] is not None and holds(key[4], value, key[5]) else "red"


def gate_results(phase: str, plan: dict[str, Any], runs: dict[str, Run], now: datetime) -> list[tuple[Any, ...]]:
    """(run id, gate key, colour) per judged run and gate; colour None where the issue leaves it open."""
    ids = members(phase, plan, runs)
    gone = superseded(runs)
    train = [i for i in ids if runs[i].kind == "train" and i not in gone]
    evals = [i for i in ids if runs[i].kind == "eval"]
    results = []
    for gate in plan.get("gates") or []:
        metric = gate["metric"]
        judged = [i for i in train if any(runs[a].logs(metric) for a in attempts(runs, i))]
        if judged:
            results += [(i, gate_key(gate), _judge_train(gate, runs, i, now)) for i in judged]
            continue
        for i in evals:
            run = runs[i]
            if metric in (run.summary or {}):
                results.append((i, gate_key(gate), colour(gate, number(run.summary[metric]))))
            elif run.logs(metric):
                results.append((i, gate_key(gate), colour(gate, run.points(metric)[-1][1])))
    return results


def _judge_train(gate: dict[str, Any], runs: dict[str, Run], run_id: str, now: datetime) -> str | None:
    """A run still running is pending; one that ended without the value it needs is red."""
    run = runs[run_id]
    state = run.state(now)
    points = chain_curve(runs, run_id, gate["metric"])
    if gate.get("epoch") is not None:
        at = [value for x, value in points if x == gate["epoch"]]
        if at:
            return colour(gate, at[-1])  # the last line of that epoch that logs the metric
        return "pending" if state == "running" else None if state == "stalled" else "red"
    if state in ("running", "stalled"):  # best over the run: pending until the run ends
        return "pending" if state == "running" else None
    if not points:
        return "red"
    op = gate_key(gate)[2]
    if op == "==":
        return colour(gate, points[-1][1])
    found = best(points, "max" if op in (">=", ">") else "min")
    if found is not None:
        return colour(gate, found[1])
    return "red" if all(math.isnan(value) for _, value in points) else None


def verdict(colours: list[str]) -> str:
    return next(c for c in ("red", "pending", "amber", "green") if c in colours)


def sweep_groups(runs: dict[str, Run], plans: dict[str, dict[str, Any]]) -> dict[str, tuple[list[str], Any]]:
    """Sweep name to its train runs and the plan's ``sweep:`` spec (or None)."""
    groups: dict[str, list[str]] = {}
    for run_id, run in runs.items():
        if run.sweep and run.kind == "train":
            groups.setdefault(run.sweep, []).append(run_id)
    specs: dict[str, Any] = {}
    for phase, plan in plans.items():
        if plan.get("sweep") is None:
            continue
        train = [i for i in members(phase, plan, runs) if runs[i].kind == "train"]
        loose = [i for i in train if not runs[i].sweep]
        if loose:
            groups.setdefault(phase, []).extend(loose)
        for name in {runs[i].sweep or phase for i in train}:
            specs.setdefault(name, plan["sweep"])
    return {name: (ids, specs.get(name)) for name, ids in groups.items()}


def winner(ids: list[str], metric: str, goal: str, runs: dict[str, Run]) -> str | None:
    """The run with the best finite value; ties go to the earlier run. A run still running
    (``status: running``) has a provisional value and cannot win yet."""
    chosen = None
    for run_id in ids:
        if runs[run_id].status == "running":
            continue
        found = best(chain_curve(runs, run_id, metric), goal)
        if found is not None and (chosen is None or (found[1] < chosen[1] if goal == "min" else found[1] > chosen[1])):
            chosen = (run_id, found[1])
    return chosen[0] if chosen else None


def flat(config: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """Dotted settings, each value as JSON text (so lists of mappings compare too)."""
    out = {}
    for key, value in config.items():
        if isinstance(value, dict) and value:
            out.update(flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = json.dumps(value, sort_keys=True)
    return out


def seed_stats(
    ids: list[str], metric: str, goal: str, runs: dict[str, Run], repeats: list[str]
) -> dict[frozenset[str], tuple[float, float | None]]:
    """Per configuration (the runs that differ only in repeat keys): mean and sample std of the
    bests of its ended runs."""
    settings = {i: flat(runs[i].config or {}) for i in ids}
    keys = sorted({key for s in settings.values() for key in s})
    varied = [k for k in keys if len({s.get(k) for s in settings.values()}) > 1]
    dimensions = [k for k in varied if k not in repeats and k.rsplit(".", 1)[-1] not in repeats]
    groups: dict[tuple[Any, ...], list[str]] = {}
    for i in ids:
        groups.setdefault(tuple(settings[i].get(k) for k in dimensions), []).append(i)
    stats = {}
    for members_ in groups.values():
        ended = [i for i in members_ if runs[i].status != "running"]
        bests = [found[1] for i in ended if (found := best(chain_curve(runs, i, metric), goal)) is not None]
        if bests:
            stats[frozenset(members_)] = (_mean(bests), _sample_std(bests))
    return stats


def _mean(values: list[float]) -> float:
    return float(sum(map(Fraction, values)) / len(values))  # exact, then rounded once


def _sample_std(values: list[float]) -> float | None:
    if len(values) < 2:
        return None
    mean = sum(map(Fraction, values)) / len(values)
    variance = sum((Fraction(v) - mean) ** 2 for v in values) / (len(values) - 1)
    with localcontext() as context:
        context.prec = 60
        return float((Decimal(variance.numerator) / Decimal(variance.denominator)).sqrt())
