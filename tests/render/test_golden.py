"""Each page kind rendered from the fixture runs matches its reviewed golden file.

After an intended change: ``pytest tests/render --update-goldens`` and review the diff.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.render.site_fixture import render_fixture_site

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
PAGES = [
    "index.md",
    "runs/index.md",
    "runs/20260101_100000_base.md",
    "runs/20260101_110000_fast.md",
    "runs/20260102_090000_fail.md",
    "runs/20260102_093000_r2.md",
    "runs/20260102_094000_stuck.md",
    "runs/20260103_090000_hostile.md",
    "runs/20260103_100000_eval.md",
    "phases/index.md",
    "phases/lr-sweep.md",
    "phases/mistakes.md",
    "phases/not-started.md",
    "history.md",
    "sweeps/index.md",
    "sweeps/lr.md",
    "sweeps/b-s-w-b-daab7811.md",
    "problems.md",
]


@pytest.fixture(scope="module")
def site() -> dict[str, str]:
    return render_fixture_site()


@pytest.mark.parametrize("page", PAGES)
def test_page_matches_golden(site: dict[str, str], page: str, request: pytest.FixtureRequest) -> None:
    golden = GOLDEN / page.replace("/", "__")
    if request.config.getoption("--update-goldens"):
        golden.write_text(site[page])
    assert site[page] == golden.read_text()


def test_the_page_set_is_exactly_the_expected_one(site: dict[str, str]) -> None:
    assert sorted(site) == sorted([*PAGES, "format.md"])  # unreadable.yaml has no page: it cannot be read


def test_rendering_twice_gives_identical_bytes(site: dict[str, str]) -> None:
    assert render_fixture_site() == site
