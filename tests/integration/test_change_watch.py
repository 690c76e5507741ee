"""The change watch of ``mkdocs serve`` with the plugin, on a runs folder of thousands of runs."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from rundocs.site.change_watch import ChangeWatch

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify is Linux's")


def _signalled(signal: Path, before: int, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if signal.exists() and signal.stat().st_mtime_ns != before:
            return True
        time.sleep(0.02)
    return False


def test_a_build_reading_every_run_does_not_drown_the_change_it_must_see(tmp_path: Path) -> None:
    """A build opens every file of every run: those reads are not changes, and so many of them
    must not overflow the kernel's queue (watchdog then walked every folder again, opening them
    all, over and over), so that a line logged afterwards is seen at once."""
    runs, docs = tmp_path / "runs", tmp_path / "docs"
    docs.mkdir()
    for index in range(6000):
        (runs / f"r{index:05d}").mkdir(parents=True)
        for name in ("run.json", "metrics.jsonl"):
            (runs / f"r{index:05d}" / name).write_text("{}\n")
    signal = tmp_path / "cache" / "serve" / "changed"
    watch = ChangeWatch(docs, [runs], signal)
    assert watch.start()
    started = signal.stat().st_mtime_ns
    try:
        for _ in range(3):
            for folder in os.scandir(runs):
                for file in os.scandir(folder.path):
                    with open(file.path, "rb") as opened:
                        opened.read()
        assert not _signalled(signal, started, seconds=1.0)  # reading is not a change
        with open(runs / "r01234" / "metrics.jsonl", "a") as file:
            file.write('{"epoch": 1}\n')
        assert _signalled(signal, started)
    finally:
        watch.stop()


def test_a_page_the_generation_wrote_is_not_a_change_and_a_hand_edit_is(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    (docs / "runs").mkdir(parents=True)
    signal = tmp_path / "cache" / "serve" / "changed"
    watch = ChangeWatch(docs, [], signal)
    assert watch.start()
    started = signal.stat().st_mtime_ns
    try:
        with watch.generating():
            from rundocs.atomic import replace_file

            replace_file(docs / "runs" / "a.md", b"# a\n", durable=False)
            watch.wrote(["runs/a.md"], [])
        assert not _signalled(signal, started, seconds=1.0)
        (docs / "runs" / "a.md").write_text("# a, edited by hand\n")
        assert _signalled(signal, started)
    finally:
        watch.stop()


def test_a_folder_moved_out_of_docs_and_a_touched_page_are_changes(tmp_path: Path) -> None:
    """A moved folder comes as one event, without one for each file in it; a touch changes only
    the time. MkDocs' polling saw both, so this watch must too."""
    docs = tmp_path / "docs"
    (docs / "guide").mkdir(parents=True)
    (docs / "guide" / "page.md").write_text("# Page\n")
    (docs / "index.md").write_text("# Home\n")
    signal = tmp_path / "cache" / "serve" / "changed"
    watch = ChangeWatch(docs, [], signal)
    assert watch.start()
    try:
        before = signal.stat().st_mtime_ns
        (docs / "guide").rename(tmp_path / "elsewhere")
        assert _signalled(signal, before)
        before = signal.stat().st_mtime_ns
        os.utime(docs / "index.md", ns=(1, 1))
        assert _signalled(signal, before)
    finally:
        watch.stop()


def test_a_cache_folder_that_cannot_take_the_signal_leaves_the_polling(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "cache").write_text("a file where the cache folder should be")
    watch = ChangeWatch(tmp_path / "docs", [], tmp_path / "cache" / "serve" / "changed")
    assert not watch.start()
