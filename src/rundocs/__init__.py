"""rundocs: recorded runs in, always-true experiment pages out.

``import rundocs`` stays light: pandas and the loader are imported on first use of
``load_runs``, torch only by ``rundocs.torch``.
"""

import importlib as _importlib
import typing as _typing

from rundocs.exceptions import CheckpointError, MissingDependencyError, RundocsError, RunFormatError
from rundocs.record import RecordingWarning, Run
from rundocs.record.current import current_run

if _typing.TYPE_CHECKING:
    from rundocs.load.problems import Problem
    from rundocs.load.runs import Runs, load_runs

__version__ = "0.1.0"

__all__ = [
    "CheckpointError",
    "MissingDependencyError",
    "Problem",
    "RecordingWarning",
    "Run",
    "RunFormatError",
    "RundocsError",
    "Runs",
    "__version__",
    "current_run",
    "load_runs",
]

_LAZY = {"load_runs": "rundocs.load.runs", "Runs": "rundocs.load.runs", "Problem": "rundocs.load.problems"}


def __getattr__(name: str) -> _typing.Any:
    if name in _LAZY:
        return getattr(_importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'rundocs' has no attribute {name!r}")
