"""Writes tests/data/runs/: small, fixed run folders covering every state and hostile input.

Run it after changing the cases (``python tests/data/make_runs.py``) and commit the result;
the golden pages in tests/golden/ are rendered from these folders.
"""

from __future__ import annotations

import json
import shutil
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent / "runs"
sys.path.insert(0, str(HERE.parents[2]))  # run as a script from anywhere: the repository root

from tests.helpers import RUN_DEFAULTS  # noqa: E402

HOSTILE = "<img src=x onerror=alert(1)>|a\nb **bold** `tick` [link](javascript:alert(2)) ü"
ENOSPC_TRACEBACK = (
    "Traceback (most recent call last):\n"
    '  File "train.py", line 88, in <module>\n'
    "    torch.save(state, path)\n"
    "OSError: [Errno 28] No space left on device\n"
)


def curve(epochs: int, start: float, best_at: int, best: float, end: float) -> list[float]:
    """Falls linearly to ``best`` at ``best_at``, then moves linearly to ``end``."""
    down = [start + (best - start) * (e - 1) / max(best_at - 1, 1) for e in range(1, best_at + 1)]
    up = [best + (end - best) * (e - best_at) / max(epochs - best_at, 1) for e in range(best_at + 1, epochs + 1)]
    return [round(v, 6) for v in down + up]


def write(run_id: str, rows: list[dict[str, Any]], notes: str | None = None, **fields: Any) -> None:
    """A run folder; a run given only ``started_at`` ends (and last beat) an hour later."""
    if "started_at" in fields and "updated_at" not in fields:
        end = (datetime.fromisoformat(fields["started_at"]) + timedelta(hours=1)).isoformat()
        fields = {"updated_at": end, "ended_at": end, **fields}
    folder = HERE / run_id
    folder.mkdir(parents=True)
    record = {
        **RUN_DEFAULTS,
        "id": run_id,
        "name": run_id,
        "env": {
            "host": "gpu-node-07",
            "python": "3.11.7",
            "torch": "2.13.0",
            "device": "cuda:0 NVIDIA H100",
            "git": {"commit": "3f2c9a1" + "0" * 33, "dirty": False},
            "command": "python train.py",
        },
        **fields,
    }
    (folder / "run.json").write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n")
    (folder / "metrics.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    if notes is not None:
        (folder / "notes.md").write_text(notes)


def epochs_rows(epochs: int, **curves: list[float]) -> list[dict[str, Any]]:
    return [{"epoch": e, "time": 60.0 * e, **{k: v[e - 1] for k, v in curves.items()}} for e in range(1, epochs + 1)]


def main() -> None:
    shutil.rmtree(HERE, ignore_errors=True)
    sweep = {"phase": "lr-sweep", "sweep": "lr", "epochs": 30}
    base_config = {"lr": 0.001, "seed": 1, "num_classes": 10, "model": {"width": 64, "depth": 2}}
    write(
        "20260101_100000_base",
        epochs_rows(30, train_loss=curve(30, 2.3, 30, 0.2, 0.2), val_loss=curve(30, 2.3, 20, 0.9, 1.1),
                    val_acc=curve(30, 0.1, 20, 0.71, 0.69)),
        notes="# Baseline\n\nNext: try **warmup**.\n",
        name="lr1e-3_s1", config=base_config, summary={"test_acc": 0.7012},
        checkpoints=[
            {"path": "checkpoints/best.pt", "epoch": 20, "sha256": "ab" * 32, "bytes": 2653, "arch": {"width": 64}}
        ],
        env={"host": "gpu-node-07", "slurm": {"job_id": "4242"}, "git": {"commit": "a" * 40, "dirty": True}},
        **sweep,
    )  # fmt: skip
    write(
        "20260101_110000_fast",
        epochs_rows(30, train_loss=curve(30, 2.3, 30, 0.3, 0.3), val_loss=curve(30, 2.3, 30, 0.8, 0.8),
                    val_acc=curve(30, 0.1, 30, 0.75, 0.75)),
        name="lr3e-3_s1", config={**base_config, "lr": 0.003}, summary={"test_acc": 0.7431},
        started_at="2026-01-01T11:00:00+00:00", updated_at="2026-01-01T11:30:00+00:00",
        ended_at="2026-01-01T11:30:00+00:00", **sweep,
    )  # fmt: skip
    write(
        "20260102_090000_fail",
        epochs_rows(20, train_loss=curve(20, 2.3, 20, 0.5, 0.5), val_loss=curve(20, 2.3, 20, 0.9, 0.9)),
        name="lr1e-2_s1", config={**base_config, "lr": 0.01}, status="failed",
        started_at="2026-01-02T09:00:00+00:00", updated_at="2026-01-02T09:20:00+00:00",
        ended_at="2026-01-02T09:20:00+00:00",
        error={"type": "OSError", "message": "[Errno 28] No space left on device", "traceback": ENOSPC_TRACEBACK},
        **sweep,
    )  # fmt: skip
    write(
        "20260102_093000_r2",
        epochs_rows(5, train_loss=curve(5, 2.3, 5, 1.5, 1.5), val_loss=curve(5, 2.3, 5, 1.7, 1.7)),
        name="lr1e-2_s1_r2", config={**base_config, "lr": 0.01}, status="running", ended_at=None,
        restarts="20260102_090000_fail", started_at="2026-01-02T09:30:00+00:00",
        updated_at="2026-01-02T09:35:00+00:00", **sweep,
    )  # fmt: skip
    write(
        "20260102_094000_stuck",
        epochs_rows(3, train_loss=[2.3, 2.0, 1.8]),
        name="stuck", status="running", ended_at=None, epochs=30,
        started_at="2026-01-02T07:00:00+00:00", updated_at="2026-01-02T07:03:00+00:00",
    )  # fmt: skip
    write(
        "20260103_090000_hostile",
        epochs_rows(3, train_loss=[1.0, "NaN", "Infinity"], val_acc=[0.1, 0.1, 0.1]),
        notes="Raw HTML <script>alert(3)</script> and [a link](javascript:alert(4)).\n",
        name=HOSTILE, phase="p|<b>", sweep="<b>s|w</b>", tags=["<i>tag</i>"], started_at="2026-01-03T09:00:00+00:00",
        config={"note": "x|y\nz", "html": "<script>alert(5)</script>", "long": "w" * 300, "unicode": "ünï ✓ 漢字"},
    )  # fmt: skip
    write(
        "20260103_100000_eval",
        [{"test_acc": 0.7012, "ood_acc": 0.4121}],
        name="eval_lr1e-3_s1", kind="eval", evaluates=["20260101_100000_base"], phase="lr-sweep",
        summary={"test_acc": 0.7012, "ood_acc": 0.4121}, started_at="2026-01-03T10:00:00+00:00",
    )  # fmt: skip
    broken = HERE / "broken"
    broken.mkdir()
    (broken / "run.json").write_text('{"format": "rundocs.run/1", "id": "broken",\n')


if __name__ == "__main__":
    main()
