"""TensorBoard event folders: ``torch.utils.tensorboard.SummaryWriter`` logs and Lightning's
``TensorBoardLogger`` runs.

A source is an event folder or a folder above some: every folder holding ``*tfevents*`` files is
one run, as in TensorBoard, its files read in name order with TensorBoard's record reader. Each
scalar keeps its step; the scalars of one step share a metrics line, and an ``epoch`` scalar
(Lightning logs one with every call) gives the line its epoch. The run starts at its first event
and ends at its last. Its config is Lightning's ``hparams.yaml`` beside the events, else the
values the hparams plugin recorded. ``SummaryWriter.add_hparams`` writes those into a subfolder
of the run: that folder gives the run its config, and its metrics become the run's summary,
instead of being a run of its own. TensorBoard does not record whether a run finished: it is
imported ``completed``. Images, histograms, text, graphs and other summaries that are not scalars
are named, one line per tag, and not imported.
"""

from __future__ import annotations

import math
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import DecodeError
from tensorboard.backend.event_processing import event_file_loader
from tensorboard.compat import tf
from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.plugins.hparams import metadata as hparams_metadata
from tensorboard.util import tensor_util

from rundocs.formatting import counted
from rundocs.importers.csv_logs import read_config_yaml
from rundocs.importers.imported import ImportedRun, source_key
from rundocs.importers.points import Point, rows_of
from rundocs.importers.store import LeftOut, Unmapped

SOURCE = "tensorboard"
#: The most bytes read of one run's event files (at TensorBoard's own reading speed without
#: TensorFlow, about a minute for 100 MiB; 512 MiB hold some ten million scalars).
MAX_EVENTS_BYTES = 512 * 1024**2
#: What TensorBoard looks for in a file name to read it as an event file.
_EVENTS = "tfevents"
#: The bytes that frame each record of an event file: its length and two checksums.
_FRAMING = 16
#: What is not imported, by the field of the event or value that holds it, or its plugin.
_NOT_SCALARS = {
    "graph_def": "graph event",
    "meta_graph_def": "meta graph event",
    "tagged_run_metadata": "run metadata event",
    "image": "image summary",
    "histo": "histogram summary",
    "audio": "audio summary",
    "obsolete_old_style_histogram": "histogram summary",
    "images": "image summary",
    "histograms": "histogram summary",
    "text": "text summary",
    "pr_curves": "PR curve summary",
    "mesh": "mesh summary",
    "custom_scalars": "custom scalars layout",
    "graphs": "graph summary",
}


@dataclass
class _Folder:
    """What one event folder holds, read."""

    path: Path
    points: list[Point] = field(default_factory=list)
    first: float = math.inf  # wall time of its first event, and of its last
    last: float = -math.inf
    #: The values the hparams plugin recorded for this run, if it did.
    hparams: dict[str, Any] | None = None
    #: The plugin and data class of each tensor tag, from its first value (later ones may omit them).
    kinds: dict[str, tuple[str, int]] = field(default_factory=dict)
    #: Counts of what is not imported, by where (a tag) and what it is.
    others: dict[tuple[str, str], int] = field(default_factory=dict)
    unmapped: list[Unmapped] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    #: ``add_hparams`` subfolders read into this run.
    folded: list[_Folder] = field(default_factory=list)


def read_tensorboard_source(location: str) -> Iterator[ImportedRun | Unmapped]:
    """Every run at ``location``: the event folder itself, and each event folder below it."""
    root = Path(location)
    if not root.is_dir():
        yield Unmapped(location, "not a folder: give the folder that holds the event files, or one above")
        return
    top = os.path.basename(os.path.abspath(root))
    found = False
    pending: list[_Folder] = []  # the folder read last and those above it, not yet yielded
    for path, files, refused in _event_folders(root):
        yield from refused
        if not files:
            continue
        found = True
        while pending and pending[-1].path not in path.parents:
            yield from _run(pending.pop(), root, top)
        folder = _read_folder(path, files)
        if pending and _adds_hparams(pending[-1], folder):
            pending[-1].folded.append(folder)
        else:
            pending.append(folder)
    while pending:
        yield from _run(pending.pop(), root, top)
    if not found:
        yield Unmapped(location, f"no event file ({_EVENTS} in its name) in this folder or below")


def _event_folders(root: Path) -> Iterator[tuple[Path, dict[Path, int], list[Unmapped]]]:
    """Each folder at or below ``root`` (parents first; links to folders not followed), the sizes
    of its event files in name order and a line for each of them not read; last, a line for each
    folder that could not be listed."""
    errors: list[OSError] = []
    for directory, folders, names in os.walk(root, onerror=errors.append):
        folders.sort()
        files, refused = {}, []
        for name in sorted(name for name in names if _EVENTS in name):
            path = Path(directory, name)
            try:
                status = os.lstat(path)
            except OSError as error:
                refused.append(Unmapped(str(path), f"cannot read: {error.strerror}"))
                continue
            if stat.S_ISREG(status.st_mode):
                files[path] = status.st_size
            else:
                refused.append(Unmapped(str(path), "a link or not a regular file; not read"))
        yield Path(directory), files, refused
    yield root, {}, [Unmapped(str(error.filename), f"cannot read: {error.strerror}") for error in errors]


def _read_folder(path: Path, files: dict[Path, int]) -> _Folder:
    folder = _Folder(path)
    size = sum(files.values())
    if size > MAX_EVENTS_BYTES:
        folder.unmapped.append(Unmapped(str(path), f"its event files hold {size:,} bytes, over {MAX_EVENTS_BYTES:,}"))
        return folder
    for file, file_size in files.items():
        if (unmapped := _read_file(file, file_size, folder)) is not None:
            folder.unmapped.append(unmapped)
    return folder


def _read_file(file: Path, size: int, folder: _Folder) -> Unmapped | None:
    """Add the events of ``file`` to ``folder``; a line for what of it was not read."""
    done = 0
    try:
        for record in event_file_loader.RawEventFileLoader(str(file)).Load():
            event = event_pb2.Event.FromString(record)
            done += len(record) + _FRAMING
            _add_event(folder, event)
    except DecodeError:
        return Unmapped(str(file), f"the record at byte {done:,} is not an event; it and the rest are not read")
    except (OSError, tf.errors.OpError) as error:
        return Unmapped(str(file), f"cannot read: {error}")
    if done < size:
        why = "are not a whole record (a file still being written, or a damaged one); the events before them are read"
        return Unmapped(str(file), f"its last {size - done:,} bytes {why}")
    return None


def _add_event(folder: _Folder, event: Any) -> None:
    folder.first = min(folder.first, event.wall_time)
    folder.last = max(folder.last, event.wall_time)
    what = event.WhichOneof("what")
    if what in _NOT_SCALARS:
        tag = f"tag {event.tagged_run_metadata.tag!r}" if what == "tagged_run_metadata" else "the model graph"
        _count(folder, tag, _NOT_SCALARS[what])
    elif what == "summary":
        for value in event.summary.value:
            _add_value(folder, event, value)


def _add_value(folder: _Folder, event: Any, value: Any) -> None:
    kind = value.WhichOneof("value")
    if kind == "simple_value":  # what SummaryWriter.add_scalar writes
        folder.points.append(Point(event.step, value.tag, value.simple_value, event.wall_time))
        return
    metadata = value.metadata
    plugin, data_class = folder.kinds.setdefault(value.tag, (metadata.plugin_data.plugin_name, metadata.data_class))
    if plugin == hparams_metadata.PLUGIN_NAME:
        if value.tag == hparams_metadata.SESSION_START_INFO_TAG and metadata.plugin_data.content:
            _add_hparams(folder, metadata.plugin_data.content)
        return
    what = _NOT_SCALARS.get(plugin) or _NOT_SCALARS.get(kind or "") or f"{plugin or kind or 'empty'} summary"
    if kind == "tensor" and (plugin == "scalars" or data_class == summary_pb2.DATA_CLASS_SCALAR):
        number = _scalar(value.tensor)
        if number is not None:
            folder.points.append(Point(event.step, value.tag, number, event.wall_time))
            return
        what = "value that is not a single number"
    _count(folder, f"tag {value.tag!r}", what)


def _scalar(tensor: Any) -> float | None:
    try:
        array = tensor_util.make_ndarray(tensor)
    except (ValueError, TypeError):
        return None
    return float(array) if array.ndim == 0 and array.dtype.kind in "biuf" else None


def _add_hparams(folder: _Folder, content: bytes) -> None:
    """The values of a session start (``add_hparams``); each number is a double there, so a
    whole one is taken for the integer it was (``32.0`` as ``32``)."""
    try:
        info = hparams_metadata.parse_session_start_info_plugin_data(content)
    except (DecodeError, ValueError) as error:
        folder.problems.append(f"the hparams plugin's values are not read: {error}")
        return
    values = {}
    for name in sorted(info.hparams):
        value = json_format.MessageToDict(info.hparams[name])
        values[name] = int(value) if isinstance(value, float) and value.is_integer() else value
    folder.hparams = values


def _count(folder: _Folder, where: str, what: str) -> None:
    folder.others[(where, what)] = folder.others.get((where, what), 0) + 1


def _adds_hparams(run: _Folder, folder: _Folder) -> bool:
    """Whether ``folder`` is what ``SummaryWriter.add_hparams`` writes for ``run``: a subfolder
    with the hparams plugin's values, of a folder with scalars and no such values of its own."""
    return folder.path.parent == run.path and folder.hparams is not None and run.hparams is None and bool(run.points)


def _run(folder: _Folder, root: Path, top: str) -> Iterator[ImportedRun | Unmapped]:
    """The run of an event folder (with the ``add_hparams`` folders read into it), after a line
    for each thing in them not imported."""
    parts = [folder, *folder.folded]
    for part in parts:
        yield from part.unmapped
        for (where, what), count in part.others.items():
            plural = what[:-1] + "ies" if what.endswith("y") else None
            yield LeftOut(f"{part.path}: {where}", f"{counted(count, what, plural)}; only scalars are read")
    if not folder.points:
        if not folder.unmapped:
            yield Unmapped(str(folder.path), "no scalars in its event files")
        return
    first, last = min(part.first for part in parts), max(part.last for part in parts)
    try:
        started, ended = datetime.fromtimestamp(first, UTC), datetime.fromtimestamp(last, UTC)
    except (OverflowError, ValueError, OSError):
        yield Unmapped(str(folder.path), f"its events' wall times ({first!r} to {last!r}) are not times")
        return
    config, problems = read_config_yaml(folder.path / "hparams.yaml")
    if config is None:
        config = {k: v for part in parts if part.hparams for k, v in part.hparams.items()} or None
    rows, row_problems = rows_of(folder.points, first)
    relative = folder.path.relative_to(root).as_posix()
    yield ImportedRun(
        source=SOURCE,
        key=source_key(root, relative),
        name=top if relative == "." else relative,
        started_at=started,
        ended_at=ended,
        config=config,
        summary={point.name: point.value for part in folder.folded for point in sorted(part.points)},
        rows=rows,
        problems=[*problems, *(problem for part in parts for problem in part.problems), *row_problems],
    )
