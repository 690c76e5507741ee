"""Warn once per cause: recording reports trouble without stopping training."""

from __future__ import annotations

import warnings


class RecordingWarning(UserWarning):
    """Something could not be recorded; the run record is partial but training goes on."""


class WarnOnce:
    """Issues each distinct warning once and keeps the messages for the run record."""

    def __init__(self, *, quiet: bool = False) -> None:
        self.messages: list[str] = []
        self._seen: set[str] = set()
        self._quiet = quiet  # keep the messages only (an importer reports them itself)

    def __call__(self, key: str, message: str) -> None:
        if key in self._seen:
            return
        self._seen.add(key)
        self.messages.append(message)
        if not self._quiet:
            warnings.warn(f"rundocs: {message}", RecordingWarning, stacklevel=4)
