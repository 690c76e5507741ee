"""The on-disk format, version 1: names, constants and the number encoding.

Shared by the writer (``rundocs.record``) and the reader (``rundocs.load``). The JSON Schemas
in ``rundocs/format/schemas/`` are the contract; ``docs/format.md`` documents it for other languages.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from functools import cache
from importlib import resources
from typing import Any

FORMAT = "rundocs.run/1"
RUN_FILE = "run.json"
METRICS_FILE = "metrics.jsonl"
NOTES_FILE = "notes.md"

STATUSES = ("running", "completed", "failed", "interrupted")
KINDS = ("train", "eval")
#: Keys of a metrics line that are not metrics.
STEP_KEYS = ("epoch", "step", "time")

#: Strict JSON has no NaN or infinities: they are written as these strings.
NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def encode_float(value: float) -> float | str:
    """A float as strict JSON allows it: non-finite values become "NaN", "Infinity", "-Infinity"."""
    if value - value == 0:  # false for NaN and both infinities, without three comparisons
        return value
    if value != value:
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def decode_number(value: Any) -> Any:
    """Inverse of ``encode_float``: the three strings back to floats, anything else unchanged."""
    if isinstance(value, str):
        return NON_FINITE.get(value, value)
    return value


def to_json_value(value: Any) -> Any:
    """A config-like value as plain JSON: dataclasses and mappings to objects, tuples to lists.

    Objects JSON cannot hold (paths, enums, classes) become their ``str``.
    """
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return encode_float(value)
    if isinstance(value, dict):
        return {str(k): to_json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return [to_json_value(v) for v in items]
    if hasattr(value, "__dataclass_fields__") and not isinstance(value, type):
        import dataclasses

        return to_json_value(dataclasses.asdict(value))
    if hasattr(value, "item") and callable(value.item):  # numpy and torch scalars
        try:
            return to_json_value(value.item())
        except (TypeError, ValueError, RuntimeError):
            pass
    return str(value)


_JSON_LEAVES = frozenset({str, int, float, bool, type(None), list})


def flatten(mapping: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Nested settings as dotted keys: ``{"optim": {"lr": 1e-3}}`` -> ``("optim.lr", 1e-3)``."""
    for key, value in mapping.items():
        kind = type(value)
        nested = kind is dict or (kind not in _JSON_LEAVES and isinstance(value, Mapping))  # the ABC check is slow
        if nested and value:
            yield from flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", tuple(value) if isinstance(value, list) else value


@cache
def load_schema(name: str) -> dict[str, Any]:
    """A packaged JSON Schema: ``"run"`` or ``"metrics"``."""
    text = resources.files("rundocs.format.schemas").joinpath(f"{name}.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema
