"""Phase plans: ``plans/<phase-id>.yaml``, written by people, read safely and checked key by key.

Every problem is collected (file, key, what is expected, what was found); a plan with
problems is still loaded with what is valid in it, so the rest of the site builds.
"""

from __future__ import annotations

import datetime as dt
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from rundocs.load.problems import Problem

Colour = Literal["green", "amber", "red"]
COLOURS: tuple[Colour, ...] = ("green", "amber", "red")
_COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt, "==": operator.eq,
}  # fmt: skip
_THRESHOLD = re.compile(r"^\s*(>=|<=|>|<|==)\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$")
_KEYS = {
    "title", "date", "goal", "hypothesis", "fixed", "changed", "runs", "gates", "decisions", "compare", "notes",
    "sweep",
}  # fmt: skip


@dataclass(frozen=True)
class Threshold:
    """``>= 0.52``: a comparison and a number."""

    op: str
    value: float

    def holds(self, observed: float) -> bool:
        return _COMPARISONS[self.op](observed, self.value)

    def __str__(self) -> str:
        return f"{self.op} {self.value:g}"


@dataclass(frozen=True)
class Gate:
    metric: str
    epoch: int | None
    green: Threshold
    amber: Threshold | None


@dataclass(frozen=True)
class ExpectedRun:
    """A planned run: an exact ``name`` or a ``match`` glob over run names."""

    name: str | None = None
    match: str | None = None

    @property
    def label(self) -> str:
        return self.name or self.match or ""


@dataclass(frozen=True)
class Compare:
    metrics: dict[str, Literal["min", "max"]]
    baseline: str | None


@dataclass(frozen=True)
class SweepSpec:
    metric: str | None
    goal: Literal["min", "max"] | None
    repeat: tuple[str, ...]


@dataclass(frozen=True)
class Plan:
    id: str
    path: Path
    title: str
    date: dt.date | None = None
    goal: str | None = None
    hypothesis: str | None = None
    fixed: dict[str, Any] = field(default_factory=dict)
    changed: dict[str, Any] = field(default_factory=dict)
    runs: tuple[ExpectedRun, ...] = ()
    gates: tuple[Gate, ...] = ()
    decisions: dict[str, str] = field(default_factory=dict)
    compare: Compare | None = None
    notes: str | None = None
    sweep: SweepSpec | None = None


def load_plans(path: str | Path = "plans") -> tuple[dict[str, Plan], list[Problem]]:
    """Every ``*.yaml``/``*.yml`` plan under ``path`` by phase id, and every problem found."""
    root = Path(path)
    plans: dict[str, Plan] = {}
    problems: list[Problem] = []
    files = sorted([*root.glob("*.yaml"), *root.glob("*.yml")]) if root.is_dir() else []
    for file in files:
        plan, found = read_plan(file)
        problems += found
        if plan is not None:
            if plan.id in plans:
                problems.append(Problem(str(file), None, f"phase {plan.id!r} is also planned in {plans[plan.id].path}"))
                continue
            plans[plan.id] = plan
    return plans, problems


#: libyaml's safe loader when PyYAML was built with it (ten times faster), else the Python one.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_plan(file: Path) -> tuple[Plan | None, list[Problem]]:
    try:
        data = yaml.load(file.read_text("utf-8"), Loader=_SAFE_LOADER)
    except OSError as error:
        return None, [Problem(str(file), None, f"cannot read: {error}")]
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        return None, [Problem(str(file), line, f"invalid YAML: {getattr(error, 'problem', error)}")]
    if not isinstance(data, dict):
        return None, [Problem(str(file), None, f"expected a mapping of plan keys, got {type(data).__name__}")]
    checker = _Checker(file)
    plan = checker.plan(file.stem, data)
    return plan, checker.problems


class _Checker:
    """Reads one plan's keys, keeping what is valid and a problem for everything else."""

    def __init__(self, file: Path) -> None:
        self.file = file
        self.problems: list[Problem] = []

    def problem(self, key: str, message: str) -> None:
        self.problems.append(Problem(str(self.file), None, f"{key!r}: {message}"))

    def plan(self, phase: str, data: dict[str, Any]) -> Plan:
        for key in sorted(set(data) - _KEYS):
            self.problem(key, f"unknown key; expected one of {sorted(_KEYS)}")
        return Plan(
            id=phase,
            path=self.file,
            title=self.text(data, "title") or phase,
            date=self.date(data),
            goal=self.text(data, "goal"),
            hypothesis=self.text(data, "hypothesis"),
            fixed=self.mapping(data, "fixed"),
            changed=self.mapping(data, "changed"),
            runs=self.expected_runs(data.get("runs")),
            gates=self.gates(data.get("gates")),
            decisions=self.decisions(data.get("decisions")),
            compare=self.compare(data.get("compare")),
            notes=self.text(data, "notes"),
            sweep=self.sweep(data.get("sweep")),
        )

    def text(self, data: Mapping[str, Any], key: str, where: str = "") -> str | None:
        value = data.get(key)
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        self.problem(where + key, f"expected text, got {type(value).__name__} {value!r:.60}")
        return None

    def mapping(self, data: Mapping[str, Any], key: str) -> dict[str, Any]:
        value = data.get(key)
        if value is None:
            return {}
        if isinstance(value, dict):
            return {str(k): v for k, v in value.items()}
        self.problem(key, f"expected a mapping of settings, got {type(value).__name__}")
        return {}

    def date(self, data: Mapping[str, Any]) -> dt.date | None:
        value = data.get("date")
        if value is None or (isinstance(value, dt.date) and not isinstance(value, dt.datetime)):
            return value
        if isinstance(value, dt.datetime):
            return value.date()
        self.problem("date", f"expected a date like 2026-02-17, got {value!r}")
        return None

    def expected_runs(self, value: Any) -> tuple[ExpectedRun, ...]:
        if value is None:
            return ()
        if not isinstance(value, list):
            self.problem("runs", f"expected a list of {{name: ...}} or {{match: ...}}, got {type(value).__name__}")
            return ()
        runs = []
        for index, item in enumerate(value):
            if isinstance(item, str):
                item = {"name": item}
            where = f"runs[{index}]"
            if not isinstance(item, dict) or len(set(item) & {"name", "match"}) != 1 or set(item) - {"name", "match"}:
                self.problem(where, f"expected {{name: <run name>}} or {{match: <glob>}}, got {item!r:.80}")
                continue
            key, pattern = next(iter(item.items()))
            if not isinstance(pattern, str) or not pattern:
                self.problem(f"{where}.{key}", f"expected text, got {pattern!r}")
                continue
            runs.append(ExpectedRun(**{key: pattern}))
        return tuple(runs)

    def gates(self, value: Any) -> tuple[Gate, ...]:
        if value is None:
            return ()
        if not isinstance(value, list):
            self.problem("gates", f"expected a list of gates, got {type(value).__name__}")
            return ()
        gates = []
        for index, item in enumerate(value):
            where = f"gates[{index}]"
            if not isinstance(item, dict):
                self.problem(where, f"expected a mapping with metric, green and optional epoch and amber, got {item!r}")
                continue
            for key in sorted(set(item) - {"metric", "epoch", "green", "amber"}):
                self.problem(f"{where}.{key}", "unknown key; expected metric, epoch, green, amber")
            metric = item.get("metric")
            epoch = item.get("epoch")
            green = self.threshold(item.get("green"), f"{where}.green", required=True)
            amber = self.threshold(item.get("amber"), f"{where}.amber", required=False)
            ok = True
            if not isinstance(metric, str) or not metric:
                self.problem(f"{where}.metric", f"expected a metric name like val_acc, got {metric!r}")
                ok = False
            if epoch is not None and (not isinstance(epoch, int) or isinstance(epoch, bool) or epoch < 0):
                self.problem(f"{where}.epoch", f"expected a non-negative integer, got {epoch!r}")
                ok = False
            if ok and green is not None and isinstance(metric, str):
                gates.append(Gate(metric, epoch, green, amber))
        return tuple(gates)

    def threshold(self, value: Any, where: str, *, required: bool) -> Threshold | None:
        if value is None:
            if required:
                self.problem(where, "missing; expected a threshold like '>= 0.52'")
            return None
        match = _THRESHOLD.match(str(value)) if isinstance(value, str) else None
        if match is None:
            self.problem(where, f"expected a threshold like '>= 0.52' (>=, <=, >, <, == and a number), got {value!r}")
            return None
        return Threshold(match.group(1), float(match.group(2)))

    def decisions(self, value: Any) -> dict[str, str]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.problem("decisions", f"expected a mapping of green, amber, red to text, got {type(value).__name__}")
            return {}
        decisions = {}
        for key in value:
            if key not in COLOURS:
                self.problem(f"decisions.{key}", "unknown outcome; expected green, amber or red")
            elif (checked := self.text(value, key, "decisions.")) is not None:
                decisions[key] = checked
        return decisions

    def compare(self, value: Any) -> Compare | None:
        if value is None:
            return None
        if not isinstance(value, dict) or not isinstance(value.get("metrics"), dict):
            self.problem("compare", "expected {metrics: {<metric>: min|max, ...}, baseline: <run name>}")
            return None
        for key in sorted(set(value) - {"metrics", "baseline"}):
            self.problem(f"compare.{key}", "unknown key; expected metrics, baseline")
        metrics: dict[str, Literal["min", "max"]] = {}
        for metric, goal in value["metrics"].items():
            if goal in ("min", "max"):
                metrics[str(metric)] = goal
            else:
                self.problem(f"compare.metrics.{metric}", f"expected min or max, got {goal!r}")
        return Compare(metrics, self.text(value, "baseline", "compare."))

    def sweep(self, value: Any) -> SweepSpec | None:
        if value is None:
            return None
        if not isinstance(value, dict):
            self.problem("sweep", "expected {metric: <name>, goal: min|max, repeat: [seed]}")
            return None
        for key in sorted(set(value) - {"metric", "goal", "repeat"}):
            self.problem(f"sweep.{key}", "unknown key; expected metric, goal, repeat")
        goal = value.get("goal")
        if goal not in (None, "min", "max"):
            self.problem("sweep.goal", f"expected min or max, got {goal!r}")
            goal = None
        repeat = value.get("repeat", ["seed"])
        if isinstance(repeat, str):
            repeat = [repeat]
        if not isinstance(repeat, list) or not all(isinstance(item, str) for item in repeat):
            self.problem("sweep.repeat", f"expected a list of setting names, got {repeat!r}")
            repeat = ["seed"]
        return SweepSpec(self.text(value, "metric", "sweep."), goal, tuple(repeat))
