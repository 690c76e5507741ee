"""Jinja filters: every value from a run, plan or config is data, escaped for Markdown and HTML."""

from __future__ import annotations

import math
from typing import Any

from markupsafe import Markup, escape

#: Characters that would start Markdown syntax inside a table cell or a line of text.
_MARKDOWN_SPECIAL = str.maketrans({c: f"\\{c}" for c in "\\`*_[]|#!"})


def cell(value: Any) -> Markup:
    """Text for one Markdown table cell: HTML-escaped, Markdown-escaped, on one line."""
    if value is None:
        return Markup("")
    text = " ".join(str(value).split())
    return Markup(escape(text.translate(_MARKDOWN_SPECIAL)))


def number(value: Any, digits: int = 4) -> str:
    """A fixed, locale-free number format: 4 significant digits, NaN and infinities spelled out."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(cell(value))
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    return f"{value:.{digits}g}"


FILTERS = {"cell": cell, "number": number}
