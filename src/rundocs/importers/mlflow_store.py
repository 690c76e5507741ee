"""MLflow tracking stores, read through MLflow's own client (``pip install 'rundocs[mlflow]'``).

A location is a tracking URI (``sqlite:///path/mlflow.db``, ``file:///path/mlruns``) or a path:
a file is a SQLite store, a folder a file store. Every active run of every active experiment
becomes a run (its MLflow run id fixes the rundocs id):

- the experiment is the run's sweep (the ``Default`` experiment gives none, so ``--sweep``
  places its runs); ``mlflow.runName`` is the name; other tags ``mlflow.*`` are MLflow's own
  bookkeeping, except ``mlflow.parentRunId``, which becomes a ``parent:<rundocs id>`` tag; a
  user's tag ``key=value`` becomes the tag ``key:value``;
- params are the config: a text that is a JSON number becomes that number (``"0.1"`` ->
  ``0.1``, ``"32"`` -> ``32``, but ``"007"`` stays text), ``"True"``/``"False"`` booleans;
  every other text stays as it is;
- each metric keeps every point of its history: points at the same step share a line (a
  metric logged twice at one step opens another line), an ``epoch`` metric gives the line its
  epoch, and a line's time is its first point's timestamp less the run's start. MLflow keeps no
  summary apart from each metric's latest value, which the lines hold: the summary stays empty;
- ``FINISHED`` is completed, ``FAILED`` failed, ``KILLED`` interrupted, ``RUNNING`` and
  ``SCHEDULED`` running.

Artifacts, logged models and datasets stay where MLflow keeps them, unmentioned (most runs have
some; a warning on each page would say nothing). MLflow writes to a store it opens (it creates or
upgrades a database's tables, a file store's ``.trash`` folder): a database is read from a
snapshot copy in a temporary folder, removed after; a file store is read only when it has its
``.trash`` folder. Since MLflow 3.13 a file store is refused unless ``MLFLOW_ALLOW_FILE_STORE`` is
set: it is set while the store is read. MLflow is imported with its telemetry off.
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
import tempfile
import warnings
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit
from urllib.request import url2pathname

from rundocs.importers.imported import ImportedRun, Row, import_id, line_epoch
from rundocs.importers.store import Unmapped

SOURCE = "mlflow"
#: The largest database copied for reading.
MAX_DATABASE_BYTES = 8 * 1024**3
#: What MLflow writes in a run's status, as a rundocs status.
STATUSES = {
    "FINISHED": "completed",
    "FAILED": "failed",
    "KILLED": "interrupted",
    "RUNNING": "running",
    "SCHEDULED": "running",
}
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?")
_PAGE = 1000


@contextlib.contextmanager
def _environment(**values: str) -> Iterator[None]:
    """Environment variables set for a while, then restored."""
    old = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in old.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _import_client() -> Any:
    """``MlflowClient``, imported with MLflow's telemetry off: ``import mlflow`` starts it."""
    with _environment(MLFLOW_DISABLE_TELEMETRY="true"):
        from mlflow.tracking import MlflowClient

    return MlflowClient


MlflowClient = _import_client()


def read_mlflow_source(location: str) -> Iterator[ImportedRun | Unmapped]:
    """Every active run in the MLflow store at ``location``."""
    store = _store_path(location)
    if isinstance(store, Unmapped):
        yield store
    elif store.is_file():
        with tempfile.TemporaryDirectory(prefix="rundocs-mlflow-", ignore_cleanup_errors=True) as folder:
            copy = Path(folder) / "mlflow.db"
            problem = _snapshot(store, copy)
            if problem is not None:
                yield Unmapped(location, problem)
            else:
                yield from _read_store("sqlite:///" + copy.as_posix(), location)
    elif not (store / ".trash").is_dir():
        yield Unmapped(location, "not an MLflow file store: no .trash folder (a copy may have lost the empty one)")
    else:
        with _environment(MLFLOW_ALLOW_FILE_STORE="true"):
            yield from _read_store(store.resolve().as_uri(), location)


def _store_path(location: str) -> Path | Unmapped:
    """The database file or store folder that ``location`` names."""
    scheme = urlsplit(location).scheme
    if scheme == "sqlite":
        if not location.startswith("sqlite:///"):
            return Unmapped(location, "a SQLite tracking URI is sqlite:///<path>")
        path = Path(unquote(location.removeprefix("sqlite:///").partition("?")[0]))
    elif scheme == "file":
        path = Path(url2pathname(urlsplit(location).path))
    elif len(scheme) > 1:  # not a Windows drive letter
        return Unmapped(location, f"only local stores are read (sqlite:///, file:// or a path), not {scheme}:")
    else:
        path = Path(location)
    if path.is_file() or path.is_dir():
        return path
    return Unmapped(location, "no such file or folder")


def _snapshot(database: Path, copy: Path) -> str | None:
    """Copy an MLflow database, read-only and consistent while a run writes to it; why not."""
    if (size := database.stat().st_size) > MAX_DATABASE_BYTES:
        return f"is {size:,} bytes, over the limit of {MAX_DATABASE_BYTES:,} for an MLflow database"
    try:
        with contextlib.closing(sqlite3.connect(f"file:{quote(str(database.resolve()))}?mode=ro", uri=True)) as source:
            tables = {row[0] for row in source.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if not {"experiments", "runs", "metrics", "params"} <= tables:
                return "not an MLflow database: it has no experiments, runs, metrics and params tables"
            with contextlib.closing(sqlite3.connect(copy)) as target:
                source.backup(target)
    except sqlite3.Error as error:
        return f"not read as a SQLite database: {error}"
    return None


def _read_store(uri: str, location: str) -> Iterator[ImportedRun | Unmapped]:
    try:
        with _quiet():
            client = MlflowClient(tracking_uri=uri)
            experiments = _experiments(client)
    except Exception as error:  # MLflow raises its own errors and those of SQLAlchemy
        yield Unmapped(location, f"MLflow cannot read it: {_first_line(error)}")
        return
    for experiment in experiments:
        token = None
        while True:
            try:
                with _quiet():
                    page = client.search_runs(
                        [experiment.experiment_id],
                        max_results=_PAGE,
                        order_by=["attributes.start_time ASC", "attributes.run_id ASC"],
                        page_token=token,
                    )
            except Exception as error:
                yield Unmapped(f"MLflow experiment {experiment.name!r}", f"its runs are not read: {_first_line(error)}")
                break
            for run in page:
                yield _read_run(client, run, experiment)
            if not (token := page.token):
                break


def _experiments(client: Any) -> list[Any]:
    experiments, token = [], None
    while True:
        page = client.search_experiments(max_results=_PAGE, page_token=token)
        experiments += page
        if not (token := page.token):
            return sorted(experiments, key=lambda experiment: experiment.experiment_id)


def _read_run(client: Any, run: Any, experiment: Any) -> ImportedRun | Unmapped:
    info, data = run.info, run.data
    start = info.start_time
    if start is None:
        return Unmapped(f"MLflow run {info.run_id}", "it has no start time")
    try:
        with _quiet():
            histories = {key: client.get_metric_history(info.run_id, key) for key in sorted(data.metrics)}
    except Exception as error:
        return Unmapped(f"MLflow run {info.run_id}", f"its metrics are not read: {_first_line(error)}")
    rows, problems = _rows(histories, start)
    tags = {key: value for key, value in data.tags.items() if not key.startswith("mlflow.")}
    parent = data.tags.get("mlflow.parentRunId")
    return ImportedRun(
        source=SOURCE,
        key=info.run_id,
        name=info.run_name or data.tags.get("mlflow.runName") or info.run_id,
        started_at=_moment(start),
        ended_at=_moment(info.end_time) if info.end_time is not None else None,
        status=STATUSES.get(info.status, "failed"),
        config={key: param_value(value) for key, value in sorted(data.params.items())},
        rows=rows,
        tags=[f"{key}:{value}" for key, value in sorted(tags.items())]
        + ([f"parent:{import_id(SOURCE, parent)}"] if parent else []),
        sweep=experiment.name if experiment.experiment_id != "0" else None,
        problems=problems,
    )


def _rows(histories: Mapping[str, list[Any]], start: int) -> tuple[list[Row], list[str]]:
    """One line per step (another one for a metric logged again at that step), in step order."""
    points = sorted(
        ((point.step, point.timestamp, key, point.value) for key, history in histories.items() for point in history),
        key=lambda point: point[:3],
    )
    lines: list[tuple[int, int, dict[str, float]]] = []  # step, first timestamp, values
    for step, timestamp, key, value in points:
        if lines and lines[-1][0] == step and key not in lines[-1][2]:
            lines[-1][2][key] = value
        else:
            lines.append((step, timestamp, {key: value}))
    rows, problems = [], []
    for step, timestamp, values in lines:
        epoch = values.pop("epoch", None)
        if epoch is not None and line_epoch(epoch) is None:
            problems.append(f"epoch {epoch!r} is not a whole number from 0; the lines keep no epoch then")
        rows.append(Row(values, line_epoch(epoch), step, (timestamp - start) / 1000))
    return rows, problems[:1]


def param_value(text: str) -> Any:
    """An MLflow param (always text) as the value it names, where that is unambiguous."""
    if text in ("True", "False"):
        return text == "True"
    match = _NUMBER.fullmatch(text)
    if match is None:
        return text
    if match.group(1) is None and match.group(2) is None:
        return int(text) if len(text) <= 300 else text  # past a double's range: kept as written
    number = float(text)
    return number if abs(number) != float("inf") else text


def _moment(milliseconds: int) -> datetime:
    return datetime.fromtimestamp(milliseconds / 1000, UTC)


def _first_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """MLflow's and SQLAlchemy's deprecation notes, which are not the user's to act on."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield
