"""Validation against the packaged JSON Schemas, with messages that name field and value."""

from __future__ import annotations

import re
from functools import cache
from typing import Any, cast

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from rundocs.format.schema import FORMAT, KINDS, NON_FINITE, STATUSES, load_schema

_REQUIRED = frozenset(load_schema("run")["required"])
_ID_MAX = load_schema("run")["$defs"]["run_id"]["maxLength"]
_MAX_COUNT = load_schema("run")["properties"]["epochs"]["maximum"]


@cache
def _validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(load_schema(name))


def check_record(record: Any) -> list[str]:
    """Every way a parsed ``run.json`` breaks the schema, one message each."""
    if surely_valid_record(record):
        return []
    errors = sorted(_validator("run").iter_errors(record), key=lambda e: list(map(str, e.absolute_path)))
    return [_describe(error) for error in errors]


def surely_valid_record(record: Any) -> bool:
    """A fast check that answers True only for records the schema accepts (tested one way:
    True implies valid). Anything else goes to jsonschema, which decides and words the errors."""
    if type(record) is not dict or record.get("format") != FORMAT or not record.keys() >= _REQUIRED:
        return False
    patterns = _patterns()
    get = record.get
    lists = {key: get(key, []) for key in ("tags", "evaluates", "checkpoints", "warnings")}
    summary = get("summary", {})
    return (
        _is_id(record["id"], patterns)
        and type(record["name"]) is str
        and record["name"] != ""
        and record["kind"] in KINDS
        and record["status"] in STATUSES
        and _is_time(record["started_at"], patterns)
        and _is_time(record["updated_at"], patterns)
        and (get("ended_at") is None or _is_time(record["ended_at"], patterns))
        and all(get(key) is None or type(get(key)) is str for key in ("phase", "sweep"))
        and (get("epochs") is None or (type(record["epochs"]) is int and 0 <= record["epochs"] <= _MAX_COUNT))
        and all(type(get(key, {})) is dict for key in ("config", "env"))
        and all(type(value) is list for value in lists.values())
        and all(type(item) is str for item in [*lists["tags"], *lists["warnings"]])
        and all(_is_id(run_id, patterns) for run_id in lists["evaluates"])
        and (get("restarts") is None or _is_id(record["restarts"], patterns))
        and type(summary) is dict
        and all(_is_number(value) for value in summary.values())
        and _valid_error(get("error"))
        and all(_valid_checkpoint(entry, patterns) for entry in lists["checkpoints"])
    )


def _is_id(value: Any, patterns: dict[str, re.Pattern[str]]) -> bool:
    return type(value) is str and len(value) <= _ID_MAX and patterns["id"].search(value) is not None


def _is_time(value: Any, patterns: dict[str, re.Pattern[str]]) -> bool:
    return type(value) is str and patterns["time"].search(value) is not None


def _is_number(value: Any) -> bool:
    return type(value) in (int, float) or (type(value) is str and value in NON_FINITE)


def _valid_error(error: Any) -> bool:
    if error is None:
        return True
    return (
        type(error) is dict
        and type(error.get("type")) is str
        and type(error.get("message")) is str
        and (error.get("traceback") is None or type(error["traceback"]) is str)
    )


def _valid_checkpoint(entry: Any, patterns: dict[str, re.Pattern[str]]) -> bool:
    return (
        type(entry) is dict
        and type(entry.get("path")) is str
        and type(entry.get("sha256")) is str
        and patterns["sha256"].search(entry["sha256"]) is not None
        and type(entry.get("bytes")) is int
        and 0 <= entry["bytes"] <= _MAX_COUNT
        and (entry.get("epoch") is None or (type(entry["epoch"]) is int and entry["epoch"] <= _MAX_COUNT))
        and (entry.get("arch") is None or type(entry["arch"]) is dict)
    )


@cache
def _patterns() -> dict[str, re.Pattern[str]]:
    """The schema's own patterns, searched as JSON Schema searches them."""
    schema = load_schema("run")
    return {
        "id": re.compile(schema["$defs"]["run_id"]["pattern"]),
        "time": re.compile(schema["$defs"]["timestamp"]["pattern"]),
        "sha256": re.compile(schema["properties"]["checkpoints"]["items"]["properties"]["sha256"]["pattern"]),
    }


def check_metrics_line(line: Any) -> str | None:
    """Why a parsed metrics line breaks the schema, or None if it does not."""
    error = best_match(_validator("metrics").iter_errors(line))
    return _describe(error) if error is not None else None


#: A message quotes the value it names: cut there, a value of megabytes stays one short line.
_MESSAGE_LENGTH = 200


def _describe(error: ValidationError) -> str:
    field = ".".join(str(part) for part in error.absolute_path)[:80]
    if error.validator == "anyOf" and error.context:  # "x is not valid under any of ..." says too little
        expected = " or ".join(sorted({_expected(sub) for sub in error.context}))
        message = f"expected {expected}, got {error.instance!r:.{_MESSAGE_LENGTH}}"
    else:
        message = error.message
    message = message if len(message) <= _MESSAGE_LENGTH else message[: _MESSAGE_LENGTH - 3] + "..."
    return f"field {field!r}: {message}" if field else message


def _expected(error: ValidationError) -> str:
    if error.validator == "type":
        return str(error.validator_value)
    if error.validator == "enum":
        return "one of " + ", ".join(map(repr, cast("list[Any]", error.validator_value)))
    return error.message
