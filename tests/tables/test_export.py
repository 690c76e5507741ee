"""``rundocs export``: files DuckDB and pandas read as they are, rewritten only where a run changed."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from rundocs.exceptions import RundocsError
from rundocs.load.runs import load_runs
from rundocs.tables.export import export_tables
from tests.cli.test_cli import rundocs
from tests.helpers import write_run

ROWS = [{"epoch": e, "val_loss": 1.0 / e, "val_acc": e / 10} for e in range(1, 4)]


def test_duckdb_and_pandas_read_the_export_as_written(tmp_dir: Path, child_env: dict[str, str]) -> None:
    write_run(tmp_dir / "runs", "a", ROWS, config={"optim": {"lr": 0.01}, "layers": [64, 64]}, summary={"test": 1.5})
    write_run(tmp_dir / "runs", "b", [{"epoch": 1, "val_loss": "NaN"}, {"epoch": 2, "val_loss": "Infinity"}])

    done = rundocs("export", "out", cwd=tmp_dir, env=child_env)

    assert (done.returncode, done.stdout) == (0, "3 written, 0 unchanged, 0 removed\n"), done.stderr
    runs = pd.read_parquet(tmp_dir / "out" / "runs.parquet").set_index("id")
    assert runs.loc["a", "config.optim.lr"] == 0.01 and runs.loc["a", "config.layers"] == "[64, 64]"
    assert runs.loc["a", "best.val_loss"] == pytest.approx(1 / 3) and runs.loc["a", "best_at.val_loss"] == 3
    assert runs.loc["a", "final.val_acc"] == pytest.approx(0.3) and runs.loc["a", "summary.test"] == 1.5
    assert pd.isna(runs.loc["b", "config.optim.lr"]) and pd.isna(runs.loc["b", "best.val_loss"])  # nulls
    assert str(runs["started_at"].dtype) == "datetime64[us, UTC]"
    metrics = pd.read_parquet(tmp_dir / "out" / "metrics")  # the folder, as pandas reads a dataset
    assert len(metrics) == 8 and set(metrics["run_id"]) == {"a", "b"}
    b = metrics[metrics["run_id"] == "b"]["value"].tolist()
    assert math.isnan(b[0]) and b[1] == math.inf  # NaN and inf stay float values
    glob = (tmp_dir / "out" / "metrics" / "**" / "*.parquet").as_posix()
    found = duckdb.sql(
        f"SELECT r.name, count(*) FROM read_parquet('{glob}', hive_partitioning=true) m "
        f"JOIN '{(tmp_dir / 'out' / 'runs.parquet').as_posix()}' r ON r.id = m.run_id GROUP BY r.name ORDER BY 1"
    ).fetchall()
    assert found == [("a", 6), ("b", 2)]


def test_a_rerun_rewrites_only_the_changed_run_and_drops_a_removed_one(tmp_dir: Path) -> None:
    for name in ("a", "b", "c"):
        write_run(tmp_dir / "runs", name, ROWS)
    export_tables(load_runs("runs"), tmp_dir / "out")
    files = {name: tmp_dir / "out" / "metrics" / f"{name}.parquet" for name in ("a", "b", "c")}
    before = {name: os.stat(path) for name, path in files.items()}
    with (tmp_dir / "runs" / "b" / "metrics.jsonl").open("a") as file:
        file.write(json.dumps({"epoch": 4, "val_loss": 0.1}) + "\n")
    for path in (tmp_dir / "runs" / "c").iterdir():
        path.unlink()
    (tmp_dir / "runs" / "c").rmdir()

    report = export_tables(load_runs("runs"), tmp_dir / "out")

    after = os.stat(files["a"])
    assert (after.st_ino, after.st_mtime_ns) == (before["a"].st_ino, before["a"].st_mtime_ns)
    assert os.stat(files["b"]).st_ino != before["b"].st_ino
    assert not files["c"].exists()
    assert (report.written, report.removed) == (["metrics/b.parquet", "runs.parquet"], ["metrics/c.parquet"])
    assert pd.read_parquet(tmp_dir / "out" / "metrics")["run_id"].value_counts().to_dict() == {"b": 7, "a": 6}


def test_csv_export_reads_back_with_duckdb(tmp_dir: Path) -> None:
    write_run(tmp_dir / "runs", "a", [{"epoch": 1, "val_loss": "NaN"}], tags=["x,y", "z"])
    export_tables(load_runs("runs"), tmp_dir / "out", "csv")
    export_tables(load_runs("runs"), tmp_dir / "out", "parquet")  # switching formats replaces every file

    assert sorted(p.name for p in (tmp_dir / "out").rglob("*.csv")) == []
    export_tables(load_runs("runs"), tmp_dir / "out", "csv")
    glob = (tmp_dir / "out" / "metrics" / "*.csv").as_posix()
    assert duckdb.sql(f"SELECT run_id, epoch, isnan(value) FROM read_csv('{glob}')").fetchall() == [("a", 1, True)]
    runs = duckdb.sql(f"SELECT id, tags FROM read_csv('{(tmp_dir / 'out' / 'runs.csv').as_posix()}')").fetchall()
    assert runs == [("a", '["x,y", "z"]')]
    assert sorted(p.name for p in (tmp_dir / "out").iterdir()) == ["_rundocs_export.json", "metrics", "runs.csv"]


def test_columns_differing_only_in_case_or_by_flattening_stay_apart_or_are_documented(tmp_dir: Path) -> None:
    config = {"LR": 1, "lr": 2, "a": {"b": "nested"}, 'x"; DROP TABLE runs; --': True}
    write_run(tmp_dir / "runs", "a", ROWS, config=config)
    write_run(tmp_dir / "runs", "b", ROWS, config={"a.b": "dotted", "lr": "3e-4"})
    export_tables(load_runs("runs"), tmp_dir / "out")

    path = (tmp_dir / "out" / "runs.parquet").as_posix()
    columns = [row[0] for row in duckdb.sql(f"DESCRIBE SELECT * FROM '{path}'").fetchall()]
    assert [c for c in columns if c.startswith("config.")] == [
        "config.LR", "config.a.b", "config.lr#2", 'config.x"; DROP TABLE runs; --',
    ]  # fmt: skip
    rows = duckdb.sql(f'SELECT id, "config.LR", "config.lr#2", "config.a.b" FROM \'{path}\' ORDER BY id').fetchall()
    assert rows == [("a", 1, "2", "nested"), ("b", None, "3e-4", "dotted")]  # mixed types: text


def test_a_folder_that_is_not_an_export_is_left_alone(tmp_dir: Path) -> None:
    write_run(tmp_dir / "runs", "a", ROWS)
    (tmp_dir / "out").mkdir()
    (tmp_dir / "out" / "thesis.tex").write_text("keep me")

    with pytest.raises(RundocsError, match=r"out: not empty and not a rundocs export"):
        export_tables(load_runs("runs"), tmp_dir / "out")
    assert [p.name for p in (tmp_dir / "out").iterdir()] == ["thesis.tex"]


def test_a_tampered_manifest_never_names_a_file_to_delete(tmp_dir: Path) -> None:
    write_run(tmp_dir / "runs", "a", ROWS)
    export_tables(load_runs("runs"), tmp_dir / "out")
    victim = tmp_dir / "victim.txt"
    victim.write_text("keep me")
    manifest = json.loads((tmp_dir / "out" / "_rundocs_export.json").read_text())
    manifest["runs"]["20990101_000000_zzzz"] = "x/../../../victim.txt:abc"
    (tmp_dir / "out" / "metrics" / "20990101_000000_zzzz.x").mkdir()
    (tmp_dir / "out" / "_rundocs_export.json").write_text(json.dumps(manifest))

    report = export_tables(load_runs("runs"), tmp_dir / "out")
    assert victim.read_text() == "keep me" and report.removed == []


def test_a_manifest_that_is_a_link_is_not_followed(tmp_dir: Path) -> None:
    """An export folder whose manifest links elsewhere (to another export's, say) is not taken
    for an export: nothing in it is deleted on the word of a file outside it."""
    write_run(tmp_dir / "runs", "a", ROWS)
    export_tables(load_runs("runs"), tmp_dir / "elsewhere")
    (tmp_dir / "out").mkdir()
    (tmp_dir / "out" / "notes.txt").write_text("mine")
    (tmp_dir / "out" / "_rundocs_export.json").symlink_to(tmp_dir / "elsewhere" / "_rundocs_export.json")

    with pytest.raises(RundocsError, match="not a rundocs export"):
        export_tables(load_runs("runs"), tmp_dir / "out")
    assert (tmp_dir / "out" / "notes.txt").read_text() == "mine"
