"""Fixed, locale-free number formatting shared by analysis sentences and pages.

The rules (docs/site.md, "How numbers are written"):

- a measured value keeps up to ``SIGNIFICANT`` (5) significant digits, trailing zeros
  dropped (``190.17``, ``0.98047``, ``1.2372``); below 0.001 and from a million on it is
  written with an exponent (``1.23e-4``, ``2.5e7``), so a small loss never reads ``0``;
- a whole number from ``COUNT_FROM`` (10,000) on is a count, in units with 3 significant
  digits (``584 k``, ``12.3 M``, ``1.6 B``); smaller ones as they are;
- a setting is the shortest text that reads back as the same float when that takes at most
  6 significant digits (``0.15``, ``3e-4``), else 6 significant digits (``0.112033``):
  never a float's repr such as ``0.15000000000000002``;
- values compared in one column share their decimals (``format_column``);
- a span of time is ``format_duration``;
- a missing value is ``MISSING`` (``—``), never a blank cell.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

#: What a table shows for a value that is not there (None, a key a run lacks).
MISSING = "—"
#: Significant digits of a measured value.
SIGNIFICANT = 5
#: Significant digits a setting keeps at most (beyond them its float repr is noise).
SETTING_DIGITS = 6
#: Whole numbers from here on are counts written in units.
COUNT_FROM = 10_000
#: Values from here on, and nonzero ones below ``SMALL``, are written with an exponent.
LARGE = 1e6
SMALL = 1e-3
#: Most decimals a column shares; a column needing more writes each value on its own.
COLUMN_DECIMALS = 6
_UNITS = ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k"))
#: Whole numbers from here on are written with an exponent (``1e15``).
MAX_COUNT = 1e15


def format_number(value: Any, digits: int = SIGNIFICANT) -> str:
    """A measured value: ``digits`` significant digits, trailing zeros dropped (``190.17``,
    ``1.23e-4``); whole numbers as they are below ``COUNT_FROM``, as counts from there
    (``1.6 B``); None as ``MISSING``; anything else as its text."""
    if value is None:
        return MISSING
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "∞" if value > 0 else "-∞"
    if value == int(value):
        return format_count(value)
    if abs(value) < SMALL or abs(value) >= LARGE:
        return _scientific(float(value), digits)
    return _strip(f"{value:.{_decimals(float(value), digits)}f}")


def format_count(value: float) -> str:
    """A whole number: as it is below ``COUNT_FROM`` (``9999``), else 3 significant digits in
    units (``584 k``, ``12.3 M``, ``1.6 B``, ``210 T``); from ``MAX_COUNT`` on with an exponent."""
    whole = int(value)
    if abs(whole) < COUNT_FROM:
        return str(whole)
    if abs(whole) >= MAX_COUNT or abs(rounded := float(f"{whole:.3g}")) >= MAX_COUNT:
        return _scientific(whole, SIGNIFICANT)
    size, unit = next((size, unit) for size, unit in _UNITS if abs(rounded) >= size)
    return f"{_strip(f'{rounded / size:.2f}')} {unit}"


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """``1 run``, ``0 runs``, ``12000 runs``: a count and its noun, as a sentence says them (digits
    as the counts beside them print, so that a script can read the line)."""
    return f"{count} {noun if count == 1 else plural or noun + 's'}"


def format_setting(value: Any) -> str:
    """A configuration value: a float as the shortest text that reads back as itself when that
    takes at most ``SETTING_DIGITS`` significant digits (``0.15``, ``3e-4``), else that many
    digits (``0.112033``); whole numbers exactly (``1600000000``); None as ``MISSING``."""
    if value is None:
        return MISSING
    if not isinstance(value, float) or not math.isfinite(value):
        return format_number(value) if isinstance(value, float) else str(value)
    text = repr(value) if float(f"{value:.{SETTING_DIGITS}g}") == value else f"{value:.{SETTING_DIGITS}g}"
    mantissa, _, exponent = text.partition("e")
    return f"{mantissa}e{int(exponent)}" if exponent else mantissa


def format_column(values: Iterable[Any], digits: int = SIGNIFICANT, *, joined: Iterable[Any] = ()) -> list[str]:
    """Values compared in one column, with the decimals the most precise needs (``0.8319``,
    ``0.5000``): a difference shows in the same place. A column of whole numbers, one with a
    value written with an exponent, or one needing more than ``COLUMN_DECIMALS``, is written
    value by value (``format_number``). ``joined``: values read against these in another
    column (a baseline's); they take part in choosing the decimals."""
    items = list(values)
    numbers = [_finite(v) for v in items]
    shared = _shared_decimals([*numbers, *map(_finite, joined)], digits)
    if shared is None:
        return [format_number(v, digits) for v in items]
    return [format_number(v, digits) if n is None else f"{n:.{shared}f}" for v, n in zip(items, numbers, strict=True)]


def format_differences(values: Iterable[Any], differences: Iterable[Any], digits: int = SIGNIFICANT) -> list[str]:
    """Signed differences against a baseline, at the decimals of the column of ``values`` they
    stand beside (``0.96936 (-0.01114)``); each as ``format_number`` writes it where that column
    has no shared decimals."""
    shared = _shared_decimals([_finite(v) for v in values], digits)
    shown = []
    for difference in differences:
        number = _finite(difference)
        if shared is None or number is None:
            shown.append(with_sign(format_number(difference, digits)))
        else:
            shown.append(with_sign(f"{0.0 if round(number, shared) == 0 else number:.{shared}f}"))
    return shown


def with_sign(text: str) -> str:
    """A written difference with its sign: ``+0.031``, ``-1.2``; ``MISSING`` and ``NaN`` as they are."""
    return text if text.startswith(("-", "+")) or text in (MISSING, "NaN") else f"+{text}"


def format_duration(seconds: Any) -> str:
    """A span of time, the one format of every page: ``42 s``, ``7 min 05 s``, ``38 min``,
    ``2 h 05 min``, ``3 d 04 h``; seconds only below ten minutes, days from two days on.
    None or NaN: ``MISSING``."""
    if seconds is None:
        return MISSING
    value = float(seconds.total_seconds() if hasattr(seconds, "total_seconds") else seconds)
    if math.isnan(value):
        return MISSING
    if math.isinf(value):
        return "∞"
    total = max(0, round(value))
    if total < 60:
        return f"{total} s"
    if total < 600:
        return f"{total // 60} min {total % 60:02d} s"
    minutes = round(value / 60)
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h {minutes % 60:02d} min"
    hours = round(value / 3600)
    return f"{hours // 24} d {hours % 24:02d} h"


def format_points(value: float) -> str:
    """A difference of percentages in points, one decimal: ``16.7``."""
    return f"{value:.1f}"


def _finite(value: Any) -> float | None:
    """A finite number as a float (booleans are not numbers); None for anything else."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value) if abs(value) < MAX_COUNT else math.inf  # a 400-digit int is no float
    return number if math.isfinite(number) else None


def _shared_decimals(numbers: list[float | None], digits: int) -> int | None:
    """The decimals a column of numbers shares (``format_column``); None where it shares none."""
    fractional = [v for v in numbers if v is not None and v != int(v)]
    if not fractional or any(abs(v) < SMALL or abs(v) >= LARGE for v in fractional):
        return None
    shared = max(_shown_decimals(v, digits) for v in fractional)
    if shared > COLUMN_DECIMALS or any(v is not None and abs(v) >= LARGE for v in numbers):
        return None
    return shared


def _decimals(value: float, digits: int) -> int:
    """Decimals that give ``value`` (fixed-point range) ``digits`` significant digits."""
    return max(0, digits - 1 - Decimal(value).adjusted())


def _shown_decimals(value: float, digits: int) -> int:
    """Decimals ``format_number`` shows for a fractional value, trailing zeros dropped."""
    text = _strip(f"{value:.{_decimals(value, digits)}f}")
    return len(text.partition(".")[2])


def _scientific(value: float, digits: int) -> str:
    """``1.23e-4``: ``digits`` significant digits, trailing zeros and the exponent's padding dropped."""
    mantissa, _, exponent = f"{Decimal(value):.{digits - 1}e}".partition("e")
    return f"{_strip(mantissa)}e{int(exponent)}"


def _strip(text: str) -> str:
    """Trailing zeros of a decimal fraction dropped (``1.2300`` -> ``1.23``, ``2.0`` -> ``2``)."""
    return text.rstrip("0").rstrip(".") if "." in text else text
