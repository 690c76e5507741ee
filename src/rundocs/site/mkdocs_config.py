"""Read what rundocs needs from a project's ``mkdocs.yml`` without executing any of it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


class _IgnoreTagsLoader(yaml.SafeLoader):
    """Safe loading that reads ``!!python/name:...`` and ``!ENV`` tags as plain values, never running them."""


def _plain(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_mapping(node)  # type: ignore[arg-type]


_IgnoreTagsLoader.add_multi_constructor("", _plain)


def _read_config(path: Path) -> dict[str, Any]:
    """The top-level settings of an mkdocs.yml; empty if it cannot be read or is not a mapping."""
    try:
        config = yaml.load(path.read_text("utf-8"), Loader=_IgnoreTagsLoader)
    except (OSError, yaml.YAMLError):
        return {}
    return config if isinstance(config, dict) else {}


def read_site_name(path: Path) -> str | None:
    """``site_name`` of an mkdocs.yml, or None if there is none or it cannot be read."""
    name = _read_config(path).get("site_name")
    return name if isinstance(name, str) else None


def uses_rundocs_plugin(path: Path) -> bool:
    """Whether an mkdocs.yml lists the ``rundocs`` plugin (``- rundocs`` or ``- rundocs: {...}``)."""
    plugins = _read_config(path).get("plugins")
    if isinstance(plugins, dict):
        return "rundocs" in plugins
    if isinstance(plugins, list):
        return any(item == "rundocs" or (isinstance(item, dict) and "rundocs" in item) for item in plugins)
    return False
