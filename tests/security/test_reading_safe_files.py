"""``rundocs.safe_files``, the one way runs, plans and caches are opened: by what the file is, not
by what its name says."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rundocs.safe_files import UnreadableFile, read_input, read_regular, require_regular


def test_a_read_takes_the_size_fstat_gave_not_what_the_file_yields() -> None:
    """``/proc`` files are regular and claim 0 bytes: followed (a trusted setup), they read as empty."""
    assert Path("/proc/self/status").read_bytes()
    assert read_regular("/proc/self/status", 1 << 20, follow_symlinks=True) == b""


def test_every_refusal_is_an_oserror_that_says_why(tmp_path: Path) -> None:
    (tmp_path / "file").write_bytes(b"data")
    (tmp_path / "link").symlink_to(tmp_path / "file")
    os.mkfifo(tmp_path / "fifo")

    assert read_regular(tmp_path / "link", follow_symlinks=True) == b"data"
    for path, reason in [
        (tmp_path / "link", "is a symlink; not read"),
        (tmp_path / "fifo", "is a FIFO, not a regular file; not read"),
        (tmp_path, "is a folder, not a regular file; not read"),
        (Path("/dev/null"), "is a character device, not a regular file; not read"),
    ]:
        with pytest.raises(UnreadableFile, match=f"^{reason}"):
            read_regular(path)
    assert issubclass(UnreadableFile, OSError)  # the disk cache and page manifest ignore any OSError
    with pytest.raises(UnreadableFile, match=r"^is a symlink"):
        require_regular(tmp_path / "link")
    with pytest.raises(UnreadableFile, match=r"^is 4 bytes, over the limit of 3 bytes for this file; not read$"):
        read_regular(tmp_path / "file", 3)
    assert read_regular(tmp_path / "file", 4) == b"data"


def test_a_missing_input_is_none_and_an_unopenable_one_says_so(tmp_path: Path) -> None:
    (tmp_path / "locked").write_bytes(b"x")
    os.chmod(tmp_path / "locked", 0)

    assert read_input(tmp_path / "absent", 10) is None
    assert read_input(tmp_path / "absent" / "below", 10) is None
    if os.geteuid() != 0:  # root opens any file
        with pytest.raises(UnreadableFile, match=r"^cannot read: Permission denied$"):
            read_input(tmp_path / "locked", 10)
