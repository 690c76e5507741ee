"""An optional MkDocs plugin: regenerate the pages on every build and on ``mkdocs serve``.

The generated pages are plain Markdown files that ``rundocs build`` writes without MkDocs;
this plugin only runs the same build before MkDocs reads ``docs/`` and makes ``mkdocs
serve`` watch the runs, plans and templates. Problems in the runs folder are logged as warnings,
so ``mkdocs build --strict`` fails on them while a normal build still produces the site.
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path
from typing import Any

from mkdocs.config import base
from mkdocs.config import config_options as c
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, event_priority
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page

from rundocs.env import DEFAULT_CACHE
from rundocs.exceptions import RundocsError
from rundocs.formatting import counted
from rundocs.safe_files import trust_symlinks
from rundocs.site.change_watch import ChangeWatch
from rundocs.site.html_cache import HtmlCache

log = logging.getLogger(f"mkdocs.plugins.{__name__}")


class RundocsPluginConfig(base.Config):
    runs = c.Type(str, default="runs")
    """Runs folder, relative to mkdocs.yml."""
    plans = c.Type(str, default="plans")
    """Phase plans folder, relative to mkdocs.yml."""
    templates = c.Type(str, default="templates")
    """Project templates that override the packaged ones, relative to mkdocs.yml."""
    title = c.Optional(c.Type(str))
    """Home page title; defaults to ``site_name``."""
    directions = c.Type(dict, default={})
    """Which way is better for metrics whose names do not say: ``{hierarchy: min}``."""
    cache = c.Type(str, default=DEFAULT_CACHE)
    """Parsed runs and the page manifest, relative to mkdocs.yml: rebuilds redo only what changed."""
    reuse_html = c.Type(bool, default=True)
    """Keep the HTML of generated pages outside the nav in the cache, and reuse it while the page
    and the site's settings are unchanged (see ``rundocs.site.html_cache``)."""


#: Markdown extensions the generated pages use beyond MkDocs' own (toc, tables, fenced_code):
#: warnings and notes, heading ids and the tabs of sweep pages. Without them a page shows their
#: syntax as text (``=== "Best run"``), so a config that lacks one is a warning (``--strict`` fails).
REQUIRED_EXTENSIONS = ("admonition", "attr_list", "md_in_html", "pymdownx.details", "pymdownx.tabbed")
#: The stylesheet (badges, figures) and the script (plotly, Mermaid) the pages need.
ASSET_CSS = "assets/rundocs/rundocs.css"
ASSET_JS = "assets/rundocs/rundocs.js"


class RundocsPlugin(BasePlugin[RundocsPluginConfig]):
    def __init__(self) -> None:
        self._watch: ChangeWatch | None = None
        self._cache: Path | None = None
        self._html: HtmlCache | None = None
        self._generated: set[str] = set()
        self._files: Files | None = None

    def on_config(self, config: MkDocsConfig) -> MkDocsConfig:
        """Wire in the assets the generated pages need, and warn about what only the config can
        fix: a missing Markdown extension, or web fonts on a site meant to be read offline."""
        missing = [name for name in REQUIRED_EXTENSIONS if name not in config.markdown_extensions]
        if missing:
            lines = "".join(f"\n  - {name}" for name in missing)
            log.warning("rundocs: the generated pages need these Markdown extensions; add to mkdocs.yml:"
                        "\nmarkdown_extensions:%s", lines)  # fmt: skip
        if ASSET_CSS not in [str(item) for item in config.extra_css]:
            config.extra_css.append(ASSET_CSS)
        if ASSET_JS not in [str(item) for item in config.extra_javascript]:
            config.extra_javascript.append(ASSET_JS)
        if config.theme.name == "material" and config.theme.get("font") is not False:
            log.info(
                "rundocs: the theme loads web fonts from Google; add 'font: false' under 'theme:' to build offline"
            )
        return config

    def on_pre_build(self, *, config: MkDocsConfig) -> None:
        from rundocs.render.pages import SiteOptions
        from rundocs.site.generate import Project, build_project, own_cache
        from rundocs.store.locations import is_url

        root = Path(config.config_file_path or ".").resolve().parent
        wrong = {k: v for k, v in self.config.directions.items() if v not in ("min", "max")}
        if wrong:
            raise PluginError(f"rundocs: directions must be min or max, got {wrong!r}")
        location = self.config.runs if is_url(self.config.runs) else root / self.config.runs  # s3://... stays a URL
        project = Project(location, root / self.config.plans, Path(config.docs_dir), root / self.config.cache)
        options = SiteOptions(
            # "./runs" reads as "runs", as in the command
            source=self.config.runs if is_url(self.config.runs) else Path(self.config.runs).as_posix(),
            title=self.config.title or config.site_name,
            templates=root / self.config.templates,
            directions=self.config.directions,
        )
        try:
            with self._watch.generating() if self._watch is not None else contextlib.nullcontext():
                generation, report = build_project(project, options)
                if self._watch is not None:
                    self._watch.wrote(report.written, report.removed)
        except RundocsError as error:
            raise PluginError(str(error)) from error
        self._generated = {path for path in generation.site.paths() if path.endswith(".md")}
        self._cache = own_cache(project.cache)
        reuse = self._cache is not None and self.config.reuse_html
        self._html = HtmlCache(self._cache / "site") if reuse and self._cache is not None else None
        runs, plans = generation.runs, generation.plans
        for problem in [*runs.problems, *plans.problems]:
            log.warning("%s", problem)
        log.info(
            "%s written, %d unchanged, %d removed from %s",
            counted(len(report.written), "page"), len(report.unchanged), len(report.removed),
            counted(len(runs.records), "run"),
        )  # fmt: skip

    def on_files(self, files: Files, *, config: MkDocsConfig) -> Files:
        self._files = files
        if self._html is not None:
            self._html.start(files, config, self._generated)
        return files

    def on_env(self, env: Any, *, config: MkDocsConfig, files: Files) -> Any:
        from rundocs.render.environment import share_compiled_templates

        share_compiled_templates(env)  # mkdocs serve: the theme compiled once, not at every build
        if self._html is not None:
            self._html.add_pages(files, config)
        return env

    def on_template_context(self, context: Any, *, template_name: str, config: MkDocsConfig) -> Any:
        if self._html is not None and self._files is not None and template_name == "sitemap.xml":
            context["pages"] = self._html.listed_pages(self._files)
        return context

    def on_post_page(self, output: str, *, page: Page, config: MkDocsConfig) -> str:
        if self._html is not None:
            self._html.page_built(page, output, _search_index(config))
        return output

    @event_priority(50)  # before the search plugin writes its index
    def on_post_build(self, *, config: MkDocsConfig) -> None:
        if self._html is not None and self._files is not None:
            self._html.finish(self._files, config, _search_index(config))

    def on_build_error(self, *, error: Exception) -> None:
        if self._html is not None:
            self._html.stop()

    def on_startup(self, *, command: str, dirty: bool) -> None:
        """Defined so that MkDocs keeps this one instance for every build of ``mkdocs serve``."""

    def on_serve(self, server: Any, *, config: MkDocsConfig, builder: Any) -> Any:
        """Have the server build again when runs, plans, templates or ``docs/`` change, through
        inotify where it can (``rundocs.site.change_watch``), else by the server's polling."""
        root = Path(config.config_file_path or ".").resolve().parent
        folders = [
            root / f for f in (self.config.runs, self.config.plans, self.config.templates) if (root / f).is_dir()
        ]
        if self._cache is not None and not trust_symlinks():  # inotify does not follow a linked run folder
            watch = ChangeWatch(Path(config.docs_dir), folders, self._cache / "serve" / "changed")
            if watch.start():
                server.unwatch(config.docs_dir)  # its polling saw the pages written at each build as a change
                server.watch(str(watch.signal.parent))
                self._watch = watch
                return server
        for folder in folders:
            server.watch(str(folder))
        return server

    def on_shutdown(self) -> None:
        if self._watch is not None:
            self._watch.stop()
            self._watch = None


def _search_index(config: MkDocsConfig) -> Any:
    """Material's search index of this build (its ``entries``), or None without the search plugin."""
    search = config.plugins.get("material/search")
    return getattr(search, "search_index", None)
