"""``rundocs serve``: MkDocs' development server, with the pages generated again as runs train.

MkDocs' own server (``mkdocs.commands.serve.serve``) builds the site, serves it, and rebuilds
it and reloads the browser whenever a file in ``docs/`` changes. Beside it, a thread looks at
the runs, plans and templates every ``interval`` seconds and, once they have stopped changing
for one look, runs the generation of ``rundocs build`` (with its cache, so only what changed is
read and rendered). That rewrites only the pages whose bytes changed, so MkDocs rebuilds only
then. A look reads no file: one ``scandir`` per folder and a ``stat`` of each file the pages
are made from (in a run folder: ``run.json``, ``metrics.jsonl``, ``notes.md``).

When ``mkdocs.yml`` lists the ``rundocs`` plugin, the plugin already generates the pages at
every MkDocs build and has the server watch the same folders: then no thread is started, so
the pages are not generated twice.
"""

from __future__ import annotations

import errno
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from rundocs.exceptions import RundocsError
from rundocs.formatting import counted
from rundocs.load.cache import Signature, get_signature
from rundocs.render.pages import SiteOptions
from rundocs.site.generate import Project, build_project
from rundocs.site.mkdocs_config import uses_rundocs_plugin

log = logging.getLogger(__name__)

#: While the inputs keep changing (a fast training loop), generate anyway this long after the
#: first change not yet shown.
LONGEST_WAIT = 5.0
#: Generate at least this often even when nothing changed: a run that stops writing turns
#: stalled, and a running run's elapsed time moves on.
REFRESH_EVERY = 60.0

#: What a look saw: the stats of each file that pages are made from, by path.
Snapshot = dict[str, Signature]


def serve_site(project: Project, options: SiteOptions, *, config_file: Path, dev_addr: str, interval: float) -> None:
    """Generate the pages, then serve the site on ``dev_addr`` until Ctrl-C, generating them again
    whenever the runs, plans or templates change.

    Raises:
        RundocsError: When the first generation fails (an unusable setting, a docs folder that
            cannot be written), or ``dev_addr`` is taken; later failures are logged and the
            server goes on.
    """
    if uses_rundocs_plugin(config_file):
        log.info("rundocs: %s lists the rundocs plugin: it generates the pages at every MkDocs build, "
                 "with the plugin's options", config_file.as_posix())  # fmt: skip
        _serve_mkdocs(config_file, dev_addr)
        return
    shown: set[str] = set()

    def look() -> Snapshot:
        return take_snapshot(project, options.templates)

    def generate() -> None:
        _generate_logged(project, options, shown)

    seen = look()  # before the first generation: a change during it is generated again
    generate_pages(project, options, shown)
    stop = threading.Event()
    watcher = threading.Thread(target=watch_inputs, args=(look, generate, seen, stop, interval), name="rundocs-watch")
    watcher.start()
    try:
        _serve_mkdocs(config_file, dev_addr)
    finally:
        stop.set()
        watcher.join()  # lets a generation under way finish: each page is replaced whole anyway


def _serve_mkdocs(config_file: Path, dev_addr: str) -> None:
    """MkDocs' development server with live reload, until Ctrl-C.

    Raises:
        RundocsError: When ``dev_addr`` is taken or not an address of this machine.
    """
    from mkdocs.commands.serve import serve

    try:
        serve(config_file=str(config_file), livereload=True, dev_addr=dev_addr)
    except OSError as error:
        if error.errno not in (errno.EADDRINUSE, errno.EADDRNOTAVAIL):
            raise
        raise RundocsError(f"cannot serve on {dev_addr}: {error.strerror}") from error


def take_snapshot(project: Project, templates: Path | None) -> Snapshot:
    """The stats of every file the pages are made from (hidden entries left out, as the loader does)."""
    found: Snapshot = {}
    for entry in _entries(project.runs):
        if entry.is_dir():
            found[entry.path] = get_signature(entry.path)
    for folder in (project.plans, templates):
        if folder is not None:
            _add_tree(folder, found)
    return found


def _add_tree(folder: str | Path, found: Snapshot) -> None:
    for entry in _entries(folder):
        if entry.is_dir(follow_symlinks=False):
            _add_tree(entry.path, found)
        else:
            try:
                stat = entry.stat(follow_symlinks=False)
            except OSError:  # removed since the scandir
                continue
            found[entry.path] = ((stat.st_mtime_ns, stat.st_size),)


def _entries(folder: str | Path) -> list[os.DirEntry[str]]:
    """The entries of ``folder`` that are not hidden; none when it is missing or not a folder."""
    try:
        with os.scandir(folder) as entries:
            return [entry for entry in entries if not entry.name.startswith(".")]
    except OSError:
        return []


def watch_inputs(
    look: Callable[[], Snapshot], generate: Callable[[], None], seen: Snapshot, stop: threading.Event, interval: float
) -> None:
    """Call ``look`` every ``interval`` seconds until ``stop`` is set, and ``generate`` once what it
    sees differs from ``seen`` and then stays the same for one look (at the latest ``LONGEST_WAIT``
    seconds after the first change), and every ``REFRESH_EVERY`` seconds in any case."""
    first_change: float | None = None
    generated = time.monotonic()
    while not stop.wait(interval):
        now, current = time.monotonic(), look()
        if current != seen:
            seen = current
            first_change = now if first_change is None else first_change
            if now - first_change < LONGEST_WAIT:
                continue
        elif first_change is None and now - generated < REFRESH_EVERY:
            continue
        generate()
        first_change, generated = None, time.monotonic()


def generate_pages(project: Project, options: SiteOptions, shown: set[str]) -> None:
    """Generate and write the pages (as ``rundocs build`` does); log one line per problem not in
    ``shown`` (the problems logged last time, replaced by this time's), and one on what changed
    (when nothing did, only at debug level: the refresh once a minute would repeat it).

    Raises:
        RundocsError: When nothing could be generated.
    """
    generation, report = build_project(project, options)
    runs, plans = generation.runs, generation.plans
    problems = [str(problem) for problem in [*runs.problems, *plans.problems]]
    problems += [f"page not built: {f.path}: {f.input}: {f.error}" for f in generation.site.failures]
    new = [problem for problem in problems if problem not in shown]
    for problem in new:
        log.warning("rundocs: %s", problem)
    shown.clear()
    shown.update(problems)
    changed = [*report.written, *(f"{path} (removed)" for path in report.removed)]
    log.log(
        logging.INFO if changed or new else logging.DEBUG,
        "rundocs: %s changed%s; %s, %s",
        counted(len(changed), "page"),
        f" ({', '.join(changed[:5])}{', ...' if len(changed) > 5 else ''})" if changed else "",
        counted(len(runs.records), "run"), counted(len(problems), "problem"),
    )  # fmt: skip


def _generate_logged(project: Project, options: SiteOptions, shown: set[str]) -> None:
    """``generate_pages``, with any failure logged instead of raised: the server goes on, and the
    next change generates again."""
    try:
        generate_pages(project, options, shown)
    except RundocsError as error:
        log.error("rundocs: %s", error)
    except Exception:  # a bug in one generation must not stop the server; its traceback is kept to report
        log.exception("rundocs: the pages could not be generated")
