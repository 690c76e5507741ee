"""``rundocs query``: SQL over the ``runs`` and ``metrics`` tables (``columns``) with DuckDB.

The tables are built from the loaded runs (no export needed) and registered in an in-memory
database; then external access is switched off and the configuration locked, so a query (one
in a pull request, say) cannot read or write files, attach databases, load extensions or
reach the network: it sees the two tables and nothing else.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rundocs.analyse.names import Direction
from rundocs.exceptions import MissingDependencyError, QueryError
from rundocs.formatting import counted
from rundocs.load.runs import Runs

try:
    import duckdb
except ImportError as error:
    raise MissingDependencyError("duckdb", "query") from error

OUTPUTS = ("table", "csv", "json")


@dataclass(frozen=True)
class QueryResult:
    columns: list[str]
    rows: list[tuple[Any, ...]]


def run_query(runs: Runs, sql: str, directions: Mapping[str, Direction] | None = None) -> QueryResult:
    """The result of ``sql`` over ``runs`` and ``metrics``.

    Raises:
        QueryError: When DuckDB refuses the query (syntax, unknown column, a file access).
    """
    from rundocs.tables.columns import make_metrics_table, make_runs_table  # after duckdb: its extra has pyarrow

    connection = duckdb.connect(":memory:")
    try:
        connection.register("runs", make_runs_table(runs, directions))
        connection.register("metrics", make_metrics_table(runs, runs.records))
        for setting in ("SET TimeZone = 'UTC'", "SET enable_external_access = false", "SET lock_configuration = true"):
            connection.execute(setting)
        try:
            cursor = connection.execute(sql)
            columns = [item[0] for item in cursor.description or []]
            rows = cursor.fetchall() if columns else []
        except duckdb.Error as error:
            raise QueryError(_first_line(str(error))) from None
    finally:
        connection.close()
    return QueryResult(columns, rows)


def format_result(result: QueryResult, output: str) -> str:
    """The result as an aligned text table, CSV or JSON (a list of objects), ending in a newline."""
    if output == "json":
        objects = [dict(zip(result.columns, map(_json_value, row), strict=True)) for row in result.rows]
        return json.dumps(objects, indent=2, ensure_ascii=False) + "\n"
    cells = [[_text(value) for value in row] for row in result.rows]
    if output == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(result.columns)
        writer.writerows(cells)
        return buffer.getvalue()
    return _table(result.columns, cells, [_is_number(result.rows, i) for i in range(len(result.columns))])


def _table(header: Sequence[str], cells: list[list[str]], right: list[bool]) -> str:
    """Columns padded to their widest cell (numbers right-aligned), a dashed line under the header,
    and the row count."""
    shown = [[" ".join(cell.split()) if "\n" in cell or "\t" in cell else cell for cell in row] for row in cells]
    widths = [max([len(name), *(len(row[i]) for row in shown)]) for i, name in enumerate(header)]

    def line(row: Sequence[str]) -> str:
        padded = [c.rjust(w) if r else c.ljust(w) for c, w, r in zip(row, widths, right, strict=True)]
        return "  ".join(padded).rstrip()

    lines = [line(header), "  ".join("-" * w for w in widths), *(line(row) for row in shown)]
    lines.append(f"({counted(len(shown), 'row')})")
    return "\n".join(lines) + "\n"


def _is_number(rows: list[tuple[Any, ...]], index: int) -> bool:
    values = [row[index] for row in rows if row[index] is not None]
    return bool(values) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)


def _text(value: Any) -> str:
    """A cell for the table and CSV: empty for null, floats in their shortest exact form, times in ISO 8601."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return repr(value) if isinstance(value, float) else str(value)


def _json_value(value: Any) -> Any:
    """A JSON value: NaN and infinities as the strings "NaN", "Infinity", "-Infinity"; times in ISO 8601."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list):
        return [_json_value(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _json_value(item) for key, item in value.items()}
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)  # decimals, dates, intervals, blobs


def _first_line(message: str) -> str:
    return next((line.strip() for line in message.splitlines() if line.strip()), message)
