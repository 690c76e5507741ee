"""Validation against the packaged JSON Schemas, with messages that name field and value."""

from __future__ import annotations

from functools import cache
from typing import Any, cast

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from rundocs.record.schema import load_schema


@cache
def _validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(load_schema(name))


def check_record(record: Any) -> list[str]:
    """Every way a parsed ``run.json`` breaks the schema, one message each."""
    errors = sorted(_validator("run").iter_errors(record), key=lambda e: list(map(str, e.absolute_path)))
    return [_describe(error) for error in errors]


def check_metrics_line(line: Any) -> str | None:
    """Why a parsed metrics line breaks the schema, or None if it does not."""
    error = best_match(_validator("metrics").iter_errors(line))
    return _describe(error) if error is not None else None


def _describe(error: ValidationError) -> str:
    field = ".".join(str(part) for part in error.absolute_path)
    if error.validator == "anyOf" and error.context:  # "x is not valid under any of ..." says too little
        expected = " or ".join(sorted({_expected(sub) for sub in error.context}))
        message = f"expected {expected}, got {error.instance!r}"
    else:
        message = error.message
    return f"field {field!r}: {message}" if field else message


def _expected(error: ValidationError) -> str:
    if error.validator == "type":
        return str(error.validator_value)
    if error.validator == "enum":
        return "one of " + ", ".join(map(repr, cast("list[Any]", error.validator_value)))
    return error.message
