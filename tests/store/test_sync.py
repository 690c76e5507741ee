"""Copying runs between folders and a real S3 API: the mirror readers load a store through,
``rundocs sync`` in both directions, object names that would leave the runs folder."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest
import s3fs

import rundocs
from rundocs.exceptions import MissingDependencyError, StoreError
from rundocs.store.sync import mirror_store, sync_locations
from tests.helpers import write_run

ROWS = [{"epoch": e, "loss": 1.0 / e} for e in range(1, 4)]


def put_runs(store: str, tmp_path: Path, *ids: str) -> None:
    """Run folders written locally, as another machine would, then uploaded as they are."""
    local = tmp_path / "elsewhere"
    for run_id in ids:
        write_run(local, run_id, ROWS)
    s3fs.S3FileSystem().put(f"{local}/", store.removeprefix("s3://"), recursive=True)


def test_a_rebuild_fetches_only_the_object_that_changed(store: str, tmp_path: Path) -> None:
    put_runs(store, tmp_path, "a", "b", "c")
    cache = tmp_path / "cache"

    folder, first = mirror_store(store, cache)
    assert (len(first.copied), first.unchanged) == (6, 0)
    s3fs.S3FileSystem().pipe_file(f"{store}/b/metrics.jsonl", b'{"epoch":1,"loss":0.5}\n{"epoch":2,"loss":0.25}\n')
    _, second = mirror_store(store, cache)
    assert (second.copied, second.unchanged, second.deleted) == (["b/metrics.jsonl"], 5, [])

    runs = rundocs.load_runs(store, cache_dir=cache)
    assert sorted(runs.records) == ["a", "b", "c"]
    assert list(runs.history("b")["loss"]) == [0.5, 0.25]
    assert folder == cache / "stores" / folder.parent.name / "runs"


def test_a_run_removed_from_the_store_leaves_the_mirror(store: str, tmp_path: Path) -> None:
    put_runs(store, tmp_path, "a", "b")
    cache = tmp_path / "cache"
    mirror_store(store, cache)
    s3fs.S3FileSystem().rm(f"{store}/a", recursive=True)

    folder, report = mirror_store(store, cache)

    assert report.deleted == ["a/metrics.jsonl", "a/run.json"]
    assert sorted(p.name for p in folder.iterdir()) == ["b"]
    assert list(rundocs.load_runs(store, cache_dir=cache).records) == ["b"]


@pytest.mark.parametrize(
    ("key", "why"),
    [
        ("x/../../../escape/run.json", "could leave the runs folder"),
        ("a\\..\\..\\escape/run.json", "could leave the runs folder"),
        ("bad name/run.json", "is not a run id"),
        (".hidden/../a/run.json", "could leave the runs folder"),
    ],
)
def test_object_names_that_could_leave_the_runs_folder_are_refused(
    store: str, tmp_path: Path, key: str, why: str
) -> None:
    put_runs(store, tmp_path, "a")
    bucket, _, prefix = store.removeprefix("s3://").partition("/")
    client = s3fs.S3FileSystem()
    client.call_s3("put_object", Bucket=bucket, Key=f"{prefix}/{key}", Body=b"{}")  # as typed, unnormalised
    cache = tmp_path / "cache"

    runs = rundocs.load_runs(store, cache_dir=cache)

    assert [(p.path, why in p.message) for p in runs.problems] == [(f"{store}/{key}", True)]
    assert list(runs.records) == ["a"]
    written = sorted(p.relative_to(runs.root).as_posix() for p in runs.root.rglob("*") if p.is_file())
    assert written == ["a/metrics.jsonl", "a/run.json"]
    assert not list(tmp_path.rglob("escape"))


def test_sync_up_copies_a_metrics_file_to_its_last_complete_line(store: str, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    write_run(runs, "a", ROWS)
    write_run(runs, "b", ROWS)
    metrics = runs / "a" / "metrics.jsonl"
    whole = metrics.read_bytes()
    metrics.write_bytes(whole + b'{"epoch":4,"lo')  # a line being written
    objects = s3fs.S3FileSystem()

    first = sync_locations(str(runs), store, tmp_path / "cache")
    assert (len(first.copied), first.problems) == (4, [])
    assert objects.cat_file(f"{store}/a/metrics.jsonl") == whole

    metrics.write_bytes(whole + b'{"epoch":4,"loss":0.25}\n')
    second = sync_locations(str(runs), store, tmp_path / "cache")
    assert (second.copied, second.unchanged) == (["a/metrics.jsonl"], 3)
    assert objects.cat_file(f"{store}/a/metrics.jsonl").endswith(b'{"epoch":4,"loss":0.25}\n')


def test_sync_down_is_incremental_and_deletes_only_when_asked(store: str, tmp_path: Path) -> None:
    put_runs(store, tmp_path, "a", "b")
    target = tmp_path / "runs"
    write_run(target, "local-only", ROWS)

    assert len(sync_locations(store, str(target), tmp_path / "cache").copied) == 4
    assert sync_locations(store, str(target), tmp_path / "cache").copied == []
    (target / "a" / "run.json").unlink()  # a copy removed by hand is copied again
    assert sync_locations(store, str(target), tmp_path / "cache").copied == ["a/run.json"]
    assert (target / "local-only").is_dir()

    report = sync_locations(store, str(target), tmp_path / "cache", delete=True)
    assert report.deleted == ["local-only/metrics.jsonl", "local-only/run.json"]
    assert sorted(p.name for p in target.iterdir()) == ["a", "b"]
    assert json.loads((target / "a" / "run.json").read_text())["id"] == "a"


def test_a_missing_bucket_is_one_error(s3_env: str, tmp_path: Path) -> None:
    with pytest.raises(StoreError, match=r"^cannot list s3://no-such-bucket/runs: FileNotFoundError: .*bucket"):
        rundocs.load_runs("s3://no-such-bucket/runs", cache_dir=tmp_path)


def test_a_file_url_reads_as_a_store(tmp_path: Path) -> None:
    write_run(tmp_path / "shared" / "runs", "a", ROWS)
    url = (tmp_path / "shared" / "runs").as_uri()

    runs = rundocs.load_runs(url, cache_dir=tmp_path / "cache", strict=True)

    assert list(runs.records) == ["a"]
    assert runs.root != tmp_path / "shared" / "runs"  # read from the mirror
    assert rundocs.load_runs(f"{url}/missing", cache_dir=tmp_path / "cache").records == {}


def test_a_store_without_its_package_names_the_extra(tmp_path: Path) -> None:
    if importlib.util.find_spec("gcsfs") is not None:
        pytest.skip("gcsfs is installed")
    with pytest.raises(MissingDependencyError, match=re.escape("is not installed: pip install 'rundocs[gcs]'")):
        rundocs.load_runs("gs://bucket/runs", cache_dir=tmp_path)
    with pytest.raises(StoreError, match=r"^cannot open nosuch://bucket/runs: ValueError: Protocol not known: nosuch$"):
        rundocs.load_runs("nosuch://bucket/runs", cache_dir=tmp_path)
