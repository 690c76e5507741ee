"""pyarrow, which the tables need (the ``export`` and ``query`` extras bring it)."""

from __future__ import annotations

from rundocs.exceptions import MissingDependencyError

try:
    import pyarrow as pa
except ImportError as error:
    raise MissingDependencyError("pyarrow", "export") from error

__all__ = ["pa"]
