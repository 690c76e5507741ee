"""The Jinja environment: project templates first, packaged defaults second, nothing trusted."""

from __future__ import annotations

from pathlib import Path

import jinja2
import jinja2.bccache

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
    environment.bytecode_cache = COMPILED_TEMPLATES
    return environment


class CompiledTemplates(jinja2.BytecodeCache):
    """Compiled templates, kept in this process only: a served site builds again at every change,
    and compiling rundocs' templates and the theme's took about a fifth of such a build. Never
    written to disk (compiled templates are code, and the cache folder holds none). Jinja checks
    each entry against its template's source, so an edited template is compiled again."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


#: The one store of this process, for rundocs' templates and (through the plugin) the theme's.
COMPILED_TEMPLATES = CompiledTemplates()
