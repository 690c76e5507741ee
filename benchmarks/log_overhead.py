"""Cost of one ``log`` call: rundocs side by side with TensorBoard, wandb, MLflow and a bare JSON-lines floor.

Every logger runs in this one process on the same metric values, for two widths (1 metric and 5
metrics, always plus the epoch). Each logger is opened, warmed up, timed in blocks of a fixed number
of calls (about ``block_s`` seconds each: thousands of calls for the fast loggers, a dozen for the
slowest) with ``time.perf_counter``, and closed; the table gives the median block. A block ends with
the logger's own flush where it has one (the buffered floor, TensorBoard's queue and writer thread),
so work it defers still counts; wandb's work in its service process does not. The garbage
collector stays enabled, as in a training loop, and runs a full collection before every block.

The machine may be shared, so the loggers the targets hinge on (rundocs, both floors and
TensorBoard, none of which leaves work running in another process) are timed *paired*: all open at
once, one block of each in turn, round after round, and their ratios are the medians of the
per-round ratios, so a burst of load from elsewhere cancels out. The other loggers are timed one at
a time: wandb hands records to a service process that would keep working during the next block,
and MLflow's fluent API holds one active run. The heartbeat_every=1 s row is paired too, with blocks of
``heartbeat_block_s`` so that heartbeats fire inside them. Rows bound by fsync (heartbeat on every
call, MLflow's sqlite store) follow the disk, whose fsync latency on a shared machine varies tenfold:
the table shows the fastest and slowest block.

The floor is the least a JSON-lines logger can do: build the same line (epoch, time, metrics),
encode it with the standard ``json`` encoder rundocs uses, write it to an open file. Its unbuffered
variant makes one ``write`` system call per line, the promise rundocs makes (a crash loses nothing
that was logged); the buffered variant shows what that promise costs.

    python benchmarks/log_overhead.py [--quick] [--json PATH]
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from _common import command_line, describe_machine, isolate_peers, machine, markdown_table, ratio, write_json

Metrics = dict[str, float]
LogCall = Callable[[int, Metrics], None]
WIDTHS = {1: ("loss",), 5: ("train_loss", "val_loss", "val_acc", "lr", "grad_norm")}
TARGET_FLOOR_RATIO = 2.0
TARGET_PEER_RATIO = 10.0
_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode


@dataclass(frozen=True)
class Settings:
    rounds: int  # timed blocks per logger and width
    block_s: float  # aimed-at duration of one block
    min_calls: int  # per block, for the slowest loggers
    warmup_s: float
    heartbeat_block_s: float  # the heartbeat_every=1 s row: longer blocks, so that heartbeats fire inside them


FULL = Settings(rounds=20, block_s=0.05, min_calls=10, warmup_s=0.3, heartbeat_block_s=2.5)
QUICK = Settings(rounds=5, block_s=0.01, min_calls=3, warmup_s=0.05, heartbeat_block_s=1.2)


def _nothing() -> None:
    pass


@dataclass(frozen=True)
class Logger:
    log: LogCall
    close: Callable[[], object]
    flush: Callable[[], object] = _nothing  # timed, ends every block: work left in a buffer or thread counts


@dataclass(frozen=True)
class Subject:
    name: str
    role: str  # "rundocs", "floor" or "peer"
    start: Callable[[Path], Logger]
    paired: bool = False
    long_blocks: bool = False  # the heartbeat_every=1 s row


@dataclass(frozen=True)
class Result:
    name: str
    role: str
    width: int
    paired: bool
    us_per_call: float  # median block
    blocks_us: list[float]  # per block, in round order
    calls_per_block: int
    close_ms: float


# -- the loggers ---------------------------------------------------------------------------------


def rundocs_logger(heartbeat_every: float) -> Callable[[Path], Logger]:
    def start(folder: Path) -> Logger:
        import rundocs

        run = rundocs.Run("bench", dir=folder, heartbeat_every=heartbeat_every)
        log = run.log
        return Logger(lambda epoch, metrics: log(epoch=epoch, **metrics), run.end)

    return start


def floor_logger(buffering: int) -> Callable[[Path], Logger]:
    def start(folder: Path) -> Logger:
        folder.mkdir(parents=True, exist_ok=True)
        file = open(folder / "metrics.jsonl", "ab", buffering=buffering)  # noqa: SIM115 - closed by Logger.close
        write, t0 = file.write, time.monotonic()

        def log(epoch: int, metrics: Metrics) -> None:
            write(_encode({"epoch": epoch, "time": round(time.monotonic() - t0, 3), **metrics}).encode() + b"\n")

        return Logger(log, file.close, file.flush)

    return start


def tensorboard_logger(folder: Path) -> Logger:
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(str(folder))
    add_scalar = writer.add_scalar

    def log(epoch: int, metrics: Metrics) -> None:
        for key, value in metrics.items():
            add_scalar(key, value, epoch)

    return Logger(log, writer.close, writer.flush)


def wandb_logger(folder: Path) -> Logger:
    import wandb

    folder.mkdir(parents=True, exist_ok=True)
    run = wandb.init(project="rundocs-bench", dir=str(folder), mode="offline")
    return Logger(lambda epoch, metrics: run.log({"epoch": epoch, **metrics}), run.finish)


def mlflow_logger(uri: Callable[[Path], str]) -> Callable[[Path], Logger]:
    def start(folder: Path) -> Logger:
        import mlflow

        folder.mkdir(parents=True, exist_ok=True)
        mlflow.set_tracking_uri(uri(folder))
        mlflow.set_experiment("bench")
        mlflow.start_run()
        log_metrics = mlflow.log_metrics
        return Logger(lambda epoch, metrics: log_metrics(metrics, step=epoch), mlflow.end_run)

    return start


RUNDOCS = "rundocs (default: heartbeat_every=30 s)"
FLOOR = "floor: json line, unbuffered file (1 write/line)"
SUBJECTS = (
    Subject(RUNDOCS, "rundocs", rundocs_logger(30.0), paired=True),
    Subject("rundocs (heartbeat_every=1 s, amortised)", "rundocs", rundocs_logger(1.0), paired=True, long_blocks=True),
    Subject("rundocs (heartbeat on every call: heartbeat_every=0)", "rundocs", rundocs_logger(0.0)),
    Subject(FLOOR, "floor", floor_logger(0), paired=True),
    Subject("floor: json line, buffered file", "floor", floor_logger(-1), paired=True),
    Subject("TensorBoard SummaryWriter (add_scalar per metric)", "peer", tensorboard_logger, paired=True),
    Subject("wandb offline (wandb.log)", "peer", wandb_logger),
    Subject("MLflow file store (log_metrics)", "peer", mlflow_logger(lambda f: f"file://{f / 'mlruns'}")),
    Subject("MLflow sqlite store (log_metrics)", "peer", mlflow_logger(lambda f: f"sqlite:///{f / 'mlflow.db'}")),
)


# -- timing --------------------------------------------------------------------------------------


@dataclass
class Timed:
    """One open logger being measured."""

    subject: Subject
    logger: Logger
    calls: list[Metrics]
    epoch: int
    count: int
    blocks: list[float]

    def block(self) -> None:
        gc.collect()
        self.blocks.append(_time_calls(self.logger, self.calls, self.epoch, self.count))
        self.epoch += self.count

    def close(self, width: int) -> Result:
        begin = time.perf_counter()
        self.logger.close()
        close_ms = (time.perf_counter() - begin) * 1e3
        blocks_us = [seconds * 1e6 for seconds in self.blocks]
        name, role, paired = self.subject.name, self.subject.role, self.subject.paired
        return Result(name, role, width, paired, statistics.median(blocks_us), blocks_us, self.count, close_ms)


def measure_all(root: Path, settings: Settings) -> list[Result]:
    results = []
    for width in WIDTHS:
        paired = [open_timed(s, root / f"{i}-{width}", width, settings) for i, s in enumerate(SUBJECTS) if s.paired]
        for round_number in range(settings.rounds):
            for timed in paired[round_number % len(paired) :] + paired[: round_number % len(paired)]:
                timed.block()
        results += [timed.close(width) for timed in paired]
        print(f"  {width} metric(s): paired loggers done", flush=True)
        for index, subject in enumerate(SUBJECTS):
            if not subject.paired:
                results.append(measure_alone(subject, root / f"{index}-{width}", width, settings))
                print(f"  {width} metric(s): {subject.name} done", flush=True)
    return results


def open_timed(subject: Subject, folder: Path, width: int, settings: Settings) -> Timed:
    """Open a logger, warm it up, and choose its calls per block from the warm-up speed."""
    calls = _metric_values(WIDTHS[width])
    logger = subject.start(folder)
    epoch, per_call = _warm_up(logger, calls, settings.warmup_s)
    block_s = settings.heartbeat_block_s if subject.long_blocks else settings.block_s
    return Timed(subject, logger, calls, epoch, max(settings.min_calls, round(block_s / per_call)), [])


def measure_alone(subject: Subject, folder: Path, width: int, settings: Settings) -> Result:
    timed = open_timed(subject, folder, width, settings)
    for _ in range(settings.rounds):
        timed.block()
    return timed.close(width)


def _metric_values(names: tuple[str, ...]) -> list[Metrics]:
    """1,000 lines of full-precision floats, cycled through, the same for every logger."""
    generator = random.Random(0)
    return [{name: generator.random() for name in names} for _ in range(1000)]


def _warm_up(logger: Logger, calls: list[Metrics], seconds: float) -> tuple[int, float]:
    """Log in growing batches for ``seconds``; returns the next epoch and the last batch's time per call."""
    epoch, batch, per_call, spent = 0, 4, 0.0, 0.0
    while spent < seconds:
        per_call = _time_calls(logger, calls, epoch, batch)
        spent += per_call * batch
        epoch += batch
        batch *= 2
    return epoch, per_call


def _time_calls(logger: Logger, calls: list[Metrics], start: int, count: int) -> float:
    log, size = logger.log, len(calls)
    begin = time.perf_counter()
    for epoch in range(start, start + count):
        log(epoch, calls[epoch % size])
    logger.flush()
    return (time.perf_counter() - begin) / count


# -- report --------------------------------------------------------------------------------------


def relative(result: Result, reference: Result) -> float:
    """``result`` per call over ``reference`` per call: the median of the per-round ratios when both
    were timed paired, else the ratio of the medians."""
    if result.paired and reference.paired:
        return statistics.median(a / b for a, b in zip(result.blocks_us, reference.blocks_us, strict=True))
    return result.us_per_call / reference.us_per_call


def report(results: list[Result], info: dict[str, Any], settings: Settings) -> str:
    by_key = {(r.name, r.width): r for r in results}
    rows = []
    for subject in SUBJECTS:
        one, five = by_key[subject.name, 1], by_key[subject.name, 5]
        rows.append(
            [
                subject.name + (" ‡" if subject.paired else ""),
                _us(one.us_per_call),
                _us(five.us_per_call),
                _pair(one, five, by_key, FLOOR),
                _pair(one, five, by_key, RUNDOCS),
                f"{one.calls_per_block:,} / {five.calls_per_block:,}",
                f"{_us(min(five.blocks_us))}–{_us(max(five.blocks_us))}",
                f"{five.close_ms:,.1f}",
            ]
        )
    headers = [
        "logger",
        "µs/call, 1 metric",
        "µs/call, 5 metrics",
        "× floor (1 / 5)",
        "× rundocs (1 / 5)",
        "calls per block (1 / 5)",
        "fastest–slowest block, µs/call (5)",
        "close, ms (5)",
    ]
    return "\n\n".join(
        [
            markdown_table(headers, rows),
            _verdicts(by_key),
            f"Median of {settings.rounds} timed blocks of about {settings.block_s * 1e3:g} ms per logger and width "
            f"({settings.heartbeat_block_s:g} s for heartbeat_every=1 s), "
            "after a warm-up; each block ends with the logger's flush (buffered floor, TensorBoard). "
            "‡ timed paired: the ratios between these rows are medians of per-round ratios. "
            "gc enabled, collected before each block. 'floor' is the unbuffered floor. "
            "Every call also logs the epoch. wandb's figure is the caller's cost: its service process "
            "does the writing.",
            f"Machine: {describe_machine(info)}",
            f"Reproduce: `{command_line()}`",
        ]
    )


def _verdicts(by_key: dict[tuple[str, int], Result]) -> str:
    lines = []
    for width in WIDTHS:
        ours = by_key[RUNDOCS, width]
        to_floor = relative(ours, by_key[FLOOR, width])
        peers = [r for r in by_key.values() if r.role == "peer" and r.width == width]
        closest = min(peers, key=lambda r: relative(r, ours))
        to_peer = relative(closest, ours)
        lines.append(
            f"- {width} metric(s): rundocs is {to_floor:.2f}x the floor "
            f"(target ≤ {TARGET_FLOOR_RATIO:g}x: {_met(to_floor <= TARGET_FLOOR_RATIO)}); the fastest peer, "
            f"{closest.name}, is {to_peer:.1f}x slower than rundocs "
            f"(target ≥ {TARGET_PEER_RATIO:g}x: {_met(to_peer >= TARGET_PEER_RATIO)})"
        )
    return "\n".join(lines)


def _pair(one: Result, five: Result, by_key: dict[tuple[str, int], Result], reference: str) -> str:
    return f"{ratio(relative(one, by_key[reference, 1]), 1)} / {ratio(relative(five, by_key[reference, 5]), 1)}"


def _us(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.2f}"


def _met(ok: bool) -> str:
    return "met" if ok else "MISSED"


# -- main ----------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: short blocks, few rounds")
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    args = parser.parse_args()
    settings = QUICK if args.quick else FULL
    with tempfile.TemporaryDirectory(prefix="rundocs-bench-log-") as scratch:
        root = Path(scratch)
        isolate_peers(root)
        results = measure_all(root, settings)
    info = machine()
    print("\n" + report(results, info, settings))
    if args.json:
        payload = {"benchmark": "log_overhead", "command": command_line(), "machine": info}
        write_json(args.json, payload | {"settings": asdict(settings), "results": [asdict(r) for r in results]})


if __name__ == "__main__":
    main()
