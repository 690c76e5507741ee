"""``python -m demolab [--runs DIR] [--fresh] [--quick]``: run the whole lab and record it."""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

import torch

from demolab.phases import LabConfig, run_lab


def main(argv: list[str] | None = None) -> None:
    """Parse the command line, optionally clear old runs, and run every phase."""
    parser = argparse.ArgumentParser(
        prog="python -m demolab",
        description="Train and evaluate the three phases of the demo lab, recording every run.",
    )
    parser.add_argument("--runs", type=Path, default=Path("runs"), help="runs folder (default: runs)")
    parser.add_argument("--fresh", action="store_true", help="delete the run folders already there first")
    parser.add_argument("--quick", action="store_true", help="2 epochs on 500 samples, for tests")
    args = parser.parse_args(argv)
    if args.fresh:
        remove_runs(args.runs)
    # One thread: these tiny convolutions run several times faster than with two on a busy machine.
    torch.set_num_threads(1)
    lab = LabConfig.quick(args.runs) if args.quick else LabConfig(args.runs)
    started = time.monotonic()
    ids = run_lab(lab)
    from demolab.search import run_search  # search imports phases, so it cannot live inside run_lab

    ids["search"] = run_search(lab)
    for phase, run_ids in ids.items():
        print(f"{phase}: {len(run_ids)} runs")
    print(f"recorded in {args.runs} in {time.monotonic() - started:.0f} s")


def remove_runs(runs_dir: Path) -> None:
    """Delete every run folder (a folder holding ``run.json``) in ``runs_dir``; leave anything else."""
    if runs_dir.is_dir():
        for folder in runs_dir.iterdir():
            if (folder / "run.json").is_file():
                shutil.rmtree(folder)


if __name__ == "__main__":
    main()
