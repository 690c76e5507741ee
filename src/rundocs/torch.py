"""PyTorch integration (``pip install 'rundocs[torch]'``): checkpoints that know their model.

``save_checkpoint`` writes the weights together with the architecture config and records
path, epoch, size and sha256 in the run. ``load_checkpoint`` refuses, with every reason
listed, a checkpoint whose architecture or parameter keys differ from the model's: a silent
``strict=False`` load is how a half-initialised model produces confident, wrong results.

Checkpoints hold only tensors and plain data, so they load with ``weights_only=True``;
nothing is ever unpickled.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

try:
    import torch
except ImportError as error:  # pragma: no cover - exercised only without the extra
    from rundocs.exceptions import MissingDependencyError

    raise MissingDependencyError("torch", "torch") from error

from rundocs.exceptions import CheckpointError
from rundocs.record.schema import flatten, to_json_value

if TYPE_CHECKING:
    from rundocs.record.run import Run

__all__ = ["load_checkpoint", "save_checkpoint"]

CHECKPOINT_FORMAT = "rundocs.checkpoint/1"
_CHUNK = 1 << 20


def save_checkpoint(
    model: torch.nn.Module,
    path: str | os.PathLike[str],
    *,
    run: Run | None = None,
    arch: Mapping[str, Any] | Any = None,
    optimizer: torch.optim.Optimizer | None = None,
    epoch: int | None = None,
) -> str:
    """Write ``model`` (and ``optimizer``) to ``path`` atomically; return the file's sha256.

    The file is written beside its target, fsynced and renamed, so a crash leaves the old
    checkpoint intact. An ``OSError`` (a full disk) is raised, not swallowed: a checkpoint
    the user believes saved must exist. ``run``, when given, records the checkpoint.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    arch_json = to_json_value(arch) if arch is not None else None
    payload: dict[str, Any] = {
        "format": CHECKPOINT_FORMAT,
        "arch": arch_json,
        "epoch": epoch,
        "model": model.state_dict(),
    }
    if optimizer is not None:
        payload["optimizer"] = optimizer.state_dict()
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        with open(temporary, "wb") as file:
            torch.save(payload, file)
            file.flush()
            os.fsync(file.fileno())
        digest = _sha256(temporary)
        size = temporary.stat().st_size
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
    if run is not None:
        run.record_checkpoint(target, sha256=digest, size=size, epoch=epoch, arch=arch_json)
    return digest


def load_checkpoint(
    path: str | os.PathLike[str],
    model_or_factory: torch.nn.Module | Callable[[Any], torch.nn.Module],
    *,
    arch: Mapping[str, Any] | Any = None,
    optimizer: torch.optim.Optimizer | None = None,
    map_location: str | torch.device | None = "cpu",
) -> torch.nn.Module:
    """Load a checkpoint strictly into a model, or into one built from its own arch config.

    Args:
        path: A file written by ``save_checkpoint``.
        model_or_factory: A module to load into, or a callable that takes the stored arch
            config and returns a fresh module.
        arch: The module's architecture config, compared setting by setting with the
            stored one (only when a module is passed).
        optimizer: Also restore this optimizer's state.
        map_location: Where tensors go; ``None`` keeps the saved devices.

    Raises:
        CheckpointError: Listing every differing setting and every missing, unexpected or
            differently shaped parameter.
    """
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as error:
        reason = "it holds objects other than tensors and plain data, and is never unpickled"
        raise CheckpointError(str(path), [f"{reason} ({str(error).splitlines()[0]})"]) from error
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(str(path), [f"not a rundocs checkpoint (expected format {CHECKPOINT_FORMAT!r})"])
    stored_arch = payload.get("arch")
    if isinstance(model_or_factory, torch.nn.Module):
        model = model_or_factory
        mismatches = _compare_arch(stored_arch, to_json_value(arch)) if arch is not None else []
    else:
        model = model_or_factory(stored_arch)
        mismatches = []
    mismatches += _compare_state(payload["model"], model.state_dict())
    if optimizer is not None and "optimizer" not in payload:
        mismatches.append("an optimizer was passed but the checkpoint holds no optimizer state")
    if mismatches:
        raise CheckpointError(str(path), mismatches)
    model.load_state_dict(payload["model"], strict=True)
    if optimizer is not None:
        optimizer.load_state_dict(payload["optimizer"])
    return model


def _compare_arch(stored: Any, expected: Any) -> list[str]:
    stored_flat = dict(flatten(stored)) if isinstance(stored, Mapping) else {"": stored}
    expected_flat = dict(flatten(expected)) if isinstance(expected, Mapping) else {"": expected}
    mismatches = []
    for key in sorted(stored_flat.keys() | expected_flat.keys()):
        missing = object()
        have, want = stored_flat.get(key, missing), expected_flat.get(key, missing)
        if have == want:
            continue
        label = f"arch {key!r}" if key else "arch"
        have_text = "nothing" if have is missing else repr(have)
        want_text = "nothing" if want is missing else repr(want)
        mismatches.append(f"{label}: checkpoint has {have_text}, model has {want_text}")
    return mismatches


def _compare_state(stored: Mapping[str, Any], expected: Mapping[str, Any]) -> list[str]:
    mismatches = [f"missing key {key!r}: in the model, not in the checkpoint" for key in expected if key not in stored]
    mismatches += [
        f"unexpected key {key!r}: in the checkpoint, not in the model" for key in stored if key not in expected
    ]
    for key in expected:
        if key in stored and tuple(stored[key].shape) != tuple(expected[key].shape):
            have, want = tuple(stored[key].shape), tuple(expected[key].shape)
            mismatches.append(f"shape of {key!r}: checkpoint {have}, model {want}")
    return mismatches


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
