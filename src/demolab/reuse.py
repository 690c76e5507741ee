"""Rerunning the lab: a planned run already recorded with the same settings and code is kept.

Every planned run has a stable id (``rundocs.Run.id_for(phase, name)``). Its record is kept,
not trained again, when it is ``completed``, its config (which carries ``lab_code``, the
fingerprint of this package and of the libraries that compute its numbers) equals the planned
one, and the runs it starts from were kept too. Otherwise its folder is deleted and the run recorded
again under the same id, so git sees the run modified, not one run deleted and another added.
Checkpoints are not committed: a kept run whose checkpoint a later run loads, and which has none
on disk (a fresh clone), is trained again at that moment; seeded, it gives the same bytes.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import shutil
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from demolab.checkpoints import find_checkpoint
from rundocs.format.schema import to_json_value
from rundocs.load.records import RunRecord, read_record

#: The config key holding ``lab_code()``; bookkeeping, not a hyperparameter.
CODE_KEY = "lab_code"
#: Libraries whose version can change a number the lab records.
_LIBRARIES = ("torch", "numpy", "scipy", "sklearn", "optuna")


@functools.cache
def lab_code() -> str:
    """Fingerprint of the lab's code: this package's sources and the versions of ``_LIBRARIES``."""
    digest = hashlib.blake2b(digest_size=8)
    for name in _LIBRARIES:
        digest.update(f"{name} {importlib.import_module(name).__version__}\n".encode())
    package = Path(__file__).parent
    for path in sorted(package.glob("*.py")):
        digest.update(f"{path.name} {path.stat().st_size}\n".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def planned_config(settings: Any) -> dict[str, Any]:
    """The config a run of the lab records: its settings (a dataclass) and ``lab_code()``."""
    config = to_json_value(settings)
    assert isinstance(config, dict)
    return {**config, CODE_KEY: lab_code()}


@dataclass
class RunBook:
    """The runs of one invocation of the lab: which were kept, which recorded, and where."""

    runs_dir: Path
    #: Train every planned run again, keeping none.
    fresh: bool = False
    #: Ids of the runs kept from an earlier invocation.
    kept: set[str] = field(default_factory=set)
    #: Ids of every run this invocation kept or recorded.
    ids: list[str] = field(default_factory=list)
    #: Kept run id -> what records it again, should its checkpoint be needed and missing.
    restorers: dict[str, Callable[[], str]] = field(default_factory=dict)

    def keep(self, run_id: str, config: Mapping[str, Any], *, starts_from: Iterable[str] = ()) -> bool:
        """Whether the recorded run ``run_id`` stands for the planned one (see the module); if
        not, its folder is deleted, so that the run is recorded again under its id."""
        record = self.record(run_id)
        kept = (
            not self.fresh
            and record is not None
            and record.status == "completed"
            and record.config == to_json_value(dict(config))
            and all(upstream in self.kept for upstream in starts_from)
        )
        if kept:
            self.kept.add(run_id)
        else:
            self.remove(run_id)
        self.ids.append(run_id)
        return kept

    def checkpoint(self, run_id: str, which: str = "best") -> Path:
        """Checkpoint ``which`` of run ``run_id`` (``find_checkpoint``); a kept run without it on
        disk is trained again first, with a warning if the checkpoint then differs from the recorded one.
        """
        try:
            return find_checkpoint(self.runs_dir, run_id, which)
        except LookupError:
            restore = self.restorers.pop(run_id, None)
            record = self.record(run_id)
            if restore is None or record is None:
                raise
        self.remove(run_id)
        self.kept.discard(run_id)
        restore()
        again = self.record(run_id)
        if again is None or {c.sha256 for c in again.checkpoints} != {c.sha256 for c in record.checkpoints}:
            print(f"warning: run {run_id} trained again gave other checkpoints; runs kept before may be stale")
        return find_checkpoint(self.runs_dir, run_id, which)

    def record(self, run_id: str) -> RunRecord | None:
        """The readable record of run ``run_id``, or None."""
        return read_record(self.runs_dir / run_id)[0]

    def remove(self, run_id: str) -> None:
        """Delete the folder of run ``run_id`` (record and checkpoints), if there is one."""
        folder = self.runs_dir / run_id
        if folder.is_dir() and not folder.is_symlink():
            shutil.rmtree(folder)

    def recorded(self, phases: Iterable[str]) -> list[RunRecord]:
        """The readable records of ``phases`` in the runs folder, by id."""
        ours = set(phases)
        folders = sorted(self.runs_dir.iterdir()) if self.runs_dir.is_dir() else []
        records = (read_record(folder)[0] for folder in folders if folder.is_dir() and not folder.is_symlink())
        return [record for record in records if record is not None and record.phase in ours]

    def remove_others(self, phases: Iterable[str]) -> list[str]:
        """Delete the runs of ``phases`` that this invocation neither kept nor recorded (runs no
        longer planned, or recorded under older ids); return their ids."""
        gone = [record.id for record in self.recorded(phases) if record.id not in self.ids]
        for run_id in gone:
            self.remove(run_id)
        return gone
