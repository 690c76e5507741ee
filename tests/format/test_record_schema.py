"""The fast run.json check never accepts what the JSON Schema rejects."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from rundocs.format.validate import _validator, surely_valid_record
from tests.helpers import RUN_DEFAULTS

VALID: dict[str, Any] = {
    **RUN_DEFAULTS,
    "id": "20260101_100000_ab12",
    "name": "lr3e-4_s1",
    "tags": ["a"],
    "summary": {"test_acc": 0.9, "worst": "-Infinity"},
    "evaluates": ["x_1"],
    "error": {"type": "OSError", "message": "full", "traceback": None},
    "checkpoints": [{"path": "c.pt", "epoch": 3, "sha256": "ab" * 32, "bytes": 10, "arch": {"w": 1}}],
    "warnings": ["w"],
}
ODD_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 3), st.floats(allow_nan=False), st.text(max_size=12),
    st.sampled_from(["NaN", "2026-01-01T10:00:00+00:00", "2026-01-01T10:00:00", "ab" * 32, "a b", "ok\n", "x" * 201]),
    st.lists(st.text(max_size=3), max_size=2), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)  # fmt: skip
PATHS = st.sampled_from(
    [("format",), ("id",), ("name",), ("kind",), ("phase",), ("tags",), ("tags", 0), ("config",), ("status",),
     ("started_at",), ("ended_at",), ("epochs",), ("summary",), ("summary", "test_acc"), ("evaluates", 0),
     ("restarts",), ("error",), ("error", "message"), ("error", "traceback"), ("env",), ("checkpoints", 0),
     ("checkpoints", 0, "sha256"), ("checkpoints", 0, "bytes"), ("checkpoints", 0, "epoch"), ("warnings", 0)]
)  # fmt: skip


def test_the_valid_record_passes_both() -> None:
    assert surely_valid_record(VALID) and _validator("run").is_valid(VALID)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.tuples(PATHS, ODD_VALUES), min_size=1, max_size=3), st.sets(st.sampled_from(sorted(VALID))))
def test_quick_valid_implies_schema_valid(edits: list[tuple[tuple[Any, ...], Any]], removed: set[str]) -> None:
    record = copy.deepcopy(VALID)
    for path, value in edits:
        target = record
        for key in path[:-1]:
            target = target[key] if isinstance(target, dict | list) and _has(target, key) else {}
        if isinstance(target, dict) or (isinstance(target, list) and _has(target, path[-1])):
            target[path[-1]] = value
    for key in removed:
        record.pop(key, None)
    if surely_valid_record(record):
        assert _validator("run").is_valid(record), record


def _has(container: Any, key: Any) -> bool:
    return key in container if isinstance(container, dict) else isinstance(key, int) and key < len(container)
