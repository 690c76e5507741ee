"""What a run records about where it ran: pure readers of the process and its environment.

Nothing here imports torch: torch details are read only if the training code already
imported it.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import platform
import secrets
import shlex
import shutil
import socket
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rundocs import env
from rundocs.record.fields import ID_MAX, clean_id
from rundocs.record.warn import WarnOnce

_ID_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"
_GIT_TIMEOUT_S = 5
#: Between the parts of a stable id, and before its hash suffix.
_ID_SEPARATOR = "--"
#: Hex digits of the hash that keeps two stable ids apart when their readable parts are equal.
_ID_HASH_DIGITS = 8


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


def stable_run_id(phase: str | None, name: str) -> str:
    """The run id that the same phase and name always get: ``lr-sweep--lr0.01_s0``.

    For a lab that records the same planned runs again (a rerun replaces a run in place
    instead of adding one). Phase and name are joined by ``--`` when both are already made of
    id characters (``A-Z a-z 0-9 . _ -``), hold no ``--`` and fit in 200 characters; otherwise
    each is cleaned as ``Run(id=...)`` cleans an id and 8 hex digits of a hash of the exact
    pair are added (``my-phase--exp-1--3f2a1c9b`` for ``"exp 1"``), so different pairs get
    different ids.
    """
    parts = [part for part in (phase, name) if part is not None]
    exact = _ID_SEPARATOR.join(parts)
    plain = all(_ID_SEPARATOR not in part and clean_id(part, WarnOnce(quiet=True)) == part for part in parts)
    if plain and exact and len(exact) <= ID_MAX:
        return exact
    digest = hashlib.blake2b(json.dumps([phase, name]).encode(), digest_size=_ID_HASH_DIGITS // 2).hexdigest()
    room = (ID_MAX - len(digest)) // max(len(parts), 1) - len(_ID_SEPARATOR)
    cleaned = [(clean_id(part, WarnOnce(quiet=True)) or "").lstrip("._-")[:room].rstrip(".-") for part in parts]
    return _ID_SEPARATOR.join([*(part for part in cleaned if part), digest])


def parent_tags() -> list[str]:
    """``["parent:<id>"]`` inside a command ``rundocs run`` started (``RUNDOCS_PARENT_RUN``), else none."""
    parent = os.environ.get(env.RUNDOCS_PARENT_RUN)
    return [f"parent:{parent}"] if parent else []


def capture_environment(runs_dir: Path | None = None) -> dict[str, Any]:
    """Host, user, versions, device, command line, git state, SLURM and torchrun identity.

    Nothing that names a place on this machine: the command line is written as typed in the
    working folder (``command_line``), and neither the interpreter's path nor the working
    folder is kept. ``runs_dir`` (the folder the run is written to) does not count as an
    uncommitted change of the git checkout.
    """
    info: dict[str, Any] = {
        "host": socket.gethostname(),
        "user": _get_user(),
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "pid": os.getpid(),
        "command": command_line(sys.orig_argv),
    }
    info.update(_capture_torch())
    info["git"] = _capture_git(runs_dir)
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


def command_line(argv: list[str]) -> str:
    """The command as one would type it in the working folder, from the interpreter's ``argv``
    (``sys.orig_argv``): ``python -m demolab --runs runs``.

    The interpreter is written ``python``; an installed script (``rundocs``, started through
    its shebang: beside the interpreter or on ``PATH``) by its name alone; an absolute path
    inside the working folder relative to it. So the command reads the same in every checkout
    and on every machine.
    """
    args = ["python", *argv[1:]]
    if len(argv) > 1 and _is_installed_script(argv[1], argv[0]):
        args = [os.path.basename(argv[1]), *argv[2:]]
    here = os.getcwd()
    return shlex.join(os.path.relpath(arg, here) if _is_inside(arg, here) else arg for arg in args)


def _is_installed_script(path: str, interpreter: str) -> bool:
    if not os.path.isabs(path):
        return False
    if os.path.dirname(path) == os.path.dirname(interpreter):
        return True
    found = shutil.which(os.path.basename(path))
    try:
        return found is not None and os.path.samefile(found, path)
    except OSError:
        return False


def _is_inside(arg: str, folder: str) -> bool:
    try:
        return os.path.isabs(arg) and os.path.commonpath([os.path.abspath(arg), folder]) == folder
    except ValueError:  # another drive
        return False


def _capture_git(runs_dir: Path | None) -> dict[str, Any] | None:
    commit = _run_git("rev-parse", "HEAD")
    if commit is None:
        return None
    # Untracked files are ignored (a new run folder would make every run dirty), and so is the
    # runs folder itself: a lab that replaces a committed run before recording it again has
    # changed no code.
    status = _run_git("status", "--porcelain", "--untracked-files=no", *_without(runs_dir))
    return {"commit": commit, "dirty": bool(status) if status is not None else None}


def _without(runs_dir: Path | None) -> list[str]:
    """Pathspecs for the whole checkout but ``runs_dir``; none when it lies outside the checkout."""
    top = _run_git("rev-parse", "--show-toplevel") if runs_dir is not None else None
    if runs_dir is None or top is None:
        return []
    try:
        relative = Path(runs_dir).resolve().relative_to(Path(top).resolve())
    except ValueError:  # elsewhere: its files are not the checkout's
        return []
    return ["--", ":/", f":(top,exclude,literal){relative.as_posix()}"] if relative.parts else []


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
