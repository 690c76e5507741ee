"""Generated Markdown into HTML as the shipped ``mkdocs.yml`` renders it, and what that HTML holds."""

from __future__ import annotations

import importlib
import json
import re
from dataclasses import dataclass, field
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import markdown
import yaml

MKDOCS_YML = Path(__file__).resolve().parents[2] / "mkdocs.yml"
_FRONT_MATTER = re.compile(r"\A-{3}[ \t]*\n(.*?\n)(?:\.{3}|-{3})[ \t]*\n", re.DOTALL)

#: Elements and attributes the templates and the Markdown extensions emit; anything else came from data.
TAGS = frozenset(
    {"a", "blockquote", "br", "code", "details", "div", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "input"}
    | {"label", "li", "ol", "p", "pre", "script", "span", "strong", "summary", "table", "tbody", "td", "th"}
    | {"thead", "tr", "ul"}
)
ATTRIBUTES = frozenset({"class", "id", "href", "title", "type", "checked", "name", "for", "style", "data-tabs"})
_STYLES = re.compile(r"text-align: (left|right|center);")
_SCHEME = re.compile(r"^\s*(javascript|vbscript|data)\s*:", re.IGNORECASE)


class _ConfigLoader(yaml.SafeLoader):
    """Our own mkdocs.yml is trusted: ``!!python/name:`` tags import what they name."""


def _python_name(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    module, _, name = suffix.rpartition(".")
    return getattr(importlib.import_module(module), name)


_ConfigLoader.add_multi_constructor("tag:yaml.org,2002:python/name:", _python_name)


@cache
def _extensions() -> tuple[list[str], dict[str, Any]]:
    config = yaml.load(MKDOCS_YML.read_text("utf-8"), Loader=_ConfigLoader)
    names, configs = [], {}
    for item in config["markdown_extensions"]:
        name, options = next(iter(item.items())) if isinstance(item, dict) else (item, None)
        names.append(name)
        if options:
            configs[name] = options
    return names, configs


def to_html(page: str) -> str:
    """One generated page as MkDocs turns it into HTML (front matter cut off, the shipped extensions)."""
    names, configs = _extensions()
    return markdown.markdown(_FRONT_MATTER.sub("", page, count=1), extensions=names, extension_configs=configs)


@dataclass
class Scan:
    """Every element with its attributes, the visible text, each h1's text and the JSON of each script."""

    elements: list[tuple[str, list[tuple[str, str | None]]]] = field(default_factory=list)
    text: list[str] = field(default_factory=list)
    headings: list[str] = field(default_factory=list)
    scripts: list[str] = field(default_factory=list)

    def offences(self) -> list[str]:
        """Elements and attributes that the templates never emit: they came from data."""
        found = []
        for tag, attributes in self.elements:
            if tag not in TAGS:
                found.append(f"element <{tag}>")
            for name, value in attributes:
                if name.startswith("on") or name not in ATTRIBUTES:
                    found.append(f"attribute {name}={value!r} on <{tag}>")
                elif name in ("href", "src") and value and _SCHEME.match(value):
                    found.append(f"script link {name}={value!r} on <{tag}>")
                elif name == "style" and value is not None and not _STYLES.fullmatch(value):
                    found.append(f"style={value!r} on <{tag}>")
            if tag == "script" and dict(attributes).get("type") != "application/json":
                found.append(f"<script> of type {dict(attributes).get('type')!r}")
        for body in self.scripts:
            try:
                json.loads(body)
            except ValueError:
                found.append(f"<script> body is not JSON: {body[:80]!r}")
        return found


class _Scanner(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.scan = Scan()
        self._stack: list[str] = []
        self._heading: list[str] | None = None
        self._script: list[str] | None = None
        self._anchor = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.scan.elements.append((tag, attrs))
        if tag == "h1":
            self._heading = []
        elif tag == "script":
            self._script = []
        elif tag == "a" and ("class", "headerlink") in attrs:
            self._anchor = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "h1" and self._heading is not None:
            self.scan.headings.append("".join(self._heading))
            self._heading = None
        elif tag == "script" and self._script is not None:
            self.scan.scripts.append("".join(self._script))
            self._script = None
        elif tag == "a":
            self._anchor = False

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self._script.append(data)
            return
        if self._anchor:
            return
        self.scan.text.append(data)
        if self._heading is not None:
            self._heading.append(data)


def scan(html: str) -> Scan:
    scanner = _Scanner()
    scanner.feed(html)
    scanner.close()
    return scanner.scan


def plain(text: str) -> str:
    """Whitespace collapsed, as a table cell or heading shows text."""
    return " ".join(text.split())
