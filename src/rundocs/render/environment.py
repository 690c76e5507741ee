"""The Jinja environment: project templates first, packaged defaults second, nothing trusted."""

from __future__ import annotations

import hashlib
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
    share_compiled_templates(environment)
    return environment


def share_compiled_templates(environment: jinja2.Environment) -> None:
    """Use this process's store of compiled templates (see ``CompiledTemplates``)."""
    environment.bytecode_cache = COMPILED_TEMPLATES


class CompiledTemplates(jinja2.BytecodeCache):
    """Compiled templates, kept in this process only: a served site builds again at every change,
    and compiling rundocs' templates and the theme's took about a fifth of such a build. Never
    written to disk (compiled templates are code, and the cache folder holds none).

    An entry is found by the template's name and file and by the setup of the environment that
    compiled it (``_setup``: code compiled with other filters or escaping is not reused), and
    Jinja checks it against the template's source, so an edited template is compiled again."""

    def __init__(self) -> None:
        self._code: dict[tuple[str, str], bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        setup = _setup(bucket.environment)
        code = self._code.get((setup, bucket.key)) if setup is not None else None
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        setup = _setup(bucket.environment)
        if setup is not None:
            self._code[(setup, bucket.key)] = bucket.bytecode_to_string()


#: Packages whose filters and tests are plain functions that stay the same within a process.
_STEADY = ("jinja2.", "markupsafe.", "mkdocs.", "material.", "rundocs.", "builtins.", "_operator.", "operator.")


def _setup(environment: jinja2.Environment) -> str | None:
    """What Jinja's compiled code depends on besides the source: the syntax and whitespace
    settings, escaping, extensions, and each filter and test (by identity and code, since a filter of
    literals is applied when compiling, and a reloaded hook defines new functions)."""
    settings = [
        getattr(environment, name, None)
        for name in (
            "block_start_string", "block_end_string", "variable_start_string", "variable_end_string",
            "comment_start_string", "comment_end_string", "line_statement_prefix", "line_comment_prefix",
            "trim_blocks", "lstrip_blocks", "newline_sequence", "keep_trailing_newline", "optimized", "is_async",
        )
    ]  # fmt: skip
    parts = [repr(settings), _callable(environment.autoescape), _callable(environment.finalize)]
    parts += sorted(
        f"{type(extension).__module__}.{type(extension).__qualname__}" for extension in environment.extensions.values()
    )
    for table in (environment.filters, environment.tests):
        if not all(_steady(function) for function in table.values()):
            return None  # Jinja applies filters to literals when compiling: a hook's may change
    for kind, table in (("filter", environment.filters), ("test", environment.tests)):
        parts += sorted(f"{kind} {name} {_callable(function)}" for name, function in table.items())
    return hashlib.blake2b("\n".join(parts).encode(), digest_size=16).hexdigest()


def _steady(function: object) -> bool:
    """A function defined once, at import, by a known package or Python itself (not a hook's)."""
    module = f"{getattr(function, '__module__', None) or 'builtins'}."
    return module.startswith(_STEADY)


def _callable(function: object) -> str:
    """A function as this process knows it (its identity) and by its code, so that neither a
    function defined again (a reloaded hook) nor one whose code changed matches an older one."""
    code = getattr(function, "__code__", None)
    if code is None:
        return f"{id(function)} {function!r}" if callable(function) else repr(function)
    digest = hashlib.blake2b(code.co_code + repr(code.co_consts).encode(), digest_size=8).hexdigest()
    passes = getattr(function, "jinja_pass_arg", None)  # pass_context and the like change the call compiled
    return f"{id(function)} {getattr(function, '__qualname__', '')} {digest} {passes}"


#: The one store of this process, for rundocs' templates and (through the plugin) the theme's.
COMPILED_TEMPLATES = CompiledTemplates()
