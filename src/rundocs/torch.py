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

from rundocs.atomic import replace_file
from rundocs.exceptions import CheckpointError
from rundocs.format.schema import flatten, to_json_value

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
    replace_file(target, lambda file: torch.save(payload, file))
    digest = _sha256(target)
    size = target.stat().st_size
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
    payload = _read_payload(path, map_location)
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(str(path), [f"not a rundocs checkpoint (expected format {CHECKPOINT_FORMAT!r})"])
    if not isinstance(payload.get("model"), dict):
        raise CheckpointError(str(path), ["the checkpoint holds no model state ('model' is missing)"])
    stored_arch = payload.get("arch")
    if isinstance(model_or_factory, torch.nn.Module):
        model = model_or_factory
        mismatches = _compare_arch(stored_arch, to_json_value(arch)) if arch is not None else []
    else:
        model = model_or_factory(stored_arch)
        mismatches = []
    mismatches += _compare_state(payload["model"], model.state_dict())
    if optimizer is not None:
        mismatches += _compare_optimizer(payload.get("optimizer"), optimizer.state_dict())
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


def _read_payload(path: str | os.PathLike[str], map_location: str | torch.device | None) -> Any:
    """``torch.load`` with weights only; every way a file can be unreadable becomes a CheckpointError."""
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as error:
        first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
        if first_line.startswith("Weights only load failed"):
            reason = "it holds objects other than tensors and plain data, and is never unpickled"
            raise CheckpointError(str(path), [f"{reason} ({first_line})"]) from error
        raise CheckpointError(str(path), [f"cannot be read as a torch file: corrupt ({first_line})"]) from error
    except (RuntimeError, EOFError, KeyError, ValueError) as error:
        first_line = (str(error).splitlines() or [""])[0]
        message = f"cannot be read as a torch file: truncated or corrupt ({type(error).__name__}: {first_line})"
        raise CheckpointError(str(path), [message]) from error


def _compare_optimizer(stored: Any, current: Mapping[str, Any]) -> list[str]:
    """Checked before anything is loaded, so a refusal leaves model and optimizer untouched."""
    if not isinstance(stored, dict):
        return ["an optimizer was passed but the checkpoint holds no optimizer state"]
    stored_groups = [len(group.get("params", ())) for group in stored.get("param_groups", ())]
    current_groups = [len(group["params"]) for group in current["param_groups"]]
    if stored_groups == current_groups:
        return []
    return [
        f"optimizer parameter groups: checkpoint has {len(stored_groups)} with {stored_groups} parameters, "
        f"the optimizer has {len(current_groups)} with {current_groups}"
    ]


def _compare_state(stored: Mapping[str, Any], expected: Mapping[str, Any]) -> list[str]:
    mismatches = [f"missing key {key!r}: in the model, not in the checkpoint" for key in expected if key not in stored]
    mismatches += [
        f"unexpected key {key!r}: in the checkpoint, not in the model" for key in stored if key not in expected
    ]
    for key in expected:
        if key not in stored:
            continue
        have, want = stored[key], expected[key]
        if isinstance(have, torch.Tensor) != isinstance(want, torch.Tensor):
            kinds = [type(value).__name__ for value in (have, want)]
            mismatches.append(f"{key!r}: checkpoint holds a {kinds[0]}, model a {kinds[1]}")
        elif isinstance(have, torch.Tensor) and tuple(have.shape) != tuple(want.shape):
            mismatches.append(f"shape of {key!r}: checkpoint {tuple(have.shape)}, model {tuple(want.shape)}")
    return mismatches


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
