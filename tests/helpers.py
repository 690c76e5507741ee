"""Helpers for tests that write run folders by hand, as code in another language would."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

RUN_DEFAULTS: dict[str, Any] = {
    "format": "rundocs.run/1",
    "kind": "train",
    "phase": None,
    "sweep": None,
    "tags": [],
    "config": {},
    "status": "completed",
    "started_at": "2026-01-01T10:00:00+00:00",
    "updated_at": "2026-01-01T11:00:00+00:00",
    "ended_at": "2026-01-01T11:00:00+00:00",
    "epochs": None,
    "summary": {},
    "evaluates": [],
    "restarts": None,
    "error": None,
    "env": {},
    "checkpoints": [],
}


def write_run(root: Path, run_id: str, metrics: list[dict[str, Any]] | str = (), **fields: Any) -> Path:
    """A run folder written directly in the on-disk format; ``metrics`` as rows or raw text."""
    folder = root / run_id
    folder.mkdir(parents=True)
    record = {**RUN_DEFAULTS, "id": run_id, "name": run_id, **fields}
    (folder / "run.json").write_text(json.dumps(record, indent=2))
    text = metrics if isinstance(metrics, str) else "".join(json.dumps(row) + "\n" for row in metrics)
    (folder / "metrics.jsonl").write_text(text)
    return folder
