"""A real S3 API on localhost (moto in server mode) for the object store tests; no network."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import s3fs
from moto.server import ThreadedMotoServer


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """One S3 server for the session, on a free port of 127.0.0.1."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_env(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The environment a user sets to reach the server (dummy credentials, ``AWS_ENDPOINT_URL``),
    inherited by child processes. fsspec keeps one file system object per set of options (about
    0.5 s to make); a test that changes the environment clears them (``fresh_store_clients``)."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": s3_endpoint,
        "AWS_EC2_METADATA_DISABLED": "true",  # never ask the network for instance credentials
        "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
        "AWS_CONFIG_FILE": "/nonexistent",
    }.items():
        monkeypatch.setenv(name, value)
    return s3_endpoint


@pytest.fixture
def fresh_store_clients() -> Iterator[None]:
    """fsspec's file system objects made again from the environment, in this test and after it."""
    s3fs.S3FileSystem.clear_instance_cache()
    yield
    s3fs.S3FileSystem.clear_instance_cache()


@pytest.fixture
def bucket(s3_env: str) -> str:
    """A new empty bucket; returns its name."""
    name = f"runs-{uuid.uuid4().hex[:12]}"
    s3fs.S3FileSystem().mkdir(name)
    return name


@pytest.fixture
def store(bucket: str) -> str:
    """The URL of a runs prefix in a new bucket: ``s3://<bucket>/project/runs``."""
    return f"s3://{bucket}/project/runs"


@pytest.fixture
def staging(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Runs recorded for a store are staged under the test's folder."""
    folder = tmp_path / "staging"
    monkeypatch.setenv("RUNDOCS_STAGING", str(folder))
    return folder
