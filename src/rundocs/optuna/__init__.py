"""Optuna integration (``pip install 'rundocs[optuna]'``): every trial of a study as a run of its sweep.

Two ways in, one mapping (trial -> run, ``trials``), described in ``docs/optuna.md``:

- ``RundocsCallback`` (``recording``): ``@recorder.track`` on the objective records each trial
  live (reported values appear as metrics while it runs; pruned, failed and interrupted trials
  end as such); ``callbacks=[recorder]`` alone records finished trials afterwards.
- ``import_study`` (``importing``, reading through ``storage``): the trials of an existing study
  (SQLite or journal file) as run folders, with fixed ids so that importing again updates them
  instead of adding copies.
"""

from __future__ import annotations

try:
    import optuna  # noqa: F401 - checked here, before any submodule needs it
except ImportError as error:  # pragma: no cover - exercised only without the extra
    from rundocs.exceptions import MissingDependencyError

    raise MissingDependencyError("optuna", "optuna") from error

from rundocs.optuna.importing import ImportReport, import_command, import_run_id, import_study
from rundocs.optuna.recording import RundocsCallback
from rundocs.optuna.storage import StudyImportError

__all__ = [
    "ImportReport",
    "RundocsCallback",
    "StudyImportError",
    "import_command",
    "import_run_id",
    "import_study",
]
