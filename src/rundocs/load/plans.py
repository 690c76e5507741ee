"""Phase plans: ``plans/<phase-id>.yaml``, written by people, read safely and checked key by key.

Every problem is collected (file, key, what is expected, what was found); a plan with
problems is still loaded with what is valid in it, so the rest of the site builds.
"""

from __future__ import annotations

import datetime as dt
import math
import operator
import re
import reprlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any, Literal

import yaml

from rundocs.format.decode import MAX_COUNT, RUN_ID_RULE, is_run_id
from rundocs.load.bounded_yaml import RefusedYAML, read_yaml
from rundocs.load.problems import Problem, read_file
from rundocs.safe_files import MAX_PLAN_BYTES, SYMLINK_REFUSED, trust_symlinks

Colour = Literal["green", "amber", "red"]
COLOURS: tuple[Colour, ...] = ("green", "amber", "red")
_COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt, "==": operator.eq,
}  # fmt: skip
_THRESHOLD = re.compile(r"^\s*(>=|<=|>|<|==)\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$")
_KEYS = {
    "title", "date", "goal", "hypothesis", "fixed", "changed", "runs", "gates", "decisions", "compare", "notes",
    "sweep", "expected", "superseded_by",
}  # fmt: skip
_DURATION_PART = re.compile(
    r"\s*(\d+(?:\.\d+)?)\s*(s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?)(?![a-z])", re.IGNORECASE
)
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
#: Levels of ``then:`` a decision may nest (an amber branch, its tracks, theirs).
MAX_DECISION_DEPTH = 3


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
class Branch:
    """A decision: what an outcome leads to. ``condition`` is None for an outcome's own decision
    (green, amber, red) and the ``if:`` text of a nested branch; ``then`` holds further branches."""

    condition: str | None
    text: str | None
    next: str | None = None
    then: tuple[Branch, ...] = ()

    def next_phases(self) -> list[str]:
        """The phases this branch and every branch under it lead to, in plan order."""
        own = [self.next] if self.next else []
        return own + [phase for branch in self.then for phase in branch.next_phases()]


@dataclass(frozen=True)
class Expected:
    """The run time a plan expects, in seconds: per planned run, or for the whole phase."""

    per_run: float | None = None
    total: float | None = None


@dataclass(frozen=True)
class Compare:
    metrics: dict[str, Literal["min", "max"]]
    baseline: str | None


@dataclass(frozen=True)
class SweepSpec:
    metric: str | None
    goal: Literal["min", "max"] | None
    repeat: tuple[str, ...]
    #: Settings that are not hyperparameters: never a dimension (``sweep_groups.names_setting``).
    bookkeeping: tuple[str, ...] = ()
    #: The planned number of runs (a search's ``n_trials``): pages show ``done/planned``.
    trials: int | None = None


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
    decisions: dict[str, Branch] = field(default_factory=dict)
    compare: Compare | None = None
    notes: str | None = None
    sweep: SweepSpec | None = None
    expected: Expected | None = None
    #: The phase that replaces this one: the plan stays readable, and is no longer open.
    superseded_by: str | None = None


def load_plans(path: str | Path = "plans") -> tuple[dict[str, Plan], list[Problem]]:
    """Every ``*.yaml``/``*.yml`` plan under ``path`` by phase id, and every problem found.

    Hidden files are left out. A plan file named other than a phase id (the rule of run ids) is
    a problem and not read, and so is a symlink (unless ``RUNDOCS_TRUST_SYMLINKS=1``), the plans
    folder itself included.
    """
    root = Path(path)
    if root.is_symlink() and not trust_symlinks():
        return {}, [Problem(str(root), None, SYMLINK_REFUSED)]
    plans: dict[str, Plan] = {}
    problems: list[Problem] = []
    files = sorted([*root.glob("*.yaml"), *root.glob("*.yml")]) if root.is_dir() else []
    for file in files:
        if file.name.startswith("."):  # hidden: an editor's lock or backup file
            continue
        if not is_run_id(file.stem):
            problems.append(Problem(str(root), None, f"file {file.name!r}: not a phase id ({RUN_ID_RULE}); not read"))
            continue
        plan, found = read_plan(file)
        problems += found
        if plan is not None:
            if plan.id in plans:
                problems.append(Problem(str(file), None, f"phase {plan.id!r} is also planned in {plans[plan.id].path}"))
                continue
            plans[plan.id] = plan
    return plans, problems + _cross_references(plans)


def _cross_references(plans: Mapping[str, Plan]) -> list[Problem]:
    """``superseded_by`` must name another plan (an error); a decision's ``next`` that names no
    plan is a warning, as the next phase is often planned later."""
    problems = []
    for plan in plans.values():
        successor = plan.superseded_by
        if successor is not None and (successor == plan.id or successor not in plans):
            what = "the plan itself" if successor == plan.id else "no plan in this folder"
            problems.append(Problem(str(plan.path), None, f"'superseded_by': {successor!r} names {what}"))
        for colour, decision in plan.decisions.items():
            for phase in decision.next_phases():
                if phase not in plans:
                    message = f"'decisions.{colour}': next phase {phase!r} has no plan yet"
                    problems.append(Problem(str(plan.path), None, message, warning=True))
    return problems


def parse_duration(text: str) -> float | None:
    """Seconds in ``20 min``, ``2h``, ``1 h 30 min``, ``90 s``, ``1.5 days``; None for anything else."""
    position, total = 0, 0.0
    while position < len(text.rstrip()):
        match = _DURATION_PART.match(text, position)
        if match is None:
            return None
        total += float(match.group(1)) * _SECONDS[match.group(2)[0].lower()]
        position = match.end()
    return total if position and math.isfinite(total) else None


def read_plan(file: Path) -> tuple[Plan | None, list[Problem]]:
    """One plan and its problems; None when the file is not read at all (see ``read_yaml``)."""
    raw, problem = read_file(file, MAX_PLAN_BYTES)
    if problem is not None or raw is None:
        return None, [problem or Problem(str(file), None, "cannot read: no such file")]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        return None, [Problem(str(file), line, f"not UTF-8 text (byte 0x{raw[error.start]:02x}); not read")]
    try:
        data = read_yaml(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        at = mark.line + 1 if mark is not None else None
        shown = error if isinstance(error, RefusedYAML) else f"invalid YAML: {getattr(error, 'problem', error)}"
        return None, [Problem(str(file), at, str(shown))]
    if not isinstance(data, dict):
        return None, [Problem(str(file), None, f"expected a mapping of plan keys, got {type(data).__name__}")]
    checker = _Checker(file)
    plan = checker.plan(file.stem, data)
    return plan, checker.problems


class _BoundedRepr(reprlib.Repr):
    """``reprlib`` limits (a few items per level, a few levels), mappings kept in their order."""

    def __init__(self) -> None:
        super().__init__()
        self.maxlevel, self.maxstring, self.maxother = 3, 80, 80
        self.maxlist = self.maxtuple = self.maxset = self.maxdict = 6

    def repr_dict(self, x: dict[Any, Any], level: int) -> str:
        if not x or level <= 0:
            return "{}" if not x else "{...}"
        items = (f"{self.repr1(k, level - 1)}: {self.repr1(v, level - 1)}" for k, v in islice(x.items(), self.maxdict))
        return "{" + ", ".join(items) + (", ..." if len(x) > self.maxdict else "") + "}"


_REPR = _BoundedRepr()


def _shown(value: Any) -> str:
    """``repr`` of a value from a plan for a message, never longer than 80 characters and built
    from a bounded part of it (a structure of many values is never printed whole)."""
    text = _REPR.repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


class _Checker:
    """Reads one plan's keys, keeping what is valid and a problem for everything else."""

    def __init__(self, file: Path) -> None:
        self.file = file
        self.problems: list[Problem] = []

    def problem(self, key: str, message: str) -> None:
        self.problems.append(Problem(str(self.file), None, f"{_shown(key)}: {message}"))

    def plan(self, phase: str, data: dict[str, Any]) -> Plan:
        for key in sorted(set(data) - _KEYS, key=str):
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
            expected=self.expected(data.get("expected")),
            superseded_by=self.phase_id(data.get("superseded_by"), "superseded_by"),
        )

    def text(self, data: Mapping[str, Any], key: str, where: str = "") -> str | None:
        value = data.get(key)
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        self.problem(where + key, f"expected text, got {type(value).__name__} {_shown(value)}")
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
        self.problem("date", f"expected a date like 2026-02-17, got {_shown(value)}")
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
                self.problem(where, f"expected {{name: <run name>}} or {{match: <glob>}}, got {_shown(item)}")
                continue
            key, pattern = next(iter(item.items()))
            if not isinstance(pattern, str) or not pattern:
                self.problem(f"{where}.{key}", f"expected text, got {_shown(pattern)}")
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
                self.problem(
                    where, f"expected a mapping with metric, green and optional epoch and amber, got {_shown(item)}"
                )
                continue
            for key in sorted(set(item) - {"metric", "epoch", "green", "amber"}, key=str):
                self.problem(f"{where}.{key}", "unknown key; expected metric, epoch, green, amber")
            metric = item.get("metric")
            epoch = item.get("epoch")
            green = self.threshold(item.get("green"), f"{where}.green", required=True)
            amber = self.threshold(item.get("amber"), f"{where}.amber", required=False)
            ok = True
            if not isinstance(metric, str) or not metric:
                self.problem(f"{where}.metric", f"expected a metric name like val_acc, got {_shown(metric)}")
                ok = False
            if epoch is not None and (
                not isinstance(epoch, int) or isinstance(epoch, bool) or not 0 <= epoch <= MAX_COUNT
            ):
                self.problem(f"{where}.epoch", f"expected a whole number from 0 to 2**53, got {_shown(epoch)}")
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
        if match is None or not math.isfinite(float(match.group(2))):  # 1e999 reads as inf: no threshold
            self.problem(
                where, f"expected a threshold like '>= 0.52' (>=, <=, >, <, == and a number), got {_shown(value)}"
            )
            return None
        return Threshold(match.group(1), float(match.group(2)))

    def decisions(self, value: Any) -> dict[str, Branch]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.problem("decisions", f"expected a mapping of green, amber, red to text, got {type(value).__name__}")
            return {}
        decisions = {}
        for key in value:
            if key not in COLOURS:
                self.problem(f"decisions.{key}", "unknown outcome; expected green, amber or red")
            elif isinstance(value[key], dict):
                branch = self.branch(value[key], f"decisions.{key}", 0)
                if branch is not None:
                    decisions[key] = branch
            elif (checked := self.text(value, key, "decisions.")) is not None:
                decisions[key] = Branch(None, checked)
        return decisions

    def branch(self, value: dict[str, Any], where: str, depth: int) -> Branch | None:
        """A decision written as a mapping: ``text``, ``next`` (a phase id) and ``then`` (a list of
        ``{if, text, next, then}``); a nested branch needs its ``if``."""
        allowed = ("text", "next", "then") if depth == 0 else ("if", "text", "next", "then")
        for key in sorted(set(value) - set(allowed), key=str):
            self.problem(f"{where}.{key}", f"unknown key; expected {', '.join(allowed)}")
        ok = True
        condition = None
        if depth:
            condition = self.text(value, "if", f"{where}.")
            if not condition:
                self.problem(f"{where}.if", "missing; expected the condition of this branch, like 'OOD >= 0.55'")
                ok = False
        text = self.text(value, "text", f"{where}.")
        after = self.phase_id(value.get("next"), f"{where}.next")
        then = self.branches(value.get("then"), f"{where}.then", depth + 1)
        if all(value.get(key) is None for key in ("text", "next", "then")):
            self.problem(where, "expected at least one of text, next, then")
            ok = False
        return Branch(condition, text, after, then) if ok else None

    def branches(self, value: Any, where: str, depth: int) -> tuple[Branch, ...]:
        if value is None:
            return ()
        if depth > MAX_DECISION_DEPTH:
            self.problem(where, f"decisions nest at most {MAX_DECISION_DEPTH} levels of 'then'")
            return ()
        if not isinstance(value, list) or not value:
            self.problem(where, f"expected a list of {{if: ..., text: ..., next: ...}}, got {_shown(value)}")
            return ()
        found = []
        for index, item in enumerate(value):
            if not isinstance(item, dict):
                self.problem(f"{where}[{index}]", f"expected a mapping with if, text, next, then, got {_shown(item)}")
            elif (branch := self.branch(item, f"{where}[{index}]", depth)) is not None:
                found.append(branch)
        return tuple(found)

    def phase_id(self, value: Any, where: str) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str) or not is_run_id(value):
            self.problem(where, f"expected a phase id (the name of its plan file), got {_shown(value)}")
            return None
        return value

    def expected(self, value: Any) -> Expected | None:
        if value is None:
            return None
        like = "a duration like '20 min', '2h', '1 h 30 min'"
        if not isinstance(value, dict) or not value:
            shape = "expected {per_run: <duration>} or {total: <duration>}"
            self.problem("expected", f"{shape}, {like}; got {_shown(value)}")
            return None
        for key in sorted(set(value) - {"per_run", "total"}, key=str):
            self.problem(f"expected.{key}", "unknown key; expected per_run, total")
        seconds: dict[str, float] = {}
        for key in ("per_run", "total"):
            if key in value:
                item = value[key]
                parsed = parse_duration(item) if isinstance(item, str) else None
                if parsed is None:
                    self.problem(f"expected.{key}", f"expected {like}, got {_shown(item)}")
                else:
                    seconds[key] = parsed
        return Expected(**seconds) if seconds else None

    def compare(self, value: Any) -> Compare | None:
        if value is None:
            return None
        if not isinstance(value, dict) or not isinstance(value.get("metrics"), dict):
            self.problem("compare", "expected {metrics: {<metric>: min|max, ...}, baseline: <run name>}")
            return None
        for key in sorted(set(value) - {"metrics", "baseline"}, key=str):
            self.problem(f"compare.{key}", "unknown key; expected metrics, baseline")
        metrics: dict[str, Literal["min", "max"]] = {}
        for metric, goal in value["metrics"].items():
            if goal in ("min", "max"):
                metrics[str(metric)] = goal
            else:
                self.problem(f"compare.metrics.{metric}", f"expected min or max, got {_shown(goal)}")
        return Compare(metrics, self.text(value, "baseline", "compare."))

    def sweep(self, value: Any) -> SweepSpec | None:
        if value is None:
            return None
        if not isinstance(value, dict):
            shape = "{metric: <name>, goal: min|max, repeat: [seed], bookkeeping: [...], trials: <n>}"
            self.problem("sweep", f"expected {shape}")
            return None
        for key in sorted(set(value) - {"metric", "goal", "repeat", "bookkeeping", "trials"}, key=str):
            self.problem(f"sweep.{key}", "unknown key; expected metric, goal, repeat, bookkeeping, trials")
        trials = value.get("trials")
        if trials is not None and (not isinstance(trials, int) or isinstance(trials, bool) or trials < 1):
            self.problem("sweep.trials", f"expected a whole number of runs, at least 1, got {_shown(trials)}")
            trials = None
        goal = value.get("goal")
        if goal not in (None, "min", "max"):
            self.problem("sweep.goal", f"expected min or max, got {_shown(goal)}")
            goal = None
        repeat = self.names(value, "repeat", "sweep.", ("seed",)) if "repeat" in value else ("seed",)
        bookkeeping = self.names(value, "bookkeeping", "sweep.")
        return SweepSpec(self.text(value, "metric", "sweep."), goal, repeat, bookkeeping, trials)

    def names(self, value: dict[str, Any], key: str, prefix: str, invalid: tuple[str, ...] = ()) -> tuple[str, ...]:
        """A list of setting names (one name alone reads as a list of one); ``invalid`` after a
        problem."""
        names = value.get(key, [])
        if isinstance(names, str):
            names = [names]
        if not isinstance(names, list) or not all(isinstance(item, str) for item in names):
            self.problem(f"{prefix}{key}", f"expected a list of setting names, got {_shown(names)}")
            return invalid
        return tuple(names)
