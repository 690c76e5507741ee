"""Templates are compiled once per process (a served site builds again at every change), never
from a stale copy, and never kept on disk."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import jinja2
import pytest

import rundocs
from rundocs.render.environment import COMPILED_TEMPLATES, share_compiled_templates
from rundocs.render.pages import SiteOptions, render_site
from tests.helpers import write_run
from tests.integration.test_html_cache import append_epoch, make_project

ROWS = [{"epoch": e, "time": 10.0 * e, "loss": 1.0 / e} for e in range(1, 4)]


@pytest.fixture
def compiled(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the templates Jinja compiles from source from now on."""
    names: list[str] = []
    compile_source = jinja2.Environment.compile

    def counting(self: jinja2.Environment, source: str, name: str | None = None, *args: object) -> object:
        names.append(str(name))
        return compile_source(self, source, name, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(jinja2.Environment, "compile", counting)
    return names


def _run_page(tmp_path: Path, templates: Path | None = None) -> str:
    runs = rundocs.load_runs(tmp_path / "runs")
    site = render_site(runs, SiteOptions(templates=templates))
    return site.files["runs/a1.md"].decode()


def test_a_second_build_in_one_process_compiles_no_template(tmp_path: Path, compiled: list[str]) -> None:
    write_run(tmp_path / "runs", "a1", ROWS, name="a1")
    _run_page(tmp_path)
    compiled.clear()
    _run_page(tmp_path)
    assert compiled == []


def test_an_edited_project_template_is_compiled_again(tmp_path: Path, compiled: list[str]) -> None:
    write_run(tmp_path / "runs", "a1", ROWS, name="a1")
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "run.md.j2").write_text("# {{ page.title }}\n\nVersion one\n")
    assert "Version one" in _run_page(tmp_path, templates)
    (templates / "run.md.j2").write_text("# {{ page.title }}\n\nVersion two, longer\n")
    assert "Version two, longer" in _run_page(tmp_path, templates)
    assert compiled.count("run.md.j2") == 2


def test_code_compiled_under_another_setup_is_not_reused(tmp_path: Path) -> None:
    """``mkdocs serve`` reloads mkdocs.yml and its hooks in the same process: a template compiled
    with other escaping or another filter (applied to a literal when compiling) is compiled again."""
    (tmp_path / "page.html").write_text('{{ "<b>" }}|{{ "x" | shout }}')

    def render(autoescape: bool, shout: object) -> str:
        environment = jinja2.Environment(loader=jinja2.FileSystemLoader(tmp_path), autoescape=autoescape)
        environment.filters["shout"] = shout
        share_compiled_templates(environment)
        return environment.get_template("page.html").render()

    def suffix(text: str) -> Callable[[str], str]:
        return lambda value: value + text

    assert render(False, str.upper) == "<b>|X"
    assert render(True, str.upper) == "&lt;b&gt;|X"
    assert render(True, lambda text: text + "!") == "&lt;b&gt;|x!"
    assert render(True, lambda text: text + "?") == "&lt;b&gt;|x?"
    made = suffix("X")  # a hook's filter over a setting: same function, same code, another value
    assert render(True, made) == "&lt;b&gt;|xX"
    made.__closure__[0].cell_contents = "Y"  # type: ignore[index]
    assert render(True, made) == "&lt;b&gt;|xY"


def test_a_served_site_compiles_the_theme_once(tmp_path: Path, compiled: list[str]) -> None:
    """Two builds in one process, as ``mkdocs serve`` runs them: the second, after a run
    changed, compiles none of the theme's page templates nor rundocs' own."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    project = make_project(tmp_path)
    config_file = str(project / "mkdocs.yml")
    environments: list[jinja2.Environment] = []
    theme_environment = jinja2.Environment.__init__

    def noting(self: jinja2.Environment, *args: object, **kwargs: object) -> None:
        theme_environment(self, *args, **kwargs)  # type: ignore[arg-type]
        environments.append(self)

    cwd = os.getcwd()
    os.chdir(project)
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(jinja2.Environment, "__init__", noting)
            build(load_config(config_file))
        main = [e for e in environments if e.bytecode_cache is not None]
        assert main and all(e.bytecode_cache is COMPILED_TEMPLATES for e in main)
        assert any(name.endswith("main.html") for name in compiled), compiled
        compiled.clear()
        append_epoch(project, "20260101_100000_base")
        build(load_config(config_file))
    finally:
        os.chdir(cwd)
    # Material's search plugin translates its labels in an environment of its own, out of reach
    assert [name for name in compiled if not name.startswith("partials/language")] == []
    assert "31" in (project / "site" / "runs" / "20260101_100000_base.html").read_text()


def test_nothing_compiled_is_written_to_disk(tmp_path: Path) -> None:
    """Compiled templates are code: no build leaves one in the cache or anywhere in the project."""
    project = make_project(tmp_path)
    for _ in range(2):
        command = [sys.executable, "-m", "mkdocs", "build", "-q"]
        done = subprocess.run(command, cwd=project, capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr
    written = [p for p in project.rglob("*") if p.suffix in (".cache", ".pyc", ".tmp") or "jinja" in p.name]
    assert written == []
