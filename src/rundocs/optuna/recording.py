"""``RundocsCallback``: trials recorded as runs while they run, or once they have finished."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

import optuna
from optuna.trial import FrozenTrial

from rundocs.optuna.trials import FINISHED, StepName, TrialLayout, check_values, trial_name, trial_record, utc
from rundocs.record.current import trial_run
from rundocs.record.environment import capture_environment, get_rank, make_run_id
from rundocs.record.run import Run
from rundocs.record.warn import WarnOnce
from rundocs.record.writer import RunWriter, create_run_folder
from rundocs.store.locations import recording_folder
from rundocs.store.upload import RunUploader

_T = TypeVar("_T")


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
            with ``rundocs.current_run().log(...)``, in one line with the epoch's other metrics.
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
        self.layout = TrialLayout(metric, step_name, phase, sweep, tuple(tags), dict(config or {}), epochs)
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
            token = trial_run.set(live.run)
            try:
                result = objective(trial)
            except optuna.TrialPruned:
                live.end_pruned()
                raise
            except BaseException as error:  # KeyboardInterrupt too: recorded as interrupted, then re-raised
                live.end_error(error)
                raise
            finally:
                trial_run.reset(token)
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
        if trial.state not in FINISHED or trial.datetime_start is None or get_rank() != 0:
            return
        warn = WarnOnce()
        root, store_url = recording_folder(self.dir)
        folder = create_run_folder(root, make_run_id(utc(trial.datetime_start)), make_run_id, warn)
        if folder is None:
            return
        record, lines = trial_record(trial, folder.name, study.study_name, study.directions, self.layout)
        record["env"] = capture_environment(root)
        record["warnings"] = warn.messages
        writer = RunWriter(folder, warn)
        for line in lines:
            writer.append_metrics(line)
        writer.finish(record)
        if store_url is not None:
            RunUploader(store_url, folder, warn).close()
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
            trial_name(trial.number),
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
        values, problem = check_values(result, len(self.names))
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
