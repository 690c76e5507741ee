"""The rundocs command given a store URL: build, validate and sync as a user runs them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import s3fs
from click.testing import CliRunner

from rundocs import load_runs
from rundocs.site.cli import cli
from tests.conftest import child_environment
from tests.helpers import write_run

ROWS = [{"epoch": e, "loss": 1.0 / e} for e in range(1, 4)]


def rundocs(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rundocs", *args],
        cwd=cwd,
        env={**child_environment(), **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_build_and_validate_read_a_store(store: str, tmp_dir: Path) -> None:
    write_run(tmp_dir / "up", "a", ROWS)
    write_run(tmp_dir / "up", "b", ROWS, status="ok")
    s3fs.S3FileSystem().put(f"{tmp_dir / 'up'}/", store.removeprefix("s3://"), recursive=True)

    validated = rundocs("validate", "--runs", store, cwd=tmp_dir)
    assert validated.returncode == 1
    assert validated.stdout.splitlines() == [
        f"{store}/b/run.json: field 'status': 'ok' is not one of ['running', 'completed', 'failed', 'interrupted']"
    ]
    built = rundocs("build", "--runs", store, "--allow-problems", cwd=tmp_dir)
    assert (built.returncode, built.stderr) == (0, "")
    assert "1 run, 1 problem" in built.stdout
    assert (tmp_dir / "docs" / "runs" / "a.md").is_file()
    assert store in (tmp_dir / "docs" / "problems.md").read_text()


@pytest.mark.usefixtures("fresh_store_clients")
@pytest.mark.parametrize(
    ("environment", "error"),
    [
        ({}, "Error: cannot list s3://no-such-bucket/runs: FileNotFoundError: The specified bucket does not exist"),
        (
            {"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""},
            "Error: cannot list s3://no-such-bucket/runs: NoCredentialsError: Unable to locate credentials",
        ),
    ],
)
def test_a_store_that_cannot_be_read_is_one_error_line(
    s3_env: str, tmp_dir: Path, environment: dict[str, str], error: str
) -> None:
    done = rundocs("build", "--runs", "s3://no-such-bucket/runs", cwd=tmp_dir, **environment)
    assert (done.returncode, done.stderr) == (1, error + "\n")


def test_sync_both_ways(store: str, tmp_dir: Path) -> None:
    write_run(tmp_dir / "runs", "a", ROWS)
    metrics = tmp_dir / "runs" / "a" / "metrics.jsonl"
    metrics.write_bytes(metrics.read_bytes() + b'{"epoch":4,')  # a line being written

    up = rundocs("sync", "runs", store, cwd=tmp_dir)
    assert (up.returncode, up.stdout) == (0, f"runs -> {store}: 2 copied, 0 unchanged, 0 deleted, 0 problems\n")
    down = rundocs("sync", store, "copy", cwd=tmp_dir)
    assert down.stdout == f"{store} -> copy: 2 copied, 0 unchanged, 0 deleted, 0 problems\n"

    assert (tmp_dir / "copy" / "a" / "metrics.jsonl").read_bytes() == metrics.read_bytes().rpartition(b"\n")[0] + b"\n"
    assert load_runs(tmp_dir / "copy", strict=True).records["a"].id == "a"


def test_import_writes_into_a_store(store: str, tmp_dir: Path) -> None:
    (tmp_dir / "exp1.csv").write_text("step,loss\n0,2.0\n100,1.0\n")
    write_run(tmp_dir / "up", "already-there", ROWS)
    s3fs.S3FileSystem().put(f"{tmp_dir / 'up'}/", store.removeprefix("s3://"), recursive=True)

    done = rundocs("import", "csv", "exp1.csv", "--runs", store, cwd=tmp_dir)

    assert done.returncode == 0, done.stderr
    runs = load_runs(store, cache_dir=tmp_dir / "check", strict=True)
    assert sorted(record.name for record in runs.records.values()) == ["already-there", "exp1"]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["serve", "--runs", "s3://bucket/runs"], "serve watches a local runs folder"),
        (["status", "--runs", "s3://bucket/runs", "--since", "HEAD"], "--since compares runs committed to git"),
    ],
)
def test_commands_that_need_a_folder_refuse_a_url(tmp_dir: Path, arguments: list[str], message: str) -> None:
    done = CliRunner().invoke(cli, arguments)
    assert done.exit_code == 2
    assert message in done.output


def test_the_mkdocs_plugin_reads_runs_from_a_store(store: str, tmp_dir: Path) -> None:
    from tests.integration.test_plugin import make_project

    project = make_project(tmp_dir / "site", [])
    config = (project / "mkdocs.yml").read_text().replace("title: Plugin lab", f"title: Plugin lab\n    runs: {store}")
    (project / "mkdocs.yml").write_text(config)
    write_run(tmp_dir / "up", "a", ROWS)
    s3fs.S3FileSystem().put(f"{tmp_dir / 'up'}/", store.removeprefix("s3://"), recursive=True)
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict"],
        cwd=project,
        env=child_environment(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert (project / "site" / "runs" / "a" / "index.html").is_file()
    assert not (project / "s3:").exists()  # the URL is not a local folder name
