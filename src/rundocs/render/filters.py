"""Jinja filters: every value from a run, plan or config is data, escaped for Markdown and HTML."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup, escape

from rundocs.formatting import format_number

#: Characters that would start Markdown syntax inside a table cell or a line of text.
_MARKDOWN_SPECIAL = str.maketrans({c: f"\\{c}" for c in "\\`*_[]|#!"})


def cell(value: Any) -> Markup:
    """Text for one Markdown table cell: HTML-escaped, Markdown-escaped, on one line."""
    if value is None:
        return Markup("")
    text = " ".join(str(value).split())
    return Markup(escape(text.translate(_MARKDOWN_SPECIAL)))


def number(value: Any, digits: int = 4) -> str:
    """A number in the fixed page format; anything else escaped as text."""
    if value is None or (isinstance(value, int | float) and not isinstance(value, bool)):
        return format_number(value, digits)
    return str(cell(value))


FILTERS = {"cell": cell, "number": number}
