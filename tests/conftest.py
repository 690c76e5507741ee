"""Shared fixtures: every test starts from a clean environment in its own folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

#: Variables that change where or whether a run records; a developer's shell or a CI job
#: (SLURM, torchrun) may have them set, and tests must not inherit them.
_RECORDING_ENV = (
    "RUNDOCS_DIR",
    "RUNDOCS_PARENT_RUN",
    "RANK",
    "LOCAL_RANK",
    "WORLD_SIZE",
    "SLURM_JOB_ID",
    "SLURM_JOB_NAME",
    "SLURM_ARRAY_JOB_ID",
    "SLURM_ARRAY_TASK_ID",
    "SOURCE_DATE_EPOCH",
)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-goldens", action="store_true", help="rewrite tests/golden/ from the current output")


@pytest.fixture(autouse=True)
def clean_recording_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests see no SLURM, torchrun or rundocs variables unless they set them."""
    for name in _RECORDING_ENV:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def tmp_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run the test inside its own empty folder."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def child_environment() -> dict[str, str]:
    """Environment for child Python processes: this interpreter's, less the recording variables,
    with this checkout's ``src`` importable first."""
    env = {k: v for k, v in os.environ.items() if k not in _RECORDING_ENV}
    src = str(Path(__file__).resolve().parents[1] / "src")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH")) if p)
    return env


@pytest.fixture
def child_env() -> dict[str, str]:
    """``child_environment()`` as a fixture."""
    return child_environment()
