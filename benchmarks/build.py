"""Site generation at scale: rundocs build (cold and after one run changed), then mkdocs build.

For N synthetic runs x 100 epochs x 6 metrics in the rundocs format, in 20 phases with a plan
each (two gates, a comparison table) and 50 sweeps, this measures, each in a fresh process as a
user runs it:

- ``rundocs build`` cold (no cache, empty docs/; the median of 3) and after one run changed
  (cache present; the median of 5, another run each time), both as whole commands and as
  generation time inside the process (the command's own time, imports excluded);
- ``mkdocs build`` of the result with the shipped layout (run pages reached from the
  experiment log, navigation.prune) and, as the peer, with a flat navigation that lists
  every run page (what a hand-kept mkdocs.yml grows into; measured up to --flat-max runs);
- the largest HTML page (plotly.js is one shared file and not counted) and the site size;
- end to end, from runs to a browsable HTML site, cold and after one run changed (one sample
  each, whole commands): ``rundocs build`` then ``mkdocs build`` (before the page cache), the
  plugin's ``mkdocs build`` with its page cache, and ``rundocs build`` then ``zensical build``.

    python benchmarks/build.py                 # 1,000 and 5,000 runs (about 10 minutes)
    python benchmarks/build.py --runs 200 --flat-max 200   # a quick smoke run
    python benchmarks/build.py --runs 1000 5000 20000 --flat-max 0 --repeats 1   # end-to-end figures
    python benchmarks/build.py --runs 20000 --only plugin   # end to end only, by the ways named
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import describe_machine, machine, markdown_table, ratio

ROOT = Path(__file__).resolve().parents[1]
EPOCHS = 100
PHASES = 20
COLD_REPEATS = 3
CHANGED_REPEATS = 5
BEFORE_WAY = "rundocs build + mkdocs build"
PLUGIN_WAY = "mkdocs build with the plugin's page cache"
ZENSICAL_WAY = "rundocs build + zensical build"
#: The ways from runs to HTML that ``--only`` names.
WAYS = {"before": BEFORE_WAY, "plugin": PLUGIN_WAY, "zensical": ZENSICAL_WAY}
GENERATE = """
import json, sys, time
t0 = time.perf_counter()
import rundocs.site.generate  # everything the build command loads
from rundocs.site.cli import cli
t1 = time.perf_counter()
cli.main(["build", "--title", "Scale", *sys.argv[1:]], standalone_mode=False)
t2 = time.perf_counter()
print(json.dumps({"imports": t1 - t0, "generation": t2 - t1}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--flat-max", type=int, default=1000, help="largest site also built with a flat nav")
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--repeats", type=int, help="samples of each generation figure (default: 3 cold, 5 changed)")
    parser.add_argument("--serve", action="store_true", help="also time a logged epoch reaching mkdocs serve")
    parser.add_argument("--no-zensical", action="store_true", help="leave Zensical out of the end-to-end figures")
    parser.add_argument("--only", nargs="+", choices=sorted(WAYS), help="end to end only, these ways")
    args = parser.parse_args()
    if args.repeats:
        global COLD_REPEATS, CHANGED_REPEATS
        COLD_REPEATS = CHANGED_REPEATS = args.repeats

    if args.only:
        end_to_end_only(args.runs, [WAYS[name] for name in args.only], serve=args.serve)
        return
    results = []
    with tempfile.TemporaryDirectory(prefix="rundocs-build-bench-") as scratch:
        for count in args.runs:
            results.append(
                measure(
                    Path(scratch) / str(count),
                    count,
                    flat=count <= args.flat_max,
                    zensical=not args.no_zensical,
                    serve=args.serve,
                )
            )
    info = machine()
    print(report(results, info))
    if args.json:
        args.json.write_text(json.dumps({"machine": info, "results": results}, indent=2) + "\n")


def end_to_end_only(counts: list[int], ways: list[str], *, serve: bool) -> None:
    """The cold end-to-end build a team starts from, and the rebuild after one change, for the
    ``ways`` named alone (what fits in minutes at 20,000 runs), then with ``serve`` the latency
    of ``mkdocs serve``; a Markdown table."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="rundocs-build-bench-") as scratch:
        for count in counts:
            project = Path(scratch) / str(count)
            write_runs(project / "runs", count)
            write_plans(project / "plans")
            config = yaml.safe_load((ROOT / "tests" / "integration" / "minimal" / "mkdocs.yml").read_text())
            figures = end_to_end(project, config, count, zensical=ZENSICAL_WAY in ways, only=ways)
            for way, (cold, changed) in figures.items():
                rows.append([f"{count:,}", way, f"{cold:.1f} s", f"{changed:.1f} s"])
                print(f"{count:,} runs, {way}: {cold:.1f} s cold, {changed:.1f} s after one change", flush=True)
            if serve:
                latencies = ", ".join(f"{seconds:.1f} s" for seconds in serve_latency(project, config, count))
                print(f"{count:,} runs, a logged epoch shown by mkdocs serve after: {latencies}", flush=True)
            shutil.rmtree(project)
    print(markdown_table(["runs", "way", "cold", "after one change"], rows))
    print(f"\n{describe_machine(machine())}")


def measure(project: Path, count: int, *, flat: bool, zensical: bool, serve: bool) -> dict[str, Any]:
    write_runs(project / "runs", count)
    write_plans(project / "plans")
    config = yaml.safe_load((ROOT / "tests" / "integration" / "minimal" / "mkdocs.yml").read_text())
    (project / "mkdocs.yml").write_text(yaml.safe_dump(config))
    result: dict[str, Any] = {"runs": count}

    colds = []
    for _ in range(COLD_REPEATS):
        shutil.rmtree(project / "docs", ignore_errors=True)
        colds.append(generate(project, "--no-cache"))
    generate(project)  # fill the cache, as the build before a change would have
    changed = []
    for repeat in range(CHANGED_REPEATS):  # each time another run gets one more line
        with open(project / "runs" / run_id((count // 2 + 997 * repeat) % count) / "metrics.jsonl", "a") as file:
            file.write(json.dumps({"epoch": EPOCHS + 1, "time": 1.0, "train_loss": 0.01}) + "\n")
        changed.append(generate(project))
    result["cold"], result["cold_wall"] = median(colds)
    result["one_changed"], result["one_changed_wall"] = median(changed)

    result["end_to_end"] = end_to_end(project, config, count, zensical=zensical)
    if serve:
        result["serve"] = serve_latency(project, config, count)
    (project / "mkdocs.yml").write_text(yaml.safe_dump(config))
    result["mkdocs"] = mkdocs(project)
    pages = [p for p in (project / "site").rglob("*.html")]
    result["pages"] = len(pages)
    result["largest_page_kb"] = max(p.stat().st_size for p in pages) / 1024
    result["site_mb"] = sum(p.stat().st_size for p in (project / "site").rglob("*") if p.is_file()) / 2**20

    if flat:
        config["nav"] = [*config["nav"], {"Runs": [f"runs/{run_id(i)}.md" for i in range(count)]}]
        config["theme"]["features"] = ["navigation.tabs"]
        (project / "mkdocs.yml").write_text(yaml.safe_dump(config))
        result["mkdocs_flat"] = mkdocs(project)
        result["largest_page_flat_kb"] = max(p.stat().st_size for p in (project / "site").rglob("*.html")) / 1024
    shutil.rmtree(project)
    return result


def generate(project: Path, *options: str) -> tuple[dict[str, float], float]:
    """``rundocs build`` in a fresh process: its own time after imports, and the whole command's."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", GENERATE, *options], cwd=project, capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.splitlines()[-1]), time.perf_counter() - start


def end_to_end(
    project: Path, config: dict[str, Any], count: int, *, zensical: bool, only: list[str] | None = None
) -> dict[str, list[float]]:
    """Seconds from runs to HTML, [cold, after one run changed], for each way of building the
    site (``only``: those ways alone)."""
    plugin = {**config, "plugins": [*config["plugins"], {"rundocs": {"title": "Scale"}}]}
    ways: dict[str, tuple[dict[str, Any], list[list[str]]]] = {
        BEFORE_WAY: (config, [RUNDOCS, MKDOCS]),
        PLUGIN_WAY: (plugin, [MKDOCS]),
    }
    if zensical:
        ways[ZENSICAL_WAY] = (
            config,
            [RUNDOCS, [str(Path(sys.executable).parent / "zensical"), "build"]],
        )
    figures = {}
    for index, (way, (settings, commands)) in enumerate(ways.items()):
        if only is not None and way not in only:
            continue
        (project / "mkdocs.yml").write_text(yaml.safe_dump(settings))
        for stale in ("docs", "site", ".rundocs-cache", ".cache"):
            shutil.rmtree(project / stale, ignore_errors=True)
        (project / "docs").mkdir()
        cold = timed(project, commands)
        with open(project / "runs" / run_id((count // 3 + 101 * index) % count) / "metrics.jsonl", "a") as file:
            file.write(json.dumps({"epoch": EPOCHS + 1, "time": 1.0, "train_loss": 0.01}) + "\n")
        time.sleep(2.1)  # past the loader's settling time, as a run that logs once an epoch is
        figures[way] = [cold, timed(project, commands)]
    shutil.rmtree(project / ".rundocs-cache", ignore_errors=True)
    return figures


def serve_latency(project: Path, config: dict[str, Any], count: int) -> list[float]:
    """Seconds from a line appended to a run's metrics to ``mkdocs serve`` (with the plugin) serving
    that run's page changed; five times, each a few seconds after the last."""
    plugin = {**config, "plugins": [*config["plugins"], {"rundocs": {"title": "Scale"}}]}
    (project / "mkdocs.yml").write_text(yaml.safe_dump(plugin))
    run = run_id(count // 7)
    url = f"http://127.0.0.1:8765/runs/{run}.html"
    server = subprocess.Popen(
        [*MKDOCS[:3], "serve", "-a", "127.0.0.1:8765"], cwd=project,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        page = fetch(url, deadline=time.monotonic() + 1800)
        latencies = []
        for epoch in range(EPOCHS + 2, EPOCHS + 7):
            time.sleep(3)
            with open(project / "runs" / run / "metrics.jsonl", "a") as file:
                file.write(json.dumps({"epoch": epoch, "time": 12.5 * epoch, "train_loss": 0.01}) + "\n")
            start = time.monotonic()
            while (current := fetch(url, deadline=start + 600)) == page:
                time.sleep(0.05)
            latencies.append(time.monotonic() - start)
            page = current
        return latencies
    finally:
        server.terminate()
        server.wait()


LIVERELOAD = re.compile(rb"livereload\(\d+, \d+\)")


def fetch(url: str, *, deadline: float) -> bytes:
    """The page at ``url``, once the server answers."""
    while True:
        try:
            with urllib.request.urlopen(url, timeout=30) as response:
                return LIVERELOAD.sub(b"", response.read())  # the server's script differs at every build
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


RUNDOCS = [sys.executable, "-m", "rundocs", "build", "--title", "Scale"]
MKDOCS = [sys.executable, "-m", "mkdocs", "build", "-q"]


def timed(project: Path, commands: list[list[str]]) -> float:
    """Wall time of ``commands`` run one after the other in ``project``."""
    start = time.perf_counter()
    for command in commands:
        subprocess.run(command, cwd=project, check=True, capture_output=True)
    return time.perf_counter() - start


def median(samples: list[tuple[dict[str, float], float]]) -> tuple[dict[str, float], float]:
    """The sample with the median generation time (its whole-command time with it)."""
    ordered = sorted(samples, key=lambda sample: sample[0]["generation"])
    return ordered[len(ordered) // 2]


def mkdocs(project: Path) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "mkdocs", "build", "-q"], cwd=project, check=True, capture_output=True)
    return time.perf_counter() - start


def run_id(index: int) -> str:
    day, minute = divmod(index, 1440)
    return f"2026{1 + day // 28:02d}{1 + day % 28:02d}_{minute // 60:02d}{minute % 60:02d}00_{index:05d}"


def write_runs(root: Path, count: int) -> None:
    """Runs in the documented format: 6 metrics a line, a sweep over lr and width, 5 seeds."""
    rng = random.Random(0)
    root.mkdir(parents=True)
    for index in range(count):
        folder = root / run_id(index)
        folder.mkdir()
        lr, width, seed = rng.choice([1e-3, 3e-3, 1e-2]), rng.choice([64, 128, 256]), index % 5
        started = f"{folder.name[:4]}-{folder.name[4:6]}-{folder.name[6:8]}T{folder.name[9:11]}:{folder.name[11:13]}:00"
        record = {
            "format": "rundocs.run/1", "id": folder.name, "name": f"lr{lr}_w{width}_s{seed}", "kind": "train",
            "phase": f"phase{index % PHASES}", "sweep": f"sweep{index % 50}", "tags": [],
            "config": {"lr": lr, "seed": seed, "num_classes": 10, "model": {"width": width, "depth": 2}},
            "status": "completed", "started_at": f"{started}+00:00", "updated_at": f"{started}+00:00",
            "ended_at": f"{started}+00:00", "epochs": EPOCHS, "summary": {"test_acc": round(rng.random(), 4)},
            "evaluates": [], "restarts": None, "error": None, "env": {"host": "node"}, "checkpoints": [],
        }  # fmt: skip
        (folder / "run.json").write_text(json.dumps(record, indent=2))
        lines = []
        for epoch in range(1, EPOCHS + 1):
            noise = rng.random() * 0.01
            lines.append(json.dumps({
                "epoch": epoch, "time": 12.5 * epoch, "train_loss": 1 / epoch + noise,
                "val_loss": 1 / epoch + 0.1 + noise + max(0, epoch - 60) * 0.002, "train_acc": 1 - 1 / (epoch + 1),
                "val_acc": 0.9 - 1 / (epoch + 2), "lr": lr, "grad_norm": rng.random(),
            }))  # fmt: skip
        (folder / "metrics.jsonl").write_text("\n".join(lines) + "\n")


def write_plans(root: Path) -> None:
    """One plan per phase, with a gate at an epoch, a gate on the best value and a comparison table."""
    root.mkdir(parents=True)
    for index in range(PHASES):
        plan = {
            "title": f"Phase {index}", "goal": "Which lr and width give the best validation accuracy?",
            "gates": [{"metric": "val_acc", "epoch": 50, "green": ">= 0.85", "amber": ">= 0.8"},
                      {"metric": "val_loss", "green": "<= 0.2", "amber": "<= 0.3"}],
            "decisions": {"green": "Scale up.", "amber": "Repeat with more seeds.", "red": "Stop."},
            "compare": {"metrics": {"test_acc": "max", "val_loss": "min"}},
        }  # fmt: skip
        (root / f"phase{index}.yaml").write_text(yaml.safe_dump(plan, sort_keys=False))


def report(results: list[dict[str, Any]], info: dict[str, Any]) -> str:
    rows = []
    for r in results:
        cold, one = r["cold"]["generation"], r["one_changed"]["generation"]
        rows.append([
            f"{r['runs']:,}", f"{cold:.1f} s", f"{one:.2f} s ({ratio(cold, one)} faster)",
            f"{r['cold_wall']:.1f} s / {r['one_changed_wall']:.1f} s", f"{r['mkdocs']:.1f} s",
            f"{cold + r['mkdocs']:.1f} s", f"{r['largest_page_kb']:.0f} KB", f"{r['site_mb']:.0f} MB",
            f"{r['mkdocs_flat']:.1f} s, {r['largest_page_flat_kb']:.0f} KB" if "mkdocs_flat" in r else "not measured",
        ])  # fmt: skip
    table = markdown_table(
        ["runs", "generation, cold", "after one run changed", "whole command (cold / changed)", "mkdocs build",
         "generation + mkdocs", "largest page", "site", "peer: flat nav (mkdocs, largest page)"],
        rows,
    )  # fmt: skip
    detail = "; ".join(
        f"{r['runs']:,} runs: imports {r['cold']['imports']:.1f} s before the cold generation" for r in results
    )
    ways = list(results[0]["end_to_end"]) if results else []
    site = markdown_table(
        ["runs", *[f"{way}: cold / after one change" for way in ways]],
        [[f"{r['runs']:,}", *[f"{r['end_to_end'][w][0]:.1f} s / {r['end_to_end'][w][1]:.1f} s" for w in ways]]
         for r in results],
    )  # fmt: skip
    serve = "; ".join(
        f"{r['runs']:,} runs: {', '.join(f'{s:.1f} s' for s in r['serve'])}" for r in results if "serve" in r
    )
    if serve:
        site += f"\n\nA logged epoch on the page mkdocs serve serves (with the plugin): {serve}"
    return (
        f"{table}\n\n{detail}\n\nEnd to end, runs to HTML (whole commands, one sample each):\n\n{site}\n\n"
        f"Machine: {describe_machine(info)}\nReproduce: python {' '.join(sys.argv)}"
    )


if __name__ == "__main__":
    main()
