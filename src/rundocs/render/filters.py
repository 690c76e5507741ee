"""Jinja filters: every value from a run, plan or config is data, escaped for Markdown and HTML."""

from __future__ import annotations

import re
from typing import Any

from markupsafe import Markup, escape

from rundocs.formatting import format_duration, format_number

#: Characters that would start Markdown syntax inside a table cell or a line of text.
_HEADING = re.compile(r"^(#{1,4} )", re.MULTILINE)
_UNSAFE_SCHEME = re.compile(r"(?i)\b(javascript|vbscript|data)\s*:")
_MARKDOWN_SPECIAL = str.maketrans({c: f"\\{c}" for c in "\\`*_[]|#!"})
#: Braces as entities: attr_list (enabled by Material's recommended config) turns a trailing
#: ``{...}`` of a heading, cell, list item or paragraph, or one right after a link or emphasis,
#: into HTML attributes, ``onfocus`` handlers included. As entities they are only text.
_BRACES = str.maketrans({"{": "&#123;", "}": "&#125;"})


def cell(value: Any) -> Markup:
    """Text for one Markdown table cell: HTML-escaped, Markdown-escaped, on one line."""
    if value is None:
        return Markup("")
    if isinstance(value, list | tuple):
        value = ", ".join(map(str, value))
    text = " ".join(str(value).split())
    return Markup(str(escape(text.translate(_MARKDOWN_SPECIAL))).translate(_BRACES))


def number(value: Any, digits: int = 4) -> str:
    """A number in the fixed page format; anything else escaped as text."""
    if value is None or (isinstance(value, int | float) and not isinstance(value, bool)):
        return format_number(value, digits)
    return str(cell(value))


def code_block(text: Any, indent: int = 0, language: str = "text") -> Markup:
    """A fenced code block holding ``text`` verbatim (Markdown escapes code itself).

    The fence is longer than any run of backticks in the text, so the text cannot close it.
    """
    body = str(text).rstrip("\n")
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
    fence = "`" * max(3, longest + 1)
    pad = " " * indent
    lines = [f"{pad}{fence}{language}", *(f"{pad}{line}" if line else "" for line in body.split("\n")), f"{pad}{fence}"]
    return Markup("\n".join(lines))


def notes(text: Any) -> Markup:
    """A person's Markdown notes: formatting kept, raw HTML and attribute lists (``{: ...}``) shown
    as text, script links disabled.

    Headings move down two levels so the notes' ``# Title`` sits under the page's "Notes".
    """
    escaped = str(escape(str(text))).translate(_BRACES)
    demoted = _HEADING.sub(r"##\1", escaped)
    return Markup(_UNSAFE_SCHEME.sub(r"unsafe-\1-", demoted).rstrip("\n"))


def filesize(size: Any) -> str:
    """Bytes in binary units with 3 significant digits: ``2.59 KiB``."""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{int(value)} B" if unit == "B" else f"{value:.3g} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def comment(value: Any) -> Markup:
    """Text safe inside an HTML comment: it cannot end the comment early."""
    return Markup(str(value).replace("--", "- -").replace(">", "&gt;"))


def signed(value: Any) -> str:
    """A difference with its sign: ``+0.031``, ``-1.2``."""
    text = format_number(value)
    return text if text.startswith(("-", "+")) or text in ("", "NaN") else f"+{text}"


FILTERS = {
    "duration": format_duration,
    "signed": signed,
    "comment": comment,
    "cell": cell,
    "number": number,
    "code_block": code_block,
    "notes": notes,
    "filesize": filesize,
}
