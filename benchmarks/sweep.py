"""A hyperparameter search of 2,000 trials x 50 epochs as one sweep page.

Measures, in one process: loading the runs, the sweep analysis and page rendering (the page's
own cost, load excluded and included), the page size in Markdown and as built HTML, and the
largest figure. Beside it, the peer a user would reach for: Optuna's visualization module
drawing the same trials (intermediate values and parallel coordinates) to HTML without
plotly.js, when optuna is installed.

    python benchmarks/sweep.py              # 2,000 trials
    python benchmarks/sweep.py --trials 200  # a quick run
"""

from __future__ import annotations

import argparse
import json
import math
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import describe_machine, machine, markdown_table, ratio

ROOT = Path(__file__).resolve().parents[1]
EPOCHS = 50


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=2000)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rundocs-sweep-bench-") as scratch:
        project = Path(scratch)
        trials = write_search(project / "runs", args.trials)
        result = measure_rundocs(project)
        result["optuna"] = measure_optuna(trials)
    result["trials"] = args.trials
    info = machine()
    print(report(result, info))
    if args.json:
        args.json.write_text(json.dumps({"machine": info, "result": result}, indent=2) + "\n")


def write_search(root: Path, count: int) -> list[dict[str, Any]]:
    """A search over lr (log-uniform), width and depth; some trials stopped early, one NaN."""
    rng = random.Random(0)
    root.mkdir(parents=True)
    trials = []
    for number in range(count):
        lr = 10 ** rng.uniform(-4, -1)
        width, depth = rng.choice([32, 64, 128, 256]), rng.choice([2, 3, 4])
        stop = EPOCHS if rng.random() > 0.3 else rng.randint(3, EPOCHS - 1)
        floor = 0.2 + abs(math.log10(lr) + 2.5) * 0.15 + 8 / width
        values = [floor + 2.0 * math.exp(-epoch * lr * 40) + rng.random() * 0.02 for epoch in range(1, stop + 1)]
        if number == 7:
            values[-1] = float("nan")
        run_id = f"20260301_{number // 60:02d}{number % 60:02d}00_t{number:05d}"
        started = f"2026-03-01T{number // 3600 % 24:02d}:{number // 60 % 60:02d}:{number % 60:02d}+00:00"
        record = {
            "format": "rundocs.run/1", "id": run_id, "name": f"trial-{number:04d}", "kind": "train",
            "phase": "search", "sweep": "width-lr-search", "tags": ["pruned"] if stop < EPOCHS else [],
            "config": {"lr": lr, "width": width, "depth": depth, "seed": 0}, "status": "completed",
            "started_at": started, "updated_at": started, "ended_at": started, "epochs": EPOCHS,
            "summary": {"params": width * width * depth}, "evaluates": [], "restarts": None, "error": None,
            "env": {}, "checkpoints": [],
        }  # fmt: skip
        folder = root / run_id
        folder.mkdir()
        (folder / "run.json").write_text(json.dumps(record))
        lines = [
            json.dumps({"epoch": epoch, "time": 6.0 * epoch, "val_loss": "NaN" if value != value else value})
            for epoch, value in enumerate(values, start=1)
        ]
        (folder / "metrics.jsonl").write_text("\n".join(lines) + "\n")
        trials.append({"params": {"lr": lr, "width": width, "depth": depth}, "values": values})
    return trials


def measure_rundocs(project: Path) -> dict[str, Any]:
    import rundocs
    from rundocs.analyse.sweeps import group_sweeps, report_sweep
    from rundocs.render.environment import make_environment
    from rundocs.render.sweep_models import make_sweep_page

    start = time.perf_counter()
    runs = rundocs.load_runs(project / "runs")
    loaded = time.perf_counter()
    report = report_sweep("width-lr-search", group_sweeps(runs)["width-lr-search"], runs, metric="val_loss", goal="min")
    page = make_sweep_page(report, runs)
    text = make_environment().get_template("sweep.md.j2").render(source="runs", page=page)
    rendered = time.perf_counter()
    docs = project / "docs"
    (docs / "sweeps").mkdir(parents=True)
    (docs / "sweeps" / "width-lr-search.md").write_text(text)
    (docs / "index.md").write_text("# Sweep benchmark\n")
    config = yaml.safe_load((ROOT / "tests" / "integration" / "minimal" / "mkdocs.yml").read_text())
    config["nav"] = [{"Home": "index.md"}, {"Sweep": "sweeps/width-lr-search.md"}]
    (project / "mkdocs.yml").write_text(yaml.safe_dump(config))
    subprocess.run([sys.executable, "-m", "mkdocs", "build", "-q"], cwd=project, check=True, capture_output=True)
    html = (project / "site" / "sweeps" / "width-lr-search.html").stat().st_size
    return {
        "load_s": loaded - start,
        "page_s": rendered - loaded,
        "total_s": rendered - start,
        "markdown_kb": len(text.encode()) / 1024,
        "html_kb": html / 1024,
        "largest_figure_kb": max(len(figure) for figure in page.figures) / 1024,
        "figures": len(page.figures),
        "trial_rows": len(page.trials),
    }


def measure_optuna(trials: list[dict[str, Any]]) -> dict[str, Any] | None:
    try:
        import optuna
        from optuna.distributions import CategoricalDistribution, FloatDistribution
    except ImportError:
        return None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    distributions = {
        "lr": FloatDistribution(1e-4, 1e-1, log=True),
        "width": CategoricalDistribution([32, 64, 128, 256]),
        "depth": CategoricalDistribution([2, 3, 4]),
    }
    study = optuna.create_study(direction="minimize")
    for trial in trials:
        finite = [v for v in trial["values"] if v == v]
        study.add_trial(
            optuna.trial.create_trial(
                params=trial["params"], distributions=distributions, value=min(finite),
                intermediate_values={epoch: v for epoch, v in enumerate(trial["values"], start=1) if v == v},
            )
        )  # fmt: skip
    start = time.perf_counter()
    figures = [
        optuna.visualization.plot_intermediate_values(study),
        optuna.visualization.plot_parallel_coordinate(study),
    ]
    html = sum(len(figure.to_html(include_plotlyjs=False, full_html=False).encode()) for figure in figures)
    return {"figures_s": time.perf_counter() - start, "html_kb": html / 1024}


def report(result: dict[str, Any], info: dict[str, Any]) -> str:
    rows = [
        ["rundocs sweep page (analysis, 5 figures, tables)", f"{result['page_s']:.2f} s",
         f"{result['html_kb']:.0f} KB HTML ({result['markdown_kb']:.0f} KB Markdown)", "1.00x"],
    ]  # fmt: skip
    peer = result["optuna"]
    if peer:
        rows.append([
            "optuna.visualization: intermediate values + parallel coordinates", f"{peer['figures_s']:.2f} s",
            f"{peer['html_kb']:.0f} KB HTML (two figures only)", ratio(peer["figures_s"], result["page_s"]),
        ])  # fmt: skip
    table = markdown_table(["what", "time", "size", "time vs rundocs"], rows)
    return (
        f"{table}\n\n{result['trials']:,} trials x {EPOCHS} epochs: load {result['load_s']:.2f} s, page "
        f"{result['page_s']:.2f} s, together {result['total_s']:.2f} s (target under 10 s); page "
        f"{result['html_kb']:.0f} KB as HTML (target at most 1 MB); "
        f"largest figure {result['largest_figure_kb']:.0f} KB; "
        f"{result['trial_rows']} trial rows on the page.\n\n"
        f"Machine: {describe_machine(info)}\nReproduce: python benchmarks/sweep.py"
    )


if __name__ == "__main__":
    main()
