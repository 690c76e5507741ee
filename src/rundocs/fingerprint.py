"""A fingerprint of the code that turns runs into pages, for every cache key.

A cache filled by other code may hold what that code derived, not what this code would: a
changed template, a fixed rule, a new pandas. So every cache key (parsed runs, the page
manifest) includes ``code_fingerprint()``: a hash over the bytes of every file in the
installed ``rundocs`` package (modules, templates, schemas; the packaged assets, which are
copied as they are, by size and mtime), the Python version and the versions of the libraries
that shape a page. A project's own ``templates/`` are part of each build's key (see
``rundocs.render.pages``). Computed once per process, in about a millisecond.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import os
import sys
from pathlib import Path

import rundocs

#: Libraries whose version can change what a page says (number formats, parsing, rendering).
_LIBRARIES = ("jinja2", "numpy", "pandas", "orjson", "yaml")
#: Packaged files copied into docs/ unchanged: known by size and mtime (mermaid.js alone is 3.5 MB).
_COPIED = os.path.join("render", "assets")


@functools.cache
def code_fingerprint() -> str:
    """The fingerprint of the running rundocs package and the libraries it renders with."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(f"{sys.implementation.name} {sys.version}".encode())
    for name in _LIBRARIES:
        digest.update(f"\n{name} {getattr(importlib.import_module(name), '__version__', '?')}".encode())
    package = Path(rundocs.__file__).parent
    for relative in _package_files(package):
        path = package / relative
        if relative.startswith(_COPIED + os.sep):
            status = path.stat()
            content = f"{status.st_size} {status.st_mtime_ns}".encode()
        else:
            content = path.read_bytes()
        digest.update(f"\n{relative} {len(content)}\n".encode())
        digest.update(content)
    return digest.hexdigest()


def _package_files(package: Path) -> list[str]:
    """Every file under ``package`` but compiled bytecode, as sorted relative paths."""
    found: list[str] = []
    for folder, folders, names in os.walk(package):
        folders[:] = [name for name in folders if name != "__pycache__"]
        prefix = os.path.relpath(folder, package)
        found.extend(os.path.normpath(os.path.join(prefix, name)) for name in names)
    return sorted(found)
