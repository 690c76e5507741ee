"""The disk cache: a new process reads unchanged runs from it, and a bad cache is only ignored."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import numpy as np

from tests.helpers import write_run
from tests.settle import settle

ROWS = [{"epoch": e, "time": 1.0 * e, "loss": 1.0 / e, "acc": "NaN" if e == 2 else 0.1 * e} for e in range(1, 6)]

LOAD = textwrap.dedent("""
    import json, sys
    from unittest import mock
    import rundocs
    from rundocs.load import cache
    with mock.patch.object(cache, "parse_record", wraps=cache.parse_record) as reads:  # a spy: counts reads
        runs = rundocs.load_runs(sys.argv[1], cache_dir=sys.argv[2])
    print(json.dumps({
        "read": sorted(call.args[0].name for call in reads.call_args_list),
        "metrics": runs.metrics.astype(str).values.tolist(),
        "names": [r.name for r in runs.records.values()],
        "nonfinite": {k: v for k, v in runs.runs["nonfinite"].items()},
        "problems": [str(p) for p in runs.problems],
    }))
""")


def load_in_new_process(runs: Path, cache: Path, env: dict[str, str]) -> dict[str, object]:
    done = subprocess.run([sys.executable, "-c", LOAD, str(runs), str(cache)], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_a_new_process_reads_only_what_changed(tmp_path: Path, child_env: dict[str, str]) -> None:
    runs, cache = tmp_path / "runs", tmp_path / "cache"
    for name in ("a", "b", "c"):
        write_run(runs, name, ROWS)
    (runs / "c" / "metrics.jsonl").write_text('{"epoch": 1, "loss": "bad"}\n')
    settle(runs)

    cold = load_in_new_process(runs, cache, child_env)
    warm = load_in_new_process(runs, cache, child_env)
    with open(runs / "b" / "metrics.jsonl", "a") as file:
        file.write(json.dumps({"epoch": 6, "loss": 0.1}) + "\n")
    settle(runs / "b", seconds=30)
    changed = load_in_new_process(runs, cache, child_env)

    assert cold["read"] == ["a", "b", "c"] and warm["read"] == [] and changed["read"] == ["b"]
    assert {k: v for k, v in warm.items() if k != "read"} == {k: v for k, v in cold.items() if k != "read"}
    assert cold["nonfinite"] == {"a": {"acc": 2}, "b": {"acc": 2}, "c": {}}
    assert len(cold["problems"]) == 1 and cold["problems"] == warm["problems"]  # type: ignore[arg-type]
    assert len(changed["metrics"]) == len(cold["metrics"]) + 1  # type: ignore[arg-type]


def test_a_corrupt_or_hostile_cache_is_ignored(tmp_path: Path, child_env: dict[str, str]) -> None:
    runs, cache = tmp_path / "runs", tmp_path / "cache"
    write_run(runs, "a", ROWS)
    settle(runs)
    cold = load_in_new_process(runs, cache, child_env)

    (cache / "runs.json").write_text("{not json")
    assert load_in_new_process(runs, cache, child_env)["read"] == ["a"]

    marker = tmp_path / "pwned"
    index = json.loads((cache / "runs.json").read_text())
    np.save(cache / index["values"], np.array([_Boom(marker)], dtype=object), allow_pickle=True)
    (cache / "runs.json").write_text(json.dumps(index))
    again = load_in_new_process(runs, cache, child_env)
    assert again["read"] == ["a"] and again["metrics"] == cold["metrics"]
    assert not marker.exists()


def test_a_cache_pointing_outside_or_past_its_values_is_ignored(tmp_path: Path, child_env: dict[str, str]) -> None:
    runs, cache = tmp_path / "runs", tmp_path / "cache"
    write_run(runs, "a", ROWS)
    settle(runs)
    cold = load_in_new_process(runs, cache, child_env)
    (tmp_path / "values-elsewhere.npy").write_bytes((cache / _index(cache)["values"]).read_bytes())

    def point_outside(index: dict[str, Any]) -> None:
        index["values"] = "../values-elsewhere.npy"

    def point_past_the_end(index: dict[str, Any]) -> None:
        index["runs"]["a"]["columns"]["loss"] = 10**6

    def point_through_a_folder(index: dict[str, Any]) -> None:
        (cache / "values.d").mkdir(exist_ok=True)
        index["values"] = "values.d/../../values-elsewhere.npy"

    def store_integers(index: dict[str, Any]) -> None:
        np.save(cache / index["values"], np.arange(100), allow_pickle=False)

    def claim_a_negative_length(index: dict[str, Any]) -> None:
        index["runs"]["a"]["length"] = -3

    def claim_more_lines_than_the_file_can_hold(index: dict[str, Any]) -> None:
        index["runs"]["a"]["length"], index["runs"]["a"]["columns"] = 10**9, {}

    def put_a_nonfinite_row_past_the_end(index: dict[str, Any]) -> None:
        index["runs"]["a"]["first_nonfinite"] = {"acc": 5}

    def make_the_values_a_fifo(index: dict[str, Any]) -> None:
        (cache / index["values"]).unlink()
        os.mkfifo(cache / index["values"])  # reading it would block forever

    def make_the_values_a_symlink(index: dict[str, Any]) -> None:
        (cache / index["values"]).unlink()
        (cache / index["values"]).symlink_to(tmp_path / "values-elsewhere.npy")

    spoilers = [
        point_outside, point_past_the_end, point_through_a_folder, store_integers, claim_a_negative_length,
        claim_more_lines_than_the_file_can_hold, put_a_nonfinite_row_past_the_end, make_the_values_a_fifo,
        make_the_values_a_symlink,
    ]  # fmt: skip
    for spoil in spoilers:
        index = _index(cache)
        spoil(index)
        (cache / "runs.json").write_text(json.dumps(index))
        again = load_in_new_process(runs, cache, child_env)
        assert again["read"] == ["a"] and again["metrics"] == cold["metrics"], spoil.__name__


def test_each_save_leaves_one_values_file(tmp_path: Path, child_env: dict[str, str]) -> None:
    runs, cache = tmp_path / "runs", tmp_path / "cache"
    write_run(runs, "a", ROWS)
    settle(runs)
    load_in_new_process(runs, cache, child_env)
    first = _index(cache)["values"]
    with open(runs / "a" / "metrics.jsonl", "a") as file:
        file.write(json.dumps({"epoch": 6, "loss": 0.1}) + "\n")
    settle(runs / "a", seconds=30)
    load_in_new_process(runs, cache, child_env)
    assert [p.name for p in cache.glob("values*.npy")] == [_index(cache)["values"]] != [first]


def test_a_save_removes_only_the_values_file_it_replaced(tmp_path: Path, child_env: dict[str, str]) -> None:
    runs, cache = tmp_path / "runs", tmp_path / "cache"
    write_run(runs, "a", ROWS)
    settle(runs)
    load_in_new_process(runs, cache, child_env)
    replaced = _index(cache)["values"]
    concurrent, abandoned, own = cache / "values-concurrent.npy", cache / "values-abandoned.npy", cache / "values_x.npy"
    for path in (concurrent, abandoned, own):
        np.save(path, np.zeros(3), allow_pickle=False)
    two_hours_ago = time.time() - 7200
    os.utime(abandoned, (two_hours_ago, two_hours_ago))
    with open(runs / "a" / "metrics.jsonl", "a") as file:
        file.write(json.dumps({"epoch": 6, "loss": 0.1}) + "\n")
    settle(runs / "a", seconds=30)

    load_in_new_process(runs, cache, child_env)
    left = sorted(p.name for p in cache.glob("values*"))
    assert left == sorted([_index(cache)["values"], concurrent.name, own.name]) and replaced not in left


def _index(cache: Path) -> dict[str, Any]:
    index: dict[str, Any] = json.loads((cache / "runs.json").read_text())
    return index


class _Boom:
    """Unpickling this would create a file: the cache must never unpickle."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (open, (str(self.marker), "w"))
