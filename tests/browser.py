"""Built sites read back: a headless Chromium that records dialogs, and an audit of the HTML."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
#: Script schemes a browser runs from a link or source; tabs, newlines and controls may hide them.
_SCHEMES = "|".join(r"\s*".join(scheme) for scheme in ("javascript", "vbscript", "data"))
SCRIPT_URL = re.compile(rf"^[\x00-\x20]*(?:{_SCHEMES})\s*:", re.IGNORECASE)
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "poster", "background"}
#: What hostile test data puts in a style (a handler, a 90px font) or a link (a phishing host):
#: an element whose style or link holds one was made by data.
DATA_STYLES = ("alert", "90px")
DATA_HOST = "evil.example"
#: Dispatched to every element but plotly's own (thousands, with costly handlers): a handler
#: that came from data would run and open a dialog.
POKE_ELEMENTS = """() => {
  const kinds = ["mouseover", "mouseenter", "pointerover", "mousedown", "mouseup", "focusin", "keydown"];
  for (const element of document.querySelectorAll("body *:not(.rd-figure *)")) {
    for (const kind of kinds) element.dispatchEvent(new Event(kind, {bubbles: true}));
    if (!element.closest("a, label, button, input, summary")) element.dispatchEvent(new MouseEvent("click"));
    if (element.focus) element.focus();
  }
}"""


@contextmanager
def chromium_page() -> Iterator[tuple[Any, list[str]]]:
    """A page of a headless Chromium and the messages of every dialog it opened (dismissed)."""
    if not CHROMIUM.exists():
        pytest.skip("needs Debian's chromium at /usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            dialogs: list[str] = []
            page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
            yield page, dialogs
        finally:
            browser.close()


class Audit(HTMLParser):
    """Everything in one HTML page that data must never produce, as readable findings."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.findings: list[str] = []
        self.ids: list[str] = []
        self.tags: list[tuple[str, dict[str, str]]] = []
        self._script: dict[str, str] | None = None
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        self.tags.append((tag, attributes))
        for name, value in attributes.items():
            if name.startswith("on") or name in ("autofocus", "srcdoc", "formaction"):
                self.findings.append(f"<{tag} {name}={value!r}>")
            if name in URL_ATTRIBUTES and (SCRIPT_URL.match(value) or DATA_HOST in value):
                self.findings.append(f"<{tag} {name}={value!r}>")
            if name == "style" and any(marker in value for marker in DATA_STYLES):
                self.findings.append(f"<{tag} style={value!r}>")
        if "id" in attributes:
            self.ids.append(attributes["id"])
        if tag == "script":
            self._script, self._text = attributes, ""

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        if tag != "script" or self._script is None:
            return
        if self._script.get("type") == "application/json":
            try:
                json.loads(self._text)
            except ValueError:
                self.findings.append(f"<script type=application/json> is not JSON: {self._text[:80]!r}")
        elif "alert" in self._text:
            self.findings.append(f"<script {self._script}> holds {self._text[:80]!r}")
        self._script = None


def audit_html(text: str) -> Audit:
    """The audit of one page; ``findings`` also lists ids used twice."""
    audit = Audit()
    audit.feed(text)
    audit.findings += [f"id {name!r} twice" for name in sorted({i for i in audit.ids if audit.ids.count(i) > 1})]
    return audit
