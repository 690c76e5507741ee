"""What the site says about what it could not read or render: the problems page and its links,
and the error page that stands in for a page whose rendering raised.

Every path and message here is untrusted data: templates escape it with the filter of its
context (``cell``, ``inline``); anchors are hashes of folder names, so no data ever reaches an attribute.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from rundocs.analyse.phases import unreadable_members
from rundocs.load.plans import Plan
from rundocs.load.problems import Problem
from rundocs.load.records import Unreadable
from rundocs.render.filters import cell, comment

PROBLEMS_PAGE = "problems.md"
_MESSAGE_LENGTH = 300


@dataclass(frozen=True)
class ShownProblem:
    """One line of the problems page; ``anchor`` is set on the first problem of a run folder."""

    path: str
    line: int | None
    message: str
    warning: bool
    anchor: str | None = None


@dataclass(frozen=True)
class PageFailure:
    """A page whose rendering raised: which page, the input it was built from, the error."""

    path: str
    input: str
    error: str


@dataclass(frozen=True)
class Link:
    """A link from a page to one unreadable run folder on the problems page."""

    folder: str
    anchor: str


def anchor(folder: str) -> str:
    """The problems page anchor of a run folder: a hash, so no folder name reaches an attribute."""
    return "run-" + hashlib.sha256(folder.encode("utf-8", "surrogateescape")).hexdigest()[:12]


def shown_run_problems(problems: Iterable[Problem], root: Path, source: str) -> list[ShownProblem]:
    """Run folder problems with paths under ``source`` (the same on every machine), each folder's
    first problem carrying its anchor."""
    shown, seen = [], set()
    for problem in sorted(problems):
        path = shown_path(problem.path, root, source)
        try:
            relative: Path | None = Path(problem.path).relative_to(root)
        except ValueError:
            relative = None
        folder = relative.parts[0] if relative is not None and relative.parts else None
        mark = anchor(folder) if folder is not None and folder not in seen else None
        if folder is not None:
            seen.add(folder)
        shown.append(ShownProblem(path, problem.line, _short(problem.message), problem.warning, mark))
    return shown


def shown_path(path: str, root: Path, source: str) -> str:
    """``path`` under the runs folder's display name (``runs/a/run.json``, ``runs`` for the folder
    itself), the same on every machine; a path elsewhere as it is."""
    try:
        relative = Path(path).relative_to(root)
    except ValueError:
        return path
    return source if relative == Path() else f"{source}/{relative.as_posix()}"


def shown_plan_problems(problems: Iterable[Problem]) -> list[ShownProblem]:
    """Plan file problems with paths as ``plans/<file>``."""
    return [
        ShownProblem(f"{Path(p.path).parent.name}/{Path(p.path).name}", p.line, _short(p.message), p.warning)
        for p in sorted(problems)
    ]


def expected_by_plan(
    plan: Plan, unreadable: Iterable[Unreadable], matches: Callable[[Plan, str], list[str]]
) -> tuple[dict[str, str], list[Link]]:
    """The unreadable run folders a plan expected (``unreadable_members``): planned-row label to
    anchor (for rows with no run; ``matches`` gives the labels a name fits), and every such folder."""
    by_label: dict[str, str] = {}
    links = []
    for item in unreadable_members(plan, unreadable):
        links.append(Link(item.folder, anchor(item.folder)))
        for label in matches(plan, item.name) if item.name else []:
            by_label.setdefault(label, anchor(item.folder))
    return by_label, links


def expected_by_sweep(name: str, unreadable: Iterable[Unreadable]) -> list[Link]:
    """The unreadable run folders that name this sweep."""
    return [Link(u.folder, anchor(u.folder)) for u in sorted(unreadable, key=lambda u: u.folder) if u.sweep == name]


class Isolated:
    """One page rendered in isolation: ``with Isolated(...) as page: page.text = render()``.

    An ``Exception`` inside the block is kept from the other pages: the page becomes an error
    page naming ``what`` it was built from, the failure is recorded, and ``ok`` stays False.
    """

    def __init__(self, pages: dict[str, str], failures: list[PageFailure], path: str, what: str) -> None:
        self.pages, self.failures, self.path, self.what = pages, failures, path, what
        self.ok = False

    @property
    def text(self) -> str:
        return self.pages[self.path]

    @text.setter
    def text(self, value: str) -> None:
        self.pages[self.path] = value
        self.ok = True

    def __enter__(self) -> Isolated:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> bool:
        if not isinstance(error, Exception):
            return False  # no error, or one that must stop the build (KeyboardInterrupt, SystemExit)
        self.ok = False
        fail_page(self.pages, self.failures, self.path, self.what, error)
        return True


def fail_page(pages: dict[str, str], failures: list[PageFailure], path: str, what: str, error: Exception) -> None:
    """Put the error page at ``path`` and record the failure."""
    failure = PageFailure(path, what, _short(f"{type(error).__name__}: {error}"))
    failures.append(failure)
    pages[path] = error_page(failure, depth=path.count("/"))


def error_page(failure: PageFailure, depth: int) -> str:
    """The page that stands in for one that could not be rendered."""
    from rundocs.render.docs_files import GENERATED_MARK

    up = "../" * depth
    return (
        f"{GENERATED_MARK} from {comment(failure.input)}; edits here are overwritten -->\n"
        f"# Page not built\n\n"
        f'!!! failure "This page could not be built"\n\n'
        f"    Built from: {cell(failure.input)}\n\n"
        f"    Error: {cell(failure.error)}\n\n"
        f"The rest of the site was built; every such page is listed on [Problems]({up}{PROBLEMS_PAGE}).\n"
    )


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MESSAGE_LENGTH else text[: _MESSAGE_LENGTH - 3] + "..."
