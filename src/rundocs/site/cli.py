"""The ``rundocs`` command: the only place that turns errors into exit codes."""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from rundocs.env import DEFAULT_CACHE
from rundocs.exceptions import RundocsError
from rundocs.formatting import counted
from rundocs.site.mkdocs_config import read_site_name

if TYPE_CHECKING:
    from rundocs.analyse.names import Direction
    from rundocs.load.problems import Problem
    from rundocs.load.runs import Runs
    from rundocs.render.pages import SiteOptions
    from rundocs.site.generate import Generation, Project


@click.group()
@click.version_option(package_name="rundocs")
def cli() -> None:
    """Experiment pages generated from recorded runs."""


def _site_options(function: Callable[..., None]) -> Callable[..., None]:
    """The options every command that renders the site shares."""
    for option in reversed(
        [
            _RUNS_OPTION,
            click.option("--plans", "plans_dir", default="plans", show_default=True, type=click.Path(path_type=Path)),
            click.option("--docs", "docs_dir", default="docs", show_default=True, type=click.Path(path_type=Path)),
            click.option("--templates", default="templates", show_default=True, type=click.Path(path_type=Path)),
            click.option("--title", default=None, help="Title of the home page [default: site_name of mkdocs.yml]."),
            _cache_option("Folder for parsed runs and the page manifest, so a rebuild redoes only what changed."),
            click.option("--no-cache", is_flag=True, help="Read every run and render every page."),
            click.option(
                "--allow-problems",
                is_flag=True,
                help="Exit 0 even when a run folder, metrics line or plan could not be read or a page not built.",
            ),
            _DIRECTION_OPTION,
        ]
    ):
        function = option(function)
    return function


def _runs_location(ctx: click.Context, param: click.Parameter, value: str) -> Path | str:
    from rundocs.store.locations import is_url

    return value if is_url(value) else Path(value)


def _shown(location: Path | str) -> str:
    return location if isinstance(location, str) else location.as_posix()


#: ``--runs DIR|URL``: a runs folder, or an object store as an fsspec URL (kept as text: a
#: ``Path`` would fold the ``//`` of ``s3://``).
_RUNS_OPTION = click.option(
    "--runs",
    "runs_dir",
    default="runs",
    show_default=True,
    metavar="DIR|URL",
    callback=_runs_location,
    help="The runs folder, or an object store: s3://bucket/prefix, gs://..., file://...",
)


_Decorated = TypeVar("_Decorated", bound=Callable[..., Any])


def _cache_option(help_text: str) -> Callable[[_Decorated], _Decorated]:
    """``--cache``: the folder every command that reads runs keeps what it parsed in."""
    return click.option(
        "--cache", default=DEFAULT_CACHE, show_default=True, type=click.Path(path_type=Path), help=help_text
    )


def _parse_directions(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> dict[str, str]:
    directions = {}
    for value in values:
        metric, _, goal = value.partition("=")
        if not metric or goal not in ("min", "max"):
            raise click.BadParameter(f"expected METRIC=min or METRIC=max, got {value!r}")
        directions[metric] = goal
    return directions


#: ``--direction``, for every command that judges a best value.
_DIRECTION_OPTION = click.option(
    "--direction",
    "directions",
    multiple=True,
    callback=_parse_directions,
    metavar="METRIC=min|max",
    help="Which way is better for a metric whose name does not say (repeatable).",
)


def _project(runs_dir: Path | str, plans_dir: Path, docs_dir: Path, cache: Path, no_cache: bool) -> Project:
    from rundocs.site.generate import Project

    return Project(runs_dir, plans_dir, docs_dir, None if no_cache else cache)


def _options(runs_dir: Path | str, templates: Path, title: str | None, directions: dict[str, Direction]) -> SiteOptions:
    from rundocs.render.pages import SiteOptions

    title = title or read_site_name(Path("mkdocs.yml")) or "Experiments"
    return SiteOptions(source=_shown(runs_dir), title=title, templates=templates, directions=directions)


def _problems(generation: Generation) -> list[Problem]:
    """What counts as a problem in runs and plans (warnings, such as a planned run not started yet, do not)."""
    return [p for p in (*generation.runs.problems, *generation.plans.problems) if not p.warning]


def _fail_on_problems(generation: Generation, docs_dir: Path, allow_problems: bool) -> None:
    """Exit 1 when the generation left anything out (a run folder, a metrics line, a plan, a page),
    unless allowed; warnings never count. The site names each one on its problems page."""
    problems = _problems(generation)
    failures = generation.site.failures
    if allow_problems or not (problems or failures):
        return
    parts = [f"{counted(len(problems), 'problem')} in runs and plans"] if problems else []
    parts += [f"{counted(len(failures), 'page')} not built"] if failures else []
    for failure in failures:
        click.echo(f"page not built: {docs_dir.as_posix()}/{failure.path}: {failure.input}: {failure.error}", err=True)
    click.echo(
        f"{' and '.join(parts)}: see {docs_dir.as_posix()}/problems.md (--allow-problems to exit 0)",
        err=True,
    )
    raise SystemExit(1)


@cli.command()
@_site_options
@click.option(
    "--force",
    is_flag=True,
    help="Replace entries in the docs folder that rundocs did not create (symlinks, hand-written files) "
    "where a generated file goes; without it build stops with an error and writes nothing there.",
)
def build(
    runs_dir: Path | str,
    plans_dir: Path,
    docs_dir: Path,
    templates: Path,
    title: str | None,
    cache: Path,
    no_cache: bool,
    allow_problems: bool,
    directions: dict[str, Direction],
    force: bool,
) -> None:
    """Write the pages generated from the runs into the docs folder; exit 1 afterwards if anything
    could not be read or rendered (named on the site's problems page), unless --allow-problems.
    Never writes through a symlink or over a file it did not create (unless --force)."""
    from rundocs.site.generate import build_project

    _short_lived()

    project = _project(runs_dir, plans_dir, docs_dir, cache, no_cache)
    generation, report = build_project(project, _options(runs_dir, templates, title, directions), force=force)
    problems = _problems(generation)
    click.echo(
        f"{len(report.written)} written, {len(report.unchanged)} unchanged, {len(report.removed)} removed; "
        f"{counted(len(generation.runs.records), 'run')}, {counted(len(problems), 'problem')}"
    )
    _fail_on_problems(generation, docs_dir, allow_problems)


@cli.command()
@_site_options
def check(
    runs_dir: Path | str,
    plans_dir: Path,
    docs_dir: Path,
    templates: Path,
    title: str | None,
    cache: Path,
    no_cache: bool,
    allow_problems: bool,
    directions: dict[str, Direction],
) -> None:
    """Exit 1 if the committed docs differ from what build would write (stale, missing, orphaned),
    or, unless --allow-problems, if anything could not be read or rendered."""
    from rundocs.render.pages import check_site
    from rundocs.site.generate import render_project

    _short_lived()

    project = _project(runs_dir, plans_dir, docs_dir, cache, no_cache)
    generation = render_project(project, _options(runs_dir, templates, title, directions))
    site = generation.site
    report = check_site(site, docs_dir)
    for label, paths in (("stale", report.stale), ("missing", report.missing), ("orphaned", report.orphaned)):
        for path in paths:
            click.echo(f"{label}: {docs_dir.as_posix()}/{path}")
    if not report.ok:
        click.echo("the docs do not match the runs: run 'rundocs build' and commit the result", err=True)
        raise SystemExit(1)
    click.echo(f"{docs_dir.as_posix()}: {len(site.paths())} generated files up to date")
    _fail_on_problems(generation, docs_dir, allow_problems)


@cli.command()
@_site_options
@click.option("--dev-addr", default="127.0.0.1:8000", show_default=True, metavar="IP:PORT", help="Where to serve.")
@click.option("--config-file", default="mkdocs.yml", show_default=True, type=click.Path(path_type=Path))
@click.option(
    "--interval",
    default=0.5,
    show_default=True,
    type=click.FloatRange(min=0.05),
    help="Seconds between looks at the runs, plans and templates.",
)
def serve(
    runs_dir: Path | str,
    plans_dir: Path,
    docs_dir: Path,
    templates: Path,
    title: str | None,
    cache: Path,
    no_cache: bool,
    allow_problems: bool,
    directions: dict[str, Direction],
    dev_addr: str,
    config_file: Path,
    interval: float,
) -> None:
    """Serve the site with MkDocs and write the pages again whenever runs, plans or templates
    change; the browser reloads. Problems are logged and never stop it; Ctrl-C does."""
    import logging

    from rundocs.site.serve import serve_site

    if isinstance(runs_dir, str):
        raise click.UsageError("serve watches a local runs folder: copy the store with 'rundocs sync URL runs' first")

    handler = logging.StreamHandler()  # MkDocs' and rundocs' log lines, as `mkdocs serve` shows them
    handler.setFormatter(logging.Formatter("%(levelname)-8s-  %(message)s"))
    for name in ("mkdocs", "rundocs"):
        logging.getLogger(name).addHandler(handler)
        logging.getLogger(name).setLevel(logging.INFO)
    project = _project(runs_dir, plans_dir, docs_dir, cache, no_cache)
    options = _options(runs_dir, templates, title or read_site_name(config_file), directions)
    serve_site(project, options, config_file=config_file, dev_addr=dev_addr, interval=interval)


@cli.command()
@_RUNS_OPTION
@click.option("--plans", "plans_dir", default="plans", show_default=True, type=click.Path(path_type=Path))
def validate(runs_dir: Path | str, plans_dir: Path) -> None:
    """List every format problem in runs and plans, one per line; exit 1 if any (warnings do not count)."""
    from rundocs.analyse.phases import report_phase
    from rundocs.load.plans import load_plans
    from rundocs.load.runs import load_runs

    runs = load_runs(runs_dir)
    plans, plan_problems = load_plans(plans_dir)
    references = [p for plan in plans.values() for p in report_phase(plan, runs, runs.now).problems]
    problems = [*runs.problems, *plan_problems, *references]
    for problem in problems:
        click.echo(str(problem))
    errors = [problem for problem in problems if not problem.warning]
    if errors:
        raise SystemExit(1)
    warnings = len(problems) - len(errors)
    suffix = f" ({counted(warnings, 'warning')})" if warnings else ""
    click.echo(f"{_shown(runs_dir)}, {plans_dir.as_posix()}: no problems{suffix}")


@cli.command()
@_RUNS_OPTION
@click.option("--plans", "plans_dir", default="plans", show_default=True, type=click.Path(path_type=Path))
@click.option("--format", "output", type=click.Choice(["markdown", "json"]), default="markdown", show_default=True)
@click.option(
    "--since",
    metavar="REF",
    help="Also say what changed against the runs and plans at this git ref: runs new, removed and finished, "
    "phase status and verdict.",
)
def status(runs_dir: Path | str, plans_dir: Path, output: str, since: str | None) -> None:
    """Summary of every phase for a pull request comment or $GITHUB_STEP_SUMMARY."""
    import json
    import tempfile

    from rundocs.load.plans import load_plans
    from rundocs.load.runs import load_runs
    from rundocs.render.status import format_markdown, make_status
    from rundocs.site.generate import reproducible_now
    from rundocs.site.git_snapshot import unpack_at_ref

    if since is not None and isinstance(runs_dir, str):
        raise click.UsageError("--since compares runs committed to git; a store has none")
    runs = load_runs(runs_dir, now=reproducible_now())
    plans, _ = load_plans(plans_dir)
    with tempfile.TemporaryDirectory(prefix="rundocs-since-") as scratch:
        previous = None
        if since is not None:
            (old_runs_dir, old_plans_dir), committed = unpack_at_ref(since, [Path(runs_dir), plans_dir], Path(scratch))
            previous = (load_runs(old_runs_dir, now=committed), load_plans(old_plans_dir)[0], since)
        summary = make_status(runs, plans, previous)
    if output == "json":
        click.echo(json.dumps(summary.to_json(), indent=2, sort_keys=True))
    else:
        click.echo(format_markdown(summary), nl=False)


def _table_options(function: Callable[..., None]) -> Callable[..., None]:
    """The options of the commands that read every run as tables (export, query)."""
    for option in reversed(
        [
            _RUNS_OPTION,
            _cache_option("Folder of parsed runs (shared with build), so only changed runs are read again."),
            click.option("--no-cache", is_flag=True, help="Read every run."),
            _DIRECTION_OPTION,
        ]
    ):
        function = option(function)
    return function


def _load_tables_runs(runs_dir: Path | str, cache: Path, no_cache: bool) -> Runs:
    """The runs for ``export`` and ``query``, judged at the build's moment; a note on stderr when
    some run folders were left out."""
    from rundocs.load.runs import load_runs
    from rundocs.site.generate import own_cache, reproducible_now

    runs = load_runs(runs_dir, now=reproducible_now(), cache_dir=None if no_cache else own_cache(cache))
    problems = [p for p in runs.problems if not p.warning]
    if problems:
        count = counted(len(problems), "problem")
        click.echo(
            f"{count} in {_shown(runs_dir)}, those runs or lines left out (rundocs validate lists them)", err=True
        )
    return runs


@cli.command()
@_table_options
@click.option("--format", "file_format", type=click.Choice(["parquet", "csv"]), default="parquet", show_default=True)
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
def export(
    runs_dir: Path | str, cache: Path, no_cache: bool, directions: dict[str, Direction], file_format: str, out_dir: Path
) -> None:
    """Write the runs table (one row per run) and the metrics table (one file per run) into OUT_DIR
    for DuckDB, Polars, pandas or Spark; a rerun rewrites only the runs that changed."""
    from rundocs.tables.export import export_tables

    report = export_tables(_load_tables_runs(runs_dir, cache, no_cache), out_dir, file_format, directions)
    click.echo(f"{len(report.written)} written, {len(report.unchanged)} unchanged, {len(report.removed)} removed")


@cli.command()
@_table_options
@click.option("--format", "output", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@click.argument("sql")
def query(
    runs_dir: Path | str, cache: Path, no_cache: bool, directions: dict[str, Direction], output: str, sql: str
) -> None:
    """Run SQL (DuckDB) over the tables runs and metrics, built from the runs folder; the query
    cannot read or write files."""
    from rundocs.tables.query import format_result, run_query

    result = run_query(_load_tables_runs(runs_dir, cache, no_cache), sql, directions)
    click.echo(format_result(result, output), nl=False)


@cli.command()
@click.argument("source")
@click.argument("target")
@click.option("--delete", is_flag=True, help="Also delete run files in TARGET that SOURCE no longer has.")
@_cache_option("Folder for the list of what was copied, so the next sync copies only what changed.")
def sync(source: str, target: str, delete: bool, cache: Path) -> None:
    """Copy runs from SOURCE to TARGET, each a runs folder or a store URL (s3://bucket/runs):
    only files that changed since the last sync, a local metrics file up to its last complete
    line. Exit 1 if a file could not be copied."""
    from rundocs.store.sync import sync_locations

    report = sync_locations(source, target, cache, delete=delete)
    for problem in report.problems:
        click.echo(str(problem), err=True)
    click.echo(report.line(source, target))
    if report.problems:
        raise SystemExit(1)


@cli.command()
@click.argument("directory", default=".", type=click.Path(file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace the skeleton's files where they exist (and show what changes).")
def init(directory: Path, force: bool) -> None:
    """Write a project skeleton into DIRECTORY: mkdocs.yml, an example train.py and plans/baseline.yaml,
    .gitignore, a CI workflow and a noxfile. Exit 1 without writing anything if one of them exists."""
    from rundocs.site.scaffold import write_skeleton

    for change in write_skeleton(directory, force=force):
        click.echo(f"{change.action}: {(directory / change.path).as_posix()}")
        click.echo(change.diff, nl=False)
    where = "" if directory == Path(".") else f"cd {directory.as_posix()} && "
    click.echo(f"next: {where}python train.py && rundocs build && mkdocs build --strict")


@cli.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@_RUNS_OPTION
@click.option("--name", default=None, help="Name of the run [default: its id].")
@click.option("--phase", default=None)
@click.option("--sweep", default=None)
@click.option("--tag", "tags", multiple=True, help="A free label (repeatable).")
@click.option("--epochs", type=click.IntRange(min=0), default=None, help="Planned number of epochs.")
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
def run(
    runs_dir: Path | str,
    name: str | None,
    phase: str | None,
    sweep: str | None,
    tags: tuple[str, ...],
    epochs: int | None,
    command: tuple[str, ...],
) -> None:
    """Run COMMAND (after --) recorded as a run: its exit code or signal gives the status; exits
    with its exit code (128+N when signal N killed it)."""
    from rundocs.record.command import record_command

    code = record_command(command, runs_dir=runs_dir, name=name, phase=phase, sweep=sweep, tags=tags, epochs=epochs)
    raise SystemExit(code)


@cli.group(name="import")
def import_() -> None:
    """Turn runs recorded by other tools into run folders."""


@import_.command(name="optuna")
@click.option(
    "--storage",
    required=True,
    metavar="URL",
    help="sqlite:///path.db, journal:///path.log, another SQLAlchemy URL, or the path of a SQLite or journal file.",
)
@click.option("--study", required=True, help="Name of the study.")
@_RUNS_OPTION
def import_optuna(storage: str, study: str, runs_dir: Path | str) -> None:
    """Write every trial of an Optuna study as a run folder; importing again updates them."""
    from rundocs.optuna import import_command  # without optuna: "Error: optuna is not installed: ..."
    from rundocs.store.sync import local_runs

    with local_runs(runs_dir, Path(DEFAULT_CACHE)) as folder:
        click.echo(import_command(storage, study, folder))


def _import_command(source: str, help_text: str) -> None:
    """``rundocs import <source> LOCATION``: the same options for every tracker."""

    @import_.command(name=source, help=help_text + " Importing again updates the runs that changed.")
    @click.argument("location")
    @_RUNS_OPTION
    @click.option("--phase", default=None, help="Phase of the runs the source does not place in one.")
    @click.option("--sweep", default=None, help="Sweep of the runs the source does not place in one.")
    @click.option("--metric", default=None, help="The metric that ranks the runs (with --goal).")
    @click.option("--goal", type=click.Choice(["min", "max"]), default=None, help="Which way --metric is better.")
    def command(
        location: str, runs_dir: Path | str, phase: str | None, sweep: str | None, metric: str | None, goal: str | None
    ) -> None:
        from rundocs.importers.sources import import_source
        from rundocs.importers.store import ImportOptions
        from rundocs.store.sync import local_runs

        try:
            options = ImportOptions(phase=phase, sweep=sweep, metric=metric, goal=goal)
        except ValueError as error:
            raise click.UsageError(str(error)) from error
        with local_runs(runs_dir, Path(DEFAULT_CACHE)) as folder:  # a store: its mirror, uploaded after
            report = import_source(source, location, folder, options)
        for line in report.lines():
            click.echo(line)
        if report.unmapped:
            raise SystemExit(1)


def _add_import_commands() -> None:
    from rundocs.importers.sources import SOURCES

    for source, spec in SOURCES.items():
        _import_command(source, spec.help)


_add_import_commands()


def _short_lived() -> None:
    """Switch the cyclic garbage collector off for the rest of this process.

    ``build_project`` pauses it anyway (see ``rundocs.site.generate``); a command that ends
    right after also skips the collector's pass over everything loaded when it would resume.
    """
    gc.disable()


def main() -> None:
    try:
        cli.main(standalone_mode=True)
    except RundocsError as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(1)
