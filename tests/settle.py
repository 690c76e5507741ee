"""Files old enough for the caches to trust their size and mtime (see ``rundocs.safe_files.RACY_NS``)."""

from __future__ import annotations

import os
import time
from pathlib import Path


def settle(*roots: Path, seconds: float = 60) -> None:
    """Move the mtime of every file under ``roots`` ``seconds`` into the past, as if written then."""
    then = time.time_ns() - int(seconds * 1e9)
    for root in roots:
        for path in [root] if root.is_file() else root.rglob("*"):
            if path.is_file():
                os.utime(path, ns=(then, then))
