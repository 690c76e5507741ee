"""Where a run's checkpoints live, and finding one again through the run's record."""

from __future__ import annotations

import hashlib
from pathlib import Path

import rundocs
from rundocs.load.records import read_record

#: Checkpoints sit in this sub-folder of their run's folder (git-ignored).
CHECKPOINT_DIR = "checkpoints"


def checkpoint_file(run: rundocs.Run, which: str) -> Path:
    """Path of checkpoint ``which`` (``best`` or ``last``) inside a recording run's folder."""
    if run.folder is None:
        raise RuntimeError(f"run {run.id!r} has no folder (recording failed), so its checkpoints have no home")
    return run.folder / CHECKPOINT_DIR / f"{which}.pt"


def find_checkpoint(runs_dir: Path, run_id: str, which: str = "best") -> Path:
    """The file of checkpoint ``which`` that run ``run_id`` recorded, checked against its sha256.

    Raises:
        LookupError: The run or the checkpoint is not recorded, or the file is missing.
        ValueError: The file on disk is not the one recorded.
    """
    record = read_record(runs_dir / run_id)[0]
    if record is None:
        raise LookupError(f"no run {run_id!r} in {runs_dir}")
    wanted = f"{CHECKPOINT_DIR}/{which}.pt"
    entry = next((c for c in record.checkpoints if c.path == wanted), None)
    if entry is None:
        raise LookupError(f"run {record.id!r} recorded no checkpoint {wanted!r}")
    path = record.folder / entry.path
    if not path.is_file():
        raise LookupError(f"{path} is missing (checkpoints are not committed: train run {record.id!r} again)")
    if hashlib.sha256(path.read_bytes()).hexdigest() != entry.sha256:
        raise ValueError(f"{path} differs from the checkpoint run {record.id!r} recorded (sha256 mismatch)")
    return path
