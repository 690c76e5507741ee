"""``RundocsCallback``: trials recorded live by ``track``, or afterwards by the callback alone."""

from __future__ import annotations

import threading
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

import rundocs
import rundocs.optuna
from rundocs import current_run
from rundocs.optuna import RundocsCallback
from tests.optuna.helpers import by_trial, reported, same_moment


def make_study(name: str = "demo", **options: object) -> optuna.Study:
    return optuna.create_study(study_name=name, sampler=optuna.samplers.RandomSampler(seed=0), **options)  # type: ignore[arg-type]


def test_a_running_trial_shows_its_progress(tmp_dir: Path) -> None:
    recorder = RundocsCallback(metric="val_loss", epochs=5)
    seen = []

    @recorder.track
    def objective(trial: optuna.Trial) -> float:
        lr = trial.suggest_float("lr", 0.01, 0.1)
        for epoch in range(1, 6):
            if epoch == 2:
                trial.suggest_int("width", 4, 4)  # suggested late: in the config from the next report on
            trial.report(lr * epoch, epoch)
            if epoch == 3:
                runs = rundocs.load_runs("runs", strict=True)
                (record,) = runs.records.values()
                seen.append((runs.runs.at[record.id, "state"], reported(runs, record.id, "val_loss"), record.config))
        return lr * 5

    study = make_study()
    study.optimize(objective, n_trials=1)
    lr = study.trials[0].params["lr"]
    assert seen == [("running", {1: lr, 2: lr * 2, 3: lr * 3}, {"lr": lr, "width": 4})]
    (record,) = rundocs.load_runs("runs", strict=True).records.values()
    assert (record.status, record.summary, record.id) == ("completed", {"val_loss": lr * 5}, recorder.run_ids[0])


def test_the_callback_alone_records_finished_trials(tmp_dir: Path) -> None:
    recorder = RundocsCallback("search-runs", epochs=4, tags=["cpu"])

    def objective(trial: optuna.Trial) -> float:
        x = trial.suggest_float("x", -1, 1)
        if trial.number == 2:
            raise ValueError("no good")
        for step in range(1, 5):
            trial.report(x * x + 1 / step, step)
            if trial.number == 3:
                raise optuna.TrialPruned()
        return x * x

    study = make_study()
    study.optimize(objective, n_trials=4, callbacks=[recorder], catch=(ValueError,))
    runs = rundocs.load_runs("search-runs", strict=True)
    records = by_trial(runs)
    assert sorted(runs.records) == sorted(recorder.run_ids)
    for trial in study.trials:
        record = records[trial.number]
        assert record.config == trial.params
        assert reported(runs, record.id, "value") == trial.intermediate_values
        assert same_moment(record.started_at, trial.datetime_start)
        assert record.ended_at is not None and same_moment(record.ended_at, trial.datetime_complete)
        assert record.env["pid"] is not None  # the environment of the process that ran it
        assert record.tags[:2] == ("cpu", "optuna")
    assert [records[n].status for n in range(4)] == ["completed", "completed", "failed", "completed"]
    assert records[2].error is None  # Optuna keeps no error; track records it
    assert "pruned" in records[3].tags
    assert records[0].summary == {"value": study.trials[0].value}


def test_track_with_the_callback_records_each_trial_once(tmp_dir: Path) -> None:
    recorder = RundocsCallback()
    study = make_study()
    study.optimize(recorder.track(lambda trial: trial.suggest_float("x", 0, 1)), n_trials=3, callbacks=[recorder])
    assert len(rundocs.load_runs("runs", strict=True).records) == 3 == len(recorder.run_ids)


def test_values_optuna_refuses_fail_the_run_as_they_fail_the_trial(tmp_dir: Path) -> None:
    recorder = RundocsCallback()
    study = make_study()
    study.optimize(recorder.track(lambda trial: float("nan")), n_trials=1)
    study.optimize(recorder.track(lambda trial: "high"), n_trials=1)  # type: ignore[arg-type, return-value]
    assert [t.state for t in study.trials] == [TrialState.FAIL, TrialState.FAIL]
    records = by_trial(rundocs.load_runs("runs", strict=True))
    assert [(r.status, r.error and r.error.message) for r in records.values()] == [
        ("failed", "the objective returned NaN; Optuna marks the trial failed"),
        ("failed", "the objective returned 'high', not a number; Optuna marks the trial failed"),
    ]


def test_keyboard_interrupt_marks_the_run_interrupted(tmp_dir: Path) -> None:
    recorder = RundocsCallback()

    @recorder.track
    def objective(trial: optuna.Trial) -> float:
        trial.report(1.0, 1)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        make_study().optimize(objective, n_trials=1)
    (record,) = rundocs.load_runs("runs", strict=True).records.values()
    assert record.status == "interrupted"


def test_a_fixed_trial_is_not_recorded(tmp_dir: Path) -> None:
    recorder = RundocsCallback()
    objective = recorder.track(lambda trial: trial.suggest_float("x", 0, 1) * 2)
    assert objective(optuna.trial.FixedTrial({"x": 0.25})) == 0.5  # type: ignore[arg-type]
    assert not Path("runs").exists()


def test_threads_each_log_to_their_own_run(tmp_dir: Path) -> None:
    recorder = RundocsCallback(epochs=3)
    barrier = threading.Barrier(2, timeout=10)

    @recorder.track
    def objective(trial: optuna.Trial) -> float:
        barrier.wait()  # both trials are open at once
        run = current_run()
        assert run is not None
        for epoch in range(1, 4):
            run.log(epoch=epoch, train_loss=float(trial.number))
            trial.report(trial.number + epoch, epoch)
        return float(trial.number)

    study = make_study()
    study.optimize(objective, n_trials=2, n_jobs=2)
    assert current_run() is None
    runs = rundocs.load_runs("runs", strict=True)
    for number, record in by_trial(runs).items():
        assert set(reported(runs, record.id, "train_loss").values()) == {number}
        assert reported(runs, record.id, "value") == {1: number + 1, 2: number + 2, 3: number + 3}


def test_user_attrs_numbers_go_to_the_summary_the_rest_to_the_config(tmp_dir: Path) -> None:
    recorder = RundocsCallback(metric="val_loss", config={"batch_size": 32})

    @recorder.track
    def objective(trial: optuna.Trial) -> float:
        trial.set_user_attr("test_acc", 0.9)
        trial.set_user_attr("val_loss", 7)  # the objective's name: kept in the config, the value wins
        trial.set_user_attr("note", "warm start")
        return 0.5

    make_study().optimize(objective, n_trials=1)
    (record,) = rundocs.load_runs("runs", strict=True).records.values()
    assert record.config == {"batch_size": 32, "user_attrs": {"val_loss": 7, "note": "warm start"}}
    assert record.summary == {"test_acc": 0.9, "val_loss": 0.5}


def test_steps_can_be_recorded_as_steps(tmp_dir: Path) -> None:
    recorder = RundocsCallback(step_name="step")

    @recorder.track
    def objective(trial: optuna.Trial) -> float:
        for step in (0, 10, 20):
            trial.report(step / 10, step)
        trial.report(99.0, 20)  # Optuna keeps a step's first value; so does the run
        return 2.0

    with pytest.warns(UserWarning, match="already reported"):
        make_study().optimize(objective, n_trials=1)
    runs = rundocs.load_runs("runs", strict=True)
    (run_id,) = runs.records
    assert reported(runs, run_id, "value", axis="step") == {0: 0.0, 10: 1.0, 20: 2.0}
    assert runs.history(run_id).columns.tolist() == ["run_id", "step", "time", "value"]


def test_multi_objective_values_are_numbered(tmp_dir: Path) -> None:
    recorder = RundocsCallback(metric="score")
    study = make_study(directions=["minimize", "maximize"])
    study.optimize(recorder.track(lambda trial: (1.0, 2.0)), n_trials=1)
    (record,) = rundocs.load_runs("runs", strict=True).records.values()
    assert record.summary == {"score_0": 1.0, "score_1": 2.0}
    assert not any(tag.startswith("goal:") for tag in record.tags)


def test_a_maximised_study_is_tagged_so(tmp_dir: Path) -> None:
    recorder = RundocsCallback(metric="val_acc")
    make_study(direction="maximize").optimize(recorder.track(lambda trial: 0.5), n_trials=1)
    (record,) = rundocs.load_runs("runs", strict=True).records.values()
    assert "goal:max" in record.tags


def test_a_recording_failure_does_not_stop_the_study(tmp_dir: Path) -> None:
    Path("taken").write_text("a file where the runs folder should be")
    recorder = RundocsCallback("taken")
    study = make_study()
    with pytest.warns(rundocs.RecordingWarning, match="cannot create runs folder"):
        study.optimize(recorder.track(lambda trial: trial.suggest_float("x", 0, 1)), n_trials=2, callbacks=[recorder])
    assert [t.state for t in study.trials] == [TrialState.COMPLETE, TrialState.COMPLETE]


@pytest.mark.parametrize("metric", ["epoch", "time", ""])
def test_metric_names_that_would_clash_are_refused(metric: str) -> None:
    with pytest.raises(ValueError, match="metric must be a name other than"):
        RundocsCallback(metric=metric)


def test_other_torchrun_ranks_record_nothing(tmp_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RANK", "1")
    recorder = RundocsCallback()
    study = make_study()
    study.optimize(recorder.track(lambda trial: 1.0), n_trials=1)
    study.optimize(lambda trial: 1.0, n_trials=1, callbacks=[recorder])
    assert not Path("runs").exists()
    assert recorder.run_ids == []
