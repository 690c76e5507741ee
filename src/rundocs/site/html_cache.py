"""Reuse the HTML MkDocs made for generated pages that did not change (the plugin's page cache).

A generated page outside the navigation (a run page, a log archive) turns into HTML from its
own Markdown and the site's settings alone: the navigation it shows is the same on every such
page. So when its Markdown bytes, the site's settings (``site_key``) and the pages it links to
are what they were when MkDocs last built it, its HTML and its search entries are taken from
the cache instead: MkDocs skips the page (it is marked excluded, so neither its Markdown nor the
theme's template is rendered, nor is it indexed for search), and ``finish`` puts the stored
HTML in the site and the stored entries in Material's search index, in the order a full build
gives. A build that logged a warning stores nothing, so that a reused page never hides one.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import posixpath
import re
import shutil
import stat
from collections.abc import Iterable, Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import mkdocs
import orjson
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files, InclusionLevel
from mkdocs.structure.pages import Page

from rundocs.atomic import replace_file
from rundocs.fingerprint import code_fingerprint
from rundocs.safe_files import open_regular

log = logging.getLogger(f"mkdocs.plugins.{__name__}")

#: Plugins known to make a page's HTML from its Markdown alone; any other turns reuse off,
#: since it may add what the cache cannot see (a git date, an included file).
KNOWN_PLUGINS = frozenset({"material/search", "material/offline", "rundocs"})
#: Markdown extensions that read other files into a page (a snippet, an image as base64): with one
#: configured, nothing is reused.
INCLUDING_EXTENSIONS = frozenset({"pymdownx.snippets", "pymdownx.b64", "markdown_include.include"})
#: Libraries whose version changes the HTML of a page.
_LIBRARIES = ("mkdocs-material", "markdown", "pymdown-extensions", "jinja2")
MANIFEST_FILE = "html.json"
#: Settings that never reach a page's HTML (where the site is written, what serve watches).
_UNSEEN = frozenset({"plugins", "dev_addr", "watch", "site_dir"})
#: Where a stored page may be: nothing in the manifest can point outside the cache's pages.
_STORED = re.compile(r"pages/[0-9a-f]{32}\.html")
_LINK = re.compile(r'(?:href|src)="([^"#?:]*)[#?"]')


def site_key(config: MkDocsConfig, files: Files, generated: set[str]) -> str | None:
    """What every reused page's HTML depends on besides its own Markdown: the settings, the
    theme's own templates, the titles of the navigation, the code, and which pages people wrote
    (a link to ``guide.md`` must break when it becomes ``guide/index.md``, though both have the
    URL ``guide/``); None when a plugin, a hook or an extension could add what the key cannot see."""
    unknown = sorted(set(config.plugins) - KNOWN_PLUGINS)
    including = INCLUDING_EXTENSIONS.intersection(config.markdown_extensions)
    if unknown or including:  # MkDocs lists each hook among the plugins, by its file name
        log.info("rundocs: pages are built again at every build, since %s may add what the page cache "
                 "cannot see", ", ".join([*unknown, *including]))  # fmt: skip
        return None
    digest = hashlib.blake2b(digest_size=16)
    settings = {name: value for name, value in config.items() if name not in _UNSEEN}
    settings["plugins"] = {name: dict(plugin.config) for name, plugin in config.plugins.items()}
    digest.update(json.dumps(settings, sort_keys=True, default=_plain).encode())
    versions = [f"{name} {metadata.version(name)}" for name in _LIBRARIES]
    digest.update(f"\nmkdocs {mkdocs.__version__}\n{versions}\n{code_fingerprint()}\n".encode())
    for path in _theme_files(config.theme.custom_dir):
        digest.update(f"\n{path}\n".encode())
        digest.update(Path(path).read_bytes())
    for src_uri in sorted(_untitled_nav_pages(config.nav)):  # the navigation shows their first heading
        file = files.get_file_from_path(src_uri)
        digest.update(f"\n{src_uri} {_digest(file.content_bytes) if file else ''}".encode())
    written = sorted(file.src_uri for file in files.documentation_pages() if file.src_uri not in generated)
    digest.update(f"\n{written}".encode())
    return digest.hexdigest()


def _plain(value: object) -> object:
    """A setting as JSON can hold it: functions by name, the theme with its folders."""
    if callable(value):
        return f"{getattr(value, '__module__', '')}.{getattr(value, '__qualname__', repr(value))}"
    if hasattr(value, "dirs") and hasattr(value, "items"):  # mkdocs.theme.Theme
        return {"dirs": value.dirs, **dict(value.items())}
    return repr(value)


def _theme_files(custom_dir: str | None) -> Iterator[str]:
    """Every file of the project's theme overrides, in a fixed order."""
    if custom_dir is None:
        return
    for folder, _, files in sorted(os.walk(custom_dir)):
        for name in sorted(files):
            yield os.path.join(folder, name)


def _untitled_nav_pages(nav: Any) -> Iterator[str]:
    """Pages the navigation lists without a title (it then shows their first heading)."""
    for item in nav or []:
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            for value in item.values():
                yield from _untitled_nav_pages(value if isinstance(value, list) else [])


def nav_pages(nav: Any) -> set[str] | None:
    """Every page the navigation lists; None when there is no ``nav`` (then every page is in it)."""
    if nav is None:
        return None
    found: set[str] = set()
    for item in nav:
        values = item.values() if isinstance(item, dict) else [item]
        for value in values:
            if isinstance(value, str):
                found.add(value)
            elif isinstance(value, list):
                found |= nav_pages(value) or set()
    return found


class _WarningCount(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


class _QuietReuse(logging.Filter):
    """Drops MkDocs' note that a page links to an excluded page, for the pages reused here."""

    def __init__(self) -> None:
        super().__init__()
        self.reused: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if not message.endswith("which is excluded from the built site."):
            return True
        return message.rsplit("'", 2)[-2] not in self.reused


class HtmlCache:
    """The HTML and search entries of generated pages outside the navigation, kept between builds
    in ``folder``; one instance serves every build of one ``mkdocs build`` or ``mkdocs serve``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._key: str | None = None
        self._reused: dict[str, dict[str, Any]] = {}
        #: The digest of each eligible page's Markdown before MkDocs read it: a page that changes
        #: while it is built is stored under its older digest, so the next build builds it again.
        self._digests: dict[str, str] = {}
        self._built: dict[str, dict[str, Any]] = {}
        self._entries: dict[str, list[Any]] = {}
        self._indexed = 0
        self._warnings = _WarningCount()
        self._quiet = _QuietReuse()

    def start(self, files: Files, config: MkDocsConfig, generated: Iterable[str]) -> None:
        """Before MkDocs reads the pages: mark each page whose HTML can be reused as excluded."""
        self._reused, self._built, self._entries, self._digests, self._indexed = {}, {}, {}, {}, 0
        generated = set(generated)
        self._key = site_key(config, files, generated)
        listed = nav_pages(config.nav)
        eligible = set() if self._key is None or listed is None else set(generated) - listed
        stored = self._read_manifest() if self._key is not None else {}
        urls = {_url_path(file.url) for file in files}
        for src_uri in sorted(eligible):  # generated paths are already as MkDocs keys them
            file = files.src_uris.get(src_uri)
            if file is None or not file.inclusion.is_included():  # type: ignore[no-untyped-call]
                continue
            _unlink(file.abs_dest_path)  # a page written in place must never write through a link into the cache
            self._digests[src_uri] = _digest(file.content_bytes)
            record = stored.get(src_uri)
            if record is not None and self._reusable(self._digests[src_uri], record, urls):
                file.inclusion = InclusionLevel.EXCLUDED
                self._reused[src_uri] = record
        self._quiet.reused = set(self._reused)
        logging.getLogger("mkdocs").addHandler(self._warnings)
        logging.getLogger("mkdocs.structure.pages").addFilter(self._quiet)
        self._warnings.count = 0

    def _reusable(self, digest: str, record: Any, urls: set[str]) -> bool:
        """Whether ``record`` (from the manifest: checked, never trusted) holds this Markdown's HTML."""
        try:
            html, links, stamp, markdown = record["html"], record["links"], record["stamp"], record["markdown"]
            if markdown != digest or not _STORED.fullmatch(html) or not set(links) <= urls:
                return False
            if not (isinstance(record["search"], list) and isinstance(record["anchors"], list)):
                return False
            status = os.stat(self.folder / html, follow_symlinks=False)
        except (KeyError, TypeError, OSError):
            return False
        return stat.S_ISREG(status.st_mode) and [status.st_size, status.st_mtime_ns] == stamp

    def page_built(self, page: Page, output: str, search: Any) -> None:
        """After MkDocs rendered ``page``: note its search entries, and its HTML when it is eligible."""
        entries: list[Any] = search.entries if search is not None else []
        self._entries[page.file.src_uri] = entries[self._indexed :]
        self._indexed = len(entries)
        external = [link for link in page.links_to_anchors or {} if link is not page.file]
        if page.file.src_uri in self._digests and not external:
            self._built[page.file.src_uri] = {
                "markdown": self._digests[page.file.src_uri],
                "links": sorted(_links(page)),
                "anchors": sorted(page.present_anchor_ids or ()),
                "output": output,
            }

    def add_pages(self, files: Files, config: MkDocsConfig) -> None:
        """Give each reused file a page that knows its anchors, so that links to them are checked
        as in a full build and ``sitemap.xml`` can list them (before MkDocs builds any page)."""
        for src_uri, record in self._reused.items():
            file = files.src_uris.get(src_uri)
            if file is not None and file.page is None:
                Page(None, file, config).present_anchor_ids = set(record["anchors"])

    def listed_pages(self, files: Files) -> list[File]:
        """The pages a full build lists in ``sitemap.xml``: the reused ones too, in the same order."""
        listed = [file for file in files if file.is_documentation_page()]
        return [file for file in listed if file.src_uri in self._reused or file.inclusion.is_included()]  # type: ignore[no-untyped-call]

    def finish(self, files: Files, config: MkDocsConfig, search: Any) -> None:
        """After MkDocs wrote the pages it built: put the reused pages into the site and their
        entries into the search index, then store what was built (unless a warning was logged)."""
        self.stop()
        for src_uri, record in self._reused.items():
            file = files.src_uris.get(src_uri)
            if file is not None:
                _link_or_copy(self.folder / record["html"], file.abs_dest_path)
        if search is not None:
            ordered: list[Any] = []
            for file in files.documentation_pages(inclusion=InclusionLevel.all):
                reused = self._reused.get(file.src_uri)
                ordered += reused["search"] if reused is not None else self._entries.get(file.src_uri, [])
            search.entries = ordered
        if self._key is not None and not self._warnings.count:
            try:
                self._store()
            except OSError as error:  # the site is complete; only the next build is slower
                log.warning("rundocs: the page cache could not be written: %s", error)
        log.info("rundocs: %d pages reused from the page cache, %d built", len(self._reused), len(self._entries))

    def stop(self) -> None:
        """Stop counting warnings and quieting notes (at the end of a build, or when it failed)."""
        logging.getLogger("mkdocs").removeHandler(self._warnings)
        logging.getLogger("mkdocs.structure.pages").removeFilter(self._quiet)

    def _store(self) -> None:
        pages = self.folder / "pages"
        pages.mkdir(parents=True, exist_ok=True)
        records = {src_uri: record for src_uri, record in self._reused.items()}
        for src_uri, built in self._built.items():
            name = _digest(f"{src_uri} {built['markdown']}".encode()) + ".html"
            # not durable: a page lost in a power cut is a page built again, and 5,000 fsyncs cost minutes
            html = built.pop("output").encode("utf-8", errors="xmlcharrefreplace")
            replace_file(pages / name, html, durable=False)
            status = os.stat(pages / name)
            built.update(html=f"pages/{name}", stamp=[status.st_size, status.st_mtime_ns])
            built["search"] = self._entries.get(src_uri, [])
            records[src_uri] = built
        kept = {record["html"].rsplit("/", 1)[-1] for record in records.values()}
        for entry in os.scandir(pages):
            if entry.name not in kept:
                _unlink(entry.path)
        manifest = {"key": self._key, "pages": dict(sorted(records.items()))}
        # keys stay in their order: Material writes each search entry's keys in the order they come
        replace_file(self.folder / MANIFEST_FILE, orjson.dumps(manifest), durable=False)

    def _read_manifest(self) -> dict[str, dict[str, Any]]:
        """The stored pages, by source path; none when the manifest is missing, unreadable or made
        under another ``site_key``."""
        try:
            with open_regular(self.folder / MANIFEST_FILE) as file:
                manifest = orjson.loads(file.read())
        except (OSError, orjson.JSONDecodeError):
            return {}
        if not isinstance(manifest, dict) or manifest.get("key") != self._key:
            return {}
        pages = manifest.get("pages")
        return pages if isinstance(pages, dict) else {}


def _digest(content: bytes) -> str:
    return hashlib.blake2b(content, digest_size=16).hexdigest()


def _url_path(url: str) -> str:
    return posixpath.normpath(url or ".")


def _links(page: Page) -> set[str]:
    """The site paths the page's own content links to or shows (href and src; relative links only)."""
    base = page.url if page.url.endswith("/") else posixpath.dirname(page.url)
    hrefs = _LINK.findall(page.content or "")
    return {_url_path(posixpath.join(base, href)) for href in hrefs if href and not href.startswith("/")}


def _unlink(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def _link_or_copy(source: Path, target: str) -> None:
    """A hard link to the stored page (a copy across file systems); ``start`` removed ``target``
    and MkDocs writes only new files, so nothing ever writes through the link."""
    os.makedirs(os.path.dirname(target), exist_ok=True)
    _unlink(target)
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)
