"""Recording: the ``Run`` API and the writer of the on-disk format."""

from rundocs.record.run import Run
from rundocs.record.warn import RecordingWarning

__all__ = ["RecordingWarning", "Run"]
