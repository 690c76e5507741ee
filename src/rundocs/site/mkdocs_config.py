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


def read_site_name(path: Path) -> str | None:
    """``site_name`` of an mkdocs.yml, or None if there is none or it cannot be read."""
    try:
        config = yaml.load(path.read_text("utf-8"), Loader=_IgnoreTagsLoader)
    except (OSError, yaml.YAMLError):
        return None
    name = config.get("site_name") if isinstance(config, dict) else None
    return name if isinstance(name, str) else None
