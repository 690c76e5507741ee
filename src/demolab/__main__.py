"""``python -m demolab [--runs DIR] [--fresh] [--quick]``: run the whole lab and record it; a rerun
trains only what changed."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from demolab.phases import PHASES, LabConfig, run_lab
from demolab.reuse import RunBook
from rundocs.formatting import counted


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and run every phase, keeping the runs recorded already (see ``demolab.reuse``)."""
    parser = argparse.ArgumentParser(
        prog="python -m demolab",
        description="Train and evaluate the four phases of the demo lab, recording every run. A run already "
        "recorded with the same settings and code is kept.",
    )
    parser.add_argument("--runs", type=Path, default=Path("runs"), help="runs folder (default: runs)")
    parser.add_argument("--fresh", action="store_true", help="train every run again, keeping none")
    parser.add_argument("--quick", action="store_true", help="2 epochs on 500 samples, for tests")
    args = parser.parse_args(argv)
    # One thread: these tiny convolutions run several times faster than with two on a busy machine.
    torch.set_num_threads(1)
    lab = LabConfig.quick(args.runs) if args.quick else LabConfig(args.runs)
    book = RunBook(args.runs, fresh=args.fresh)
    started = time.monotonic()
    ids = run_lab(lab, book)
    from demolab.search import run_search  # search imports phases, so it cannot live inside run_lab

    ids["search"] = run_search(lab, book=book)
    removed = book.remove_others(PHASES)
    for phase, run_ids in ids.items():
        kept = sum(run_id in book.kept for run_id in run_ids)
        print(f"{phase}: {counted(len(run_ids), 'run')} ({kept} kept, {len(run_ids) - kept} recorded)")
    if removed:
        print(f"removed {counted(len(removed), 'run')} no longer planned: {', '.join(removed)}")
    print(f"recorded in {args.runs} in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
