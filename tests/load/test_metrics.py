"""Parsing a metrics file a piece at a time gives exactly what reading it line by line gives."""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from rundocs.format.schema import NON_FINITE
from rundocs.format.validate import check_metrics_line
from rundocs.load.metrics import PIECE_BYTES, ParsedMetrics, parse_metrics, read_metrics


def reference(raw: bytes) -> dict[str, Any]:
    """The naive reading: ``json.loads`` per complete line, the schema per line, one float per cell."""
    rows: list[tuple[int, dict[str, Any]]] = []
    problems = []
    for number, line in enumerate(raw.split(b"\n")[:-1], start=1):  # the last item has no newline
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError:
            problems.append(number)
            continue
        if check_metrics_line(row) is not None:
            problems.append(number)
            continue
        rows.append((number, row))
    keys = list(dict.fromkeys(key for _, row in rows for key in row))
    columns = {
        key: [float(NON_FINITE.get(row.get(key, "NaN"), row.get(key, math.nan))) for _, row in rows] for key in keys
    }
    nan_rows = {key: [i for i, (_, row) in enumerate(rows) if row.get(key) == "NaN"] for key in keys}
    first = {}
    for key in keys:
        logged = [i for i, (_, row) in enumerate(rows) if row.get(key) in ("NaN", "Infinity", "-Infinity")]
        if logged:
            first[key] = logged[0]
    return {
        "length": len(rows),
        "columns": columns,
        "nan_rows": {key: rows for key, rows in nan_rows.items() if rows},
        "first_nonfinite": first,
        "problem_lines": problems,
    }


def observed(parsed: ParsedMetrics, problems: list[Any]) -> dict[str, Any]:
    return {
        "length": parsed.length,
        "columns": {key: values.tolist() for key, values in parsed.columns.items()},
        "nan_rows": {key: rows.tolist() for key, rows in parsed.nan_rows.items()},
        "first_nonfinite": parsed.first_nonfinite,
        "problem_lines": [problem.line for problem in problems],
    }


def same(left: dict[str, Any], right: dict[str, Any]) -> bool:
    """Equal, NaN equal to NaN, and the columns in the same order."""
    if list(left["columns"]) != list(right["columns"]):
        return False
    columns_equal = all(
        np.array_equal(np.array(left["columns"][key]), np.array(right["columns"][key]), equal_nan=True)
        for key in left["columns"]
    )
    rest = ("length", "nan_rows", "first_nonfinite", "problem_lines")
    return columns_equal and all(left[key] == right[key] for key in rest)


values = st.one_of(
    st.integers(0, 10**6),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.sampled_from(["NaN", "Infinity", "-Infinity", "nan", ""]),
    st.booleans(),
    st.none(),
)
keys = st.sampled_from(["epoch", "step", "time", "loss", "val_loss", "acc"])
rows = st.dictionaries(keys, values, max_size=4)
lines = st.one_of(
    rows.map(lambda row: json.dumps(row).encode()),
    st.sampled_from([b"", b"   ", b'{"loss": 1', b"[1, 2]", b'{"loss": 1}{"loss": 2}', b'{"loss": 1e400}']),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(lines, max_size=12), st.binary(max_size=8).filter(lambda tail: b"\n" not in tail), st.integers(1, 80))
def test_any_piece_size_reads_as_the_naive_reference(body: list[bytes], torn: bytes, piece_bytes: int) -> None:
    raw = b"".join(line + b"\n" for line in body) + torn
    expected = reference(raw.replace(b'{"loss": 1e400}', b"{}"))  # too large for a double: the value alone skipped
    whole = observed(*parse_metrics(raw, "m.jsonl"))
    in_pieces = observed(*parse_metrics(raw, "m.jsonl", piece_bytes=piece_bytes))
    assert same(whole, in_pieces), (whole, in_pieces)
    blocks = [raw[start : start + 7] for start in range(0, len(raw), 7)]  # no line count: columns grow
    assert same(whole, observed(*parse_metrics(blocks, "m.jsonl", piece_bytes=piece_bytes)))
    whole["problem_lines"] = [
        line for line in whole["problem_lines"] if raw.split(b"\n")[line - 1] != b'{"loss": 1e400}'
    ]
    assert same(whole, expected), (whole, expected)


def test_first_nonfinite_is_the_first_nan_row_or_infinity() -> None:
    raw = b'{"a": 1, "b": "Infinity"}\n{"a": "NaN", "b": "NaN"}\n{"a": "-Infinity", "b": 2}\n{"a": "NaN"}\n'
    for piece_bytes in (1, 30, PIECE_BYTES):
        parsed, _ = parse_metrics(raw, "m.jsonl", piece_bytes=piece_bytes)
        assert {key: rows.tolist() for key, rows in parsed.nan_rows.items()} == {"a": [1, 3], "b": [1]}
        derived = {}
        for key, column in parsed.columns.items():
            nan = parsed.nan_rows.get(key, np.empty(0, dtype=int)).tolist()
            candidates = nan + np.flatnonzero(np.isinf(column)).tolist()
            if candidates:
                derived[key] = min(candidates)
        assert parsed.first_nonfinite == derived == {"a": 1, "b": 0}


def long_file(path: Path) -> tuple[bytes, dict[str, list[float]]]:
    """A file of three pieces with a torn last line, NaN logged here and there, and a bad line in
    the last piece (only a piece holding one takes the slow path); its bytes and its columns."""
    rows: list[dict[str, Any]] = []
    lines: list[bytes] = []
    size = 0
    while size < 2 * PIECE_BYTES + 10_000:  # the last piece about 10 kB
        step = len(rows)
        rows.append(
            {"epoch": 1, "step": step, "loss": 1 / (step + 1), "acc": "NaN" if step % 1000 == 0 else step / 1e5}
        )
        lines.append(json.dumps(rows[-1]).encode())
        size += len(lines[-1]) + 1
    rows[-20] = {"epoch": 1, "new": 2}  # a metric first logged in the last piece
    lines[-20] = json.dumps(rows[-20]).encode()
    lines[-50] = b'{"epoch": 1, "loss": tru'
    raw = b"\n".join(lines) + b'\n{"epoch": 1, "lo'
    path.write_bytes(raw)
    del rows[-50]
    keys = ("epoch", "step", "loss", "acc", "new")
    return raw, {key: [float(NON_FINITE.get(row.get(key, "NaN"), row.get(key))) for row in rows] for key in keys}


def test_a_file_longer_than_a_piece_reads_as_its_lines(tmp_path: Path) -> None:
    raw, expected = long_file(tmp_path / "metrics.jsonl")
    with open(tmp_path / "metrics.jsonl", "rb") as file:
        parsed, problems, digest = read_metrics(file, "m.jsonl")
    assert list(parsed.columns) == list(expected)
    for key, values in expected.items():
        assert np.array_equal(parsed.columns[key], values, equal_nan=True), key
    assert [problem.line for problem in problems] == [raw.count(b"\n") - 49]
    assert parsed.nan_rows["acc"].tolist() == list(range(0, parsed.length - 50, 1000))
    assert digest == hashlib.blake2b(raw, digest_size=16).digest()  # the torn line too: a change is seen
    assert all(column.base is None or column.base.size == raw.count(b"\n") for column in parsed.columns.values())
