"""``rundocs query``: SQL over runs and metrics, printed as a table, CSV or JSON; one-line errors."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from rundocs.exceptions import QueryError
from rundocs.load.runs import load_runs
from rundocs.tables.query import format_result, run_query
from tests.cli.test_cli import rundocs
from tests.helpers import write_run

ROWS = [{"epoch": 1, "loss": 0.5}, {"epoch": 2, "loss": "Infinity"}]


def test_a_query_prints_an_aligned_table_csv_and_json(tmp_dir: Path, child_env: dict[str, str]) -> None:
    write_run(tmp_dir / "runs", "a", ROWS, config={"lr": 0.001}, name="first")
    write_run(tmp_dir / "runs", "b", ROWS[:1], config={"lr": 0.1}, name="second, with a comma")
    sql = (
        'SELECT r.name, r."config.lr" AS lr, max(m.value) AS top FROM runs r JOIN metrics m ON m.run_id = r.id '
        "GROUP BY ALL ORDER BY lr"
    )

    table = rundocs("query", sql, cwd=tmp_dir, env=child_env)
    result = run_query(load_runs("runs"), sql)

    assert table.returncode == 0, table.stderr
    assert table.stdout.splitlines() == [
        "name                     lr  top",
        "--------------------  -----  ---",
        "first                 0.001  inf",
        "second, with a comma    0.1  0.5",
        "(2 rows)",
    ]
    assert format_result(result, "csv") == 'name,lr,top\nfirst,0.001,inf\n"second, with a comma",0.1,0.5\n'
    assert json.loads(format_result(result, "json")) == [
        {"name": "first", "lr": 0.001, "top": "Infinity"},
        {"name": "second, with a comma", "lr": 0.1, "top": 0.5},
    ]


def test_bad_sql_is_one_error_line(tmp_dir: Path, child_env: dict[str, str]) -> None:
    write_run(tmp_dir / "runs", "a", ROWS)
    done = rundocs("query", "SELEC name FROM runs", cwd=tmp_dir, env=child_env)
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == 'Error: query failed: Parser Error: syntax error at or near "SELEC"\n'


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        ("SELECT nope FROM runs", 'Binder Error: Referenced column "nope" not found'),
        ("SELECT * FROM read_csv('secret.csv')", 'Permission Error: Cannot access file "secret.csv"'),
        ("COPY runs TO 'out.csv'", "Permission Error: Cannot access file"),
        ("ATTACH 'other.db'", "Permission Error"),
        ("SET enable_external_access = true", "the configuration has been locked"),
    ],
)
def test_a_query_sees_the_two_tables_and_no_file(tmp_dir: Path, sql: str, reason: str) -> None:
    write_run(tmp_dir / "runs", "a", ROWS)
    (tmp_dir / "secret.csv").write_text("password\nhunter2\n")
    with pytest.raises(QueryError, match=re.escape(reason)) as raised:
        run_query(load_runs("runs"), sql)
    assert "\n" not in str(raised.value)
    assert sorted(p.name for p in tmp_dir.iterdir()) == ["runs", "secret.csv"]


def test_without_duckdb_the_error_names_the_extra(tmp_dir: Path, child_env: dict[str, str]) -> None:
    code = (
        "import sys; sys.modules['duckdb'] = None; sys.argv = ['rundocs', 'query', 'SELECT 1']; "
        "from rundocs.site.cli import main; main()"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_dir, env=child_env, capture_output=True, text=True, check=False
    )
    assert (done.returncode, done.stderr) == (1, "Error: duckdb is not installed: pip install 'rundocs[query]'\n")


def test_an_empty_runs_folder_is_two_empty_tables(tmp_dir: Path) -> None:
    result = run_query(load_runs("runs"), "SELECT (SELECT count(*) FROM runs), count(*) FROM metrics")
    assert result.rows == [(0, 0)]
