"""The arguments of ``Run`` as the fields the reader accepts: coerce what is unambiguous,
warn and fix the rest, and check the whole record against the schema before it is written.

Every function takes the run's ``WarnOnce`` and never raises.
"""

from __future__ import annotations

import math
import numbers
import re
import traceback
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from rundocs.format.decode import MAX_COUNT, YEARS
from rundocs.format.schema import FORMAT, KINDS, STATUSES, encode_float, load_schema
from rundocs.record.warn import WarnOnce

_ID = load_schema("run")["$defs"]["run_id"]
ID_MAX = int(_ID["maxLength"])
_ID_PATTERN = re.compile(_ID["pattern"])
_NOT_ID = re.compile(r"[^A-Za-z0-9._-]+")

#: Words ``end()`` understands besides the four statuses (compared case-insensitively).
STATUS_SYNONYMS = {
    **{word: "completed" for word in ("complete", "succeeded", "success", "successful", "done", "finished", "ok")},
    **{word: "failed" for word in ("fail", "failure", "error", "errored", "crashed")},
    **{word: "interrupted" for word in ("killed", "cancelled", "canceled", "aborted", "preempted", "timeout")},
}
#: What ``end()`` records for a word it does not know: a result that cannot be vouched for.
UNKNOWN_STATUS = "failed"
#: The smallest whole number a double cannot hold: ``float()`` of it, or of its text, overflows.
DOUBLE_LIMIT = 2**1024 - 2**970

#: What a field becomes when its value breaks the schema after every coercion.
_DEFAULTS: dict[str, Callable[[], Any]] = {
    "phase": lambda: None,
    "sweep": lambda: None,
    "tags": list,
    "config": dict,
    "bookkeeping": list,
    "ended_at": lambda: None,
    "epochs": lambda: None,
    "summary": dict,
    "evaluates": list,
    "restarts": lambda: None,
    "error": lambda: None,
    "env": dict,
    "checkpoints": list,
    "warnings": list,
}


def clean_id(value: Any, warn: WarnOnce, field: str = "id") -> str | None:
    """A run id matching the schema (``^[A-Za-z0-9][A-Za-z0-9._-]*$``, not ``index``, at most 200
    characters).

    Anything else is rewritten, with a warning: accents dropped, other characters runs of
    ``-``, leading and trailing ``.``/``-`` removed, then cut to length. A name that leaves
    nothing (``"..."``, ``"日本"``) gives None. The result has no ``/`` and cannot start with
    ``.``, so it never names a place outside the runs folder.
    """
    if value is None:
        return None
    text = _text(value)
    if len(text) <= ID_MAX and _ID_PATTERN.fullmatch(text):  # not search: "$" also matches before a final newline
        return text
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    cleaned = _NOT_ID.sub("-", ascii_text).lstrip("._-").rstrip(".-")[:ID_MAX].rstrip(".-") or None
    if cleaned is not None and not _ID_PATTERN.fullmatch(cleaned):
        cleaned = f"{cleaned}-run"  # a reserved name (``index``, the experiment log's page)
    shown = repr(cleaned) if cleaned else "a new id" if field == "id" else "nothing"
    warn(f"{field}-{text[:80]}", f"{field} {text[:80]!r} is not a valid run id; recorded as {shown}")
    return cleaned


def clean_ids(value: Any, warn: WarnOnce, field: str) -> list[str]:
    """``evaluates``: None for none, one id or run for one, an iterable for several."""
    items = items_of(value)
    ids = [clean_id(item, warn, field) for item in items if item is not None]
    return list(dict.fromkeys(run_id for run_id in ids if run_id is not None))


def clean_tags(value: Any, warn: WarnOnce) -> list[str]:
    """Tags as distinct strings; a single string is one tag, not its letters."""
    return list(dict.fromkeys(_text(item) for item in items_of(value) if item is not None))


def clean_label(value: Any, warn: WarnOnce, field: str) -> str | None:
    """``phase`` and ``sweep``: a string, or None. Numbers are written as text (``2`` -> ``"2"``)."""
    if value is None or isinstance(value, str):
        return value
    number = _number(value)
    if number is not None and not isinstance(number, bool):
        return str(number)
    text = _text(value)
    warn(f"{field}-type", f"{field} should be a string, got {type(value).__name__}; recorded as {text[:80]!r}")
    return text


def clean_name(value: Any, run_id: str) -> str:
    """The run's human name: a non-empty string, the id when there is none."""
    text = "" if value is None else _text(value)
    return text if text else run_id


def clean_epochs(value: Any, warn: WarnOnce) -> int | None:
    """Planned epochs: a non-negative integer (``30``, ``np.int64(30)``, ``30.0``, ``"30"``) or None."""
    if value is None:
        return None
    number = as_int(value.strip() if isinstance(value, str) else value)
    if number is not None and 0 <= number <= MAX_COUNT:
        return number
    warn("epochs", f"epochs must be a non-negative integer (up to 2**53), got {_shown(value)}; recorded as unknown")
    return None


def clean_index(value: Any, warn: WarnOnce, field: str) -> int | None:
    """``epoch`` or ``step`` of a metrics line: a whole number from 0 to 2**53 (``3``,
    ``np.int64(3)``, ``3.0``); None (after a warning) for anything else, bools and text
    included, so the line keeps its metrics without that field, as the reader would read it."""
    number = None if isinstance(value, str | bytes) else as_int(value)
    if number is not None and 0 <= number <= MAX_COUNT:
        return number
    message = f"{field} must be a non-negative integer (up to 2**53), got {_shown(value)}; dropped from the line"
    warn(f"index-{field}", message)
    return None


def clean_value(value: Any, warn: WarnOnce, name: str) -> int | float | str | None:
    """A metric or summary value as the format writes it: ints as they are, floats through
    ``encode_float`` (non-finite ones as text), bools as 1/0; numpy scalars, one-element tensors,
    ``Decimal`` and ``Fraction`` as the number they hold. None, after a warning, for anything
    else and for a number too large for a double (``10**400``): the reader would skip it, and
    writing ``Infinity`` instead would claim another value."""
    number = None if isinstance(value, str | bytes) else _number(value)
    if isinstance(number, bool):
        return int(number)
    if isinstance(number, float):
        return encode_float(float(number))
    if number is None:
        warn(f"value-{name}", f"{name!r} got {type(value).__name__} {_shown(value)}, not a number; dropped")
        return None
    if -DOUBLE_LIMIT < number < DOUBLE_LIMIT:
        return int(number)
    warn(f"large-{name}", f"{name!r} got a number beyond ±1.8e308, too large for a double; dropped")
    return None


#: The longest text a summary value may hold (the schema's ``maxLength``).
SUMMARY_TEXT_MAX = 10_000


def clean_summary_value(value: Any, warn: WarnOnce, name: str) -> int | float | str | bool | None:
    """A summary value: a text or a boolean as it is (a note, a commit, a data version; a text
    longer than ``SUMMARY_TEXT_MAX`` cut, with a warning), anything else as ``clean_value``."""
    if isinstance(value, bool) or (type(value).__module__ == "numpy" and type(value).__name__ in ("bool", "bool_")):
        return bool(value)
    if isinstance(value, str):
        if len(value) > SUMMARY_TEXT_MAX:
            warn(f"long-{name}", f"summary {name!r} is {len(value):,} characters; cut to {SUMMARY_TEXT_MAX:,}")
        return value[:SUMMARY_TEXT_MAX]
    return clean_value(value, warn, name)


def is_named(name: str, warn: WarnOnce, method: str) -> bool:
    """Whether a metric or summary name can be shown: an empty or blank one (``""``, ``" "``)
    would make a row without a name, so its value is dropped with a warning."""
    if name.strip():
        return True
    warn(f"blank-{method}-{name}", f"{method}() got a value with the blank name {name!r}; dropped")
    return False


def as_int(value: Any) -> int | None:
    """An integral number (``3``, ``np.int64(3)``, ``3.0``) as an int; anything else None."""
    number = _number(value)
    if isinstance(number, float) and number.is_integer():
        number = int(number)
    return number if type(number) is int else None


def clean_seconds(value: Any, warn: WarnOnce) -> float:
    """``heartbeat_every``: a non-negative number of seconds; 30 (with a warning) otherwise."""
    number = _number(value)
    if isinstance(number, int | float) and not isinstance(number, bool) and number >= 0:
        return float(number)
    warn("heartbeat", f"heartbeat_every must be a non-negative number of seconds, got {_shown(value)}; using 30")
    return 30.0


def clean_kind(value: Any, warn: WarnOnce) -> str:
    if value in KINDS:
        return str(value)
    warn("kind", f"kind must be one of {list(KINDS)}, got {_shown(value)}; recording 'train'")
    return "train"


def clean_moment(value: Any, warn: WarnOnce, field: str) -> datetime | None:
    """A moment given by an importer (``started_at``, ``ended_at``, a line's time): an aware
    ``datetime``, a naive one (read as this machine's local time), an ISO 8601 text or Unix
    seconds (a number or its text); as an aware datetime in UTC. None, after a warning, for anything else and for
    moments outside the years the format accepts."""
    moment: datetime | None = None
    try:
        number = None if isinstance(value, datetime) else _number(value)  # "1714557600" too
        if isinstance(value, datetime):
            moment = value.astimezone(UTC)
        elif number is not None and not isinstance(number, bool) and math.isfinite(number):
            moment = datetime.fromtimestamp(number, UTC)
        elif isinstance(value, str):
            moment = datetime.fromisoformat(value.strip()).astimezone(UTC)
    except (ValueError, OverflowError, OSError):
        moment = None
    if moment is not None and YEARS[0] <= moment.year <= YEARS[1]:
        return moment
    expected = "a datetime, an ISO 8601 text or Unix seconds"
    warn(f"moment-{field}", f"{field} must be {expected}, got {_shown(value)}; ignored")
    return None


def clean_status(value: Any, warn: WarnOnce) -> str:
    """A status ``end()`` was given, as one of the four; synonyms mapped, anything else failed."""
    word = _text(value).strip().lower()
    if word in STATUSES and word != "running":
        return word
    if word in STATUS_SYNONYMS:
        return STATUS_SYNONYMS[word]
    warn("status", f"end() got status {_shown(value)}, not one of {list(STATUSES[1:])}; recorded as {UNKNOWN_STATUS!r}")
    return UNKNOWN_STATUS


def error_record(error: Any) -> dict[str, Any] | None:
    """The ``error`` field: an exception with its traceback, or any other value as a message."""
    if error is None:
        return None
    if isinstance(error, BaseException):
        message = str(error)
        if isinstance(error, SystemExit):
            message = f"exit code {error.code}" if isinstance(error.code, int) else str(error.code)
        return {
            "type": type(error).__name__,
            "message": message,
            "traceback": "".join(traceback.format_exception(error)),
        }
    return {"type": "Error", "message": _text(error), "traceback": None}


def checked(record: dict[str, Any], warn: WarnOnce) -> dict[str, Any] | None:
    """The record, with every field the schema refuses replaced by its empty value (and a
    warning); None, never an invalid record, if a required field is wrong. Cheap for a valid
    record: ``check_record`` answers from its fast path."""
    from rundocs.format.validate import check_record  # jsonschema: imported on the first write only

    if not check_record(record):
        return record
    base = {key: record.get(key) for key in ("id", "name", "kind", "status", "started_at", "updated_at")}
    base["format"] = FORMAT
    for key, value in record.items():
        if key in _DEFAULTS and check_record({**base, key: value}):
            problems = "; ".join(check_record({**base, key: value}))
            warn(f"schema-{key}", f"{problems}; recorded as {_DEFAULTS[key]()!r}")
            record[key] = _DEFAULTS[key]()
    leftover = check_record(record)
    if leftover:  # a required field is wrong: a bug in the coercions above; nothing is written
        warn("schema", f"run.json not written: {'; '.join(leftover)}")
        return None
    return record


def items_of(value: Any) -> list[Any]:
    """A value as a list of items: None is none, a string or a mapping is one."""
    if value is None:
        return []
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        return [value]
    try:
        return list(value)
    except Exception:  # an iterable that cannot be iterated (a 0-d array)
        return [value]


def _text(value: Any) -> str:
    """A value as text; a ``Run`` stands for its id. Never raises."""
    run_id = getattr(value, "id", None) if type(value).__module__ == "rundocs.record.run" else None
    if isinstance(run_id, str):
        return run_id
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    try:
        return str(value)
    except Exception:  # a __str__ that raises must not stop the run
        return f"<{type(value).__name__}>"


def _number(value: Any) -> Any:
    """An int or float for numbers, numpy scalars, one-element tensors, ``Decimal``, ``Fraction``
    and numeric strings; else None."""
    if isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        for kind in (int, float):
            try:
                return kind(value)
            except ValueError:
                continue
        return None
    item = getattr(value, "item", None)
    if callable(item):
        try:
            result = item()
        except Exception:  # numpy, torch and others raise different errors
            return None
        return result if isinstance(result, bool | int | float) else None
    if isinstance(value, numbers.Real | Decimal):  # Decimal is no numbers.Real, but it is one
        return _real(value)
    return None


def _real(value: Any) -> int | float | None:
    """A ``Decimal`` or ``Fraction``: a whole one as an int, any other as the nearest float. One
    beyond the doubles (``Decimal("1e400")``) is ``±DOUBLE_LIMIT``, which every caller refuses,
    so it is too large, not infinite, and its digits are never built."""
    try:
        number = float(value)
        if math.isfinite(number):
            whole = int(value)
            return whole if whole == value else number
        if not math.isnan(number) and number != value:  # finite, but beyond the doubles
            return DOUBLE_LIMIT if value > 0 else -DOUBLE_LIMIT
    except OverflowError:  # a fraction beyond the doubles
        return DOUBLE_LIMIT if value > 0 else -DOUBLE_LIMIT
    except (ArithmeticError, ValueError):  # a signalling NaN, a decimal context that traps
        return None
    return number


def _shown(value: Any) -> str:
    """A value for a message: its repr cut to 60 characters. Never raises (``repr`` of an int
    of more than 4300 digits does)."""
    try:
        return f"{value!r:.60}"
    except Exception:  # a __repr__ that raises must not stop the run
        return f"<{type(value).__name__}>"
