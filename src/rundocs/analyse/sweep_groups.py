"""How a sweep's runs are grouped: its dimensions, the levels of a dimension, quantile bins.

Settings are any JSON value (a list of mappings included): runs are grouped by a canonical
JSON text of the value, and labelled separately, so two different values never share a group
and every run is in exactly one level.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from fnmatch import fnmatchcase
from typing import Any

import numpy as np

from rundocs.formatting import format_number, format_setting

#: A number with more distinct values than this (a search over a continuous range) is binned.
MAX_LEVELS = 6
#: Bins of a binned setting: about ``BIN_RUNS`` runs each, at most ``MAX_BINS``.
MAX_BINS = 6
BIN_RUNS = 3
#: Settings that say how a run was launched, not what it tried: never a dimension.
BOOKKEEPING = ("restarts",)


_canonical = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=repr).encode


def value_key(value: Any) -> str:
    """A hashable key for any JSON value: its canonical JSON text (equal values, equal keys)."""
    kind = type(value)  # fast paths for the common scalars, the same text the encoder writes
    if kind is int or (kind is float and math.isfinite(value)):
        return repr(value)
    if isinstance(value, str) and kind is str and value.isalnum():
        return f'"{value}"'
    return _canonical(value)


def find_dimensions(settings: Mapping[str, Mapping[str, Any]], repeats: Sequence[str]) -> tuple[list[str], list[str]]:
    """The settings that vary (dimensions) and the varying repeat keys (``seed``...), sorted."""
    keys = sorted({key for config in settings.values() for key in config})
    varied = [k for k in keys if len({value_key(config.get(k)) for config in settings.values()}) > 1]
    varied = [k for k in varied if not names_setting(k, BOOKKEEPING)]
    repeat_keys = [k for k in varied if names_setting(k, repeats)]
    return [k for k in varied if k not in repeat_keys], repeat_keys


def group_levels(dimension: str, settings: Mapping[str, Mapping[str, Any]]) -> dict[str, list[str]]:
    """Level label (a value, or a quantile bin of a many-valued number) to its runs, in value order."""
    values = {run_id: config.get(dimension) for run_id, config in settings.items()}
    groups: dict[str, list[str]] = {}
    shown: dict[str, Any] = {}
    for run_id, value in sorted(values.items(), key=lambda item: _sort_key(item[1])):
        key = value_key(value)
        groups.setdefault(key, []).append(run_id)
        shown.setdefault(key, value)
    numbers = {run_id: number for run_id, value in values.items() if (number := _finite(value)) is not None}
    if len(groups) > MAX_LEVELS and len(numbers) == len(values):
        return _quantile_bins(numbers)
    labels = [label(value) for value in shown.values()]
    counts = Counter(labels)
    plain = [text if counts[text] == 1 else key for text, key in zip(labels, shown, strict=True)]
    return dict(zip(_distinct(plain), groups.values(), strict=True))


def varied_settings(settings: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """Each run's values of the settings that vary among ``settings`` (one group of runs, bookkeeping
    left out), compact: ``lr=0.1287, seed=0`` (a float in the page format of numbers, a list or
    mapping as JSON: ``channels=[16,32]``)."""
    varied, repeats = find_dimensions(settings, ())
    return {
        run_id: ", ".join(f"{key}={compact_label(config.get(key))}" for key in sorted(varied + repeats))
        for run_id, config in settings.items()
    }


def compact_label(value: Any) -> str:
    """A setting's value in a table of many runs: a float in the page format of numbers (``0.112``,
    not ``0.11203254019178545``), a list or mapping as JSON, anything else as ``label`` gives it."""
    if isinstance(value, float):
        return format_number(value)
    return label(value) if _scalar(value) else value_key(value)


def label(value: Any) -> str:
    """How a setting's value reads in a table: plain for scalars (a float as ``format_setting``
    writes it), JSON for nested values."""
    if value is None:
        return "(not set)"
    if isinstance(value, list | tuple) and all(_scalar(v) for v in value):
        return ", ".join(map(format_setting, value))
    return format_setting(value) if _scalar(value) else value_key(value)


def _quantile_bins(values: Mapping[str, float]) -> dict[str, list[str]]:
    """Runs in a few quantile bins of a numeric setting (``BIN_RUNS`` runs each, at most
    ``MAX_BINS``), in a log scale when it spans decades, labelled ``0.001–0.00316``.

    Runs are grouped by bin index; the labels are printed with as many digits as it takes to
    tell them apart, so close values never merge two bins.
    """
    ids = list(values)
    bins_wanted = min(MAX_BINS, max(2, math.ceil(len(ids) / BIN_RUNS)))
    numbers = np.array([values[i] for i in ids])
    logscale = bool((numbers > 0).all() and np.log10(numbers.max()) - np.log10(numbers.min()) > 2)
    scaled = np.log10(numbers) if logscale else numbers
    with np.errstate(all="ignore"):
        edges = np.unique(np.quantile(scaled, np.linspace(0, 1, bins_wanted + 1)))
        if not np.isfinite(edges).all():  # interpolating between huge numbers overflowed
            edges = np.unique(np.quantile(scaled, np.linspace(0, 1, bins_wanted + 1), method="lower"))
        bounds = 10**edges if logscale else edges
    slots = np.clip(np.searchsorted(edges, scaled, side="right") - 1, 0, max(len(edges) - 2, 0))
    bins = []
    for slot in range(max(len(edges) - 1, 1)):
        members = [ids[i] for i in np.flatnonzero(slots == slot)]
        if members:
            bins.append((float(bounds[slot]), float(bounds[min(slot + 1, len(bounds) - 1)]), members))
    for digits in range(3, 18):
        labels = [f"{low:.{digits}g}–{high:.{digits}g}" for low, high, _ in bins]
        if len(set(labels)) == len(labels):
            break
    return dict(zip(_distinct(labels), (members for *_, members in bins), strict=True))


def _distinct(labels: list[str]) -> list[str]:
    """``labels`` with a number added to any that repeats an earlier one, so none is lost."""
    seen: set[str] = set()
    result = []
    for text in labels:
        unique, count = text, 1
        while unique in seen:
            count += 1
            unique = f"{text} #{count}"
        seen.add(unique)
        result.append(unique)
    return result


def names_setting(key: str, names: Sequence[str]) -> bool:
    """Whether one of ``names`` names the dotted setting ``key``: the key itself, its last part
    (``seed`` names ``data.seed``), a parent (``paths`` names ``paths.data``) or a glob
    (``log_*``, ``paths.*``). The one rule for ``repeat`` and ``bookkeeping`` settings."""
    last = key.rsplit(".", 1)[-1]
    return any(
        key == name or last == name or key.startswith(name + ".") or fnmatchcase(key, name) or fnmatchcase(last, name)
        for name in names
    )


def _finite(value: Any) -> float | None:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except OverflowError:  # an integer too large for a float
        return None
    return number if math.isfinite(number) else None


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _sort_key(value: Any) -> tuple[int, float, str]:
    number = _finite(value)
    if number is not None:
        return (0, number, "")
    return (1, 0.0, label(value))
