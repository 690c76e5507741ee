"""Run state is derived by analysis (``rundocs.analyse.state``), and ``load_runs`` uses that rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd

import rundocs
from rundocs.analyse import state
from tests.helpers import write_run

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def test_a_silent_running_run_is_stalled_after_three_of_its_gaps_or_the_floor() -> None:
    frame = pd.DataFrame(
        {
            "status": ["running", "running", "running", "completed"],
            "last_activity": pd.to_datetime([NOW - timedelta(minutes=m) for m in (5, 11, 11, 600)], utc=True),
            "median_gap_s": [None, 60.0, 600.0, 60.0],
        },
        index=["fresh", "silent", "slow", "done"],
    )
    states = state.derive_states(frame, NOW, timedelta(minutes=10))
    assert states.to_dict() == {"fresh": "running", "silent": "stalled", "slow": "running", "done": "completed"}


def test_load_runs_states_come_from_the_analysis_rule(tmp_path: Path) -> None:
    write_run(tmp_path, "r", [{"epoch": 1, "time": 1.0}], status="running", ended_at=None,
              updated_at=(NOW - timedelta(hours=1)).isoformat())  # fmt: skip
    runs = rundocs.load_runs(tmp_path, now=NOW)
    assert runs.states == state.derive_states(runs.runs, NOW, timedelta(minutes=10)).to_dict() == {"r": "stalled"}
