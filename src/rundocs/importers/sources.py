"""The sources ``rundocs import`` reads: each a reader module, imported only when used (its
tracker's library is an optional extra)."""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Iterator
from typing import NamedTuple

from rundocs.exceptions import RundocsError
from rundocs.importers.imported import ImportedRun
from rundocs.importers.store import ImportOptions, ImportReport, Unmapped, import_runs


class Source(NamedTuple):
    module: str
    reader: str
    extra: str | None  # the pip extra that installs what the reader needs
    help: str


SOURCES = {
    "csv": Source(
        "rundocs.importers.csv_logs",
        "read_csv_source",
        None,
        "A CSV file with an epoch or step column, or a folder of Lightning CSVLogger runs.",
    ),
    "tensorboard": Source(
        "rundocs.importers.tensorboard",
        "read_tensorboard_source",
        "tensorboard",
        "A TensorBoard event folder, or a folder of them (SummaryWriter, Lightning's TensorBoardLogger).",
    ),
    "dvclive": Source(
        "rundocs.importers.dvclive",
        "read_dvclive_source",
        None,
        "A DVCLive output folder (metrics.json, params.yaml, plots/metrics), or a folder of them.",
    ),
    "mlflow": Source(
        "rundocs.importers.mlflow_store",
        "read_mlflow_source",
        "mlflow",
        "An MLflow tracking store: sqlite:///path/mlflow.db, file:///path/mlruns, or the file or folder.",
    ),
    "wandb": Source(
        "rundocs.importers.wandb_offline",
        "read_wandb_source",
        "wandb",
        "W&B offline runs: a wandb/ folder, or one offline-run-* folder.",
    ),
}


def import_source(source: str, location: str, runs_dir: str | os.PathLike[str], options: ImportOptions) -> ImportReport:
    """Read ``location`` with the reader of ``source`` and write its runs into ``runs_dir``."""
    spec = SOURCES[source]
    try:
        module = importlib.import_module(spec.module)
    except ImportError as error:
        extra = f"; pip install 'rundocs[{spec.extra}]'" if spec.extra else ""
        raise RundocsError(f"cannot import {source} runs: {error}{extra}") from error
    reader: Callable[[str], Iterator[ImportedRun | Unmapped]] = getattr(module, spec.reader)
    return import_runs(reader(location), runs_dir, source, options)
