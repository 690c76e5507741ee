"""The Jinja environment: project templates first, packaged defaults second, nothing trusted."""

from __future__ import annotations

from pathlib import Path

import jinja2

from rundocs.render.filters import FILTERS


def make_environment(project_templates: Path | None = None) -> jinja2.Environment:
    """Templates in ``project_templates`` override packaged ones of the same name.

    Autoescaping is on and undefined variables are errors: run data is untrusted input.
    """
    loaders: list[jinja2.BaseLoader] = []
    if project_templates is not None and project_templates.is_dir():
        loaders.append(jinja2.FileSystemLoader(project_templates))
    loaders.append(jinja2.PackageLoader("rundocs.render", "templates"))
    environment = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        undefined=jinja2.StrictUndefined,
        autoescape=True,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(FILTERS)
    return environment
