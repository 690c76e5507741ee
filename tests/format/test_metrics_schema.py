"""The fast metrics parser accepts exactly what the JSON Schema accepts."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from rundocs.format.validate import check_metrics_line
from rundocs.load.metrics import parse_metrics

values = st.one_of(
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["NaN", "Infinity", "-Infinity", "nan", "high", ""]),
    st.booleans(),
    st.none(),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=1),
)
keys = st.one_of(st.sampled_from(["epoch", "step", "time", "loss", "val_acc", "nullity"]), st.text(max_size=5))
lines = st.dictionaries(keys, values, max_size=5)


@settings(max_examples=300, deadline=None)
@given(st.lists(lines, min_size=1, max_size=6))
def test_fast_path_agrees_with_the_schema(rows: list[dict[str, Any]]) -> None:
    raw = "".join(json.dumps(row) + "\n" for row in rows).encode()
    parsed, problems = parse_metrics(raw, "m.jsonl")
    invalid = {number for number, row in enumerate(rows, start=1) if check_metrics_line(row) is not None}
    assert {problem.line for problem in problems} == invalid
    assert parsed.length == len(rows) - len(invalid)
