"""DVCLive output folders: what ``dvclive.Live`` writes (DVCLive 3), read as files, without DVC.

A source is a DVCLive folder (``dvclive/`` by default) or a folder above some: every folder that
holds a ``metrics.json`` or a ``plots/metrics`` folder is one run (folders whose name starts with
``.``, such as ``.dvc`` and ``.git``, are not searched). Each ``plots/metrics/<name>.tsv`` is a
metric (``plots/metrics/train/loss.tsv`` is ``train/loss``), each of its lines a value at its
``step``; the values of one step share a metrics line, and an ``epoch`` metric (Lightning's
``DVCLiveLogger`` logs one) gives the line its epoch. ``params.yaml`` is the config.
``metrics.json`` holds each metric's latest value, which its plot already has, and whatever was
put in ``Live.summary``: the values of names without a plot are the summary (``step``, the last
step, left out). DVCLive records no start, end or outcome: a run's times are those of its plots'
``timestamp`` column (``log_metric(..., timestamp=True)``) when they have one, else the oldest
and newest modification times of its files, and it is imported ``completed``. Images, other
plots and artifacts are named, one line per folder, and not imported.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rundocs.format.decode import YEARS
from rundocs.formatting import counted
from rundocs.importers.csv_logs import NO_TIMES, read_config_yaml
from rundocs.importers.imported import ImportedRun, source_key
from rundocs.importers.points import Point, rows_of
from rundocs.importers.store import LeftOut, Unmapped
from rundocs.safe_files import read_regular

SOURCE = "dvclive"
#: The most bytes read of one metric's plot (as a CSV log's) and of ``metrics.json``.
MAX_PLOT_BYTES = 512 * 1024**2
MAX_SUMMARY_BYTES = 16 * 1024**2
_PLOTS = Path("plots", "metrics")
#: The end of the last year a run may be in (``timestamp`` is Unix milliseconds).
_LAST_MOMENT = datetime(YEARS[1] + 1, 1, 1, tzinfo=UTC).timestamp()
#: What the other folders DVCLive writes hold, for the line that says they are not imported.
_NOT_METRICS = {
    Path("plots", "images"): "images (log_image)",
    Path("plots", "sklearn"): "sklearn plots (log_sklearn_plot)",
    Path("plots", "custom"): "custom plots (log_plot)",
    Path("artifacts"): "artifacts (log_artifact)",
}


def read_dvclive_source(location: str) -> Iterator[ImportedRun | Unmapped]:
    """Every run at ``location``: the DVCLive folder itself, and each one below it."""
    root = Path(location)
    if not root.is_dir():
        yield Unmapped(location, "not a folder: give the DVCLive folder (dvclive/ by default), or one above")
        return
    top = os.path.basename(os.path.abspath(root))
    found = False
    errors: list[OSError] = []
    for directory, folders, names in os.walk(root, onerror=errors.append):
        folders[:] = sorted(name for name in folders if not name.startswith("."))
        path = Path(directory)
        if "metrics.json" in names or (path / _PLOTS).is_dir():
            found = True
            folders.clear()  # the rest of it is this run's
            relative = path.relative_to(root).as_posix()
            name = top if relative == "." else relative
            yield from _read_run(path, name, source_key(root, relative))
    yield from (Unmapped(str(error.filename), f"cannot read: {error.strerror}") for error in errors)
    if not found:
        yield Unmapped(location, "no DVCLive folder (one with metrics.json or plots/metrics) here or below")


def _read_run(path: Path, name: str, key: str) -> Iterator[ImportedRun | Unmapped]:
    for folder, what in _NOT_METRICS.items():
        if (path / folder).is_dir():
            count = sum(len(files) for _, _, files in os.walk(path / folder))
            files = counted(count, "file")
            yield LeftOut(str(path / folder), f"{files}: {what}; only metrics are read")
    points: list[Point] = []
    plotted: set[str] = set()
    for file in _plot_files(path / _PLOTS):
        metric = file.relative_to(path / _PLOTS).with_suffix("").as_posix()
        plotted.add(metric)
        yield from _read_plot(file, metric, points)
    summary: dict[str, Any] = {}
    if (path / "metrics.json").exists():
        yield from _read_summary(path / "metrics.json", plotted, summary)
    if not points and not summary:
        yield Unmapped(str(path), "no metrics: no plots/metrics/*.tsv lines and no summary values")
        return
    times = [point.wall_time for point in points if point.wall_time is not None]
    config, problems = read_config_yaml(path / "params.yaml")
    if not times:
        times = _modified(path)
        problems.append(NO_TIMES)
    rows, row_problems = rows_of(points, min(times))
    yield ImportedRun(
        source=SOURCE,
        key=key,
        name=name,
        started_at=datetime.fromtimestamp(min(times), UTC),
        ended_at=datetime.fromtimestamp(max(times), UTC),
        config=config,
        summary=summary,
        rows=rows,
        problems=[*problems, *row_problems],
    )


def _plot_files(folder: Path) -> list[Path]:
    """The ``.tsv`` files at or below ``folder``, in name order (links to folders not followed)."""
    found = []
    for directory, folders, names in os.walk(folder):
        folders.sort()
        found += [Path(directory, name) for name in sorted(names) if name.endswith(".tsv")]
    return found


def _read_plot(file: Path, metric: str, points: list[Point]) -> Iterator[Unmapped]:
    """Add a plot's values to ``points``; a line for what of it was not read."""
    try:
        text = read_regular(file, MAX_PLOT_BYTES).decode()
    except (OSError, UnicodeDecodeError) as error:
        yield Unmapped(str(file), f"cannot read: {error}")
        return
    table = list(csv.reader(io.StringIO(text, newline=""), delimiter="\t"))
    header = table[0] if table else []
    value = os.path.basename(metric)
    if "step" not in header or value not in header:
        yield Unmapped(str(file), f"no 'step' and {value!r} columns (columns: {', '.join(header[:8])})")
        return
    columns = header.index("step"), header.index(value), header.index("timestamp") if "timestamp" in header else None
    bad = []
    for number, cells in enumerate(table[1:], start=2):
        point = _point(metric, cells, *columns)
        if point is None:
            bad.append(number)
        else:
            points.append(point)
    if bad:
        more = f" and {len(bad) - 1:,} more" if len(bad) > 1 else ""
        yield Unmapped(f"{file}: line {bad[0]}{more}", "not a whole step from 0 and a number (and a time in ms)")


def _point(metric: str, cells: list[str], step: int, value: int, timestamp: int | None) -> Point | None:
    try:
        number = float(cells[value])
        moment = float(cells[timestamp]) / 1000 if timestamp is not None else None
        index = int(cells[step])
    except (IndexError, ValueError):
        return None
    if index < 0 or (moment is not None and not 0 <= moment < _LAST_MOMENT):
        return None
    return Point(index, metric, number, moment)


def _read_summary(file: Path, plotted: set[str], summary: dict[str, Any]) -> Iterator[Unmapped]:
    """Put the values of ``metrics.json`` that are not a plot's latest into ``summary``."""
    try:
        values = json.loads(read_regular(file, MAX_SUMMARY_BYTES))
    except (OSError, ValueError, RecursionError) as error:
        yield Unmapped(str(file), f"not read: {error}")
        return
    if not isinstance(values, dict):
        yield Unmapped(str(file), f"holds {type(values).__name__}, not an object")
        return
    values.pop("step", None)
    for name, value in _flat(values):
        if name in plotted:
            continue
        if isinstance(value, bool | int | float | str):
            summary[name] = value
        else:
            yield Unmapped(f"{file}: {name!r}", f"{json.dumps(value)[:80]} is not a number, a text or a boolean")


def _flat(values: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """The leaves of ``metrics.json``, named as DVCLive names them (``{"train": {"loss": 1}}``
    holds ``train/loss``)."""
    for name, value in values.items():
        if isinstance(value, dict) and value:
            yield from _flat(value, f"{prefix}{name}/")
        else:
            yield f"{prefix}{name}", value


def _modified(path: Path) -> list[float]:
    """When the run's files were last written: what stands for its start and end without timestamps."""
    files = [path / "params.yaml", path / "metrics.json", *_plot_files(path / _PLOTS)]
    return [os.lstat(file).st_mtime for file in files if os.path.lexists(file)]
