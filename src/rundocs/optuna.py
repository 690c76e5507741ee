"""Optuna integration (``pip install 'rundocs[optuna]'``): every trial of a study as a run of its sweep.

Two ways in, one mapping (trial -> run), described in ``docs/optuna.md``:

- ``RundocsCallback``: ``@recorder.track`` on the objective records each trial live (reported
  values appear as metrics while it runs; pruned, failed and interrupted trials end as such);
  ``callbacks=[recorder]`` alone records finished trials afterwards.
- ``import_study``: the trials of an existing study (SQLite or journal file) as run folders,
  with fixed ids so that importing again updates them instead of adding copies.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import json
import math
import os
import re
import sqlite3
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, TypeVar

try:
    import optuna
    from optuna.storages import BaseStorage, JournalStorage, RDBStorage
    from optuna.storages.journal import JournalFileBackend
    from optuna.trial import FrozenTrial, TrialState
    from sqlalchemy.exc import SQLAlchemyError
except ImportError as error:  # pragma: no cover - exercised only without the extra
    from rundocs.exceptions import MissingDependencyError

    raise MissingDependencyError("optuna", "optuna") from error

from rundocs import env
from rundocs.exceptions import RundocsError
from rundocs.record.environment import capture_environment, get_rank, make_run_id
from rundocs.record.run import Run
from rundocs.record.schema import FORMAT, METRICS_FILE, RUN_FILE, STEP_KEYS, encode_float, to_json_value
from rundocs.record.warn import WarnOnce
from rundocs.record.writer import RunWriter, create_run_folder

__all__ = [
    "ImportReport",
    "RundocsCallback",
    "StudyImportError",
    "current_run",
    "import_command",
    "import_run_id",
    "import_study",
]

StepName = Literal["epoch", "step"]
_T = TypeVar("_T")
_FINISHED = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)
_STATE_LABELS = {
    TrialState.COMPLETE: "complete",
    TrialState.PRUNED: "pruned",
    TrialState.FAIL: "failed",
    TrialState.RUNNING: "running",
}
_STATUS = {TrialState.COMPLETE: "completed", TrialState.PRUNED: "completed", TrialState.FAIL: "failed"}
_SQLITE_MAGIC = b"SQLite format 3\x00"
_encode_line = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode
_current: ContextVar[Run | None] = ContextVar("rundocs_optuna_run", default=None)


class StudyImportError(RundocsError):
    """A study that cannot be read (bad storage, no such study) or its runs not written."""

    def __init__(self, storage: str, study: str, reason: str) -> None:
        self.storage = storage
        self.study = study
        self.reason = reason
        super().__init__(f"cannot import study {study!r} from {_hide_password(storage)}: {reason}")


def current_run() -> Run | None:
    """The run of the trial this thread is running under ``RundocsCallback.track``, for extra metrics."""
    return _current.get()


@dataclass(frozen=True)
class _Layout:
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
        goal = ["goal:" + ("max" if directions[0] == optuna.study.StudyDirection.MAXIMIZE else "min")]
        return [*self.tags, "optuna", f"study:{study}", f"trial:{number}", *(goal if len(directions) == 1 else [])]

    def config_for(self, params: Mapping[str, Any], user_attrs: Mapping[str, Any]) -> dict[str, Any]:
        config = {**to_json_value(dict(self.config)), **to_json_value(dict(params))}
        other = {k: v for k, v in user_attrs.items() if not _is_number(v) or k == self.metric}
        if other:
            config["user_attrs"] = to_json_value(other)
        return config

    def summary_for(self, values: Mapping[str, float], user_attrs: Mapping[str, Any]) -> dict[str, Any]:
        numbers = {k: v for k, v in user_attrs.items() if _is_number(v) and k not in values}
        return {k: encode_float(float(v)) for k, v in {**numbers, **values}.items()}


class RundocsCallback:
    """Records each trial of a study as a run of its sweep (``sweep`` defaults to the study name).

    Usage::

        recorder = rundocs.optuna.RundocsCallback(metric="val_loss", epochs=20, phase="search")

        @recorder.track
        def objective(trial):
            lr = trial.suggest_float("lr", 1e-4, 1e-1, log=True)
            for epoch in range(1, 21):
                val_loss = train_one_epoch(lr)
                trial.report(val_loss, epoch)  # also logged: {"epoch": epoch, "val_loss": ...}
                if trial.should_prune():
                    raise optuna.TrialPruned()
            return val_loss

        study.optimize(objective, n_trials=50)

    ``track`` records while the trial runs; passing the recorder in ``callbacks=`` as well is
    harmless. Without ``track``, ``callbacks=[recorder]`` records each trial once it has
    finished (no live progress, and failed trials only when ``catch=`` lets Optuna go on).

    Args:
        dir: Runs folder; defaults to ``$RUNDOCS_DIR`` or ``runs``.
        metric: Name of the objective value in ``summary`` and of reported values in the metrics.
        epochs: Planned number of epochs (reported steps), for progress and early-stop marks.
        phase: Phase the runs belong to.
        sweep: Sweep name; defaults to the study name.
        tags: Extra tags for every run.
        config: Settings shared by every trial; the trial's params are added to them.
        step_name: Record the reported ``step`` as ``epoch`` (default) or as ``step``.
        log_reports: Log each ``trial.report`` as a metrics line. Turn off to log the value yourself,
            with ``current_run().log(...)``, in one line with the epoch's other metrics.
    """

    def __init__(
        self,
        dir: str | os.PathLike[str] | None = None,  # noqa: A002 - as in rundocs.Run
        *,
        metric: str = "value",
        epochs: int | None = None,
        phase: str | None = None,
        sweep: str | None = None,
        tags: Iterable[str] = (),
        config: Mapping[str, Any] | None = None,
        step_name: StepName = "epoch",
        log_reports: bool = True,
    ) -> None:
        self.dir = dir
        self.log_reports = log_reports
        self.layout = _Layout(metric, step_name, phase, sweep, tuple(tags), dict(config or {}), epochs)
        #: Ids of the runs this recorder wrote, in order.
        self.run_ids: list[str] = []
        self._live: set[tuple[str, int]] = set()

    def track(self, objective: Callable[[optuna.Trial], _T]) -> Callable[[optuna.Trial], _T]:
        """Wrap ``objective`` so that each trial is recorded while it runs."""

        @functools.wraps(objective)
        def recorded(trial: optuna.Trial) -> _T:
            if not isinstance(trial, optuna.Trial):  # FixedTrial and friends: nothing to record
                return objective(trial)
            live = _LiveTrial(self, trial)
            token = _current.set(live.run)
            try:
                result = objective(trial)
            except optuna.TrialPruned:
                live.end_pruned()
                raise
            except BaseException as error:  # KeyboardInterrupt too: recorded as interrupted, then re-raised
                live.end_error(error)
                raise
            finally:
                _current.reset(token)
                live.detach()
            live.end_returned(result)
            return result

        return recorded

    def __call__(self, study: optuna.Study, trial: FrozenTrial) -> None:
        """Optuna callback: record a finished trial that ``track`` did not record."""
        key = (study.study_name, trial.number)
        if key in self._live:
            self._live.discard(key)
            return
        if trial.state not in _FINISHED or trial.datetime_start is None or get_rank() != 0:
            return
        warn = WarnOnce()
        root = Path(self.dir if self.dir is not None else os.environ.get(env.RUNDOCS_DIR, "runs"))
        folder = create_run_folder(root, make_run_id(_utc(trial.datetime_start)), make_run_id, warn)
        if folder is None:
            return
        record, lines = _trial_record(trial, folder.name, study.study_name, study.directions, self.layout)
        record["env"] = capture_environment()
        record["warnings"] = warn.messages
        writer = RunWriter(folder, warn)
        for line in lines:
            writer.append_metrics(line)
        writer.finish(record)
        self.run_ids.append(folder.name)


class _LiveTrial:
    """One trial being recorded: a ``Run`` opened at its start, fed by ``trial.report``."""

    def __init__(self, recorder: RundocsCallback, trial: optuna.Trial) -> None:
        self.trial = trial
        self.layout = layout = recorder.layout
        study = trial.study
        self.names = layout.names(len(study.directions))
        self.params = trial.params
        self.run = Run(
            _trial_name(trial.number),
            phase=layout.phase,
            sweep=layout.sweep or study.study_name,
            config=layout.config_for(self.params, {}),
            epochs=layout.epochs,
            tags=layout.tags_for(study.study_name, trial.number, study.directions),
            dir=recorder.dir,
        )
        if self.run.id is not None:
            recorder.run_ids.append(self.run.id)
        recorder._live.add((study.study_name, trial.number))
        self.last: float | None = None
        self._steps: set[int] = set()
        self._log = recorder.log_reports
        self._report = trial.report
        trial.report = self.report  # type: ignore[method-assign]

    def report(self, value: float, step: int) -> None:
        """``Trial.report``, then the same value as a metrics line (Optuna keeps a step's first value only)."""
        self._report(value, step)
        step = int(step)
        if step in self._steps:
            return
        self._steps.add(step)
        self.last = float(value)
        self._sync_params()
        if self._log:
            line: dict[str, Any] = {self.layout.step_name: step, self.names[0]: self.last}
            self.run.log(**line)

    def detach(self) -> None:
        vars(self.trial).pop("report", None)

    def end_returned(self, result: Any) -> None:
        values, problem = _check_values(result, len(self.names))
        if values is None:
            self._finish("failed", error=ValueError(f"{problem}; Optuna marks the trial failed"))
        else:
            self._finish("completed", values=dict(zip(self.names, values, strict=True)))

    def end_pruned(self) -> None:
        values = {self.names[0]: self.last} if self.last is not None else {}
        self._finish("completed", values=values, pruned=True)

    def end_error(self, error: BaseException) -> None:
        self._finish("interrupted" if isinstance(error, KeyboardInterrupt) else "failed", error=error)

    def _sync_params(self) -> None:
        params = self.trial.params
        if params != self.params:
            self.params = params
            self.run.update(config=self.layout.config_for(params, {}))

    def _finish(
        self,
        status: str,
        *,
        values: Mapping[str, float] | None = None,
        pruned: bool = False,
        error: BaseException | None = None,
    ) -> None:
        user_attrs = self.trial.user_attrs
        tags = ["pruned"] if pruned else []
        self.run.update(config=self.layout.config_for(self.trial.params, user_attrs), tags=tags)
        summary = self.layout.summary_for(values or {}, user_attrs)
        if summary:
            self.run.summary(**summary)
        self.run.end(status, error)


# -- import -------------------------------------------------------------------------------


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
        states = ", ".join(f"{self.states[label]} {label}" for label in _STATE_LABELS.values() if self.states[label])
        line = f"imported {self.imported} trial{'s' if self.imported != 1 else ''} of {self.study!r} into "
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
    layout = _Layout(metric, step_name, phase, sweep)  # checks the arguments before any reading
    trials, directions = _read_study(storage, study_name)
    layout = dataclasses.replace(layout, epochs=_planned_epochs(trials, step_name))
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
        record, lines = _trial_record(trial, run_id, study_name, directions, layout)
        try:
            outcome = _write_import(root / run_id, record, b"".join(lines), study_name, trial.number)
        except OSError as error:
            raise StudyImportError(storage, study_name, f"cannot write {root / run_id}: {error}") from error
        getattr(report, outcome).append(run_id)
        if outcome != "taken":
            report.states[_STATE_LABELS[trial.state]] += 1
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


def _read_study(storage: str, study_name: str) -> tuple[list[FrozenTrial], list[optuna.study.StudyDirection]]:
    backend = _open_storage(storage, study_name)
    try:
        try:
            study = optuna.load_study(study_name=study_name, storage=backend, sampler=optuna.samplers.RandomSampler())
        except KeyError:
            names = optuna.get_all_study_names(backend)
            found = ", ".join(repr(n) for n in sorted(names)) or "none"
            raise StudyImportError(storage, study_name, f"no such study (studies there: {found})") from None
        return study.get_trials(deepcopy=False), list(study.directions)
    except (SQLAlchemyError, RuntimeError, ValueError) as error:
        raise StudyImportError(storage, study_name, _first_line(error)) from error
    finally:
        if isinstance(backend, RDBStorage):
            backend.engine.dispose()


def _open_storage(storage: str, study: str) -> BaseStorage:
    """The storage a string names; files are checked first, so that nothing is created by reading."""
    scheme, sep, rest = storage.partition("://")
    if not sep:
        path = _existing_file(Path(storage), storage, study)
        with open(path, "rb") as file:
            is_sqlite = file.read(len(_SQLITE_MAGIC)) == _SQLITE_MAGIC
        return (
            _open_rdb(f"sqlite:///{path}", storage, study, path) if is_sqlite else _open_journal(path, storage, study)
        )
    if scheme == "journal":
        return _open_journal(_existing_file(_url_path(rest, storage, study), storage, study), storage, study)
    if scheme == "sqlite" or scheme.startswith("sqlite+"):
        path = _existing_file(_url_path(rest, storage, study), storage, study)
        return _open_rdb(storage, storage, study, path)
    if scheme.startswith(("redis", "grpc")) or not re.fullmatch(r"[a-z][a-z0-9+]*", scheme):
        accepted = "sqlite:///path.db, journal:///path.log, another SQLAlchemy URL, or a file path"
        raise StudyImportError(storage, study, f"unsupported storage {scheme!r}; accepted: {accepted}")
    return _open_rdb(storage, storage, study, None)


def _open_rdb(url: str, storage: str, study: str, sqlite_path: Path | None) -> BaseStorage:
    if sqlite_path is not None:
        try:
            with contextlib.closing(sqlite3.connect(f"{sqlite_path.resolve().as_uri()}?mode=ro", uri=True)) as db:
                tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        except sqlite3.Error as error:
            raise StudyImportError(storage, study, f"not a SQLite database: {error}") from error
        if "studies" not in tables:
            raise StudyImportError(storage, study, "not an Optuna storage (no 'studies' table)")
    try:
        return RDBStorage(url)
    except (SQLAlchemyError, RuntimeError, ValueError, ImportError) as error:
        raise StudyImportError(storage, study, _first_line(error)) from error


def _open_journal(path: Path, storage: str, study: str) -> BaseStorage:
    try:
        return JournalStorage(JournalFileBackend(str(path)))
    except (ValueError, KeyError, TypeError, OSError) as error:  # not JSON lines, or not Optuna's
        reason = f"missing key {error}" if isinstance(error, KeyError) else _first_line(error)
        raise StudyImportError(storage, study, f"not an Optuna journal file: {reason}") from error


def _url_path(rest: str, storage: str, study: str) -> Path:
    """``sqlite:///runs/x.db`` -> ``runs/x.db``; four slashes make it absolute, as in SQLAlchemy."""
    path = rest.split("?", 1)[0]
    if not path.startswith("/") or len(path) < 2:
        raise StudyImportError(storage, study, "expected a file, as in sqlite:///path.db or journal:///path.log")
    return Path(path[1:])


def _existing_file(path: Path, storage: str, study: str) -> Path:
    if not path.is_file():
        raise StudyImportError(storage, study, f"no such file: {path}")
    return path


def _find_live_trials(root: Path, study_name: str) -> set[int]:
    """Numbers of the trials of ``study_name`` already recorded in ``root`` by ``RundocsCallback``."""
    found: set[int] = set()
    try:
        folders = [entry for entry in os.scandir(root) if entry.is_dir() and not entry.name.startswith(".")]
    except FileNotFoundError:
        return found
    study_tag = f"study:{study_name}"
    for entry in folders:
        record = _read_json(Path(entry.path) / RUN_FILE)
        tags = record.get("tags") if record else None
        if not isinstance(tags, list) or "optuna" not in tags or study_tag not in tags:
            continue
        numbers = [t.removeprefix("trial:") for t in tags if isinstance(t, str) and t.startswith("trial:")]
        if numbers and numbers[0].isdigit() and entry.name != import_run_id(study_name, int(numbers[0])):
            found.add(int(numbers[0]))
    return found


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = path.read_bytes()
        record = json.loads(data) if b'"optuna"' in data else None
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def _write_import(folder: Path, record: dict[str, Any], metrics: bytes, study: str, number: int) -> str:
    """Write one imported run; ``written``, ``unchanged``, or ``taken`` (the folder holds another run)."""
    run_file = folder / RUN_FILE
    if run_file.exists():
        old = _read_json(run_file)
        tags = old.get("tags") if old else None
        if not isinstance(tags, list) or not {"optuna", f"study:{study}", f"trial:{number}"} <= set(tags):
            return "taken"
    elif folder.exists() and any(folder.iterdir()):
        return "taken"
    folder.mkdir(parents=True, exist_ok=True)
    text = json.dumps(record, indent=2, ensure_ascii=False, allow_nan=False).encode() + b"\n"
    changed = [_replace_if_changed(folder / METRICS_FILE, metrics), _replace_if_changed(run_file, text)]
    return "written" if any(changed) else "unchanged"


def _replace_if_changed(path: Path, data: bytes) -> bool:
    with contextlib.suppress(FileNotFoundError):
        if path.read_bytes() == data:
            return False
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(temporary, "wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)
    return True


# -- trial -> run ---------------------------------------------------------------------------


def _trial_record(
    trial: FrozenTrial,
    run_id: str,
    study_name: str,
    directions: Sequence[optuna.study.StudyDirection],
    layout: _Layout,
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
        "name": _trial_name(trial.number),
        "kind": "train",
        "phase": layout.phase,
        "sweep": layout.sweep or study_name,
        "tags": [*tags, "pruned"] if trial.state == TrialState.PRUNED else tags,
        "config": layout.config_for(trial.params, trial.user_attrs),
        "status": _STATUS.get(trial.state, "running"),
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


def _planned_epochs(trials: Sequence[FrozenTrial], step_name: StepName) -> int | None:
    """Epochs a complete trial ran (its last step): what every trial was planned to run."""
    if step_name != "epoch":
        return None
    last = [max(t.intermediate_values) for t in trials if t.state == TrialState.COMPLETE and t.intermediate_values]
    return max(last) if last else None


def _check_values(result: Any, objectives: int) -> tuple[list[float] | None, str]:
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


def _trial_name(number: int) -> str:
    return f"trial-{number:04d}"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _utc(moment: datetime) -> datetime:
    """Optuna stores naive local times: read them as this machine's local time."""
    return moment.astimezone(UTC)


def _iso(moment: datetime) -> str:
    return _utc(moment).isoformat(timespec="milliseconds")


def _hide_password(url: str) -> str:
    return re.sub(r"://([^:/@]+):[^@/]+@", r"://\1:***@", url)


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
