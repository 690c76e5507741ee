"""Each escaping function holds in its own context, rendered by Python-Markdown with exactly the
extensions of the shipped mkdocs.yml: every hostile string stays text, and nothing starts a block."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import markdown
import pytest
from mkdocs.config import load_config

from rundocs.render.filters import (
    cell,
    code_block,
    code_span,
    comment,
    heading,
    inline,
    mermaid_label,
    page_link,
    prose,
    script_json,
)
from tests.browser import audit_html
from tests.security.hostile import STRINGS

ROOT = Path(__file__).resolve().parents[2]
#: Each context: how a template places the escaped value, and the only elements it may then hold.
TABLE = ["table", "thead", "tr", "th", "tbody", "tr", "td"]
CONTEXTS: dict[str, tuple[Callable[[str], str], list[str] | None]] = {
    "heading": (lambda s: f"# {heading(s)}\n", ["h1", "a"]),
    "cell": (lambda s: f"| a |\n|---|\n| {cell(s)} |\n", TABLE),
    "inline in a list": (lambda s: f"- {inline(s)}\n", ["ul", "li"]),
    "inline in a paragraph": (lambda s: f"**A** {inline(s)} z\n", ["p", "strong"]),
    "admonition title": (lambda s: f'!!! note "{inline(s)}"\n', ["div", "p"]),
    "code span in a cell": (lambda s: f"| a |\n|---|\n| {code_span(s)} |\n", [*TABLE, "code"]),
    "code block in an admonition": (lambda s: f'!!! note "t"\n\n{code_block(s, 4)}\n\nafter\n', None),
}  # fmt: skip


#: Classes of the elements prose may make: its code blocks and headings, and the template's admonition.
PROSE_CLASSES = {"admonition", "note", "admonition-title", "highlight", "headerlink", "language-text", "language-py"}
NOT_RUN_IDS = ["javascript:alert(1)", "../up", "/etc/passwd", "a b", "<b>", ".hidden", "-x", "x\n", "", "a" * 201]


@pytest.fixture(scope="module")
def render() -> Callable[[str], str]:
    config = load_config(str(ROOT / "mkdocs.yml"))
    converter = markdown.Markdown(extensions=config["markdown_extensions"], extension_configs=config["mdx_configs"])
    return lambda text: converter.reset().convert(text)


@pytest.mark.parametrize("context", CONTEXTS)
@pytest.mark.parametrize("text", STRINGS, ids=range(len(STRINGS)))
def test_a_one_line_context_holds_only_its_own_elements(render: Callable[[str], str], context: str, text: str) -> None:
    place, expected = CONTEXTS[context]
    audit = audit_html(render(place(text)))
    assert audit.findings == []
    tags = [tag for tag, _ in audit.tags]
    if expected is None:  # a code block: the admonition, its fence and the paragraph after it
        assert tags.count("pre") == 1 and tags.count("p") == 2
        assert {"h1", "h3", "li", "b", "i", "script"}.isdisjoint(tags)
    else:
        assert [t for t in tags if t != "a" or "a" in expected] == expected, tags


@pytest.mark.parametrize("text", STRINGS, ids=range(len(STRINGS)))
def test_prose_keeps_markdown_but_no_markup_class_or_script_link(render: Callable[[str], str], text: str) -> None:
    for placed in (f"**Goal.** {prose(text)}\n\n## After\n", "!!! note\n\n    " + prose(text).replace("\n", "\n    ")):
        audit = audit_html(render(placed))
        assert audit.findings == []
        tags = [tag for tag, _ in audit.tags]
        assert {"h1", "details", "img", "script", "b", "i", "input", "label"}.isdisjoint(tags) and tags.count("h2") <= 1
        classes = {c for _, a in audit.tags for c in a.get("class", "").split()}
        assert classes <= PROSE_CLASSES
        assert [i for i in audit.ids if i.startswith("_")] == []


def test_prose_closes_a_fence_it_opened() -> None:
    assert prose("```\ncode").endswith("\n```")
    assert prose("  ~~~~py\ncode\n  ~~~").endswith("~~~")  # closed by the text: nothing added
    assert prose("```py {.x onclick=alert(1)}\ncode").startswith("&#96;``py")  # options: not a fence


@pytest.mark.parametrize("target", NOT_RUN_IDS)
def test_only_a_run_id_becomes_a_link_target(render: Callable[[str], str], target: str) -> None:
    assert "<a" not in render(f"x {page_link('name', target, '../runs/')}")
    assert '<a href="../runs/lr3e-4_s1.md">name</a>' in render(f"x {page_link('name', 'lr3e-4_s1', '../runs/')}")


def test_a_heading_never_takes_an_id_of_the_theme(render: Callable[[str], str]) -> None:
    for text in ("__search", "#__drawer", "  __toc", "＿_config", "Results"):
        ids = audit_html(render(f"# {heading(text)}\n\n{prose('# ' + text)}")).ids
        assert [i for i in ids if i.startswith("_")] == [], text


def test_script_json_cannot_leave_its_script_element() -> None:
    value = {"name": "</script><script>alert(1)</script> <!-- \u2028\u2029 &"}
    written = script_json(json.dumps(value))
    assert re.search("[<>&\u2028\u2029]", written) is None
    assert json.loads(written) == value


def test_a_mermaid_label_cannot_end_itself_or_start_a_directive() -> None:
    for text in STRINGS:
        label = mermaid_label(text)
        assert re.search(r'["<>\[\]{}|`\n\r\u2028]', label) is None, label
        assert "%%{" not in label


def test_a_comment_cannot_be_ended_by_data() -> None:
    written = comment("x --> <script>alert(1)</script> --!> ---\n\nx")
    assert "-->" not in written and "--!" not in written and ">" not in written and "\n" not in written
