"""Where a cold build's time goes, per run, and what each way of skipping a step could save.

On the synthetic runs of ``build.py`` (100 epochs x 6 metrics, 20 phases, 50 sweeps), this times
in one process, after imports:

- the generation (``rundocs build --no-cache``), divided by the number of runs: the run pages
  and every page that lists runs (log, phases, sweeps) grow with it;
- for each run page, the steps of MkDocs' per-page pass, as ``mkdocs build`` calls them:
  reading the Markdown, converting it (Python-Markdown with the site's extensions, links
  checked), indexing the HTML for search (Material's parser), and rendering the theme's
  template around it;
- a whole ``mkdocs build`` (no plugin) of the generated pages, in a fresh process; what it took
  beyond the run pages' steps is "the rest" (start-up and imports included).

It prints milliseconds per run for each step, what each costs at 20,000 runs, and the most that
skipping it could save there: the bound for "run pages rendered without a per-page theme pass",
"indexed without parsing their HTML" and "written as HTML, not Markdown".

    python benchmarks/page_costs.py               # 1,000 runs, about 2 minutes
    python benchmarks/page_costs.py --runs 300    # a quick look
"""

from __future__ import annotations

import argparse
import gc
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import describe_machine, machine, markdown_table
from build import ROOT, write_plans, write_runs

TARGET_RUNS = 20_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rundocs-page-costs-") as scratch:
        project = Path(scratch)
        write_runs(project / "runs", args.runs)
        write_plans(project / "plans")
        config = yaml.safe_load((ROOT / "tests" / "integration" / "minimal" / "mkdocs.yml").read_text())
        (project / "mkdocs.yml").write_text(yaml.safe_dump(config))
        (project / "docs").mkdir()
        os.chdir(project)
        try:
            generation = _generation(project)
            steps = _page_steps(project)
        finally:
            os.chdir(ROOT)
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "mkdocs", "build", "-q"], cwd=project, check=True, capture_output=True)
        whole = time.perf_counter() - start
    print(_report(args.runs, generation, steps, whole))
    print(f"\n{describe_machine(machine())}")
    print(f"Reproduce: python benchmarks/page_costs.py --runs {args.runs}")


def _generation(project: Path) -> float:
    """Seconds of a cold ``rundocs build`` in this process, imports excluded."""
    from rundocs.site.cli import cli

    gc.collect()
    start = time.perf_counter()
    cli.main(["build", "--title", "Scale", "--no-cache"], standalone_mode=False)
    return time.perf_counter() - start


def _page_steps(project: Path) -> dict[str, float]:
    """Seconds summed over the run pages for each step of MkDocs' per-page pass."""
    from material.plugins.search.plugin import Parser
    from mkdocs.commands.build import get_context
    from mkdocs.config import load_config
    from mkdocs.structure.files import get_files
    from mkdocs.structure.nav import get_navigation
    from mkdocs.structure.pages import Page

    config = load_config(str(project / "mkdocs.yml"))
    config.plugins.on_startup(command="build", dirty=False)
    config = config.plugins.on_config(config)
    files = get_files(config)
    nav = get_navigation(files, config)
    template = config.theme.get_env().get_template("main.html")
    steps = dict.fromkeys(["read", "markdown", "search", "theme"], 0.0)
    gc.collect()
    for file in files.documentation_pages():
        if not file.src_uri.startswith("runs/") or file.src_uri.count("/") != 1 or file.name == "index":
            continue
        page = file.page or Page(None, file, config)
        marks = [time.perf_counter()]
        page.read_source(config)
        marks.append(time.perf_counter())
        page.render(config, files)
        marks.append(time.perf_counter())
        parser = Parser()
        parser.feed(page.content or "")
        parser.close()
        marks.append(time.perf_counter())
        template.render(get_context(nav, files, config, page))
        marks.append(time.perf_counter())
        for name, begin, end in zip(steps, marks, marks[1:], strict=False):
            steps[name] += end - begin
    return steps


def _report(runs: int, generation: float, steps: dict[str, float], whole: float) -> str:
    per_run = {"generation (rundocs build)": generation / runs} | {
        {
            "read": "MkDocs: read the Markdown",
            "markdown": "MkDocs: Markdown to HTML",
            "search": "Material: index for search",
            "theme": "MkDocs: theme template",
        }[name]: seconds / runs
        for name, seconds in steps.items()
    }
    rest = "MkDocs: the rest (start-up and imports, other pages, files, sitemap, search index)"
    per_run[rest] = max(0.0, whole - sum(steps.values())) / runs
    total = sum(per_run.values())
    rows = [
        [name, f"{seconds * 1000:.2f} ms", f"{seconds * TARGET_RUNS:.0f} s", f"{seconds / total:.0%}"]
        for name, seconds in per_run.items()
    ]
    rows.append(["total", f"{total * 1000:.2f} ms", f"{total * TARGET_RUNS:.0f} s", "100%"])
    table = markdown_table(["step, per run", "time", f"at {TARGET_RUNS:,} runs", "share"], rows)
    skip = {
        "without the theme pass": ["MkDocs: theme template"],
        "and without parsing for search": ["MkDocs: theme template", "Material: index for search"],
        "and written as HTML (no Markdown)": [
            "MkDocs: theme template",
            "Material: index for search",
            "MkDocs: Markdown to HTML",
        ],
    }
    lines = [
        f"- {label}: at most {sum(per_run[name] for name in names) * TARGET_RUNS:.0f} s saved at "
        f"{TARGET_RUNS:,} runs, leaving {(total - sum(per_run[name] for name in names)) * TARGET_RUNS:.0f} s "
        "on one core"
        for label, names in skip.items()
    ]
    return (
        f"{runs:,} runs; a whole `mkdocs build` took {whole:.1f} s, the generation {generation:.1f} s\n\n"
        + table
        + "\n\nRun pages built outside MkDocs' per-page pass, cumulatively:\n"
        + "\n".join(lines)
    )


if __name__ == "__main__":
    main()
