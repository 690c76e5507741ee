"""Where runs live: a local folder (a path) or an object store (an fsspec URL).

fsspec and the store's own package (s3fs, gcsfs, adlfs) are imported only when a URL is opened,
so reading and writing local folders needs neither.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rundocs import env
from rundocs.exceptions import MissingDependencyError, StoreError

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

#: ``scheme://``: two letters or more, so a Windows drive (``C:\\``) stays a path.
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]+://")

#: The extra that brings each store's fsspec package.
_EXTRAS = {"s3": "s3", "s3a": "s3", "gs": "gcs", "gcs": "gcs", "az": "azure", "abfs": "azure", "abfss": "azure"}


def is_url(location: str | os.PathLike[str]) -> bool:
    """Whether ``location`` names an object store (``s3://bucket/runs``) rather than a local path."""
    return isinstance(location, str) and _URL.match(location) is not None


#: Limits for a store that accepts a connection and never answers: no request waits forever.
_S3_LIMITS = {"config_kwargs": {"connect_timeout": 10, "read_timeout": 60, "retries": {"max_attempts": 3}}}
_CLIENT_OPTIONS: dict[str, dict[str, Any]] = {"s3": _S3_LIMITS, "s3a": _S3_LIMITS}


def open_store(url: str) -> tuple[AbstractFileSystem, str]:
    """The fsspec file system of ``url`` and the path of its prefix on it.

    Options come from the store's usual environment (``AWS_ENDPOINT_URL``, ``AWS_PROFILE``,
    ``GOOGLE_APPLICATION_CREDENTIALS``...) and fsspec's own (``FSSPEC_S3_<OPTION>``).

    Raises:
        MissingDependencyError: When fsspec or the store's package is not installed.
        StoreError: When the URL names no store fsspec knows, or its file system cannot start.
    """
    scheme = url.partition("://")[0].lower()
    extra = _EXTRAS.get(scheme, "s3")
    try:
        from fsspec.core import url_to_fs
    except ImportError as error:
        raise MissingDependencyError("fsspec", extra) from error
    try:
        fs, path = url_to_fs(url, **_CLIENT_OPTIONS.get(scheme, {}))
    except ImportError as error:  # fsspec names the missing package in its message
        raise MissingDependencyError(error.name or f"the package for {scheme}://", extra) from error
    except (ValueError, OSError) as error:  # an unknown scheme, a store that cannot start (hdfs without Java)
        raise StoreError(url, "open", describe_error(error)) from error
    return fs, str(path).rstrip("/")


def describe_error(error: BaseException) -> str:
    """An error of a store as one line of at most about 300 characters: its type and message."""
    text = " ".join(str(error).split()) or "no message"
    return f"{type(error).__name__}: {text if len(text) <= 300 else text[:300] + '...'}"


def location_key(*locations: str | os.PathLike[str]) -> str:
    """A short name for a location, or a pair of them, the same in every process (cache folders)."""
    text = "\n".join(str(x) if is_url(x) else str(Path(x).resolve()) for x in locations)
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def staging_folder(url: str) -> Path:
    """The local folder where runs recorded for the store ``url`` are written before each upload:
    ``$RUNDOCS_STAGING`` (or ``~/.cache/rundocs/staging``), then a folder per URL."""
    base = os.environ.get(env.RUNDOCS_STAGING)
    if not base:
        cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        base = os.path.join(cache, "rundocs", "staging")
    return Path(base) / f"{_last_part(url)}-{location_key(url)}"


def recording_folder(location: str | os.PathLike[str] | None) -> tuple[Path, str | None]:
    """Where a recorder writes its runs (``Run(dir=...)``, ``$RUNDOCS_DIR``, else ``runs``): the
    local folder, and the store URL its runs are uploaded to (the folder is then its staging folder)."""
    location = location if location is not None else os.environ.get(env.RUNDOCS_DIR, "runs")
    if is_url(location):
        return staging_folder(str(location)), str(location)
    return Path(location), None


def _last_part(url: str) -> str:
    """The last part of a URL's path (``runs`` of ``s3://bucket/runs``), as a safe folder name."""
    name = url.rstrip("/").rpartition("/")[2]
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip(".-") or "store"


def mirror_folder(url: str, cache: Path) -> Path:
    """Where the reader keeps its copy of the store ``url``: under ``cache``, named as the
    store's last part (``.rundocs-cache/stores/<key>/runs``), so pages name it as locally."""
    return cache / "stores" / location_key(url) / _last_part(url)
