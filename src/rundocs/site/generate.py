"""One generation of a project's pages, the same for ``rundocs build/check`` and the MkDocs plugin.

Loading runs, plans and the last build's manifest, rendering, and (for ``build``) writing the
changed files and the new manifest. ``benchmarks/build.py`` times the ``rundocs build`` command.
"""

from __future__ import annotations

import gc
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from rundocs import env
from rundocs.exceptions import SettingError
from rundocs.load.plans import load_plans
from rundocs.load.runs import Runs, load_runs
from rundocs.render.manifest import read_manifest, write_manifest
from rundocs.render.pages import BuildReport, PlanSet, RenderedSite, SiteOptions, render_site, write_site


@dataclass(frozen=True)
class Project:
    """Where a project keeps its runs (a folder, or a store's URL), plans and docs; ``cache`` None
    reads and renders everything (a store is still mirrored, into ``.rundocs-cache``)."""

    runs: Path | str
    plans: Path
    docs: Path
    cache: Path | None


@dataclass
class Generation:
    runs: Runs
    plans: PlanSet
    site: RenderedSite


def own_cache(cache: Path | None) -> Path | None:
    """The cache folder, or None (no cache) when something other than a folder is there: a
    symlink committed in its place must not send the cache's writes outside the project."""
    if cache is None:
        return None
    try:
        mode = os.lstat(cache).st_mode
    except FileNotFoundError:
        return cache
    except OSError:
        return None
    return cache if stat.S_ISDIR(mode) else None


def render_project(project: Project, options: SiteOptions) -> Generation:
    """Every generated file of the project, rendered (run pages unchanged since the cached build are kept)."""
    with _collector_paused():
        return _render(project, options)


def build_project(project: Project, options: SiteOptions, *, force: bool = False) -> tuple[Generation, BuildReport]:
    """Render, write the changed files into ``docs`` and remember the pages in the cache (``rundocs build``);
    ``force`` replaces entries in ``docs`` that rundocs did not create (see ``write_site``)."""
    with _collector_paused():
        generation = _render(project, options)
        report = write_site(generation.site, project.docs, force=force)
        cache = own_cache(project.cache)
        if cache is not None:
            write_manifest(cache, generation.site.manifest, generation.site.files)
    return generation, report


def _render(project: Project, options: SiteOptions) -> Generation:
    cache = own_cache(project.cache)
    runs = load_runs(project.runs, now=reproducible_now(), cache_dir=cache)
    plans = PlanSet(*load_plans(project.plans))
    site = render_site(runs, options, project.docs, read_manifest(cache), plans)
    return Generation(runs, plans, site)


def reproducible_now() -> datetime | None:
    """``SOURCE_DATE_EPOCH`` when set, so that a build at another time gives the same pages.

    Raises:
        SettingError: When the variable is set to something other than whole seconds.
    """
    value = os.environ.get(env.SOURCE_DATE_EPOCH)
    if not value:
        return None
    try:
        return datetime.fromtimestamp(int(value), UTC)
    except (ValueError, OverflowError, OSError) as error:  # not a number, or past what a date can hold
        raise SettingError(
            f"{env.SOURCE_DATE_EPOCH} must be whole seconds since 1970, up to year 9999, got {value!r}"
        ) from error


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector.

    A generation allocates hundreds of thousands of small objects that hold no reference
    cycles (records, cache entries, frame rows); the collector would walk all of them again at
    every threshold for nothing, which measured as about a third of a rebuild after one run
    changed. Reference counting still frees everything; the collector resumes afterwards (and
    its first pass then walks the survivors once).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
