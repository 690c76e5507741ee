"""``import_study``: the trials of an existing study as run folders with fixed ids."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from optuna.trial import TrialState

from rundocs.format.schema import RUN_FILE
from rundocs.formatting import counted
from rundocs.importers.store import read_json, write_run_folder
from rundocs.optuna.storage import StudyImportError, read_study
from rundocs.optuna.trials import STATE_LABELS, StepName, TrialLayout, planned_epochs, trial_record


@dataclass
class ImportReport:
    """What ``import_study`` did. ``states`` counts the imported trials by state label."""

    study: str
    runs_dir: Path
    states: Counter[str] = field(default_factory=Counter)
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    #: Trial numbers already recorded live (by ``RundocsCallback``); their runs are left as they are.
    live: list[int] = field(default_factory=list)
    #: Ids whose folder holds some other run; left as it is.
    taken: list[str] = field(default_factory=list)
    #: Trials enqueued but never started: nothing to record.
    waiting: int = 0

    @property
    def imported(self) -> int:
        return len(self.written) + len(self.unchanged)

    def describe(self) -> str:
        """One line: ``imported 30 trials of 'demo' into runs: 24 complete, 5 pruned, 1 failed (30 written)``."""
        states = ", ".join(f"{self.states[label]} {label}" for label in STATE_LABELS.values() if self.states[label])
        line = f"imported {counted(self.imported, 'trial')} of {self.study!r} into "
        line += f"{self.runs_dir.as_posix()}" + (f": {states}" if states else "")
        changes = [f"{len(self.written)} written"] if self.written else []
        changes += [f"{len(self.unchanged)} unchanged"] if self.unchanged else []
        line += f" ({', '.join(changes)})" if changes else ""
        if self.live:
            line += f"; {len(self.live)} already recorded live, left as they are"
        if self.waiting:
            line += f"; {self.waiting} waiting, not imported"
        if self.taken:
            line += f"; {len(self.taken)} left alone, their folder holds another run: {', '.join(self.taken)}"
        return line


def import_study(
    storage: str,
    study_name: str,
    runs_dir: str | os.PathLike[str] = "runs",
    *,
    metric: str = "value",
    phase: str | None = None,
    sweep: str | None = None,
    step_name: StepName = "epoch",
) -> ImportReport:
    """Write every started trial of a study as a run folder ``optuna_<study>_<number>``.

    Importing again rewrites only the folders whose trial changed; other files in them
    (``notes.md``) are kept, and trials recorded live by ``RundocsCallback`` are skipped.

    Args:
        storage: ``sqlite:///path.db``, ``journal:///path.log``, another SQLAlchemy URL, or
            the path of a SQLite or journal file.
        study_name: The study to import.
        runs_dir: Runs folder to write to.
        metric: Name of the objective value in ``summary`` and of intermediate values.
        phase: Phase of the runs.
        sweep: Sweep of the runs; defaults to the study name.
        step_name: Record Optuna's steps as ``epoch`` (default) or as ``step``.

    Raises:
        StudyImportError: The storage cannot be read, has no such study, or a run cannot be written.
    """
    layout = TrialLayout(metric, step_name, phase, sweep)  # checks the arguments before any reading
    trials, directions = read_study(storage, study_name)
    layout = dataclasses.replace(layout, epochs=planned_epochs(trials, step_name))
    root = Path(runs_dir)
    report = ImportReport(study_name, root)
    live = _find_live_trials(root, study_name)
    for trial in trials:
        if trial.state == TrialState.WAITING or trial.datetime_start is None:
            report.waiting += 1
            continue
        if trial.number in live:
            report.live.append(trial.number)
            continue
        run_id = import_run_id(study_name, trial.number)
        record, lines = trial_record(trial, run_id, study_name, directions, layout)
        text = json.dumps(record, indent=2, ensure_ascii=False, allow_nan=False).encode() + b"\n"
        owner = {"optuna", f"study:{study_name}", f"trial:{trial.number}"}
        try:
            outcome = write_run_folder(root / run_id, text, b"".join(lines), owner)
        except OSError as error:
            raise StudyImportError(storage, study_name, f"cannot write {root / run_id}: {error}") from error
        getattr(report, outcome).append(run_id)
        if outcome != "taken":
            report.states[STATE_LABELS[trial.state]] += 1
    return report


def import_command(storage: str, study: str, runs_dir: str | os.PathLike[str] = "runs") -> str:
    """``rundocs import optuna``: import the study and return the line to print."""
    return import_study(storage, study, runs_dir).describe()


def import_run_id(study_name: str, number: int) -> str:
    """The fixed id of an imported trial: ``optuna_<study>_0007`` (a hash is added if the name had to change)."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", study_name).strip("-._")[:120] or "study"
    if slug != study_name:
        slug += "-" + hashlib.sha256(study_name.encode()).hexdigest()[:6]
    return f"optuna_{slug}_{number:04d}"


def _find_live_trials(root: Path, study_name: str) -> set[int]:
    """Numbers of the trials of ``study_name`` already recorded in ``root`` by ``RundocsCallback``."""
    found: set[int] = set()
    try:
        folders = [entry for entry in os.scandir(root) if entry.is_dir() and not entry.name.startswith(".")]
    except FileNotFoundError:
        return found
    study_tag = f"study:{study_name}"
    for entry in folders:
        record = read_json(Path(entry.path) / RUN_FILE, b'"optuna"')
        tags = record.get("tags") if record else None
        if not isinstance(tags, list) or "optuna" not in tags or study_tag not in tags:
            continue
        numbers = [t.removeprefix("trial:") for t in tags if isinstance(t, str) and t.startswith("trial:")]
        if numbers and numbers[0].isdigit() and entry.name != import_run_id(study_name, int(numbers[0])):
            found.add(int(numbers[0]))
    return found
