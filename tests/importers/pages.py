"""What the pages of imported runs state: shared by the importer tests."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import rundocs
from rundocs.formatting import format_number
from rundocs.render.pages import SiteOptions, render_site


def run_import(*arguments: str | Path, expect: int = 0) -> str:
    """``rundocs import ...`` in a real process; its output (stdout and stderr)."""
    done = subprocess.run(
        [sys.executable, "-m", "rundocs", "import", *map(str, arguments)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == expect, done.stdout + done.stderr
    return done.stdout + done.stderr


def validate(runs_dir: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "rundocs", "validate", "--runs", str(runs_dir)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr


def run_pages(runs_dir: Path) -> dict[str, str]:
    """The Markdown of every run page, by run id."""
    built = render_site(rundocs.load_runs(runs_dir, strict=True), SiteOptions())
    return {
        path.removeprefix("runs/").removesuffix(".md"): content.decode()
        for path, content in built.files.items()
        if path.startswith("runs/") and path.endswith(".md")
    }


def results_row(page: str, metric: str) -> list[str]:
    """The cells of a metric's row in a run page's Results table: best, at, latest, at."""
    name = re.escape(metric.replace("_", "\\_"))
    match = re.search(rf"^\| {name} \|(.*)\|$", page, re.MULTILINE)
    assert match, f"no Results row for {metric}"
    return [cell.strip() for cell in match.group(1).split("|")]


def shown(value: float) -> str:
    """A number as the pages write it."""
    return format_number(value)
