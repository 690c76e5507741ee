"""Derived run state: a ``running`` run that stopped beating reads as ``stalled``."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd

#: A run is stalled when its last sign of life is older than this many typical gaps
#: between its logged lines (so a run that logs once an hour is not called dead at 10 min).
STALL_GAPS = 3


def derive_states(runs: pd.DataFrame, now: datetime, stalled_after: timedelta) -> pd.Series:
    """The ``state`` column: ``status``, except ``stalled`` for silent running runs.

    ``runs`` needs ``status``, ``last_activity`` and ``median_gap_s`` columns.
    """
    if runs.empty:
        return pd.Series([], index=runs.index, dtype=object, name="state")
    floor = stalled_after.total_seconds()
    allowed = np.maximum(floor, STALL_GAPS * runs["median_gap_s"].fillna(0).to_numpy())
    silent = (pd.Timestamp(now) - runs["last_activity"]).dt.total_seconds().to_numpy()
    stalled = (runs["status"] == "running").to_numpy() & (silent > allowed)
    return pd.Series(np.where(stalled, "stalled", runs["status"]), index=runs.index, name="state")


def shown_state(state: str, relaunched: bool) -> str:
    """What every page calls a run: ``relaunched`` once a later run relaunched it, whatever it
    recorded (an attempt killed with SIGKILL still reads ``running`` until it stalls), else its
    state. Its run page says what it recorded."""
    return "relaunched" if relaunched else state
