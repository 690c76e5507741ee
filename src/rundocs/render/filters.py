"""Jinja filters: every value from a run, plan or config is data, escaped for where it lands.

One function per output context (docs/security.md, "Markup"): ``heading``, ``cell``,
``inline`` (paragraph text, list items, admonition titles), ``prose`` (multi-line Markdown
a person wrote), ``page_link`` (link targets), ``code_block`` and ``code_span`` (code, YAML and
JSON included), ``attribute`` (HTML attribute values), ``comment`` (HTML comments),
``mermaid_label`` (text in a Mermaid diagram), ``script_json`` (JSON in a ``<script>``
element) and ``page_title`` (the front-matter title themes put raw into ``<title>``).
"""

from __future__ import annotations

import hashlib
import html
import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

from markupsafe import Markup, escape

from rundocs.format.schema import load_schema
from rundocs.formatting import (
    SIGNIFICANT,
    counted,
    format_column,
    format_differences,
    format_duration,
    format_number,
    format_setting,
)

#: Backslash escapes for the characters that start Markdown syntax inside a line of text.
_MARKDOWN_SPECIAL = str.maketrans({c: f"\\{c}" for c in "\\`*_[]|#!"})
#: Braces as entities: attr_list (enabled by Material's recommended config) turns a trailing
#: ``{...}`` of a heading, cell, list item or paragraph, or one right after a link or emphasis,
#: into HTML attributes, ``onfocus`` handlers included; superfences reads ``{...}`` after a
#: fence as attributes. As entities they are only text.
_BRACES = str.maketrans({"{": "&#123;", "}": "&#125;"})
#: What may start a block at the beginning of a line besides the escaped characters: list
#: items (``- x``, ``+ x``, ``1. x``, ``1) x``), details (``???``), tabs (``===``), tilde fences.
_BLOCK_START = re.compile(r"^(?:[-+=?~]|\d(?=\d{0,8}[.)](?:\s|$)))")
_RUN_ID = load_schema("run")["$defs"]["run_id"]
_PAGE_ID = re.compile(_RUN_ID["pattern"])
#: Names made of these characters go into the browser title as they are; others are replaced,
#: because themes put the front-matter title into ``<title>`` without escaping it.
_PLAIN_TITLE = re.compile(r"[A-Za-z0-9 _.,:;+=@%()/-]{1,120}")
#: Mermaid reads its own entities (``#quot;``); every character that could end a label or start
#: markup or a directive (``%%{init}%%``) is one. Mermaid hands them to the page as HTML entities.
_MERMAID_ENTITIES = str.maketrans({'"': "#quot;", "<": "#lt;", ">": "#gt;", "&": "#amp;", "#": "#35;", "[": "#91;",
                                   "]": "#93;", "{": "#123;", "}": "#125;", "|": "#124;", "`": "#96;"})  # fmt: skip
#: In prose: ATX headings (Python-Markdown needs no space after ``#``), also inside list items.
_PROSE_HEADING = re.compile(r"^((?:[ \t]*(?:[-+*]|\d{1,9}[.)])[ \t]+)*[ \t]*)(#{1,6})(.*)$", re.MULTILINE)
#: In prose: setext underlines (``===`` and ``---`` under text) and horizontal rules, shown as text.
_PROSE_RULE = re.compile(r"^([ \t]*)([=-])(?=[=-]*[ \t]*$)", re.MULTILINE)
#: In prose: admonitions (``!!!``), details (``???``) and tabs (``===``) take a class or an id from
#: the text that follows; anywhere they appear they are text.
_PROSE_BLOCK_MARK = re.compile(r"([!?=])(?=\1\1)")
#: In prose: a fence line. An opener with more than a language after it (options, attributes) is
#: shown as text, so that where a code block starts is plain; a Mermaid fence becomes plain code.
_PROSE_FENCE = re.compile(r"^([ \t]*)(`{3,}|~{3,})(.*)$")
_PLAIN_INFO = re.compile(r"[ \t]*\.?([\w#.+-]*)[ \t]*")
#: In prose: a link target (after ``](`` or a reference ``]:``) with a script scheme. Browsers
#: drop tabs and newlines inside a URL and controls before it, so those may sit between letters.
_GAP = r"[\s\x00-\x1f]*"
_UNSAFE_LINK = re.compile(
    r"(\]\(|\]:)(\s*(?:&lt;)?" + _GAP + r")(" + "|".join(_GAP.join(s) for s in ("javascript", "vbscript", "data"))
    + ")" + _GAP + ":", re.IGNORECASE)  # fmt: skip


def _one_line(value: Any) -> str:
    """Text on one line, HTML-escaped and Markdown-escaped: it shows as written and starts nothing."""
    text = " ".join(str(value).split())  # \r, U+2028 and every other line break included
    return str(escape(text.translate(_MARKDOWN_SPECIAL))).translate(_BRACES)


def _entity(character: str) -> str:
    return f"&#{ord(character)};"


def _heading_id(text: str) -> str:
    """An explicit attr_list id for heading text whose toc id would start with ``_``.

    The theme's own elements have such ids (``__search``, ``__drawer``); a heading must not
    take one. Anything else keeps the id toc derives, so links into a page stay stable.
    """
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    if not re.match(r"[^\w-]*_", plain):
        return ""
    return " {: #rd-" + hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()[:10] + " }"


def heading(value: Any) -> Markup:
    """Text after a heading's ``#``: one line, escaped, with an id toc cannot take from the text."""
    return Markup(_one_line(value) + _heading_id(str(value)))


def cell(value: Any) -> Markup:
    """Text for one Markdown table cell: HTML-escaped, Markdown-escaped, on one line. None is
    ``formatting.MISSING``; a float is a setting (``formatting.format_setting``), never a repr
    such as ``0.15000000000000002``; a list is its items, comma-separated."""
    if isinstance(value, list | tuple):
        value = ", ".join(map(format_setting, value))
    return Markup(_one_line(format_setting(value) if value is None or isinstance(value, float) else value))


def inline(value: Any) -> Markup:
    """Text inside a paragraph, a list item or an admonition title: a cell's escaping, and its
    first character cannot start a block (``- x``, ``1. x``, ``??? note``, ``=== "tab"``)."""
    text = _one_line(value)
    return Markup(_BLOCK_START.sub(lambda m: _entity(m.group(0)), text))


def number(value: Any, digits: int = SIGNIFICANT) -> str:
    """A number in the fixed page format (``formatting.format_number``); anything else escaped as text."""
    if value is None or (isinstance(value, int | float) and not isinstance(value, bool)):
        return format_number(value, digits)
    return str(cell(value))


def column(rows: Iterable[Any], *path: str, by: str = "", joined: Iterable[tuple[str, ...]] = ()) -> list[str]:
    """The numbers of one table column, in the format they share (``formatting.format_column``).

    ``path`` names the attribute or key to follow in each row (``page.trials | column("score", "best")``);
    with no path the rows are the values. ``by`` (an attribute path such as ``"gate.metric"``) splits
    the column into groups that share a format each: values of different metrics are not compared.
    ``joined`` (paths) names values shown against these in other columns (a baseline's, a final
    value's): they take part in choosing the decimals, so ``rows | column(...)`` of each of them,
    joined the other way, writes them alike. Text in the column is escaped as a cell.
    """
    rows = list(rows)
    values, groups = [_follow(row, path) for row in rows], [_follow(row, by.split(".")) if by else 0 for row in rows]
    others = [[_follow(row, other) for other in joined] for row in rows]
    shown = [""] * len(rows)
    for group in dict.fromkeys(map(str, groups)):
        members = [i for i, g in enumerate(groups) if str(g) == group]
        texts = format_column((values[i] for i in members), joined=(v for i in members for v in others[i]))
        for i, text in zip(members, texts, strict=True):
            shown[i] = text if _numeric(values[i]) else str(cell(values[i]))
    return shown


def differences(rows: Iterable[Any], *path: str, beside: tuple[str, ...]) -> list[str]:
    """Signed differences (at ``path`` in each row) at the decimals of the column at ``beside``
    (``formatting.format_differences``)."""
    rows = list(rows)
    return format_differences([_follow(row, beside) for row in rows], [_follow(row, path) for row in rows])


def _follow(row: Any, path: Iterable[str]) -> Any:
    """``row`` followed along attribute or key names; None where one is missing."""
    for name in path:
        row = row.get(name) if isinstance(row, Mapping) else getattr(row, name, None)
    return row


def _numeric(value: Any) -> bool:
    """None or a number: what ``format_column`` writes itself."""
    return value is None or (isinstance(value, int | float) and not isinstance(value, bool))


def page_link(label: Any, page_id: Any, folder: str = "") -> Markup:
    """``[label](<folder><page_id>.md)``; only the label, as text, when ``page_id`` does not match the
    run id pattern: no folder, plan or sweep name from data ever becomes a link target."""
    text = inline(label)
    if not isinstance(page_id, str) or len(page_id) > _RUN_ID["maxLength"] or not _PAGE_ID.fullmatch(page_id):
        return Markup(text)
    return Markup(f"[{text}]({folder}{page_id}.md)")


def code_block(text: Any, indent: int = 0, language: str = "text") -> Markup:
    """A fenced code block holding ``text`` verbatim (Markdown escapes code itself).

    The fence is longer than any run of backticks in the text, so the text cannot close it,
    and every line carries the indent, so none leaves the block it sits in.
    """
    body = str(text).replace("\r\n", "\n").replace("\r", "\n").rstrip("\n")  # as Markdown splits lines
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
    fence = "`" * max(3, longest + 1)
    pad = " " * indent
    lines = [f"{pad}{fence}{language}", *(f"{pad}{line}" if line else "" for line in body.split("\n")), f"{pad}{fence}"]
    return Markup("\n".join(lines))


def code_span(value: Any) -> Markup:
    """Inline code holding ``value`` on one line, delimited by more backticks than it contains."""
    text = " ".join(str(value).split())
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    return Markup(f"{fence} {text} {fence}" if text.startswith("`") or text.endswith("`") else f"{fence}{text}{fence}")


def prose(text: Any) -> Markup:
    """Multi-line Markdown a person wrote (notes.md, a plan's goal, hypothesis, decisions, notes).

    Formatting is kept: emphasis, lists, tables, code, links. Shown as text: raw HTML,
    attribute lists, admonition, details and tab markers, setext underlines and rules, fence
    options. Links with a script scheme lose it, Mermaid fences are plain code, headings move
    down two levels, under the page's own; a fence left open is closed, so it cannot swallow
    the page below.
    """
    escaped = str(escape(str(text).replace("\r\n", "\n").replace("\r", "\n").rstrip("\n"))).translate(_BRACES)
    escaped = _PROSE_BLOCK_MARK.sub(lambda m: _entity(m.group(1)), escaped)
    escaped = _PROSE_RULE.sub(lambda m: m.group(1) + _entity(m.group(2)), escaped)
    escaped = _PROSE_HEADING.sub(_demote, escaped)
    escaped = _UNSAFE_LINK.sub(_unsafe_link, escaped)
    lines: list[str] = []
    fence = ""  # the indent and fence of the open code block
    for line in escaped.split("\n"):
        found = _PROSE_FENCE.match(line)
        if found is not None:
            indent, mark, info = found.groups()
            line, fence = _fence_line(indent, mark, info, fence)
        lines.append(line)
    return Markup("\n".join([*lines, fence] if fence else lines))


def _fence_line(indent: str, mark: str, info: str, fence: str) -> tuple[str, str]:
    """A fence line of prose as it is written, and the fence open after it."""
    if fence:
        closes = (indent + mark).startswith(fence) and not info.strip()
        return indent + mark + info, "" if closes else fence
    plain = _PLAIN_INFO.fullmatch(info)
    if plain is None:
        return indent + _entity(mark[0]) + mark[1:] + info, ""
    language = "text" if plain.group(1).lower() == "mermaid" else plain.group(1)
    return indent + mark + language, indent + mark


def _unsafe_link(match: re.Match[str]) -> str:
    """``](javascript:x)`` as ``](unsafe-javascript-x)``: a relative link to nowhere."""
    opening, gap, scheme = match.groups()
    return f"{opening}{gap}unsafe-{re.sub(r'[^a-z]', '', scheme.lower())}-"


def _demote(match: re.Match[str]) -> str:
    prefix, hashes, rest = match.groups()
    return f"{prefix}{'#' * min(len(hashes) + 2, 6)}{rest}{_heading_id(html.unescape(rest))}"


def attribute(value: Any) -> Markup:
    """A value inside a double-quoted HTML attribute: one line, quotes and braces as entities."""
    return Markup(str(escape(" ".join(str(value).split()))).translate(_BRACES))


def comment(value: Any) -> Markup:
    """Text safe inside an HTML comment: one line, and it cannot end the comment early."""
    return Markup(re.sub(r"-(?=-)", "- ", " ".join(str(value).split())).replace(">", "&gt;"))


def mermaid_label(value: Any) -> str:
    """Text inside a quoted Mermaid label (``A["..."]``): one line, every character that could
    end the label or start a directive, a link or markup as a Mermaid entity."""
    return " ".join(str(value).split()).translate(_MERMAID_ENTITIES)


def script_json(text: str) -> Markup:
    """JSON text that stays inside its ``<script>`` element: ``</script>``, ``<!--`` and the
    line separators U+2028/U+2029 are written as JSON escapes, which read back the same."""
    for character in "&<>\u2028\u2029":
        text = text.replace(character, f"\\u{ord(character):04x}")
    return Markup(text)


def page_title(*candidates: str) -> str:
    """The front-matter title of a page: the first candidate made of plain characters."""
    return next((text for text in candidates if _PLAIN_TITLE.fullmatch(text)), "Untitled")


def filesize(size: Any) -> str:
    """Bytes in binary units with 3 significant digits: ``2.59 KiB``."""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{int(value)} B" if unit == "B" else f"{value:.3g} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


FILTERS = {
    "counted": counted,
    "duration": format_duration,
    "differences": differences,
    "heading": heading,
    "cell": cell,
    "inline": inline,
    "number": number,
    "column": column,
    "page_link": page_link,
    "code_block": code_block,
    "code_span": code_span,
    "prose": prose,
    "attribute": attribute,
    "comment": comment,
    "script_json": script_json,
    "filesize": filesize,
}
