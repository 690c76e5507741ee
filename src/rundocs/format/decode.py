"""Reading rules for records written by any writer: liberal where the meaning is unambiguous.

``normalise_record`` runs on a parsed ``run.json`` *before* schema validation. It rewrites only
shapes whose meaning is certain (a null for an empty list, one string for a one-item list,
``30.0`` for ``30``, a number used as a name); everything else is left for the schema to refuse.
The schema stays the strict contract for writers. ``range_problems`` runs *after* validation
and names the values no page can use (dates past year 2999, counts past 2**53). ``parse_json``
reads numbers too large for a double instead of failing the whole file. The rules are listed
for writers on the format page (``docs/format.md``).
"""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, datetime
from typing import Any

import orjson

from rundocs.format.schema import load_schema

#: Counts (epochs, steps, bytes) above 2**53 cannot be told apart in a float: refused. The
#: metrics schema states it (and 2**32 seconds, about 136 years, for ``time``) to writers.
MAX_COUNT: int = load_schema("metrics")["properties"]["epoch"]["maximum"]
MAX_SECONDS: int = load_schema("metrics")["properties"]["time"]["maximum"]
_RUN_ID = load_schema("run")["$defs"]["run_id"]
_RUN_ID_PATTERN = re.compile(_RUN_ID["pattern"])
#: What a run id (and so a run folder's or plan file's name) may be, in words, for messages.
RUN_ID_RULE = (
    f"letters, digits, '.', '_' and '-', starting with a letter or digit, at most {_RUN_ID['maxLength']} characters"
)
#: Dates outside these years are refused (a clock never set reads 1970, which stays in).
YEARS = (1970, 2999)

_LISTS = ("tags", "bookkeeping", "evaluates", "checkpoints", "warnings")
_OBJECTS = ("config", "summary", "env")
_NAMES = ("id", "name", "phase", "sweep")
_OPTIONAL = ("phase", "sweep", "restarts", "ended_at")  # where "" reads as null
_ONE_ITEM = ("tags", "bookkeeping", "evaluates")  # where a lone string reads as a one-item list
_TIMES = ("started_at", "updated_at", "ended_at")


class TooLarge(str):
    """The text of a JSON number too large for a double (``1e400``), kept as written: a setting
    in ``config`` or ``env`` shows as that text; anywhere else the schema refuses it (a string
    where a number belongs), and a metrics line skips that value alone."""

    __slots__ = ()


def parse_json(raw: bytes) -> Any:
    """Parse JSON; numbers too large for a double become ``TooLarge`` text instead of failing
    the file (``orjson`` refuses them, so only such files take the slower standard parser).

    Raises:
        orjson.JSONDecodeError: for text that is not JSON.
    """
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        if "infinity" not in error.msg:
            raise
    try:
        return json.loads(raw, parse_float=_parse_float, parse_int=_parse_int, parse_constant=_refuse)
    except (ValueError, RecursionError):  # the standard parser disagrees: report orjson's message
        return orjson.loads(raw)


def _parse_float(text: str) -> float | TooLarge:
    value = float(text)
    return TooLarge(text) if math.isinf(value) else value


def _parse_int(text: str) -> int | float | TooLarge:
    """As orjson reads integers: past 64 bits as a float (and no 4300-digit limit)."""
    if len(text.lstrip("-")) <= 20 and -(2**63) <= (number := int(text)) < 2**64:
        return number
    value = float(text)
    return TooLarge(text) if math.isinf(value) else value


def _refuse(text: str) -> None:
    raise ValueError(f"{text} is not JSON")


def is_run_id(text: str) -> bool:
    """Whether ``text`` is a run id as the schema defines it: no ``/``, no leading ``.``, no
    markup, no space or control character (``$`` alone would let a trailing newline through)."""
    return len(text) <= _RUN_ID["maxLength"] and _RUN_ID_PATTERN.fullmatch(text) is not None


def normalise_record(data: Any) -> Any:
    """A parsed ``run.json`` with the unambiguous liberal shapes rewritten to the strict ones.

    Anything that is not an object is returned as it is; so is every field whose shape is
    ambiguous (the schema then names it). The input is not modified.
    """
    if type(data) is not dict:
        return data
    record = dict(data)
    for key in _OPTIONAL:
        if record.get(key) == "":
            record[key] = None
    for key in _NAMES:
        if key in record:
            record[key] = _as_name(record[key])
    for key in _LISTS:
        if key in record and record[key] is None:
            record[key] = []
        elif key in _ONE_ITEM and type(record.get(key)) is str:
            record[key] = [record[key]]
    if type(record.get("tags")) is list:
        record["tags"] = [_as_name(tag) for tag in record["tags"]]
    restarts = record.get("restarts")
    if type(restarts) is list and len(restarts) == 1:  # a one-item list names one run; longer is ambiguous
        record["restarts"] = restarts[0] if restarts[0] != "" else None
    for key in _OBJECTS:
        if key in record and record[key] is None:
            record[key] = {}
    if "epochs" in record:
        record["epochs"] = _as_count(record["epochs"])
    if type(record.get("checkpoints")) is list:
        record["checkpoints"] = [_checkpoint(entry) for entry in record["checkpoints"]]
    return record


def _as_name(value: Any) -> Any:
    """A whole number used as a name (``phase: 2``) is that name as text; nothing else changes."""
    if type(value) is int or (type(value) is float and value.is_integer() and abs(value) <= MAX_COUNT):
        return str(int(value))
    return value


def _as_count(value: Any) -> Any:
    """``30.0`` is ``30``; anything else is left for the schema."""
    if type(value) is float and value.is_integer() and abs(value) <= MAX_COUNT:
        return int(value)
    return value


def _checkpoint(entry: Any) -> Any:
    if type(entry) is not dict:
        return entry
    return {**entry, **{key: _as_count(entry[key]) for key in ("epoch", "bytes") if key in entry}}


def range_problems(record: dict[str, Any]) -> list[str]:
    """Values of a schema-valid record that no page can use, one message each (the run is then
    left out): dates outside ``YEARS``. (Counts past ``MAX_COUNT`` break the schema's maximum, and
    a number too large for a double outside the settings is ``TooLarge`` text, which the schema
    refuses too.)"""
    messages = []
    for key in _TIMES:
        value = record.get(key)
        if value is None:
            continue
        when = read_time(value)
        if when is None:
            messages.append(f"field {key!r}: {value!r} is not a valid date and time")
        elif not YEARS[0] <= when.year <= YEARS[1]:
            messages.append(f"field {key!r}: {value!r} is outside the years {YEARS[0]} to {YEARS[1]}")
    return messages


def read_time(value: str) -> datetime | None:
    """A timestamp the schema's pattern accepted, as an aware datetime in UTC, or None when it
    names no real moment (month 13, or past what a datetime holds once moved to UTC)."""
    try:
        return datetime.fromisoformat(value).astimezone(UTC)
    except (ValueError, OverflowError):
        return None
