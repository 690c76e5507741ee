"""Settings objects are recorded as nested settings, not as their text: with the real libraries."""

from __future__ import annotations

import argparse
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import attrs
import pydantic
import pytest
from omegaconf import OmegaConf

import rundocs
from rundocs.format.schema import to_json_value

EXPECTED = {"lr": 0.001, "optim": {"name": "adam", "betas": [0.9, 0.999]}, "tags": ["a", "b"]}


class Optim(pydantic.BaseModel):
    name: str = "adam"
    betas: tuple[float, float] = (0.9, 0.999)


class Settings(pydantic.BaseModel):
    lr: float = 1e-3
    optim: Optim = Optim()
    tags: list[str] = ["a", "b"]


@attrs.define
class AttrsOptim:
    name: str = "adam"
    betas: tuple[float, float] = (0.9, 0.999)


@attrs.define
class AttrsSettings:
    lr: float = 1e-3
    optim: AttrsOptim = attrs.Factory(AttrsOptim)
    tags: list[str] = attrs.Factory(lambda: ["a", "b"])


@dataclass
class DataOptim:
    name: str = "adam"
    betas: tuple[float, float] = (0.9, 0.999)


@dataclass
class DataSettings:
    lr: float = 1e-3
    optim: DataOptim = field(default_factory=DataOptim)
    tags: list[str] = field(default_factory=lambda: ["a", "b"])


def omegaconf_settings() -> Any:
    """With an interpolation: recorded resolved."""
    return OmegaConf.create(
        {"base_lr": 1e-3, "lr": "${base_lr}", "optim": {"name": "adam", "betas": [0.9, 0.999]}, "tags": ["a", "b"]}
    )


SETTINGS = {
    "argparse": lambda: argparse.Namespace(
        lr=1e-3, optim=argparse.Namespace(name="adam", betas=(0.9, 0.999)), tags=["a", "b"]
    ),
    "SimpleNamespace": lambda: types.SimpleNamespace(
        lr=1e-3, optim={"name": "adam", "betas": (0.9, 0.999)}, tags=["a", "b"]
    ),
    "omegaconf": omegaconf_settings,
    "pydantic": Settings,
    "attrs": AttrsSettings,
    "dataclass": DataSettings,
    "mapping": lambda: types.MappingProxyType(
        {"lr": 1e-3, "optim": {"name": "adam", "betas": (0.9, 0.999)}, "tags": ("a", "b")}
    ),
}


@pytest.mark.parametrize("kind", SETTINGS)
def test_settings_objects_are_recorded_as_nested_settings(tmp_path: Path, kind: str) -> None:
    with rundocs.Run("cfg", config=SETTINGS[kind](), dir=tmp_path) as run:
        pass
    loaded = rundocs.load_runs(tmp_path, strict=True)
    config = loaded.records[run.id].config
    if kind == "omegaconf":
        assert config.pop("base_lr") == 1e-3
    assert config == EXPECTED
    assert loaded.runs.loc[run.id, "config.optim.name"] == "adam"


def test_an_omegaconf_list_and_an_unresolvable_interpolation(tmp_path: Path) -> None:
    assert to_json_value(OmegaConf.create([1, {"a": "${0}"}])) == [1, {"a": 1}]
    assert to_json_value(OmegaConf.create({"a": "${missing}"})) == {"a": "${missing}"}  # kept as written
    with rundocs.Run("cfg", config={"data": OmegaConf.create({"sizes": [1, 2]})}, dir=tmp_path) as run:
        run.update(config=argparse.Namespace(lr=0.1, data=OmegaConf.create({"sizes": [3]})))
    assert rundocs.load_runs(tmp_path, strict=True).records[run.id].config == {"lr": 0.1, "data": {"sizes": [3]}}


def test_a_config_that_contains_itself_or_cannot_be_read_does_not_stop_the_run(tmp_path: Path) -> None:
    looping: dict[str, Any] = {"lr": 0.1}
    looping["self"] = looping

    class Broken(dict[str, Any]):
        def items(self) -> Any:
            raise RuntimeError("no items")

    with rundocs.Run("loop", config=looping, dir=tmp_path) as first:
        pass
    with (
        pytest.warns(rundocs.RecordingWarning, match="cannot read config"),
        rundocs.Run(config=Broken(a=1), dir=tmp_path) as second,
    ):
        pass
    records = rundocs.load_runs(tmp_path, strict=True).records
    assert records[first.id].config["lr"] == 0.1
    assert records[second.id].config == {}
