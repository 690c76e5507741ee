"""Opening the storage a string names (SQLite, journal file, other SQLAlchemy URLs) and reading a study."""

from __future__ import annotations

import contextlib
import re
import sqlite3
from pathlib import Path

import optuna
from optuna.storages import BaseStorage, JournalStorage, RDBStorage
from optuna.storages.journal import JournalFileBackend
from optuna.trial import FrozenTrial
from sqlalchemy.exc import SQLAlchemyError

from rundocs.exceptions import RundocsError

_SQLITE_MAGIC = b"SQLite format 3\x00"


class StudyImportError(RundocsError):
    """A study that cannot be read (bad storage, no such study) or its runs not written."""

    def __init__(self, storage: str, study: str, reason: str) -> None:
        self.storage = storage
        self.study = study
        self.reason = reason
        super().__init__(f"cannot import study {study!r} from {_hide_password(storage)}: {reason}")


def read_study(storage: str, study_name: str) -> tuple[list[FrozenTrial], list[optuna.study.StudyDirection]]:
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


def _hide_password(url: str) -> str:
    return re.sub(r"://([^:/@]+):[^@/]+@", r"://\1:***@", url)


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
