"""Sweep and phase tables as CSV downloads: the rows the page shows, written only when changed,
checked by ``rundocs check``, linked in a site ``mkdocs build --strict`` accepts, safe to open
in a spreadsheet."""

from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from rundocs.render.table_files import spreadsheet_safe
from tests.cli.test_cli import rundocs
from tests.helpers import write_run

MINIMAL = Path(__file__).resolve().parents[1] / "integration" / "minimal" / "mkdocs.yml"
GATED = """
title: Gated
runs: [base, wide]
gates:
  - {metric: val_acc, green: ">= 0.7", amber: ">= 0.6"}
  - {metric: val_acc, epoch: 2, green: ">= 0.5"}
compare: {metrics: {val_acc: max}, baseline: base}
notes: Done.
"""
TABLES = "docs/assets/rundocs/tables"


def curve(values: list[float]) -> list[dict[str, float]]:
    return [{"epoch": epoch, "val_acc": value} for epoch, value in enumerate(values, start=1)]


def read_csv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text())))


def test_the_tables_download_as_csv_in_a_strict_site(tmp_dir: Path, child_env: dict[str, str]) -> None:
    runs = tmp_dir / "runs"
    for minute, (run_id, name, values) in enumerate(
        [("r1", "base", [0.5, 0.6]), ("r2", "wide", [0.6, 0.72]), ("r3", "@SUM(A1)", [0.1, 1 / 3])]
    ):
        write_run(runs, run_id, curve(values), name=name, phase="gated", sweep="s", config={"lr": minute},
                  started_at=f"2026-01-01T10:0{minute}:00+00:00")  # fmt: skip
    (tmp_dir / "plans").mkdir()
    (tmp_dir / "plans" / "gated.yaml").write_text(GATED)
    config = yaml.safe_load(MINIMAL.read_text())
    config["nav"] = ["index.md", "phases/index.md", "sweeps/index.md", "runs/index.md"]
    (tmp_dir / "mkdocs.yml").write_text(yaml.safe_dump(config))

    first = rundocs("build", cwd=tmp_dir, env=child_env)
    second = rundocs("build", cwd=tmp_dir, env=child_env)

    assert first.returncode == 0, first.stderr
    assert second.stdout.startswith("0 written,")
    sweep_page = (tmp_dir / "docs" / "sweeps" / "s.md").read_text()
    assert "[Download CSV](../assets/rundocs/tables/sweeps/s.csv)" in sweep_page
    trials = sweep_page.split("## Trials", 1)[1]
    shown = re.findall(r"^\| (?:\*\*)?\[[^]]*\]\(\.\./runs/(\w+)\.md\)", trials, flags=re.M)
    rows = read_csv(tmp_dir / TABLES / "sweeps" / "s.csv")
    assert [row["run_id"] for row in rows] == shown == ["r2", "r1", "r3"]
    assert rows[2] == {"run_id": "r3", "run": "'@SUM(A1)", "lr": "2", "best": repr(1 / 3), "at_epoch": "2",
                       "final": repr(1 / 3), "epochs": "2", "stopped_early": "false", "running": "false"}  # fmt: skip
    phase_page = (tmp_dir / "docs" / "phases" / "gated.md").read_text()
    assert "\n[Download CSV](../assets/rundocs/tables/phases/gated-gates.csv) of this table" in phase_page
    assert "brackets. [Download CSV](../assets/rundocs/tables/phases/gated-comparison.csv) of this table" in phase_page
    assert "every number in full.\n\n## Notes" in phase_page
    gates = read_csv(tmp_dir / TABLES / "phases" / "gated-gates.csv")
    assert [(g["run"], g["reads"], g["observed"], g["baseline_value"], g["result"]) for g in gates] == [
        ("base", "best", "0.6", "", "amber"), ("wide", "best", "0.72", "0.6", "green"),
        ("'@SUM(A1)", "best", repr(1 / 3), "0.6", "red"), ("base", "epoch 2", "0.6", "", "green"),
        ("wide", "epoch 2", "0.72", "0.6", "green"), ("'@SUM(A1)", "epoch 2", repr(1 / 3), "0.6", "red"),
    ]  # fmt: skip
    comparison = read_csv(tmp_dir / TABLES / "phases" / "gated-comparison.csv")
    assert [(c["model"], c["baseline"], c["val_acc"], c["val_acc delta"]) for c in comparison] == [
        ("base", "true", "0.6", "0.0"), ("wide", "false", "0.72", repr(0.72 - 0.6)),
        ("'@SUM(A1)", "false", repr(1 / 3), repr(1 / 3 - 0.6)),
    ]  # fmt: skip

    (tmp_dir / TABLES / "sweeps" / "s.csv").write_text("run_id\nr9\n")
    check = rundocs("check", cwd=tmp_dir, env=child_env)
    assert check.returncode == 1 and "stale: docs/assets/rundocs/tables/sweeps/s.csv" in check.stdout.splitlines()

    assert rundocs("build", cwd=tmp_dir, env=child_env).returncode == 0
    site = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict"], cwd=tmp_dir, env=child_env, capture_output=True,
        text=True, check=False,
    )  # fmt: skip
    assert site.returncode == 0, site.stderr
    assert (tmp_dir / "site" / "assets" / "rundocs" / "tables" / "sweeps" / "s.csv").read_bytes() == (
        tmp_dir / TABLES / "sweeps" / "s.csv"
    ).read_bytes()
    assert (
        'href="../assets/rundocs/tables/sweeps/s.csv"' in (tmp_dir / "site/sweeps/s.html").read_text()
    )  # offline: no directory URLs


def test_a_removed_sweep_loses_its_csv(tmp_dir: Path, child_env: dict[str, str]) -> None:
    write_run(tmp_dir / "runs", "a", curve([0.5]), sweep="gone")
    assert rundocs("build", cwd=tmp_dir, env=child_env).returncode == 0
    assert (tmp_dir / TABLES / "sweeps" / "gone.csv").is_file()
    shutil.rmtree(tmp_dir / "runs" / "a")
    done = rundocs("build", cwd=tmp_dir, env=child_env)
    assert done.returncode == 0 and "3 removed" in done.stdout  # the run page, the sweep page, its CSV
    assert not (tmp_dir / TABLES / "sweeps" / "gone.csv").exists()


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1+2", "'+1+2"),
        ("-cmd|' /C calc'!A0", "'-cmd|' /C calc'!A0"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("-inf", "'-inf"),
        ("-0.5", "-0.5"),
        ("+1e-3", "+1e-3"),
        ("lr=0.1", "lr=0.1"),
        ("", ""),
    ],
)
def test_a_cell_a_spreadsheet_would_run_is_text(cell: str, written: str) -> None:
    assert spreadsheet_safe(cell) == written
