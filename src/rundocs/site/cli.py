"""The ``rundocs`` command: the only place that turns errors into exit codes."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from rundocs.exceptions import RundocsError


@click.group()
@click.version_option(package_name="rundocs")
def cli() -> None:
    """Experiment pages generated from recorded runs."""


@cli.command()
@click.option("--runs", "runs_dir", default="runs", show_default=True, type=click.Path(path_type=Path))
@click.option("--docs", "docs_dir", default="docs", show_default=True, type=click.Path(path_type=Path))
@click.option("--templates", default="templates", show_default=True, type=click.Path(path_type=Path))
def build(runs_dir: Path, docs_dir: Path, templates: Path) -> None:
    """Write the pages generated from the runs into the docs folder."""
    from rundocs.load.runs import load_runs
    from rundocs.render.pages import render_pages, write_pages

    runs = load_runs(runs_dir)
    report = write_pages(render_pages(runs, source=runs_dir.as_posix(), templates=templates), docs_dir)
    click.echo(
        f"{len(report.written)} pages written, {len(report.unchanged)} unchanged; "
        f"{len(runs.records)} runs, {len(runs.problems)} problems"
    )


@cli.command()
@click.option("--runs", "runs_dir", default="runs", show_default=True, type=click.Path(path_type=Path))
def validate(runs_dir: Path) -> None:
    """List every format problem in the runs folder, one per line; exit 1 if any."""
    from rundocs.load.runs import load_runs

    problems = load_runs(runs_dir).problems
    for problem in problems:
        click.echo(str(problem))
    if problems:
        raise SystemExit(1)
    click.echo(f"{runs_dir}: no problems")


def main() -> None:
    try:
        cli.main(standalone_mode=True)
    except RundocsError as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(1)
