"""How an Optuna trial becomes a run: the mapping shared by live recording, the callback and the import."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import numpy as np
import optuna
from optuna.trial import FrozenTrial, TrialState

from rundocs.analyse.rules import epochs_done
from rundocs.format.schema import FORMAT, STEP_KEYS, encode_float, to_json_value

StepName = Literal["epoch", "step"]
FINISHED = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)
STATE_LABELS = {
    TrialState.COMPLETE: "complete",
    TrialState.PRUNED: "pruned",
    TrialState.FAIL: "failed",
    TrialState.RUNNING: "running",
}
STATUS = {TrialState.COMPLETE: "completed", TrialState.PRUNED: "completed", TrialState.FAIL: "failed"}
_encode_line = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode


@dataclass(frozen=True)
class TrialLayout:
    """How trials become runs: the settings shared by live recording, the callback and the import."""

    metric: str = "value"
    step_name: StepName = "epoch"
    phase: str | None = None
    sweep: str | None = None
    tags: tuple[str, ...] = ()
    config: Mapping[str, Any] = field(default_factory=dict)
    epochs: int | None = None

    def __post_init__(self) -> None:
        if not self.metric or self.metric in STEP_KEYS:
            raise ValueError(f"metric must be a name other than {list(STEP_KEYS)}, got {self.metric!r}")
        if self.step_name not in ("epoch", "step"):
            raise ValueError(f"step_name must be 'epoch' or 'step', got {self.step_name!r}")

    def names(self, objectives: int) -> list[str]:
        """Summary names of the objective values: ``metric``, or ``metric_0, metric_1...``."""
        return [self.metric] if objectives == 1 else [f"{self.metric}_{i}" for i in range(objectives)]

    def tags_for(self, study: str, number: int, directions: Sequence[optuna.study.StudyDirection]) -> list[str]:
        """``optuna``, the study and trial, and for one objective its direction and name
        (``goal:max``, ``objective:val_acc``): what ranks the sweep's trials as Optuna does."""
        goal = "goal:" + ("max" if directions[0] == optuna.study.StudyDirection.MAXIMIZE else "min")
        single = [goal, f"objective:{self.metric}"] if len(directions) == 1 else []
        return [*self.tags, "optuna", f"study:{study}", f"trial:{number}", *single]

    def config_for(self, params: Mapping[str, Any], user_attrs: Mapping[str, Any]) -> dict[str, Any]:
        config = {**to_json_value(dict(self.config)), **to_json_value(dict(params))}
        other = {k: v for k, v in user_attrs.items() if not _is_number(v) or k == self.metric}
        if other:
            config["user_attrs"] = to_json_value(other)
        return config

    def summary_for(self, values: Mapping[str, float], user_attrs: Mapping[str, Any]) -> dict[str, Any]:
        numbers = {k: v for k, v in user_attrs.items() if _is_number(v) and k not in values}
        return {k: encode_float(float(v)) for k, v in {**numbers, **values}.items()}


def trial_record(
    trial: FrozenTrial,
    run_id: str,
    study_name: str,
    directions: Sequence[optuna.study.StudyDirection],
    layout: TrialLayout,
) -> tuple[dict[str, Any], list[bytes]]:
    """The ``run.json`` object and the metrics lines of a trial, as finished or as last stored."""
    assert trial.datetime_start is not None
    names = layout.names(len(directions))
    started = _iso(trial.datetime_start)
    ended = _iso(trial.datetime_complete) if trial.datetime_complete is not None else None
    values = dict(zip(names, trial.values, strict=True)) if trial.values is not None else {}
    if trial.state == TrialState.PRUNED:  # Optuna stores the last intermediate value as its value
        values = {names[0]: trial.value} if trial.value is not None else {}
    tags = layout.tags_for(study_name, trial.number, directions)
    record = {
        "format": FORMAT,
        "id": run_id,
        "name": trial_name(trial.number),
        "kind": "train",
        "phase": layout.phase,
        "sweep": layout.sweep or study_name,
        "tags": [*tags, "pruned"] if trial.state == TrialState.PRUNED else tags,
        "config": layout.config_for(trial.params, trial.user_attrs),
        "status": STATUS.get(trial.state, "running"),
        "started_at": started,
        "updated_at": ended or started,
        "ended_at": ended,
        "epochs": layout.epochs,
        "summary": layout.summary_for(values, trial.user_attrs),
        "evaluates": [],
        "restarts": None,
        "error": None,
        "env": {},
        "checkpoints": [],
        "warnings": [],
    }
    lines = [
        _encode_line({layout.step_name: step, names[0]: encode_float(value)}).encode() + b"\n"
        for step, value in sorted(trial.intermediate_values.items())
    ]
    return record, lines


def planned_epochs(trials: Sequence[FrozenTrial], step_name: StepName) -> int | None:
    """Epochs a complete trial ran (``rules.epochs_done`` of its steps, counted from 0 or 1):
    what every trial was planned to run."""
    if step_name != "epoch":
        return None
    done = [
        epochs_done(np.array(list(t.intermediate_values), dtype=np.float64))
        for t in trials
        if t.state == TrialState.COMPLETE and t.intermediate_values
    ]
    return max((n for n in done if n is not None), default=None)


def check_values(result: Any, objectives: int) -> tuple[list[float] | None, str]:
    """The objective's values as Optuna accepts them, or None and why Optuna fails the trial."""
    values = list(result) if isinstance(result, Sequence) and not isinstance(result, str) else [result]
    if len(values) != objectives:
        return None, f"the objective returned {len(values)} values for {objectives} objectives"
    try:
        numbers = [float(value) for value in values]
    except (TypeError, ValueError):
        return None, f"the objective returned {result!r:.60}, not a number"
    if any(math.isnan(number) for number in numbers):
        return None, "the objective returned NaN"
    return numbers, ""


def trial_name(number: int) -> str:
    return f"trial-{number:04d}"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def utc(moment: datetime) -> datetime:
    """Optuna stores naive local times: read them as this machine's local time."""
    return moment.astimezone(UTC)


def _iso(moment: datetime) -> str:
    return utc(moment).isoformat(timespec="milliseconds")
