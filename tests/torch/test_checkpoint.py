"""``rundocs.torch`` checkpoints with real models, real training steps and real files."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import pickle
import threading
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

import rundocs
from rundocs import CheckpointError
from rundocs.load.records import Checkpoint
from rundocs.torch import CHECKPOINT_FORMAT, load_checkpoint, save_checkpoint

pytestmark = pytest.mark.torch


@dataclasses.dataclass(frozen=True)
class MLPConfig:
    inputs: int = 4
    hidden: int = 16
    outputs: int = 3
    activation: str = "relu"
    norm: bool = True
    second_head: bool = False


class MLP(nn.Module):
    def __init__(self, cfg: MLPConfig) -> None:
        super().__init__()
        self.fc1 = nn.Linear(cfg.inputs, cfg.hidden)
        if cfg.norm:
            self.norm = nn.LayerNorm(cfg.hidden)
        self.act = nn.ReLU() if cfg.activation == "relu" else nn.GELU()
        self.fc2 = nn.Linear(cfg.hidden, cfg.outputs)
        if cfg.second_head:
            self.head2 = nn.Linear(cfg.hidden, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.fc1(x)
        if hasattr(self, "norm"):
            h = self.norm(h)
        return self.fc2(self.act(h))


def build_mlp(arch: dict[str, Any]) -> MLP:
    """The factory ``load_checkpoint`` calls with the stored (JSON) arch."""
    return MLP(MLPConfig(**arch))


def make_data(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(64, 4, generator=generator)
    y = (x[:, 0] > 0).long() + (x[:, 1] > 0).long()  # three classes
    return x, y


def train_step(model: nn.Module, optimizer: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor) -> float:
    optimizer.zero_grad()
    loss = nn.functional.cross_entropy(model(x), y)
    loss.backward()
    optimizer.step()
    return loss.item()


def trained_mlp(cfg: MLPConfig, steps: int = 5) -> tuple[MLP, torch.optim.Adam]:
    torch.manual_seed(1)
    model = MLP(cfg)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    x, y = make_data()
    for _ in range(steps):
        train_step(model, optimizer, x, y)
    return model, optimizer


def snapshot(model: nn.Module) -> dict[str, torch.Tensor]:
    return {key: value.detach().clone() for key, value in model.state_dict().items()}


def assert_same_tensors(left: dict[str, Any], right: dict[str, Any]) -> None:
    assert left.keys() == right.keys()
    for key in left:
        assert torch.equal(left[key], right[key]), key


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_round_trip_restores_model_and_optimizer_and_records_the_file(tmp_dir: Path) -> None:
    cfg = MLPConfig()
    model, optimizer = trained_mlp(cfg)
    with rundocs.Run("ckpt", dir="runs") as run:
        assert run.folder is not None
        path = run.folder / "checkpoints" / "model.pt"
        digest = save_checkpoint(model, path, run=run, arch=cfg, optimizer=optimizer, epoch=3)

    restored = load_checkpoint(path, build_mlp, optimizer=None)
    assert isinstance(restored, MLP)
    assert_same_tensors(snapshot(restored), snapshot(model))
    # The optimizer state comes back too: one more identical step keeps both bit-for-bit equal.
    fresh = build_mlp(dataclasses.asdict(cfg))
    fresh_optimizer = torch.optim.Adam(fresh.parameters(), lr=1e-2)
    load_checkpoint(path, fresh, arch=cfg, optimizer=fresh_optimizer)
    original_state, loaded_state = optimizer.state_dict(), fresh_optimizer.state_dict()
    assert loaded_state["param_groups"] == original_state["param_groups"]
    assert loaded_state["state"].keys() == original_state["state"].keys()
    for index, state in original_state["state"].items():
        assert_same_tensors(loaded_state["state"][index], state)
    x, y = make_data(seed=2)
    assert train_step(fresh, fresh_optimizer, x, y) == train_step(model, optimizer, x, y)
    assert_same_tensors(snapshot(fresh), snapshot(model))

    size = path.stat().st_size
    assert digest == file_sha256(path)
    record = rundocs.load_runs("runs", strict=True).records[run.id]
    assert record.checkpoints == (
        Checkpoint(path="checkpoints/model.pt", epoch=3, sha256=digest, bytes=size, arch=dataclasses.asdict(cfg)),
    )
    assert sorted(p.name for p in path.parent.iterdir()) == ["model.pt"]  # no temporary file left


def test_saving_again_replaces_the_entry_and_paths_outside_the_run_stay_as_given(tmp_dir: Path) -> None:
    model, _ = trained_mlp(MLPConfig(), steps=1)
    outside = tmp_dir / "elsewhere" / "best.pt"
    with rundocs.Run("ckpt", dir="runs") as run:
        assert run.folder is not None
        inside = run.folder / "last.pt"
        save_checkpoint(model, inside, run=run, epoch=1)
        save_checkpoint(model, outside, run=run, epoch=1)
        torch.nn.init.zeros_(model.fc1.weight)  # the file changes, so must its size and hash
        save_checkpoint(model, inside, run=run, epoch=2)

    record = rundocs.load_runs("runs", strict=True).records[run.id]
    assert [(c.path, c.epoch, c.sha256, c.bytes) for c in record.checkpoints] == [
        (str(outside), 1, file_sha256(outside), outside.stat().st_size),
        ("last.pt", 2, file_sha256(inside), inside.stat().st_size),
    ]
    assert record.checkpoints[0].arch is None


def test_refusal_lists_every_arch_setting_and_key_and_leaves_the_model_untouched(tmp_path: Path) -> None:
    saved_cfg = MLPConfig(hidden=16, norm=True, second_head=False)
    model, _ = trained_mlp(saved_cfg, steps=1)
    path = tmp_path / "model.pt"
    save_checkpoint(model, path, arch=saved_cfg)
    target_cfg = MLPConfig(hidden=32, norm=False, second_head=True)
    target = MLP(target_cfg)
    before = snapshot(target)

    with pytest.raises(CheckpointError) as info:
        load_checkpoint(path, target, arch={**dataclasses.asdict(target_cfg), "dropout": 0.1})

    expected = [
        "arch 'dropout': checkpoint has nothing, model has 0.1",
        "arch 'hidden': checkpoint has 16, model has 32",
        "arch 'norm': checkpoint has True, model has False",
        "arch 'second_head': checkpoint has False, model has True",
        "missing key 'head2.weight': in the model, not in the checkpoint",
        "missing key 'head2.bias': in the model, not in the checkpoint",
        "unexpected key 'norm.weight': in the checkpoint, not in the model",
        "unexpected key 'norm.bias': in the checkpoint, not in the model",
        "shape of 'fc1.weight': checkpoint (16, 4), model (32, 4)",
        "shape of 'fc1.bias': checkpoint (16,), model (32,)",
        "shape of 'fc2.weight': checkpoint (3, 16), model (3, 32)",
    ]
    assert info.value.mismatches == expected
    assert info.value.path == str(path)
    assert str(info.value) == f"refusing to load checkpoint {path}:\n" + "\n".join(f"  - {m}" for m in expected)
    assert_same_tensors(snapshot(target), before)


def test_a_differing_arch_setting_alone_refuses_weights_that_would_fit(tmp_path: Path) -> None:
    model, _ = trained_mlp(MLPConfig(activation="relu"), steps=1)
    path = tmp_path / "model.pt"
    save_checkpoint(model, path, arch=MLPConfig(activation="relu"))
    target = MLP(MLPConfig(activation="gelu"))  # the same keys and shapes: load_state_dict alone would accept
    before = snapshot(target)

    with pytest.raises(CheckpointError) as info:
        load_checkpoint(path, target, arch=MLPConfig(activation="gelu"))

    assert info.value.mismatches == ["arch 'activation': checkpoint has 'relu', model has 'gelu'"]
    assert_same_tensors(snapshot(target), before)


class _CreateMarker:
    """Unpickling this runs ``os.mkdir(marker)``: a stand-in for arbitrary code in a pickle."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return os.mkdir, (str(self.marker),)


def test_a_checkpoint_holding_arbitrary_objects_is_refused_without_unpickling_them(tmp_path: Path) -> None:
    model = MLP(MLPConfig())
    marker = tmp_path / "code-ran"
    path = tmp_path / "bomb.pt"
    payload = {"format": CHECKPOINT_FORMAT, "arch": None, "epoch": None, "model": model.state_dict()}
    torch.save({**payload, "extra": _CreateMarker(marker)}, path)
    before = snapshot(model)

    with pytest.raises(CheckpointError) as info:
        load_checkpoint(path, model)

    assert not marker.exists()
    [reason] = info.value.mismatches
    assert reason.startswith("it holds objects other than tensors and plain data, and is never unpickled (")
    assert isinstance(info.value.__cause__, pickle.UnpicklingError)
    assert_same_tensors(snapshot(model), before)
    # The file really is dangerous: a plain unpickling load runs the code.
    torch.load(path, weights_only=False)
    assert marker.is_dir()


@pytest.mark.parametrize("saved", ["state_dict", "tensor"])
def test_a_file_not_written_by_save_checkpoint_is_refused(tmp_path: Path, saved: str) -> None:
    model = MLP(MLPConfig())
    path = tmp_path / "plain.pt"
    torch.save(model.state_dict() if saved == "state_dict" else torch.ones(3), path)
    before = snapshot(model)

    with pytest.raises(CheckpointError) as info:
        load_checkpoint(path, model)

    assert info.value.mismatches == ["not a rundocs checkpoint (expected format 'rundocs.checkpoint/1')"]
    assert_same_tensors(snapshot(model), before)


class _WithLock(nn.Module):
    """A module whose state_dict carries an object torch.save cannot pickle."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(4, 16)

    def get_extra_state(self) -> Any:
        return threading.Lock()

    def set_extra_state(self, state: Any) -> None:
        pass


def test_a_failed_save_keeps_the_previous_checkpoint_and_leaves_no_temporary_file(tmp_dir: Path) -> None:
    model, _ = trained_mlp(MLPConfig(), steps=1)
    with rundocs.Run("ckpt", dir="runs") as run:
        assert run.folder is not None
        path = run.folder / "ckpt" / "model.pt"
        digest = save_checkpoint(model, path, run=run, arch=MLPConfig(), epoch=1)
        good = path.read_bytes()

        with pytest.raises(TypeError, match=r"cannot pickle '_thread\.lock' object"):
            save_checkpoint(_WithLock(), path, run=run, epoch=2)

    assert path.read_bytes() == good
    assert sorted(p.name for p in path.parent.iterdir()) == ["model.pt"]
    record = rundocs.load_runs("runs", strict=True).records[run.id]
    assert [(c.path, c.epoch, c.sha256) for c in record.checkpoints] == [("ckpt/model.pt", 1, digest)]
    assert_same_tensors(load_checkpoint(path, build_mlp).state_dict(), snapshot(model))


def test_a_save_that_cannot_write_raises_and_records_nothing(tmp_dir: Path) -> None:
    model = MLP(MLPConfig())
    (tmp_dir / "not-a-folder").write_text("a regular file")
    taken = tmp_dir / "taken.pt"
    taken.mkdir()  # os.replace cannot put a file over a folder: fails after the temporary file was written
    with rundocs.Run("ckpt", dir="runs") as run:
        with pytest.raises(OSError, match="not-a-folder"):
            save_checkpoint(model, tmp_dir / "not-a-folder" / "model.pt", run=run)
        with pytest.raises(IsADirectoryError):
            save_checkpoint(model, taken, run=run)

    assert sorted(p.name for p in tmp_dir.iterdir()) == ["not-a-folder", "runs", "taken.pt"]
    assert list(taken.iterdir()) == []
    assert rundocs.load_runs("runs", strict=True).records[run.id].checkpoints == ()


class _WithExtraState(nn.Module):
    """Plain-data extra state (a vocabulary, a quantisation scale) is part of state_dict."""

    def __init__(self, vocab: list[str]) -> None:
        super().__init__()
        self.fc1 = nn.Linear(4, 2)
        self.vocab = vocab

    def get_extra_state(self) -> Any:
        return {"vocab": self.vocab}

    def set_extra_state(self, state: Any) -> None:
        self.vocab = state["vocab"]


def test_a_module_with_extra_state_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "model.pt"
    save_checkpoint(_WithExtraState(["a", "b"]), path)
    target = _WithExtraState([])

    load_checkpoint(path, target)

    assert target.vocab == ["a", "b"]


def test_an_optimizer_that_does_not_fit_is_refused_before_the_model_changes(tmp_path: Path) -> None:
    model, optimizer = trained_mlp(MLPConfig(), steps=1)
    path = tmp_path / "model.pt"
    save_checkpoint(model, path, optimizer=optimizer)
    target = MLP(MLPConfig())
    before = snapshot(target)
    two_groups = torch.optim.Adam([{"params": target.fc1.parameters()}, {"params": target.fc2.parameters()}])

    with pytest.raises(CheckpointError, match="parameter groups"):
        load_checkpoint(path, target, optimizer=two_groups)

    assert_same_tensors(snapshot(target), before)


@pytest.mark.parametrize("damage", ["truncated", "empty", "text"])
def test_a_damaged_file_is_refused_with_a_checkpoint_error(tmp_path: Path, damage: str) -> None:
    path = tmp_path / "model.pt"
    save_checkpoint(MLP(MLPConfig()), path)
    data = path.read_bytes()
    path.write_bytes({"truncated": data[: len(data) // 2], "empty": b"", "text": b"hello world"}[damage])

    with pytest.raises(CheckpointError):
        load_checkpoint(path, MLP(MLPConfig()))


def test_a_checkpoint_loads_with_plain_torch_load_and_load_state_dict(tmp_path: Path) -> None:
    """Code without rundocs (a colleague's notebook, a serving image) reads the file as documented."""
    torch.manual_seed(0)
    model = MLP(MLPConfig())
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model(torch.randn(2, 4)).sum().backward()
    optimizer.step()
    path = tmp_path / "checkpoints" / "best.pt"
    save_checkpoint(model, path, arch=MLPConfig(), optimizer=optimizer, epoch=3)

    payload = torch.load(path, weights_only=True, map_location="cpu")
    assert payload["epoch"] == 3 and payload["arch"] == dataclasses.asdict(MLPConfig())
    restored = MLP(MLPConfig(**payload["arch"]))
    restored.load_state_dict(payload["model"])
    fresh_optimizer = torch.optim.SGD(restored.parameters(), lr=0.1)
    fresh_optimizer.load_state_dict(payload["optimizer"])
    for name, tensor in model.state_dict().items():
        assert torch.equal(restored.state_dict()[name], tensor), name
