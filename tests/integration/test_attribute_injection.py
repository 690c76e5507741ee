"""Data that ends in ``{...}`` stays text in the built site: attr_list makes no attribute of it.

Built with a real ``mkdocs build --strict`` (attr_list and md_in_html enabled, as Material
recommends), then read in headless Chromium: no dialog, and no element carries an attribute
that came from a run. The whole adversarial suite is in ``tests/security/test_markup_*.py``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.browser import audit_html, chromium_page
from tests.helpers import write_run

HERE = Path(__file__).resolve().parent
NAME = "pwn {autofocus onfocus=alert(1) tabindex=1}"
VALUE = "x\n{: onclick=alert(2) }"
NOTES = "Fine run.\n{: onmouseover=alert(3) }\n\n*note*{onclick=alert(4)}\n"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = tmp_path_factory.mktemp("project")
    shutil.copy(HERE / "minimal" / "mkdocs.yml", project)
    folder = write_run(
        project / "runs", "20260101_100000_pwn", [{"epoch": 1, "val_loss": 1.0}], name=NAME, config={"note": VALUE}
    )
    (folder / "notes.md").write_text(NOTES)
    for command in (["-m", "rundocs", "build"], ["-m", "mkdocs", "build", "--strict"]):
        done = subprocess.run([sys.executable, *command], cwd=project, capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr
    return project / "site"


def test_no_attribute_from_data_in_the_built_html(site: Path) -> None:
    for page in ("runs/20260101_100000_pwn.html", "runs/index.html"):
        assert audit_html((site / page).read_text("utf-8")).findings == []


@pytest.mark.browser
def test_the_name_reads_as_text_and_nothing_runs(site: Path) -> None:
    with chromium_page() as (page, dialogs):
        page.goto((site / "runs" / "20260101_100000_pwn.html").as_uri())
        page.wait_for_timeout(300)
        assert page.locator("h1").first.inner_text() == NAME
        page.mouse.move(200, 300)
        page.locator("article").click()
        assert dialogs == []
