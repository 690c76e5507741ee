"""The wheel a user installs carries the schemas and templates the code reads at run time."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("rundocs-*.whl")
    return built


def test_wheel_carries_schemas_templates_skeleton_and_types(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in (
        "rundocs/format/schemas/run.schema.json",
        "rundocs/format/schemas/metrics.schema.json",
        "rundocs/render/templates/experiment_log.md.j2",
        "rundocs/site/skeleton/mkdocs.yml",  # what rundocs init writes, dotfiles included
        "rundocs/site/skeleton/dot-gitignore",
        "rundocs/site/skeleton/dot-github/workflows/docs.yml",
        "rundocs/py.typed",
    ):
        assert needed in names
    assert not any(name.startswith("demolab/") for name in names)


def test_wheel_metadata_keeps_torch_optional(wheel: Path) -> None:
    metadata = zipfile.ZipFile(wheel).read("rundocs-0.1.0.dist-info/METADATA").decode()
    requires = [line for line in metadata.splitlines() if line.startswith("Requires-Dist:")]
    assert "Requires-Dist: torch>=2.2; extra == 'torch'" in requires
    assert not [line for line in requires if "torch" in line and "extra" not in line]
