"""Reading what a framework callback recorded: the lines of a run and its page."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd

import rundocs
from rundocs.load.records import RunRecord
from rundocs.load.runs import Runs
from rundocs.render.pages import SiteOptions, render_site


def only_run(root: Path) -> tuple[Runs, RunRecord]:
    """The runs folder, which must hold exactly one readable run, and that run."""
    runs = rundocs.load_runs(root, strict=True)
    (record,) = runs.records.values()
    return runs, record


def lines(runs: Runs, run_id: str) -> list[dict[str, Any]]:
    """The metric lines of a run as logged: epoch, step and values, without ``time``."""
    history = runs.history(run_id).drop(columns=["run_id", "time"])
    return [
        {key: int(value) if key in ("epoch", "step") else value for key, value in row.items() if not _missing(value)}
        for row in history.to_dict("records")
    ]


def run_page(runs: Runs, run_id: str) -> str:
    """The Markdown of the run's page, as ``rundocs build`` writes it."""
    built = render_site(runs, SiteOptions())
    return built.files[f"runs/{run_id}.md"].decode()


def _missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))
