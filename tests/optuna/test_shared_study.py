"""A real study: 30 trials run by 2 worker processes sharing one journal file.

Each worker records its trials live with ``RundocsCallback`` (MedianPruner prunes some, trial
5 fails on purpose). The runs are checked against the study's own trials, then the same
study is imported into empty folders, from the journal and from a SQLite copy.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import optuna
import pytest
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend
from optuna.trial import FrozenTrial, TrialState

import rundocs
from rundocs.optuna import import_command, import_run_id, import_study
from tests.optuna.helpers import by_trial, reported, same_moment
from tests.optuna.study_worker import EPOCHS, FAILING_TRIAL, FAILURE, STUDY

WORKER = Path(__file__).with_name("study_worker.py")
WORKERS = 2
TRIALS_PER_WORKER = 15
STATE_LABELS = {TrialState.COMPLETE: "complete", TrialState.PRUNED: "pruned", TrialState.FAIL: "failed"}


@dataclass(frozen=True)
class SharedStudy:
    journal: Path
    runs: Path  # written live by the workers
    trials: list[FrozenTrial]


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> SharedStudy:
    """Run the workers once for the whole module (the environment as ``child_env`` makes it)."""
    root = tmp_path_factory.mktemp("shared-study")
    journal, runs = root / "study.log", root / "runs"
    storage = JournalStorage(JournalFileBackend(str(journal)))
    optuna.create_study(study_name=STUDY, storage=storage)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RUNDOCS_", "SLURM_"))}
    env = {k: v for k, v in env.items() if k not in ("RANK", "LOCAL_RANK", "WORLD_SIZE", "SOURCE_DATE_EPOCH")}
    src = str(Path(__file__).resolve().parents[2] / "src")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH")) if p)
    command = [sys.executable, str(WORKER), str(journal), str(runs), str(TRIALS_PER_WORKER)]
    workers = [
        subprocess.Popen([*command, str(seed)], cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for seed in range(WORKERS)
    ]
    for worker in workers:
        _, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err.decode()
    trials = optuna.load_study(study_name=STUDY, storage=storage).get_trials()
    return SharedStudy(journal, runs, trials)


def test_every_trial_is_one_run_of_the_sweep(shared: SharedStudy) -> None:
    runs = rundocs.load_runs(shared.runs, strict=True)
    assert len(shared.trials) == WORKERS * TRIALS_PER_WORKER
    assert all(t.state in STATE_LABELS for t in shared.trials)
    records = by_trial(runs)
    assert sorted(records) == [t.number for t in shared.trials]
    assert len({record.folder for record in records.values()}) == len(shared.trials)
    assert len({record.env["pid"] for record in records.values()}) == WORKERS  # both processes recorded
    for number, record in records.items():
        assert record.name == f"trial-{number:04d}"
        assert record.sweep == STUDY
        assert record.phase == "search"
        assert record.epochs == EPOCHS
        assert {"optuna", f"study:{STUDY}", f"trial:{number}", "goal:min"} <= set(record.tags)


def test_params_values_and_reported_values_match_the_trials(shared: SharedStudy) -> None:
    runs = rundocs.load_runs(shared.runs, strict=True)
    records = by_trial(runs)
    for trial in shared.trials:
        record = records[trial.number]
        assert record.config == {"epochs": EPOCHS, **trial.params}
        assert reported(runs, record.id, "val_loss") == trial.intermediate_values
        if trial.state == TrialState.COMPLETE:
            assert record.status == "completed"
            assert "pruned" not in record.tags
            assert record.summary == {"val_loss": trial.value}
            assert max(trial.intermediate_values) == EPOCHS


def test_pruned_trials_are_completed_runs_that_stopped_early(shared: SharedStudy) -> None:
    runs = rundocs.load_runs(shared.runs, strict=True)
    records = by_trial(runs)
    pruned = [t for t in shared.trials if t.state == TrialState.PRUNED]
    assert pruned, "MedianPruner pruned nothing: the test would prove little"
    for trial in pruned:
        record = records[trial.number]
        assert record.status == "completed"
        assert "pruned" in record.tags
        # a pruner may stop a trial at any reported step, its last one included (seen in CI)
        assert max(reported(runs, record.id, "val_loss")) <= EPOCHS == record.epochs
        assert record.summary == {"val_loss": trial.intermediate_values[max(trial.intermediate_values)]}


def test_the_failed_trial_is_a_failed_run_with_its_error(shared: SharedStudy) -> None:
    runs = rundocs.load_runs(shared.runs, strict=True)
    (failed,) = [t for t in shared.trials if t.state == TrialState.FAIL]
    assert failed.number == FAILING_TRIAL
    record = by_trial(runs)[FAILING_TRIAL]
    assert record.status == "failed"
    assert record.error is not None
    assert (record.error.type, record.error.message) == ("RuntimeError", FAILURE)
    assert record.error.traceback is not None and "study_worker.py" in record.error.traceback
    assert reported(runs, record.id, "val_loss") == failed.intermediate_values
    assert record.summary == {}


def test_import_into_an_empty_folder_equals_the_study(shared: SharedStudy, tmp_dir: Path) -> None:
    report = import_study(str(shared.journal), STUDY, "imported", metric="val_loss", phase="search")
    assert report.states == Counter(STATE_LABELS[t.state] for t in shared.trials)
    assert (report.written, report.unchanged, report.live, report.taken, report.waiting) == (
        [import_run_id(STUDY, t.number) for t in shared.trials],
        [],
        [],
        [],
        0,
    )
    runs = rundocs.load_runs("imported", strict=True)
    records = by_trial(runs)
    for trial in shared.trials:
        record = records[trial.number]
        assert record.id == f"optuna_{STUDY}_{trial.number:04d}"
        assert record.config == trial.params
        assert reported(runs, record.id, "val_loss") == trial.intermediate_values
        assert record.epochs == EPOCHS  # the last step of the complete trials
        assert same_moment(record.started_at, trial.datetime_start)
        assert record.ended_at is not None and same_moment(record.ended_at, trial.datetime_complete)
        assert record.status == ("failed" if trial.state == TrialState.FAIL else "completed")
        assert ("pruned" in record.tags) == (trial.state == TrialState.PRUNED)
        expected = {} if trial.state == TrialState.FAIL else {"val_loss": trial.value}
        assert record.summary == expected


def test_import_again_changes_nothing(shared: SharedStudy, tmp_dir: Path) -> None:
    import_study(str(shared.journal), STUDY, "imported")
    before = {path: path.read_bytes() for path in Path("imported").rglob("*") if path.is_file()}
    report = import_study(f"journal:///{shared.journal}", STUDY, "imported")
    assert report.written == []
    assert len(report.unchanged) == len(shared.trials)
    assert {path: path.read_bytes() for path in Path("imported").rglob("*") if path.is_file()} == before


def test_import_from_sqlite_writes_the_same_runs(shared: SharedStudy, tmp_dir: Path) -> None:
    journal = JournalStorage(JournalFileBackend(str(shared.journal)))
    optuna.copy_study(from_study_name=STUDY, from_storage=journal, to_storage="sqlite:///copy.db")
    import_study(str(shared.journal), STUDY, "from-journal")
    import_study("sqlite:///copy.db", STUDY, "from-sqlite")
    journal_files = sorted(p.relative_to("from-journal") for p in Path("from-journal").rglob("*") if p.is_file())
    assert journal_files == sorted(p.relative_to("from-sqlite") for p in Path("from-sqlite").rglob("*") if p.is_file())
    for path in journal_files:
        assert (Path("from-sqlite") / path).read_bytes() == (Path("from-journal") / path).read_bytes()


def test_import_leaves_trials_recorded_live_alone(shared: SharedStudy, tmp_dir: Path) -> None:
    shutil.copytree(shared.runs, "runs")
    report = import_study(str(shared.journal), STUDY, "runs")
    assert report.imported == 0
    assert sorted(report.live) == [t.number for t in shared.trials]
    assert len(rundocs.load_runs("runs", strict=True).records) == len(shared.trials)


def test_import_command_says_what_it_did(shared: SharedStudy, tmp_dir: Path) -> None:
    counts = Counter(STATE_LABELS[t.state] for t in shared.trials)
    line = import_command(str(shared.journal), STUDY, "imported")
    assert line == (
        f"imported 30 trials of 'quadratic' into imported: {counts['complete']} complete, "
        f"{counts['pruned']} pruned, 1 failed (30 written)"
    )
