"""Compiled templates kept between builds, signed so that only this user's own builds are trusted.

Compiling the templates is a fixed ~40 ms of every build, most of a small rebuild. Jinja can
keep compiled templates, but they are code (``marshal`` data): a cache file planted in a project,
or restored from a shared CI cache, would run. So every file carries an HMAC-SHA256 made with a
secret key that lives outside the project, in the user's own cache folder
(``$XDG_CACHE_HOME/rundocs/template-key``, else ``~/.cache/...``; created on first use, readable
by the user alone). A file without a valid signature, or written by another rundocs, Jinja or
Python version, is ignored and its template compiled again. Without a usable key (a read-only
home, a key file others can read or that another user owns) there is no template cache;
nothing else changes. The key must stay out of anything shared: a CI cache that saves
``~/.cache/rundocs`` along with the project's cache folder would carry the key with it.
"""

from __future__ import annotations

import hashlib
import hmac
import importlib.util
import marshal
import os
import secrets
import tempfile
from pathlib import Path

import jinja2
from jinja2.bccache import Bucket

import rundocs
from rundocs import env
from rundocs.cache_files import open_regular, read_regular

KEY_FILE = "template-key"
_KEY_BYTES = 32
_SIGNATURE_BYTES = hashlib.sha256().digest_size
_VERSIONS = f"rundocs {rundocs.__version__}|jinja2 {jinja2.__version__}|python {importlib.util.MAGIC_NUMBER.hex()}"


class SignedBytecodeCache(jinja2.BytecodeCache):
    """Jinja's bytecode cache as signed files in ``folder``, one per template."""

    def __init__(self, folder: Path, key: bytes) -> None:
        self.folder = folder
        self.key = key

    def load_bytecode(self, bucket: Bucket) -> None:
        try:
            data = read_regular(self.folder / f"{bucket.key}.bin")
        except OSError:
            return
        signature, body = data[:_SIGNATURE_BYTES], data[_SIGNATURE_BYTES:]
        if not hmac.compare_digest(signature, self._sign(body)):
            return
        header, _, code = body.partition(b"\n")
        if header != _header(bucket):
            return
        try:
            bucket.code = marshal.loads(code)
        except (EOFError, ValueError, TypeError):
            bucket.reset()

    def dump_bytecode(self, bucket: Bucket) -> None:
        body = _header(bucket) + b"\n" + marshal.dumps(bucket.code)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            descriptor, temporary = tempfile.mkstemp(dir=self.folder, prefix=".")
        except OSError:
            return
        try:
            with os.fdopen(descriptor, "wb") as file:
                file.write(self._sign(body) + body)
            os.replace(temporary, self.folder / f"{bucket.key}.bin")
        except OSError:
            Path(temporary).unlink(missing_ok=True)

    def _sign(self, body: bytes) -> bytes:
        return hmac.new(self.key, body, hashlib.sha256).digest()


def template_cache(cache_dir: Path | None) -> SignedBytecodeCache | None:
    """The template cache under ``cache_dir``, or None without a cache folder or a usable key."""
    if cache_dir is None:
        return None
    key = user_key()
    return SignedBytecodeCache(cache_dir / "templates", key) if key is not None else None


def user_key() -> bytes | None:
    """This user's signing key, created on first use; None when it cannot be had safely."""
    configured = os.environ.get(env.XDG_CACHE_HOME, "")
    base = Path(configured) if os.path.isabs(configured) else Path.home() / ".cache"  # relative: ignored, as XDG says
    path = base / "rundocs" / KEY_FILE
    key = _read_key(path)
    if key is not None:
        return key
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".key-")  # mode 0600
        try:
            with os.fdopen(descriptor, "wb") as file:
                file.write(secrets.token_bytes(_KEY_BYTES))
            os.link(temporary, path)  # appears whole, or not at all when another build made one first
        finally:
            os.unlink(temporary)
    except FileExistsError:
        pass
    except OSError:
        return None
    return _read_key(path)


def _read_key(path: Path) -> bytes | None:
    try:
        with open_regular(path) as file:
            status = os.fstat(file.fileno())
            key = file.read(_KEY_BYTES + 1)
    except OSError:
        return None
    if os.name == "posix" and (status.st_uid != os.getuid() or status.st_mode & 0o077):
        return None  # another user could read or replace it, and so sign code
    return key if len(key) == _KEY_BYTES else None


def _header(bucket: Bucket) -> bytes:
    return f"{_VERSIONS}|{bucket.checksum}".encode()
