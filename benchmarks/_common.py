"""Helpers shared by the benchmark scripts: peer settings, machine facts, tables, JSON output."""

from __future__ import annotations

import json
import os
import platform
import shlex
import sys
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGES = ("rundocs", "torch", "tensorboard", "mlflow", "wandb", "tbparse", "orjson", "pyarrow", "pandas", "numpy")


def isolate_peers(folder: Path) -> None:
    """Keep every peer local and quiet: wandb offline, MLflow allowed its file store, all under ``folder``."""
    os.environ.update(
        WANDB_MODE="offline",
        WANDB_SILENT="true",
        WANDB_DIR=str(folder),
        WANDB_CACHE_DIR=str(folder / "wandb-cache"),
        WANDB_CONFIG_DIR=str(folder / "wandb-config"),
        WANDB_DISABLE_GIT="true",
        MLFLOW_ALLOW_FILE_STORE="true",  # MLflow 3 refuses ./mlruns without it
        MLFLOW_LOGGING_LEVEL="WARNING",
        MLFLOW_TRACKING_URI=f"file://{folder / 'mlruns-default'}",
    )


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    return {
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": _memory_gib(),
        "packages": {name: _version(name) for name in PACKAGES},
    }


def describe_machine(info: dict[str, Any]) -> str:
    versions = ", ".join(f"{name} {version}" for name, version in info["packages"].items() if version)
    return (
        f"{info['cpu']}, {info['cores']} cores, {info['memory_gib']} GiB; "
        f"Python {info['python']} on {info['platform']}; {versions}"
    )


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(" --- " for _ in headers) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def ratio(value: float, reference: float) -> str:
    return f"{value / reference:.1f}x" if value >= 10 * reference else f"{value / reference:.2f}x"


def command_line() -> str:
    """The command that reproduces this run, relative to the repository root."""
    script = Path(sys.argv[0]).resolve()
    root = Path(__file__).resolve().parent.parent
    name = script.relative_to(root) if script.is_relative_to(root) else script
    return shlex.join(["python", str(name), *sys.argv[1:]])


def write_json(path: Path, payload: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2) + "\n")


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _memory_gib() -> int | None:
    try:
        return round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30)
    except (ValueError, OSError):
        return None
