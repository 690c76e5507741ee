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


#: Nesting deeper than this is written as text: a config that contains itself must not recurse forever.
_MAX_DEPTH = 64


def to_json_value(value: Any, _depth: int = 0) -> Any:
    """A config-like value as plain JSON: settings objects to objects, sequences to lists.

    Objects: mappings, dataclasses, ``argparse.Namespace`` and other plain namespaces, attrs
    classes, pydantic models (``model_dump()``), OmegaConf ``DictConfig``/``ListConfig``
    (interpolations resolved). Lists: lists, tuples, sets (sorted by text). Numbers: numpy
    and torch scalars via ``.item()``; non-finite floats as ``encode_float`` writes them.
    Anything else (paths, enums, classes) becomes its ``str``. Nothing is imported to
    recognise these types: a value can only be an OmegaConf object if OmegaConf is loaded.
    """
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return encode_float(value)
    if _depth > _MAX_DEPTH:
        return _text(value)
    deeper = _depth + 1
    if isinstance(value, dict):
        return {_text(k): to_json_value(v, deeper) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=_text) if isinstance(value, set | frozenset) else value
        return [to_json_value(v, deeper) for v in items]
    if not isinstance(value, type):
        fields = _settings_fields(value)
        if fields is not None:
            return to_json_value(fields, _depth)
    if isinstance(value, Mapping):
        return {_text(k): to_json_value(v, deeper) for k, v in value.items()}
    if hasattr(value, "item") and callable(value.item):  # numpy and torch scalars
        try:
            return to_json_value(value.item(), deeper)
        except Exception:  # a multi-element array or a broken item(): written as text
            pass
    return _text(value)


def _settings_fields(value: Any) -> dict[str, Any] | list[Any] | None:
    """The fields of a settings object as a plain dict (or list), or None if it is not one."""
    kind = type(value)
    try:
        if kind.__module__.partition(".")[0] == "omegaconf":
            from omegaconf import OmegaConf

            try:
                container: Any = OmegaConf.to_container(value, resolve=True)
            except Exception:  # an interpolation that does not resolve: kept as written
                container = OmegaConf.to_container(value, resolve=False)
            return container if isinstance(container, dict | list) else None
        if hasattr(kind, "__dataclass_fields__"):
            import dataclasses

            return {field.name: getattr(value, field.name) for field in dataclasses.fields(value)}
        if hasattr(kind, "__attrs_attrs__"):
            return {field.name: getattr(value, field.name) for field in kind.__attrs_attrs__}
        if callable(getattr(kind, "model_dump", None)):  # pydantic 2
            dumped = value.model_dump()
            return dumped if isinstance(dumped, dict) else None
        if callable(getattr(kind, "dict", None)) and hasattr(kind, "__fields__"):  # pydantic 1
            dumped = value.dict()
            return dumped if isinstance(dumped, dict) else None
        if kind.__name__ in ("Namespace", "SimpleNamespace") and hasattr(value, "__dict__"):
            return dict(vars(value))  # argparse.Namespace, types.SimpleNamespace
    except Exception:  # a settings object that cannot be read is written as text
        return None
    return None


def _text(value: Any) -> str:
    try:
        return str(value)
    except Exception:  # a __str__ that raises
        return f"<{type(value).__name__}>"


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
