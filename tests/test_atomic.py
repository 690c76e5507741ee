"""``replace_file``: readers see the old or the new content, with ordinary permissions."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from rundocs.atomic import replace_file


def test_a_replaced_file_has_the_permissions_a_plain_open_gives(tmp_path: Path) -> None:
    """A runs folder shared by a team: other users must read a run.json (mkstemp would make it 0600)."""
    plain = tmp_path / "plain"
    plain.write_bytes(b"x")
    target = tmp_path / "run.json"
    replace_file(target, b"{}")
    assert stat.S_IMODE(target.stat().st_mode) == stat.S_IMODE(plain.stat().st_mode)


def test_a_symlink_is_replaced_not_written_through(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_bytes(b"keep")
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "page.md").symlink_to(outside)
    replace_file(docs / "page.md", b"new", durable=False)
    assert outside.read_bytes() == b"keep"
    assert not (docs / "page.md").is_symlink() and (docs / "page.md").read_bytes() == b"new"


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "run.json"
    target.write_bytes(b"old")

    def fail(file: object) -> None:
        raise OSError(28, os.strerror(28))

    with pytest.raises(OSError, match="No space"):
        replace_file(target, fail)
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.json"]
