"""``import_study``: storages accepted and refused, unfinished trials, re-import, ids, the missing extra."""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import json
import sqlite3
import sys
from pathlib import Path

import optuna
import pytest
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend

import rundocs
from rundocs.optuna import StudyImportError, import_command, import_run_id, import_study
from tests.optuna.helpers import by_trial, reported, same_moment


def make_sqlite_study(name: str = "demo", trials: int = 2, path: str = "study.db") -> optuna.Study:
    study = optuna.create_study(study_name=name, storage=f"sqlite:///{path}", direction="maximize")
    for number in range(trials):
        trial = study.ask({"width": optuna.distributions.IntDistribution(4, 16)})
        trial.report(0.5, 1)
        trial.report(0.75, 2)
        trial.set_user_attr("params_m", 1.5)
        study.tell(trial, 0.8 + number / 100)
    return study


@pytest.mark.parametrize("form", ["sqlite:///study.db", "study.db", "{abs}", "sqlite:///{abs}"])
def test_sqlite_storages_by_url_or_path(tmp_dir: Path, form: str) -> None:
    study = make_sqlite_study()
    report = import_study(form.format(abs=tmp_dir / "study.db"), "demo", "runs", metric="val_acc")
    assert report.describe() == "imported 2 trials of 'demo' into runs: 2 complete (2 written)"
    runs = rundocs.load_runs("runs", strict=True)
    records = by_trial(runs)
    for trial in study.trials:
        record = records[trial.number]
        assert record.config == trial.params
        assert record.summary == {"params_m": 1.5, "val_acc": trial.value}
        assert reported(runs, record.id, "val_acc") == {1: 0.5, 2: 0.75}
        assert "goal:max" in record.tags
        assert record.env == {}


@pytest.mark.parametrize("form", ["journal:///study.log", "study.log", "{abs}", "journal:///{abs}"])
def test_journal_storages_by_url_or_path(tmp_dir: Path, form: str) -> None:
    storage = JournalStorage(JournalFileBackend("study.log"))
    optuna.create_study(study_name="demo", storage=storage).optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=2)
    report = import_study(form.format(abs=tmp_dir / "study.log"), "demo", "runs")
    assert report.imported == 2


def test_running_and_waiting_trials(tmp_dir: Path) -> None:
    study = make_sqlite_study(trials=0)
    running = study.ask()
    running.report(0.25, 1)
    study.enqueue_trial({"width": 8})
    report = import_study("study.db", "demo", "runs")
    assert report.describe() == ("imported 1 trial of 'demo' into runs: 1 running (1 written); 1 waiting, not imported")
    (record,) = rundocs.load_runs("runs", strict=True).records.values()
    assert (record.status, record.ended_at, record.summary) == ("running", None, {})
    assert record.updated_at == record.started_at  # the last sign of life the study holds
    assert record.epochs is None  # no complete trial says how long a trial runs


def test_import_again_updates_changed_trials_and_keeps_notes(tmp_dir: Path) -> None:
    study = make_sqlite_study(trials=1)
    trial = study.ask()
    trial.report(0.5, 1)
    import_study("study.db", "demo", "runs")
    folder = Path("runs") / import_run_id("demo", trial.number)
    (folder / "notes.md").write_text("looked promising\n")
    trial.report(0.6, 2)
    study.tell(trial, 0.9)
    report = import_study("study.db", "demo", "runs")
    assert (report.written, report.unchanged) == ([folder.name], [import_run_id("demo", 0)])
    record = rundocs.load_runs("runs", strict=True).records[folder.name]
    assert (record.status, record.summary, record.notes) == ("completed", {"value": 0.9}, "looked promising\n")
    assert record.ended_at is not None and same_moment(record.ended_at, study.trials[1].datetime_complete)
    assert [line["epoch"] for line in map(json.loads, (folder / "metrics.jsonl").read_text().splitlines())] == [1, 2]


def test_a_folder_holding_another_run_is_left_alone(tmp_dir: Path) -> None:
    make_sqlite_study(trials=2)
    taken = Path("runs") / import_run_id("demo", 1)
    taken.mkdir(parents=True)
    (taken / "notes.md").write_text("mine\n")
    report = import_study("study.db", "demo", "runs")
    assert report.describe() == (
        "imported 1 trial of 'demo' into runs: 1 complete (1 written); "
        "1 left alone, their folder holds another run: optuna_demo_0001"
    )
    assert [p.name for p in taken.iterdir()] == ["notes.md"]


def test_steps_can_be_imported_as_steps(tmp_dir: Path) -> None:
    make_sqlite_study(trials=1)
    import_study("study.db", "demo", "runs", step_name="step", sweep="widths", phase="search")
    runs = rundocs.load_runs("runs", strict=True)
    (record,) = runs.records.values()
    assert (record.sweep, record.phase, record.epochs) == ("widths", "search", None)
    assert reported(runs, record.id, "value", axis="step") == {1: 0.5, 2: 0.75}


@pytest.mark.parametrize(
    ("name", "run_id"),
    [
        ("demo", "optuna_demo_0007"),
        ("lr-search.v2", "optuna_lr-search.v2_0007"),
        ("my study", "optuna_my-study-{hash}_0007"),
        ("学習", "optuna_study-{hash}_0007"),
    ],
)
def test_ids_are_fixed_and_valid(name: str, run_id: str) -> None:
    expected = run_id.format(hash=hashlib.sha256(name.encode()).hexdigest()[:6])
    assert import_run_id(name, 7) == expected


def test_study_names_that_share_a_slug_get_different_ids() -> None:
    assert import_run_id("a b", 1) != import_run_id("a/b", 1)


@pytest.mark.parametrize(
    ("storage", "reason"),
    [
        ("missing.db", "no such file: missing.db"),
        ("sqlite:///missing.db", "no such file: missing.db"),
        ("journal:///missing.log", "no such file: missing.log"),
        ("sqlite://", "expected a file, as in sqlite:///path.db or journal:///path.log"),
        ("redis://localhost:6379", "unsupported storage 'redis'; accepted: sqlite:///path.db, journal:///path.log, "
         "another SQLAlchemy URL, or a file path"),
        ("other.db", "not an Optuna storage (no 'studies' table)"),
        ("binary.log", "not an Optuna journal file: 'utf-8' codec can't decode byte 0x80 in position 0: invalid "
         "start byte"),
        ("text.log", "not an Optuna journal file: Expecting value: line 1 column 1 (char 0)"),
        ("lines.jsonl", "not an Optuna journal file: missing key 'op_code'"),
        ("study.db", "no such study (studies there: 'demo')"),
    ],
)  # fmt: skip
def test_storage_problems_are_one_line_errors(tmp_dir: Path, storage: str, reason: str) -> None:
    make_sqlite_study()
    with contextlib.closing(sqlite3.connect("other.db")) as db:
        db.execute("CREATE TABLE notes (text TEXT)")
        db.commit()
    Path("binary.log").write_bytes(b"\x80\x81\n\n")
    Path("text.log").write_text("hello\nworld\n")
    Path("lines.jsonl").write_text('{"a": 1}\n{"b": 2}\n')
    with pytest.raises(StudyImportError) as caught:
        import_command(storage, "nope" if storage == "study.db" else "demo")
    assert caught.value.reason == reason
    assert str(caught.value) == f"cannot import study {caught.value.study!r} from {storage}: {reason}"
    assert "\n" not in str(caught.value)
    assert not Path("missing.db").exists() and not Path("missing.log").exists()  # reading creates nothing
    assert not Path("runs").exists()


def test_a_password_in_the_url_is_not_shown(tmp_dir: Path) -> None:
    with pytest.raises(StudyImportError) as caught:
        import_study("postgresql://me:s3cret@localhost:1/optuna", "demo")
    assert "s3cret" not in str(caught.value)
    assert "postgresql://me:***@localhost:1/optuna" in str(caught.value)


def test_without_optuna_the_module_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "optuna", None)
    monkeypatch.delitem(sys.modules, "rundocs.optuna")
    with pytest.raises(
        rundocs.MissingDependencyError, match=r"^optuna is not installed: pip install 'rundocs\[optuna\]'$"
    ):
        importlib.import_module("rundocs.optuna")
