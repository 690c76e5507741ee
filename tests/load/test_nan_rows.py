"""A metric logged as NaN is told apart from a metric missing from a line, on every line."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import rundocs
from tests.helpers import write_run
from tests.settle import settle

LINES = [
    {"epoch": 1, "train_loss": 1.0, "val_loss": 0.9, "acc": "NaN"},
    {"epoch": 2, "train_loss": 1.0, "val_loss": "NaN"},  # val_loss NaN after finite values; acc missing
    {"epoch": 3, "train_loss": 0.8, "acc": "NaN"},  # val_loss missing, acc NaN again
    {"epoch": 4, "train_loss": "Infinity", "val_loss": "NaN"},
]
#: What every path must read: per metric, the rows where NaN was logged (acc is logged only as NaN).
NAN_ROWS = {"acc": [0, 2], "val_loss": [1, 3]}
FIRST_NONFINITE = {"acc": 0, "val_loss": 1, "train_loss": 3}

SLOW = '{"epoch": 5, "train_loss": null}\n'  # a line the schema refuses: the file takes the slow path


def nan_rows(runs: rundocs.Runs, run_id: str) -> dict[str, list[int]]:
    return {key: rows.tolist() for key, rows in sorted(runs.histories[run_id].nan_rows.items())}


@pytest.mark.parametrize("tail", ["", SLOW], ids=["fast path", "slow path"])
def test_nan_rows_name_every_line_that_logged_nan(tmp_path: Path, tail: str) -> None:
    write_run(tmp_path, "a", "".join(json.dumps(line) + "\n" for line in LINES) + tail)
    runs = rundocs.load_runs(tmp_path)
    history = runs.histories["a"]
    assert nan_rows(runs, "a") == NAN_ROWS
    assert history.first_nonfinite == FIRST_NONFINITE
    assert history.length == 4 and len(runs.problems) == (1 if tail else 0)
    assert "train_loss" not in history.nan_rows  # logged on every line, never as NaN


def test_a_metric_logged_only_as_nan_keeps_its_rows(tmp_path: Path) -> None:
    write_run(tmp_path, "a", [{"epoch": 1, "train_loss": 1.0, "val_loss": "NaN"}, {"epoch": 2, "train_loss": 0.5}])
    history = rundocs.load_runs(tmp_path).histories["a"]
    assert history.nan_rows["val_loss"].tolist() == [0]
    assert "val_loss" in history.columns and history.length == 2


LOAD = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    import rundocs
    from rundocs.load import cache
    cache.fill_memo_from_disk(Path(sys.argv[2]), Path(sys.argv[1]))
    from_disk = [entry.metrics for entry in cache._memo.values()]
    history = rundocs.load_runs(sys.argv[1], cache_dir=sys.argv[2]).histories["a"]
    print(json.dumps({
        "from_disk": len(from_disk) == 1 and from_disk[0] is history,
        "nan_rows": {key: rows.tolist() for key, rows in sorted(history.nan_rows.items())},
        "first_nonfinite": history.first_nonfinite,
        "dtypes": sorted({str(rows.dtype) for rows in history.nan_rows.values()}),
    }))
""")


def test_nan_rows_survive_the_disk_cache(tmp_path: Path, child_env: dict[str, str]) -> None:
    runs_dir, cache = tmp_path / "runs", tmp_path / "cache"
    write_run(runs_dir, "a", "".join(json.dumps(line) + "\n" for line in LINES))
    settle(runs_dir)
    results = []
    for _ in range(2):  # the first parses and fills the cache; the second reads the cache only
        done = subprocess.run(
            [sys.executable, "-c", LOAD, str(runs_dir), str(cache)], env=child_env, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        results.append(json.loads(done.stdout))
    index = json.loads((cache / "runs.json").read_text())
    assert index["runs"]["a"]["nan_rows"].keys() == NAN_ROWS.keys()
    assert [result.pop("from_disk") for result in results] == [False, True]
    assert results[0] == results[1]
    assert results[1]["nan_rows"] == NAN_ROWS and results[1]["first_nonfinite"] == FIRST_NONFINITE
    assert results[1]["dtypes"] == ["int64"]
