"""What a run records about where it ran: pure readers of the process and its environment.

Nothing here imports torch: torch details are read only if the training code already
imported it.
"""

from __future__ import annotations

import getpass
import os
import platform
import secrets
import shlex
import socket
import subprocess
import sys
from datetime import UTC, datetime
from typing import Any

from rundocs import env

_ID_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"
_GIT_TIMEOUT_S = 5


def get_rank() -> int:
    """Global rank of this process under torchrun (``RANK``); 0 when not distributed."""
    try:
        return int(os.environ.get(env.RANK, "0"))
    except ValueError:
        return 0


def make_run_id(now: datetime | None = None) -> str:
    """A run id that sorts by start time and is unique across processes and machines.

    Shape: ``20251203_101500_j4242_ab12`` (UTC time, SLURM job where there is one, with the
    array task as ``j4242a3``, then a random suffix). The writer also creates the folder
    exclusively and draws a new suffix on a collision, so uniqueness does not rest on luck.
    """
    now = now or datetime.now(UTC)
    parts = [now.strftime("%Y%m%d_%H%M%S")]
    job = os.environ.get(env.SLURM_ARRAY_JOB_ID) or os.environ.get(env.SLURM_JOB_ID)
    if job:
        task = os.environ.get(env.SLURM_ARRAY_TASK_ID)
        parts.append(f"j{job}a{task}" if task and os.environ.get(env.SLURM_ARRAY_JOB_ID) else f"j{job}")
    parts.append("".join(secrets.choice(_ID_ALPHABET) for _ in range(4)))
    return "_".join(parts)


def parent_tags() -> list[str]:
    """``["parent:<id>"]`` inside a command ``rundocs run`` started (``RUNDOCS_PARENT_RUN``), else none."""
    parent = os.environ.get(env.RUNDOCS_PARENT_RUN)
    return [f"parent:{parent}"] if parent else []


def capture_environment() -> dict[str, Any]:
    """Host, user, versions, device, command line, git state, SLURM and torchrun identity."""
    info: dict[str, Any] = {
        "host": socket.gethostname(),
        "user": _get_user(),
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "pid": os.getpid(),
        "cwd": os.getcwd(),
        "command": shlex.join([sys.executable, *sys.orig_argv[1:]]),  # keeps "-m module" as typed
    }
    info.update(_capture_torch())
    info["git"] = _capture_git()
    info["slurm"] = _capture_slurm()
    info["distributed"] = _capture_distributed()
    return info


def _get_user() -> str | None:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry, e.g. an arbitrary uid in a container
        return None


def _capture_torch() -> dict[str, Any]:
    torch = sys.modules.get("torch")
    if torch is None:
        return {"torch": None, "device": "cpu"}
    info: dict[str, Any] = {"torch": str(torch.__version__), "device": "cpu"}
    try:
        if torch.cuda.is_available():
            index = torch.cuda.current_device()
            info["device"] = f"cuda:{index} {torch.cuda.get_device_name(index)}"
            info["cuda"] = torch.version.cuda
            info["gpus"] = torch.cuda.device_count()
    except (RuntimeError, AssertionError):  # a broken driver must not stop the run
        pass
    return info


def _capture_git() -> dict[str, Any] | None:
    commit = _run_git("rev-parse", "HEAD")
    if commit is None:
        return None
    # Untracked files are ignored: the runs/ folder being written would make every run dirty.
    status = _run_git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "dirty": bool(status) if status is not None else None}


def _run_git(*args: str) -> str | None:
    try:
        result = subprocess.run(
            ["git", *args],
            capture_output=True,
            text=True,
            timeout=_GIT_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def _capture_slurm() -> dict[str, str] | None:
    names = {
        "job_id": env.SLURM_JOB_ID,
        "job_name": env.SLURM_JOB_NAME,
        "array_job_id": env.SLURM_ARRAY_JOB_ID,
        "array_task_id": env.SLURM_ARRAY_TASK_ID,
    }
    found = {key: os.environ[name] for key, name in names.items() if name in os.environ}
    return found or None


def _capture_distributed() -> dict[str, int] | None:
    if env.WORLD_SIZE not in os.environ:
        return None
    values = {}
    for key, name in (("rank", env.RANK), ("local_rank", env.LOCAL_RANK), ("world_size", env.WORLD_SIZE)):
        try:
            values[key] = int(os.environ[name])
        except (KeyError, ValueError):
            continue
    return values
