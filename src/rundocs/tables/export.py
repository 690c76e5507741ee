"""``rundocs export``: the ``runs`` and ``metrics`` tables as files other tools read directly.

Layout of the export folder (``FORMATS``: ``parquet`` or ``csv``)::

    runs.parquet                  one row per run (``columns.make_runs_table``)
    metrics/<run id>.parquet      one file per run, each with its run_id column
    _rundocs_export.json          what was exported from which run files (tools skip ``_`` files)

One file per run keeps an export incremental: a run whose files did not change (its
signature, ``Runs.signatures``) keeps its file untouched, a removed run loses its file, and
``runs.parquet`` is replaced only when its bytes change. No folder is named after a value
(``run_id=<id>/``): a Hive partition column would also have to be left out of the files and
its type guessed from folder names. Run ids are safe file names (``format.decode.is_run_id``).
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rundocs.analyse.names import Direction
from rundocs.atomic import replace_file
from rundocs.exceptions import RundocsError, WriteError
from rundocs.fingerprint import code_fingerprint
from rundocs.format.decode import is_run_id
from rundocs.load.runs import Runs
from rundocs.safe_files import read_regular
from rundocs.tables.arrow import pa
from rundocs.tables.columns import make_metrics_table, make_runs_table

FORMATS = ("parquet", "csv")
MANIFEST = "_rundocs_export.json"
METRICS_DIR = "metrics"
_VERSION = 1


@dataclass
class ExportReport:
    """Paths (relative to the export folder) written, left as they were, and removed."""

    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


def export_tables(
    runs: Runs, out: Path, file_format: str = "parquet", directions: Mapping[str, Direction] | None = None
) -> ExportReport:
    """Write the tables of ``runs`` into ``out``, rewriting only what changed since the last export there.

    Raises:
        RundocsError: When ``out`` is a non-empty folder that holds no rundocs export (nothing
            there is touched), or ``file_format`` is not one of ``FORMATS``.
        WriteError: When a file cannot be written or removed.
    """
    if file_format not in FORMATS:
        raise RundocsError(f"export format must be one of {list(FORMATS)}, got {file_format!r}")
    previous = _read_manifest(out)
    keys = {run_id: _run_key(runs, run_id, file_format) for run_id in runs.records}
    report = ExportReport()
    try:
        (out / METRICS_DIR).mkdir(parents=True, exist_ok=True)
        for run_id, key in keys.items():
            if not is_run_id(run_id):  # the loader reads no other folder; never a path from data
                raise RundocsError(f"{run_id!r} is not a run id; nothing of it is exported")
            relative = f"{METRICS_DIR}/{run_id}.{file_format}"
            if previous.get(run_id) == key and (out / relative).is_file():
                report.unchanged.append(relative)
                continue
            replace_file(out / relative, _encode(make_metrics_table(runs, [run_id]), file_format), durable=False)
            report.written.append(relative)
        for run_id, key in previous.items():
            old = f"{METRICS_DIR}/{run_id}.{key.partition(':')[0]}"
            if keys.get(run_id, "").partition(":")[0] != key.partition(":")[0] and (out / old).exists():
                (out / old).unlink()
                report.removed.append(old)
        _write_runs_table(runs, out, file_format, directions, report)
        replace_file(out / MANIFEST, json.dumps({"version": _VERSION, "runs": keys}, indent=1).encode(), durable=False)
    except OSError as error:
        raise WriteError(str(error.filename or out), error.strerror or str(error)) from error
    return report


def _write_runs_table(
    runs: Runs, out: Path, file_format: str, directions: Mapping[str, Direction] | None, report: ExportReport
) -> None:
    """``runs.<format>``, replaced only when its bytes change; the other format's file removed."""
    relative = f"runs.{file_format}"
    content = _encode(make_runs_table(runs, directions), file_format)
    path = out / relative
    if path.is_file() and path.read_bytes() == content:
        report.unchanged.append(relative)
    else:
        replace_file(path, content, durable=False)
        report.written.append(relative)
    for other in FORMATS:
        stale = out / f"runs.{other}"
        if other != file_format and stale.exists():
            stale.unlink()
            report.removed.append(stale.name)


def _run_key(runs: Runs, run_id: str, file_format: str) -> str:
    """What a run's metrics file was written from: format, code and the run's files."""
    return f"{file_format}:{code_fingerprint()}:{json.dumps(runs.signatures.get(run_id))}"


def _read_manifest(out: Path) -> dict[str, str]:
    """Run id to the key its file was written with; empty for a new or empty folder.

    Raises:
        RundocsError: For a folder with other files and no readable manifest.
    """
    try:
        entries = os.listdir(out)
    except FileNotFoundError:
        return {}
    except OSError as error:
        raise WriteError(str(out), error.strerror or str(error)) from error
    if not entries:
        return {}
    try:
        data: Any = json.loads(read_regular(out / MANIFEST))  # a link in its place is not followed
        if data.get("version") == _VERSION and isinstance(data.get("runs"), dict):
            # a key is "<format>:<signature>": only a known format ever becomes part of a file name
            return {
                k: v
                for k, v in data["runs"].items()
                if is_run_id(k) and isinstance(v, str) and v.partition(":")[0] in FORMATS and ":" in v
            }
    except (OSError, ValueError, AttributeError):
        pass
    raise RundocsError(
        f"{out}: not empty and not a rundocs export (no readable {MANIFEST}); give a new or empty folder"
    )


def _encode(table: pa.Table, file_format: str) -> bytes:
    """The table as a Parquet file, or as CSV with a header (lists as JSON text)."""
    buffer = io.BytesIO()
    if file_format == "parquet":
        import pyarrow.parquet as pq

        pq.write_table(table, buffer, compression="zstd")
    else:
        import pyarrow.csv as pc

        pc.write_csv(_flat(table), buffer)
    return buffer.getvalue()


def _flat(table: pa.Table) -> pa.Table:
    """List columns (tags) as JSON text, which CSV can hold."""
    for index, column in enumerate(table.schema):
        if pa.types.is_list(column.type):
            values = [None if v is None else json.dumps(v, ensure_ascii=False) for v in table.column(index).to_pylist()]
            table = table.set_column(index, column.name, pa.array(values, pa.string()))
    return table
