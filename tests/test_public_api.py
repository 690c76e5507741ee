"""The public API is what __all__ says, and importing it stays light."""

from __future__ import annotations

import subprocess
import sys
import types

import rundocs


def test_all_names_exist_and_nothing_else_is_public() -> None:
    public = {name for name in dir(rundocs) if not name.startswith("_")} | {
        "load_runs",
        "Runs",
        "Problem",
        "__version__",
    }
    modules = {name for name in public if isinstance(getattr(rundocs, name, None), types.ModuleType)}
    assert set(rundocs.__all__) == public - modules
    for name in rundocs.__all__:
        assert getattr(rundocs, name) is not None


def test_import_does_not_load_torch_pandas_or_plotly(child_env: dict[str, str]) -> None:
    code = "import sys, rundocs; print(sorted(m for m in ('torch', 'pandas', 'plotly') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], env=child_env, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
