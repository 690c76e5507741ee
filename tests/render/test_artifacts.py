"""Files a run writes into its folder appear on its run page: images inline, text files linked,
everything else named only; nothing that could run in a browser is published."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

import rundocs
from tests.browser import chromium_page
from tests.conftest import child_environment


def png(width: int, height: int) -> bytes:
    """A real PNG of one red pixel colour (what matplotlib's savefig would leave, smaller)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def _ok(project: Path, *command: str) -> str:
    done = subprocess.run(command, cwd=project, env=child_environment(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{' '.join(command)}:\n{done.stdout}{done.stderr}"
    return done.stdout


@pytest.fixture
def project(tmp_path: Path) -> Path:
    _ok(tmp_path, sys.executable, "-m", "rundocs", "init")
    run = rundocs.Run(id="art", dir=tmp_path / "runs", epochs=1)
    run.log(epoch=1, val_loss=0.5)
    assert run.folder is not None
    (run.folder / "plots").mkdir()
    (run.folder / "plots" / "confusion.png").write_bytes(png(7, 5))
    (run.folder / "predictions.csv").write_text("id,label\n1,cat\n")
    (run.folder / "model.onnx").write_bytes(b"\x00" * 100)
    (run.folder / "page.png").write_text("<script>alert(1)</script>")  # not what its name says
    (run.folder / "drawing.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>')
    (run.folder / "<img src=x onerror=alert(1)>.txt").write_text("x")
    os.symlink("/etc/passwd", run.folder / "leak.txt")
    run.end()
    return tmp_path


def test_images_show_inline_text_files_link_and_the_rest_is_named(project: Path) -> None:
    _ok(project, sys.executable, "-m", "rundocs", "build")
    page = (project / "docs" / "runs" / "art.md").read_text()
    copies = project / "docs" / "assets" / "rundocs" / "runs" / "art"
    assert sorted(p.relative_to(copies).as_posix() for p in copies.rglob("*") if p.is_file()) == [
        "plots/confusion.png",
        "predictions.csv",
    ]
    assert (copies / "plots" / "confusion.png").read_bytes() == png(7, 5)
    assert "![plots/confusion.png](../assets/rundocs/runs/art/plots/confusion.png){ .rd-artifact }" in page
    assert "| [predictions.csv](../assets/rundocs/runs/art/predictions.csv) |" in page
    assert "| model.onnx | 100 B | not published: not an image or a text file |" in page
    assert "| page.png |" in page and "not what its name says" in page
    assert "drawing.svg" in page and "leak.txt" not in page and "<img src=x" not in page

    _ok(project, sys.executable, "-m", "mkdocs", "build", "--strict")
    with chromium_page() as (browser, dialogs):
        browser.goto((project / "site" / "runs" / "art.html").as_uri())
        size = browser.evaluate(
            "() => [...document.images].filter(i => i.src.endsWith('confusion.png'))"
            ".map(i => [i.naturalWidth, i.naturalHeight])"
        )
        assert size == [[7, 5]]
        ground = browser.evaluate("() => getComputedStyle(document.querySelector('img.rd-artifact')).backgroundColor")
        assert ground == "rgb(255, 255, 255)"  # a transparent plot stays readable on the dark scheme
        assert dialogs == []


def test_a_removed_artifact_loses_its_copy_and_check_notices_a_changed_one(project: Path) -> None:
    _ok(project, sys.executable, "-m", "rundocs", "build")
    copy = project / "docs" / "assets" / "rundocs" / "runs" / "art" / "predictions.csv"
    copy.write_text("id,label\n1,dog\n")  # a stale copy
    done = subprocess.run(
        [sys.executable, "-m", "rundocs", "check"], cwd=project, env=child_environment(), capture_output=True, text=True
    )
    assert done.returncode == 1 and "predictions.csv" in done.stdout + done.stderr
    (project / "runs" / "art" / "predictions.csv").unlink()
    _ok(project, sys.executable, "-m", "rundocs", "build")
    assert not copy.exists()
    assert "predictions.csv" not in (project / "docs" / "runs" / "art.md").read_text()
    _ok(project, sys.executable, "-m", "rundocs", "check")
