"""The page set: which pages exist, rendering them, and writing only what changed.

Generated pages carry ``docs_files.GENERATED_MARK`` near their top (after any front matter). A
page with the mark that the runs no longer produce is an orphan, removed by ``build`` and
reported by ``check``. Hand-written pages (without the mark) are never touched: ``build``
refuses to replace one where a generated page goes, unless forced (``docs_files.DocsFolder``).
"""

from __future__ import annotations

import dataclasses
import importlib.util
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, NamedTuple

import jinja2

from rundocs.analyse.baseline import find_baselines
from rundocs.analyse.names import Direction
from rundocs.analyse.phases import _matches, phase_inputs, phase_members, report_phase
from rundocs.analyse.rules import Relaunches
from rundocs.analyse.sweeps import DEFAULT_REPEATS, Planned, group_sweeps, planned_size, report_sweep, sweep_members
from rundocs.load.artifacts import Artifact, find_artifacts
from rundocs.load.plans import Plan, SweepSpec
from rundocs.load.problems import Problem
from rundocs.load.runs import Runs
from rundocs.render.artifact_files import ARTIFACTS_DIR, artifact_views, artifacts_key, publish_artifacts
from rundocs.render.docs_files import DocsFolder
from rundocs.render.environment import make_environment
from rundocs.render.manifest import KeptPage, Manifest, PageRecord, make_key, stamp_of
from rundocs.render.models import LogEntry, get_facts, make_log_entry, make_run_page, shown_state_counts
from rundocs.render.phase_models import (
    PhaseSummary,
    in_time_order,
    make_history_page,
    make_phase_page,
    summarize_phase,
    total_phases,
)
from rundocs.render.problems import (
    PROBLEMS_PAGE,
    Isolated,
    PageFailure,
    expected_by_plan,
    expected_by_sweep,
    fail_page,
    shown_path,
    shown_plan_problems,
    shown_run_problems,
)
from rundocs.render.sweep_models import SweepSummary, make_sweep_page, summarize_sweep, sweep_slug
from rundocs.render.table_files import (
    TABLES_DIR,
    phase_comparison_csv,
    phase_csv_path,
    phase_gates_csv,
    sweep_csv_path,
    sweep_trials_csv,
)

ASSETS_DIR = "assets/rundocs"
assert ARTIFACTS_DIR.startswith(f"{ASSETS_DIR}/")  # the copies are in the folder rundocs owns
assert TABLES_DIR.startswith(f"{ASSETS_DIR}/")  # and so are the tables as CSV
ASSET_FILES = (
    "rundocs.js",
    "rundocs-sort.js",
    "rundocs.css",
    "iframe-worker-shim.js",
    "iframe-worker.LICENSE",
    "mermaid.min.js",
    "mermaid.LICENSE",
)
#: Runs on the log's first page; older runs go to monthly archive pages of this size.
LATEST_RUNS = 100
ARCHIVE_PAGE_RUNS = 100
HOME_RUNS = 10


@dataclass(frozen=True)
class SiteOptions:
    source: str = "runs"
    title: str = "Experiments"
    templates: Path | None = None
    directions: Mapping[str, Direction] = field(default_factory=dict)


class _Archive(NamedTuple):
    label: str
    path: str
    size: int


@dataclass
class BuildReport:
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


@dataclass
class CheckReport:
    stale: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    orphaned: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.stale or self.missing or self.orphaned)


@dataclass
class RenderedSite:
    """The generated files: ``files`` rendered now, ``kept`` run pages known unchanged on disk;
    ``failures`` the pages whose rendering raised (each file then holds an error page)."""

    files: dict[str, bytes]
    kept: set[str]
    manifest: Manifest
    failures: list[PageFailure] = field(default_factory=list)

    def paths(self) -> set[str]:
        return set(self.files) | self.kept


def render_site(
    runs: Runs,
    options: SiteOptions,
    docs: Path | None = None,
    previous: Manifest | None = None,
    plans: PlanSet | None = None,
) -> RenderedSite:
    """Every generated file under ``docs/``; the same runs give the same bytes.

    With the ``previous`` build's manifest, run pages whose inputs did not change (and whose
    file in ``docs`` is as that build left it) are kept instead of analysed and rendered.
    Each page renders in isolation: one that raises becomes an error page naming its input (see
    ``RenderedSite.failures``).
    """
    environment = make_environment(options.templates)
    source = options.source
    order = _newest_first(runs)
    facts = get_facts(runs)
    baselines = find_baselines(runs.records, plans.plans if plans else None)
    directions = dict(options.directions)
    build_key = make_key(_template_sources(environment), source, sorted(directions.items()))
    previous = previous if previous is not None and docs is not None else Manifest()
    manifest = Manifest(build_key)
    entries: dict[str, LogEntry] = {}
    keys: dict[str, str] = {}
    kept: set[str] = set()
    keeper = _Keeper(previous, manifest, build_key, docs, kept)
    pages: dict[str, str] = {}
    failures: list[PageFailure] = []
    artifacts: dict[str, tuple[Artifact, ...]] = {}
    copies: dict[str, bytes] = {}
    for run_id in order:
        record = runs.records[run_id]
        found = find_artifacts(record.folder, frozenset(c.path for c in record.checkpoints))
        artifacts[run_id], published = publish_artifacts(record.folder, run_id, found, keeper)
        copies.update(published)
        baseline = baselines[run_id]
        keys[run_id] = make_key(
            artifacts_key(artifacts[run_id]),
            runs.signatures.get(run_id),
            facts[run_id]["state"],
            baseline,
            runs.signatures.get(baseline or ""),
            facts[run_id]["relaunch_of"],
            facts[run_id]["relaunched_as"],
            facts[run_id]["varied"],  # the log entry names the settings that vary in its group
        )
        reusable = previous.reusable(run_id, keys[run_id], build_key, docs) if docs is not None else None
        if reusable is not None:
            entries[run_id] = reusable.entry
            kept.add(reusable.path)
            manifest.pages[run_id] = reusable
        else:
            entries[run_id] = _log_entry(runs, run_id, facts[run_id], directions, pages, failures)

    for run_id in order:
        path = _run_page_path(run_id)
        if path in kept or path in pages:  # kept, or already an error page (its log entry failed)
            continue
        with Isolated(pages, failures, path, f"run {run_id} ({source}/{run_id})") as attempt:
            page = make_run_page(
                runs,
                run_id,
                facts[run_id],
                entries,
                baselines[run_id],
                directions,
                artifact_views(run_id, artifacts[run_id]),
            )
            attempt.text = environment.get_template("run.md.j2").render(source=f"{source}/{run_id}", page=page)
        if attempt.ok:
            manifest.pages[run_id] = PageRecord(keys[run_id], entries[run_id], path, (0, 0))

    latest, archives = _split_log(order, runs)
    with Isolated(pages, failures, "runs/index.md", f"the runs folder ({source})") as attempt:
        attempt.text = environment.get_template("experiment_log.md.j2").render(
            source=source,
            title="Experiment log",
            entries=[entries[i] for i in latest],
            archives=[_Archive(a.label, f"archive/{a.path}", a.size) for a in archives],
            link_prefix="",
            problems=[_shown_problem(problem, runs.root, source) for problem in runs.problems],
        )
    for archive, ids in archives.items():
        path = f"runs/archive/{archive.path}"
        key = make_key(build_key, archive.label, [list(vars(entries[i]).values()) for i in ids])
        if keeper.reuse(path, key) is not None:
            continue
        with Isolated(pages, failures, path, f"the runs folder ({source}, {archive.label})") as attempt:
            attempt.text = environment.get_template("experiment_log.md.j2").render(
                source=source,
                title=f"Experiment log: {archive.label}",
                entries=[entries[i] for i in ids],
                archives=[],
                link_prefix="../",
                problems=[],
            )
        if attempt.ok:
            keeper.note(path, key)
    plan_set = plans or PlanSet({}, [])
    phases = _phase_pages(runs, plan_set, environment, pages, keeper, failures, directions, baselines)
    sweeps = _sweep_pages(runs, plan_set, environment, pages, keeper, failures, directions)
    shown_runs = shown_run_problems(runs.problems, runs.root, source)
    shown_plans = shown_plan_problems(plan_set.problems)
    with Isolated(pages, failures, "index.md", f"the runs folder ({source})") as attempt:
        attempt.text = environment.get_template("home.md.j2").render(
            source=source,
            title=options.title,
            latest=[entries[i] for i in order[:HOME_RUNS]],
            counts=_counts(runs),
            phases=phases,
            sweeps=sweeps,
            problems=len(shown_runs) + len(shown_plans) + len(failures),
        )
    with Isolated(pages, failures, "format.md", "rundocs") as attempt:
        attempt.text = environment.get_template("format.md.j2").render(source="rundocs")
    with Isolated(pages, failures, PROBLEMS_PAGE, f"{source} and plans") as attempt:  # last: it lists the failures
        attempt.text = environment.get_template("problems.md.j2").render(
            source=f"{source} and plans", runs=shown_runs, plans=shown_plans, failures=list(failures)
        )
    files = {path: text.encode() for path, text in pages.items()}
    files.update(copies)
    files.update(_assets(keeper))
    return RenderedSite(files, kept, manifest, failures)


def write_site(site: RenderedSite, docs: Path, *, force: bool = False) -> BuildReport:
    """Write changed files, remove orphaned generated pages; leave everything else alone.

    Nothing is written through a symlink or over an entry rundocs did not create, unless
    ``force`` (see ``DocsFolder``). Afterwards ``site.manifest`` holds the stamps of the run
    pages as they are on disk.

    Raises:
        WriteError: When a path is refused or cannot be written (full disk, read-only folder).
    """
    report = BuildReport(unchanged=sorted(site.kept))
    with DocsFolder(docs, force=force, owned=ASSETS_DIR) as folder:
        for relative, content in sorted(site.files.items()):
            (report.unchanged if folder.read(relative) == content else report.written).append(relative)
        for relative in report.written:  # refuse before anything is written
            folder.check(relative)
        for relative in report.written:
            folder.write(relative, site.files[relative])  # a server reading docs/ never sees half a page
        for relative in folder.generated_pages(skip=site.paths()):
            folder.remove(relative)
            report.removed.append(relative)
        for run_id, record in list(site.manifest.pages.items()):
            if record.path in site.files:  # kept pages still have the stamp the manifest gives them
                stamp = folder.stamp(record.path)
                if stamp is not None:
                    site.manifest.pages[run_id] = dataclasses.replace(record, stamp=stamp)
        for other, page in list(site.manifest.others.items()):
            if other in site.files:
                stamp = folder.stamp(other)
                if stamp is not None:
                    site.manifest.others[other] = dataclasses.replace(page, stamp=stamp)
    report.unchanged.sort()
    return report


def check_site(site: RenderedSite, docs: Path) -> CheckReport:
    """Compare what ``build`` would write with ``docs/``, byte for byte (kept pages by stamp);
    a symlink or special file where a generated file goes is stale."""
    report = CheckReport()
    with DocsFolder(docs, create=False, owned=ASSETS_DIR) as folder:
        for relative, content in sorted(site.files.items()):
            current = folder.read(relative)
            if current is None:
                (report.missing if folder.stamp(relative) is None else report.stale).append(relative)
            elif current != content:
                report.stale.append(relative)
        report.orphaned = list(folder.generated_pages(skip=site.paths()))
    return report


class PlanSet(NamedTuple):
    """Loaded plans and the problems found in their files."""

    plans: dict[str, Plan]
    problems: list[Problem]


def _phase_pages(
    runs: Runs,
    plan_set: PlanSet,
    environment: jinja2.Environment,
    pages: dict[str, str],
    keeper: _Keeper,
    failures: list[PageFailure],
    directions: Mapping[str, Direction],
    baselines: Mapping[str, str | None],
) -> list[PhaseSummary]:
    """One page per plan, the phase tracker and the history (both in time order). A phase page
    is kept while its plan, its problems, the files and states of the runs it reads and of their
    baselines, and the unreadable folders it expected are unchanged; "now" is part of its key
    only while one of those runs is running (the time left at the current rate). A plan row
    whose run folder could not be read links to the problem."""
    phases = []
    relaunches = Relaunches(runs.records)  # once for every plan's page key
    for phase_id, plan in sorted(plan_set.plans.items()):
        path = f"phases/{phase_id}.md"
        own = [p for p in plan_set.problems if p.path == str(plan.path)]
        inputs = _page_inputs(runs, phase_inputs(plan, runs.records, relaunches))
        unreadable, broken = expected_by_plan(plan, runs.unreadable.values(), _expected_labels)
        running = any(state == "running" for _, _, state in inputs)
        bases = sorted({b for run_id, _, _ in inputs if (b := baselines.get(run_id))})
        key = make_key(
            _page_inputs(runs, [b for b in bases if b in runs.records]),
            repr(plan),
            [str(p) for p in own],
            inputs,
            broken,
            sorted(directions.items()),
            runs.now.isoformat() if running else None,
        )
        tables = {table: phase_csv_path(phase_id, table) for table in ("gates", "comparison")}
        data = keeper.reuse(path, key, *tables.values())
        if data is not None:
            phases.append(PhaseSummary(**data))
            continue
        source = f"{plan.path.parent.name}/{plan.path.name} and {runs.root.name}"
        with Isolated(pages, failures, path, f"plan {source}") as attempt:
            page = make_phase_page(report_phase(plan, runs, runs.now, directions, baselines), runs.now, own)
            summary = summarize_phase(page)
            written = {tables["gates"]: phase_gates_csv(page, runs.records)} if page.gates else {}
            if page.comparison:
                written[tables["comparison"]] = phase_comparison_csv(page)
            template = environment.get_template("phase.md.j2")  # compiled once, on first use
            attempt.text = template.render(
                source=source,
                page=page,
                runs=runs.records,
                unreadable=unreadable,
                broken=broken,
                csv={table: f"../{relative}" for table, relative in tables.items()},
            )
        if attempt.ok:
            keeper.note(path, key, dataclasses.asdict(summary))
            for relative, text in written.items():
                keeper.note(relative, key)
                pages[relative] = text
        else:
            summary = PhaseSummary(
                plan.id, plan.title, "error", 0, len(plan.runs), None, "", superseded_by=plan.superseded_by
            )
        phases.append(summary)
    phases = in_time_order(phases)
    with Isolated(pages, failures, "phases/index.md", "plans") as attempt:
        attempt.text = environment.get_template("phases_index.md.j2").render(
            source="plans", phases=phases, totals=total_phases(phases)
        )
    with Isolated(pages, failures, "history.md", "plans and runs") as attempt:
        attempt.text = environment.get_template("history.md.j2").render(
            source="plans and runs", page=make_history_page(phases)
        )
    return phases


def _expected_labels(plan: Plan, name: str) -> list[str]:
    """Labels of the plan's rows that a run of this name would fill."""
    return [expected.label for expected in plan.runs if _matches(expected, name)]


def _sweep_pages(
    runs: Runs,
    plan_set: PlanSet,
    environment: jinja2.Environment,
    pages: dict[str, str],
    keeper: _Keeper,
    failures: list[PageFailure],
    directions: Mapping[str, Direction],
) -> list[SweepSummary]:
    """One page per sweep and the sweeps index. A plan's ``sweep:`` spec (target metric, goal,
    repeat keys) applies to the sweeps its runs belong to; its runs without a sweep name form a
    sweep named after the plan. ``directions`` (``--direction``) win over a plan's goal. A sweep
    whose runs (relaunches included) did not change keeps its page."""
    relaunches = Relaunches(runs.records)
    groups = group_sweeps(runs)
    specs: dict[str, SweepSpec] = {}
    sizes: dict[str, Planned | None] = {}
    for plan in plan_set.plans.values():
        if plan.sweep is None:
            continue
        members = phase_members(plan, runs.records)
        train = [m for m in members if runs.records[m].kind == "train"]
        names = {sweep for m in train if (sweep := runs.records[m].sweep)}
        loose = [m for m in train if not runs.records[m].sweep]
        if loose:
            groups.setdefault(plan.id, []).extend(loose)
            names.add(plan.id)
        for name in names:
            specs.setdefault(name, plan.sweep)
            sizes.setdefault(name, planned_size(plan))
    summaries = []
    for name, run_ids in sorted(groups.items()):
        spec = specs.get(name)
        path = f"sweeps/{sweep_slug(name)}.md"
        members, relaunched = sweep_members(name, run_ids, runs, relaunches)
        inputs = _page_inputs(runs, sorted({*members, *relaunched, *run_ids}))
        broken = expected_by_sweep(name, runs.unreadable.values())
        key = make_key(name, spec, sizes.get(name), sorted(directions.items()), inputs, broken)
        table = sweep_csv_path(sweep_slug(name))
        data = keeper.reuse(path, key, table)
        if data is not None:
            summaries.append(SweepSummary(**data))
            continue
        with Isolated(pages, failures, path, f"sweep {name} ({runs.root.name})") as attempt:
            report = report_sweep(
                name,
                run_ids,
                runs,
                metric=spec.metric if spec else None,
                goal=spec.goal if spec else None,
                repeats=spec.repeat if spec else DEFAULT_REPEATS,
                bookkeeping=spec.bookkeeping if spec else (),
                directions=directions,
                relaunches=relaunches,
                planned=sizes.get(name),
            )
            page = make_sweep_page(report, runs)
            summary = summarize_sweep(page)
            trials = sweep_trials_csv(page)
            template = environment.get_template("sweep.md.j2")
            attempt.text = template.render(
                source=f"{runs.root.name} (sweep {name})", page=page, broken=broken, csv=f"../{table}"
            )
        if attempt.ok:
            keeper.note(path, key, dataclasses.asdict(summary))
            keeper.note(table, key)
            pages[table] = trials
        else:
            summary = SweepSummary(name, sweep_slug(name), len(run_ids), "", "", [], None, None, None)
        summaries.append(summary)
    with Isolated(pages, failures, "sweeps/index.md", "runs") as attempt:
        attempt.text = environment.get_template("sweeps_index.md.j2").render(source="runs", sweeps=summaries)
    return summaries


def _page_inputs(runs: Runs, run_ids: Iterable[str]) -> list[tuple[str, Any, str]]:
    """What a page built from these runs depends on: each one's files and derived state."""
    return [(run_id, runs.signatures.get(run_id), runs.states[run_id]) for run_id in run_ids]


class _Keeper:
    """Decides which non-run pages the last build's copies can stand for (see ``Manifest``)."""

    def __init__(self, previous: Manifest, manifest: Manifest, build_key: str, docs: Path | None, kept: set[str]):
        self.previous, self.manifest, self.build_key, self.docs, self.kept = previous, manifest, build_key, docs, kept

    def reuse(self, path: str, key: str, *files: str) -> dict[str, Any] | None:
        """The stored data of a page that needs no rendering (it is then kept), else None; with
        ``files`` (its tables as CSV, say) only if those the last build wrote need none either:
        the same key gives the same files, so one that build did not write is not wanted now."""
        if self.docs is None:
            return None
        wanted = [path, *(file for file in files if file in self.previous.others)]
        found = [self.previous.kept_data(p, key, self.build_key, self.docs) for p in wanted]
        if any(data is None for data in found):
            return None
        for kept in wanted:
            self.kept.add(kept)
            self.manifest.others[kept] = self.previous.others[kept]
        return found[0]

    def note(self, path: str, key: str, data: dict[str, Any] | None = None) -> None:
        """Remember a page rendered now; ``write_site`` fills in its stamp."""
        self.manifest.others[path] = KeptPage(key, (0, 0), data or {})


def _log_entry(
    runs: Runs,
    run_id: str,
    facts: dict[str, Any],
    directions: dict[str, Direction],
    pages: dict[str, str],
    failures: list[PageFailure],
) -> LogEntry:
    """The run's log entry; if that raises, a bare entry (name and state) and the run's page
    becomes an error page."""
    try:
        return make_log_entry(runs, run_id, facts, directions)
    except Exception as error:  # one run must not take down the log
        fail_page(pages, failures, _run_page_path(run_id), f"run {run_id} ({runs.root.name}/{run_id})", error)
        record = runs.records[run_id]
        return LogEntry(run_id, record.name, "", record.kind, record.phase, str(facts["state"]), "", "", None)


def _run_page_path(run_id: str) -> str:
    return f"runs/{run_id}.md"


def _template_sources(environment: jinja2.Environment) -> list[str]:
    """The text of every template the environment can load: a template edit changes every key."""
    assert environment.loader is not None
    sources = []
    for name in sorted(environment.loader.list_templates()):
        source, _, _ = environment.loader.get_source(environment, name)
        sources.append(f"{name}\n{source}")
    return sources


def _newest_first(runs: Runs) -> list[str]:
    if runs.runs.empty:
        return []
    frame = runs.runs.reset_index()[["id", "started_at"]]
    return frame.sort_values(["started_at", "id"], ascending=False, kind="stable")["id"].tolist()


def _split_log(order: list[str], runs: Runs) -> tuple[list[str], dict[_Archive, list[str]]]:
    """The newest runs for the log's first page; the rest in monthly pages of bounded size.

    Archive pages are cut in start order, so a new run changes only the newest archive page.
    """
    latest, older = order[:LATEST_RUNS], order[LATEST_RUNS:]
    by_month: dict[str, list[str]] = {}
    for run_id in reversed(older):  # oldest first
        month = runs.records[run_id].started_at.astimezone(UTC).strftime("%Y-%m")
        by_month.setdefault(month, []).append(run_id)
    archives: dict[_Archive, list[str]] = {}
    for month in sorted(by_month, reverse=True):
        ids = by_month[month]
        chunks = [ids[i : i + ARCHIVE_PAGE_RUNS] for i in range(0, len(ids), ARCHIVE_PAGE_RUNS)]
        for number in range(len(chunks), 0, -1):
            chunk = chunks[number - 1]
            label = month if len(chunks) == 1 else f"{month}, part {number} of {len(chunks)}"
            path = f"{month}.md" if number == 1 else f"{month}-{number}.md"
            archives[_Archive(label, path, len(chunk))] = list(reversed(chunk))
    return latest, archives


def _counts(runs: Runs) -> dict[str, Any]:
    states = shown_state_counts(runs)
    order = ["running", "stalled", "failed", "interrupted", "relaunched", "completed"]
    return {"total": len(runs.runs), "states": [(s, int(states[s])) for s in order if s in states]}


def _shown_problem(problem: Problem, root: Path, source: str) -> str:
    """The problem with its path under the runs folder's display name (``shown_path``)."""
    return str(dataclasses.replace(problem, path=shown_path(problem.path, root, source)))


def _assets(keeper: _Keeper) -> dict[str, bytes]:
    """The shared site assets that need writing; a copy the last build wrote from the same
    packaged file (same size and mtime) is kept without reading either."""
    here = resources.files("rundocs.render").joinpath("assets")
    sources = {f"{ASSETS_DIR}/{name}": here.joinpath(name) for name in ASSET_FILES}
    sources[f"{ASSETS_DIR}/plotly.min.js"] = _plotly_js()
    files = {}
    for path, source in sources.items():
        stamp = stamp_of(str(source))  # None inside a zip: then always read
        key = make_key(path, str(source), stamp)
        if stamp is not None and keeper.reuse(path, key) is not None:
            continue
        keeper.note(path, key)
        files[path] = source.read_bytes()
    return files


def _plotly_js() -> Traversable:
    """plotly.js as the plotly package ships it, found without importing plotly (~10 ms)."""
    spec = importlib.util.find_spec("plotly")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("plotly, a dependency of rundocs, is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "package_data" / "plotly.min.js"
