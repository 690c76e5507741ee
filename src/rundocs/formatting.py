"""Fixed, locale-free number formatting shared by analysis sentences and pages."""

from __future__ import annotations

import math
from typing import Any


def format_number(value: Any, digits: int = 4) -> str:
    """4 significant digits (``0.8712``, ``1.237``, ``3.2e-05``); integers as they are."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.{digits}g}"


def format_duration(seconds: Any) -> str:
    """A span of time, the one format of every page: ``42 s``, ``7 min 05 s``, ``38 min``,
    ``2 h 05 min``, ``51 h 20 min``; seconds only below ten minutes. None or NaN: empty."""
    if seconds is None:
        return ""
    value = float(seconds.total_seconds() if hasattr(seconds, "total_seconds") else seconds)
    if math.isnan(value):
        return ""
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
    return f"{minutes // 60} h {minutes % 60:02d} min"
