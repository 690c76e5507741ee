"""The fixture runs (tests/data/runs) rendered as a site, at a fixed moment."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import rundocs
from rundocs.load.plans import load_plans
from rundocs.render.pages import PlanSet, SiteOptions, render_site

DATA = Path(__file__).resolve().parents[1] / "data" / "runs"
PLANS = DATA.parent / "plans"
#: r2 is 5 minutes silent (running); stuck is hours silent (stalled).
NOW = datetime(2026, 1, 2, 9, 40, tzinfo=UTC)


def render_fixture_site(runs_dir: Path = DATA) -> dict[str, str]:
    runs = rundocs.load_runs(runs_dir, now=NOW)
    plans = PlanSet(*load_plans(PLANS))
    site = render_site(runs, SiteOptions(source="runs", title="Fixture lab"), plans=plans)
    return {path: content.decode() for path, content in site.files.items() if path.endswith(".md")}
