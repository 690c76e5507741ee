"""The five questions of docs/export.md, run as written there against a lab recorded with
``rundocs.Run``: each command must print the output the page shows."""

from __future__ import annotations

import math
import re
import shlex
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

import rundocs
from rundocs.site.cli import cli

PAGE = Path(__file__).resolve().parents[2] / "docs" / "export.md"
#: name, phase, sweep, lr, val_loss and val_acc per epoch, status, hours
LAB = [
    ("lr-1e-4", "p1-lr", "lr", 1e-4, [0.9, 0.7, 0.6], [0.60, 0.70, 0.74], "completed", 0.5),
    ("lr-1e-3", "p1-lr", "lr", 1e-3, [0.8, 0.5, 0.55], [0.65, 0.80, 0.79], "completed", 0.5),
    ("lr-1e-2", "p1-lr", "lr", 1e-2, [0.7, math.nan, math.nan], [0.60, 0.10, 0.10], "failed", 0.2),
    ("bs-64", "p2-bs", "bs", 3e-3, [0.6, 0.45, 0.4], [0.80, 0.85, 0.86], "completed", 1.5),
    ("bs-512", "p2-bs", "bs", 3e-3, [0.7, 0.6, math.inf], [0.70, 0.75, 0.50], "failed", 2.0),
]


def record_lab(runs: Path) -> None:
    """The lab of the page: three learning rates, two batch sizes, two runs that diverge."""
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    for index, (name, phase, sweep, lr, losses, accuracies, status, hours) in enumerate(LAB):
        begun = start + timedelta(hours=3 * index)
        config = {"optim": {"lr": lr}, "batch": 512 if name == "bs-512" else 64}
        run = rundocs.Run(name, phase=phase, sweep=sweep, config=config, epochs=3, dir=runs, started_at=begun)
        for epoch, (loss, accuracy) in enumerate(zip(losses, accuracies, strict=True), start=1):
            run.log(epoch=epoch, time=hours * 3600 * epoch / 3, val_loss=loss, val_acc=accuracy)
        run.end(status, error="diverged" if status == "failed" else None, ended_at=begun + timedelta(hours=hours))


def documented_queries() -> list[tuple[str, str]]:
    """Each ``$ rundocs query ...`` command of the page's five questions and the output shown under it."""
    section = PAGE.read_text().split("## Five questions", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```console\n\$ (rundocs query .*?)\n(.*?)```", section, flags=re.S)
    return [(command, output) for command, output in blocks]


def test_the_page_asks_five_questions() -> None:
    assert len(documented_queries()) == 5


@pytest.mark.parametrize(("command", "output"), documented_queries())
def test_each_question_is_answered_as_the_page_shows(tmp_dir: Path, command: str, output: str) -> None:
    record_lab(tmp_dir / "runs")
    result = CliRunner().invoke(cli, shlex.split(command)[1:], catch_exceptions=False)
    assert (result.exit_code, result.output) == (0, output)
