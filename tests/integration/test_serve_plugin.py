"""``mkdocs serve`` with the plugin, as a user runs it: one build per change, whether a run logged
or a person edited a page, and none for the pages the plugin itself wrote."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from tests.cli.test_serve import _free_port, _wait_for, serving
from tests.integration.test_html_cache import append_epoch, make_project

RUN = "20260101_100000_base"


def _builds(log: Path) -> int:
    return log.read_text("utf-8").count("Building documentation")


def _settled(log: Path, seconds: float = 4.0) -> int:
    """The number of builds once none started for ``seconds``."""
    count, quiet_since = _builds(log), time.monotonic()
    while time.monotonic() - quiet_since < seconds:
        time.sleep(0.2)
        if _builds(log) != count:
            count, quiet_since = _builds(log), time.monotonic()
    return count


def test_each_change_is_one_build_and_the_plugins_own_pages_are_none(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    (project / "docs" / "guide.md").write_text("# Guide\n\nFirst words.\n")
    base = f"http://127.0.0.1:{_free_port()}"
    log = tmp_path / "serve.log"
    with serving([sys.executable, "-m", "mkdocs", "serve", "--dev-addr", base[7:]], project, log) as server:
        _wait_for(f"{base}/runs/{RUN}.html", "E030", server, log)
        first = _settled(log)
        append_epoch(project, RUN)
        _wait_for(f"{base}/runs/{RUN}.html", "E031", server, log)
        assert _settled(log) == first + 1, log.read_text("utf-8")
        (project / "docs" / "guide.md").write_text("# Guide\n\nSecond words.\n")
        _wait_for(f"{base}/guide.html", "Second words", server, log)
        assert _settled(log) == first + 2, log.read_text("utf-8")
    assert "Traceback" not in log.read_text("utf-8")
