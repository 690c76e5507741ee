"""One generation of a written project, in a forked process under a time bound, with what the pages received.

The page models are recorded as the real renderer builds them (the functions are wrapped, not
replaced): what ``rundocs`` computed is read where the templates read it. This is the one
place that knows rundocs' internal names; the properties only see ``Build``.
"""

from __future__ import annotations

import faulthandler
import multiprocessing
import os
import sys
import tempfile
import traceback
import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, cast

from rundocs.exceptions import RundocsError
from rundocs.render import pages
from rundocs.render.pages import SiteOptions
from rundocs.site.generate import Project, build_project, render_project
from tests.oracle.html import Scan, scan, to_html
from tests.oracle.projects import NOW, ProjectSpec, write_project

#: Seconds one generation (and its HTML) may take; a small project takes a tenth of a second.
TIME_BOUND = float(os.environ.get("RUNDOCS_ORACLE_TIME_BOUND", "5"))
_SPIED = ("make_log_entry", "make_run_page", "make_phase_page", "make_sweep_page")


@dataclass
class Build:
    """What one generation produced; ``error`` is the traceback when it raised or ran past the bound."""

    root: Path
    error: str | None = None
    refused: bool = False  # the error is one of rundocs' own (a clear refusal, not a crash)
    pages: dict[str, str] = field(default_factory=dict)
    scans: dict[str, Scan] = field(default_factory=dict)
    models: dict[str, list[Any]] = field(default_factory=dict)

    def text(self) -> str:
        """The visible text of every page, whitespace collapsed."""
        return " ".join(" ".join(" ".join(s.text).split()) for s in self.scans.values())

    @property
    def entries(self) -> dict[str, Any]:
        return {entry.id: entry for entry in self.models.get("make_log_entry", [])}

    @property
    def run_pages(self) -> dict[str, Any]:
        return {page.entry.id: page for page in self.models.get("make_run_page", [])}

    @property
    def phase_pages(self) -> dict[str, Any]:
        return {page.report.plan.id: page for page in self.models.get("make_phase_page", [])}

    @property
    def sweep_pages(self) -> dict[str, Any]:
        return {page.report.name: page for page in self.models.get("make_sweep_page", [])}


@contextmanager
def recording(models: dict[str, list[Any]]) -> Iterator[None]:
    """Wrap the page-model builders of ``rundocs.render.pages`` so each result is also kept."""
    originals = {name: getattr(pages, name) for name in _SPIED}

    def keep(name: str, real: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            result = real(*args, **kwargs)
            models.setdefault(name, []).append(result)
            return result

        return wrapper

    for name, real in originals.items():
        setattr(pages, name, keep(name, real))
    try:
        yield
    finally:
        for name, real in originals.items():
            setattr(pages, name, real)


def generate(root: Path, *, write: bool = False) -> Build:
    """Render the project under ``root`` (runs/, plans/) and every page into HTML, in a forked
    process given ``TIME_BOUND`` seconds (then killed: a hang, or memory growing without end,
    stays there); ``write`` also writes the pages into ``root/docs`` as ``rundocs build`` does."""
    _warm_up()
    context = multiprocessing.get_context("fork")
    reader, writer = context.Pipe(duplex=False)
    stacks = root / "oracle-stacks.txt"
    child = context.Process(target=_generate_and_send, args=(root, write, writer, stacks), daemon=True)
    child.start()
    writer.close()
    try:
        if reader.poll(TIME_BOUND):
            return cast(Build, reader.recv())
        child.join(1.0)  # it writes where it is after TIME_BOUND - 0.5 s
        where = stacks.read_text().partition("tests/oracle/observe.py")[0] if stacks.exists() else ""
        return Build(root, error=f"the generation ran past its time bound of {TIME_BOUND:g} s, in:\n{where}")
    except EOFError:
        return Build(root, error=f"the generation process died (exit code {child.exitcode})")
    finally:
        reader.close()
        if child.is_alive():
            child.kill()
        child.join()


def _generate_and_send(root: Path, write: bool, connection: Connection, stacks: Path) -> None:
    sys.settrace(None)  # hypothesis traces coverage while it explains a failure: not the build's time
    build = Build(root)
    where = stacks.open("w")
    faulthandler.dump_traceback_later(TIME_BOUND - 0.5, file=where)
    os.environ["SOURCE_DATE_EPOCH"] = str(int(NOW.timestamp()))
    try:
        with recording(build.models), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # warnings are not failures here (pytest makes them errors)
            project = Project(root / "runs", root / "plans", root / "docs", None)
            generation = build_project(project, SiteOptions())[0] if write else render_project(project, SiteOptions())
            build.pages = {p: b.decode() for p, b in generation.site.files.items() if p.endswith(".md")}
            build.scans = {path: scan(to_html(text)) for path, text in build.pages.items()}
    except Exception as error:  # the property that every build finishes reports it
        build.error = traceback.format_exc(limit=-8)
        build.refused = isinstance(error, RundocsError)
    faulthandler.cancel_dump_traceback_later()
    connection.send(build)
    connection.close()


_warm: list[bool] = []


def _warm_up() -> None:
    """One untimed generation per process first: imports and first compiles are not the project's cost."""
    if not _warm:
        _warm.append(True)
        with tempfile.TemporaryDirectory(prefix="rundocs-oracle-warm-") as folder:
            write_project(Path(folder), ProjectSpec([]))
            root = Path(folder)
            with recording({}):
                render_project(Project(root / "runs", root / "plans", root / "docs", None), SiteOptions())
            scan(to_html("# warm\n\n| a |\n|---|\n| b |\n"))


_BUILDS: OrderedDict[str, tuple[Build, tempfile.TemporaryDirectory[str]]] = OrderedDict()
_KEEP = 64


def build_of(project: ProjectSpec) -> Build:
    """The generation of a project, shared by the properties (each example is built once)."""
    key = repr(project)
    if key in _BUILDS:
        _BUILDS.move_to_end(key)
        return _BUILDS[key][0]
    folder = tempfile.TemporaryDirectory(prefix="rundocs-oracle-")
    root = Path(folder.name)
    write_project(root, project)
    build = generate(root)
    _BUILDS[key] = (build, folder)
    while len(_BUILDS) > _KEEP:
        _, (_, old) = _BUILDS.popitem(last=False)
        old.cleanup()
    return build
