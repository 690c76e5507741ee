"""Peak memory of ``rundocs build`` and ``rundocs validate`` on one very long run.

Writes one run of N lines x M metrics (default 1,000,000 x 50, every metric on every line,
plus epoch, step and time) into a temporary project, then runs each command in a fresh child
process as a user does and reads the child's own peak resident set size (``os.wait4``):

- ``rundocs build --no-cache`` (parse everything, render every page);
- ``rundocs build`` twice: the first fills the disk cache; before the second, ``docs/`` is
  removed, so that it reads the run from the cache (memory-mapped) and renders every page again;
- ``rundocs validate``.

    python benchmarks/memory.py                          # 1,000,000 x 50 (about 5 minutes)
    python benchmarks/memory.py --lines 100000 --quick   # a smoke run
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import command_line, describe_machine, machine, markdown_table

RUN_ID = "20260101_000000_long"
LINES_PER_EPOCH = 10_000
#: What the command must stay under.
TARGET_MIB = 1024
COMMANDS = {
    "build, no cache": ["build", "--no-cache"],
    "build, filling the cache": ["build"],
    "build, from the cache, docs/ removed": ["build"],
    "validate": ["validate"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--metrics", type=int, default=50)
    parser.add_argument("--per-step", action="store_true", help="lines carry step and time, no epoch")
    parser.add_argument("--quick", action="store_true", help="only build without cache and validate")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="rundocs-memory-bench-") as scratch:
        project = Path(scratch)
        size = write_project(project, args.lines, args.metrics, per_step=args.per_step)
        commands = {k: v for k, v in COMMANDS.items() if not args.quick or k in ("build, no cache", "validate")}
        results = []
        for label, command in commands.items():
            if "docs/ removed" in label:
                shutil.rmtree(project / "docs")
            results.append({"command": label, **measure(project, command)})
    info = machine()
    print(report(results, args.lines, args.metrics, size, info, per_step=args.per_step))
    if args.json:
        payload = {"machine": info, "lines": args.lines, "metrics": args.metrics, "per_step": args.per_step}
        payload["file_bytes"] = size
        args.json.write_text(json.dumps({**payload, "results": results}, indent=2) + "\n")


def write_project(project: Path, lines: int, metrics: int, *, per_step: bool = False) -> int:
    """One completed run with its metrics file, an empty plans folder; the metrics file's size.

    Each line carries the epoch (10,000 lines an epoch: the curves are drawn per epoch, from
    the last line of each), or with ``per_step`` only the step (the curves have a point a line)."""
    folder = project / "runs" / RUN_ID
    folder.mkdir(parents=True)
    (project / "plans").mkdir()
    (project / "mkdocs.yml").write_text("site_name: Memory\n")
    record = {
        "format": "rundocs.run/1", "id": RUN_ID, "name": "long", "kind": "train", "tags": [], "config": {"lr": 0.001},
        "status": "completed", "started_at": "2026-01-01T00:00:00+00:00", "updated_at": "2026-01-01T00:00:00+00:00",
        "ended_at": "2026-01-02T00:00:00+00:00", "epochs": -(-lines // LINES_PER_EPOCH), "summary": {},
        "evaluates": [], "restarts": None, "error": None, "env": {}, "checkpoints": [],
    }  # fmt: skip
    (folder / "run.json").write_text(json.dumps(record, indent=2))
    names = [f"{split}_m{index:02d}" for index in range((metrics + 1) // 2) for split in ("train", "val")][:metrics]
    template = '{"epoch":%d,"step":%d,"time":%.3f,' + ",".join(f'"{name}":%.6g' for name in names) + "}"
    if per_step:
        template = template.replace('"epoch":%d,', "")
    rng = np.random.default_rng(0)
    with open(folder / "metrics.jsonl", "wb") as file:
        for start in range(0, lines, 20_000):
            step = np.arange(start, min(start + 20_000, lines), dtype=np.float64)
            decay = 1 / (1 + step / 1000)
            values = decay[:, None] * rng.uniform(0.5, 2.0, size=(1, metrics)) + rng.normal(
                0, 0.01, (step.size, metrics)
            )
            epochs = [] if per_step else [step // LINES_PER_EPOCH + 1]
            steps = np.column_stack([*epochs, step, step * 0.05, values])
            np.savetxt(file, steps, fmt=template)
    return (folder / "metrics.jsonl").stat().st_size


def measure(project: Path, arguments: list[str]) -> dict[str, Any]:
    """Run ``rundocs <arguments>`` in a fresh process: its exit code, wall time and peak RSS."""
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "rundocs", *arguments], cwd=project, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    peak = usage.ru_maxrss * (1 if sys.platform == "darwin" else 1024)  # kilobytes on Linux, bytes on macOS
    return {"exit": process.returncode, "seconds": seconds, "peak_bytes": peak}


def report(
    results: list[dict[str, Any]], lines: int, metrics: int, size: int, info: dict[str, Any], *, per_step: bool
) -> str:
    rows = [
        [
            f"`rundocs {' '.join(COMMANDS[r['command']])}` ({r['command']})",
            str(r["exit"]),
            f"{r['seconds']:.1f} s",
            f"{r['peak_bytes'] / 2**20:,.0f} MiB",
            f"{r['peak_bytes'] / size:.2f}x",
            "yes" if r["peak_bytes"] < TARGET_MIB * 2**20 else "NO",
        ]
        for r in results
    ]
    table = markdown_table(["command", "exit", "wall time", "peak RSS", "of the file", f"< {TARGET_MIB} MiB"], rows)
    return (
        f"One run, {lines:,} lines x {metrics} metrics, {'per step' if per_step else 'with epochs'}; "
        f"metrics.jsonl {size / 2**20:,.0f} MiB\n\n{table}\n\n"
        f"Machine: {describe_machine(info)}\nReproduce: {command_line()}"
    )


if __name__ == "__main__":
    main()
