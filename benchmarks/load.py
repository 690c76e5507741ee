"""Reading a folder of runs: ``rundocs.load_runs`` side by side with MLflow, tbparse and a bare JSON floor.

The same runs (1,000 runs x 200 epochs x 4 metrics by default) are written three ways: the rundocs
format (``run.json`` + ``metrics.jsonl``, written directly), an MLflow store (file store and
sqlite, through ``MlflowClient.log_batch``) and TensorBoard event files (``SummaryWriter``).
Generating them is not timed and is cached under ``--data``. Every reader then turns the whole
folder into a pandas frame of the metric history; the "values" column checks that each one read
every value.

Each reader is primed once on a single run (imports, clients) and reads everything once untimed
(its warm-up). The fast readers then read in rounds, one after the other, so a burst of load from
other processes does not land on one of them only; the table gives the median and the best read,
timed with ``time.perf_counter``. A reader whose first read takes over ``SLOW_S`` seconds keeps that
read as a sample and stops near ``SLOW_BUDGET_S``. MLflow's sqlite store, which needs about 0.1 s a
run, reads a sample of the runs and its time is scaled to all of them (the output says so). The
garbage collector stays enabled and runs a full collection before every read. The operating
system's page cache is warm for every reader: "cold" means rundocs' in-process memo is empty, not
that the disk is read.

    python benchmarks/load.py --data /tmp/rundocs-bench-data [--quick] [--json PATH]
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import orjson
import pandas as pd

from _common import command_line, describe_machine, isolate_peers, machine, markdown_table, ratio, write_json

METRICS = ("train_loss", "val_loss", "val_acc", "lr")
EPOCH_S = 37.5  # mean seconds between two logged epochs
START = 1_795_000_000.0  # 2026-11-18, Unix seconds; run i starts an hour after run i-1
SLOW_S = 5.0
SLOW_BUDGET_S = 40.0
TARGET_FLOOR_RATIO = 2.0
TARGET_WARM_S = 0.2
DATA_VERSION = 1
_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode
History = list[tuple[int, float, dict[str, float]]]


@dataclass(frozen=True)
class Settings:
    runs: int
    epochs: int
    repeats: int
    sqlite_runs: int  # MLflow's sqlite store takes ~0.1 s a run to read back: it reads a sample of this many


FULL = Settings(runs=1000, epochs=200, repeats=7, sqlite_runs=200)
QUICK = Settings(runs=50, epochs=40, repeats=3, sqlite_runs=50)


def _nothing() -> None:
    pass


@dataclass(frozen=True)
class Reader:
    name: str
    role: str  # "rundocs", "floor" or "peer"
    read: Callable[[], int]  # timed; returns the number of metric values read
    prepare: Callable[[], object] = _nothing  # untimed, before every read
    cleanup: Callable[[], object] = _nothing  # untimed, after every read
    prime: Callable[[], object] = _nothing  # untimed, once: imports, clients
    scale: float = 1.0  # a reader of a sample of the runs: its time is multiplied by this
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Result:
    name: str
    role: str
    seconds: float  # median, scaled to all runs
    samples_s: list[float]  # as measured, not scaled; the fast readers' in round order
    values: int
    scale: float
    paired: bool  # read in the interleaved rounds
    notes: list[str]


# -- the data ------------------------------------------------------------------------------------


def run_id(index: int) -> str:
    return time.strftime("%Y%m%d_%H%M%S", time.gmtime(START + 3600 * index)) + f"_{index:04d}"


def history(index: int, epochs: int) -> History:
    """A plausible, deterministic training curve: full-precision floats, as a real run logs them."""
    generator = random.Random(index)
    scale, lr = generator.uniform(1.5, 2.5), generator.choice((1e-4, 3e-4, 1e-3))
    rows, elapsed = [], 0.0
    for epoch in range(1, epochs + 1):
        elapsed += generator.uniform(0.8, 1.2) * EPOCH_S
        decay = math.exp(-epoch / (epochs / 4))
        rows.append(
            (
                epoch,
                round(elapsed, 3),
                {
                    "train_loss": scale * decay + generator.gauss(0, 0.01),
                    "val_loss": scale * decay * 1.1 + generator.gauss(0, 0.02),
                    "val_acc": 1 - 0.9 * decay + generator.gauss(0, 0.005),
                    "lr": lr * 0.5 * (1 + math.cos(math.pi * epoch / epochs)),
                },
            )
        )
    return rows


def config(index: int) -> dict[str, Any]:
    return {"lr": [1e-4, 3e-4, 1e-3][index % 3], "batch_size": 128, "seed": index, "model": {"depth": 18}}


def generate(data: Path, settings: Settings) -> None:
    """Write the three stores under ``data`` unless a manifest says they are already there."""
    manifest = data / "manifest.json"
    wanted = {"version": DATA_VERSION, "runs": settings.runs, "epochs": settings.epochs}
    if manifest.exists() and json.loads(manifest.read_text()) == wanted:
        print(f"Using the data generated earlier in {data}", flush=True)
        return
    for name in ("rundocs", "mlruns", "mlflow.db", "tensorboard", "manifest.json"):
        shutil.rmtree(data / name, ignore_errors=True)
        (data / name).unlink(missing_ok=True)
    data.mkdir(parents=True, exist_ok=True)
    for label, write in (
        ("rundocs", lambda: write_rundocs(data / "rundocs", settings)),
        ("MLflow file store", lambda: write_mlflow(f"file://{data / 'mlruns'}", settings)),
        ("MLflow sqlite store", lambda: write_mlflow(f"sqlite:///{data / 'mlflow.db'}", settings)),
        ("TensorBoard", lambda: write_tensorboard(data / "tensorboard", settings)),
    ):
        begin = time.perf_counter()
        write()
        print(f"Generated {label} data in {time.perf_counter() - begin:.1f} s (not timed)", flush=True)
    manifest.write_text(json.dumps(wanted))


def write_rundocs(root: Path, settings: Settings) -> None:
    for index in range(settings.runs):
        rows = history(index, settings.epochs)
        folder = root / run_id(index)
        folder.mkdir(parents=True)
        lines = "".join(_encode({"epoch": epoch, "time": t, **values}) + "\n" for epoch, t, values in rows)
        (folder / "metrics.jsonl").write_text(lines)
        (folder / "run.json").write_text(json.dumps(_record(index, rows), indent=2) + "\n")


def _record(index: int, rows: History) -> dict[str, Any]:
    """A ``run.json`` as the writer leaves it (schema ``rundocs.run/1``), for a completed run."""
    started, ended = START + 3600 * index, START + 3600 * index + rows[-1][1]
    return {
        "format": "rundocs.run/1",
        "id": run_id(index),
        "name": f"lr{config(index)['lr']:g}_s{index}",
        "kind": "train",
        "phase": "bench",
        "sweep": "lr",
        "tags": ["bench"],
        "config": config(index),
        "status": "completed",
        "started_at": _iso(started),
        "updated_at": _iso(ended),
        "ended_at": _iso(ended),
        "epochs": len(rows),
        "summary": {"test_acc": rows[-1][2]["val_acc"]},
        "evaluates": [],
        "restarts": None,
        "error": None,
        "env": {"host": "bench", "python": "3.11.7", "torch": "2.13.0", "device": "cpu", "git": None},
        "checkpoints": [],
        "warnings": [],
    }


def _iso(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{int(seconds % 1 * 1000):03d}+00:00"


def write_mlflow(uri: str, settings: Settings) -> None:
    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param

    client = MlflowClient(tracking_uri=uri)
    experiment = client.create_experiment("bench")
    for index in range(settings.runs):
        rows = history(index, settings.epochs)
        start_ms = int((START + 3600 * index) * 1000)
        run = client.create_run(experiment, start_time=start_ms, run_name=run_id(index))
        metrics = [
            Metric(key, value, start_ms + int(t * 1000), epoch)
            for epoch, t, line in rows
            for key, value in line.items()
        ]
        client.log_batch(run.info.run_id, params=[Param(key, str(value)) for key, value in config(index).items()])
        for first in range(0, len(metrics), 1000):  # MLflow takes at most 1,000 metrics per batch
            client.log_batch(run.info.run_id, metrics=metrics[first : first + 1000])
        client.set_terminated(run.info.run_id, end_time=start_ms + int(rows[-1][1] * 1000))


def write_tensorboard(root: Path, settings: Settings) -> None:
    from torch.utils.tensorboard import SummaryWriter

    for index in range(settings.runs):
        start = START + 3600 * index
        with SummaryWriter(str(root / run_id(index))) as writer:
            for epoch, t, values in history(index, settings.epochs):
                for key, value in values.items():
                    writer.add_scalar(key, value, epoch, walltime=start + t)


# -- the readers ---------------------------------------------------------------------------------


def rundocs_values(root: Path) -> int:
    import rundocs

    return _metric_values(rundocs.load_runs(root).metrics)


def forget_memo() -> None:
    from rundocs.load import cache

    cache._memo.clear()


class OneRunChanges:
    """Around each read: re-sync the memo (untimed), append one metrics line to the next run, and
    after the read cut it off again, so exactly one run differs from what the memo holds."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.files = sorted(root.glob("*/metrics.jsonl"))
        self.turn = 0
        self.undo: tuple[Path, int] | None = None

    def prepare(self) -> None:
        rundocs_values(self.root)
        path = self.files[self.turn % len(self.files)]
        self.turn += 1
        self.undo = (path, path.stat().st_size)
        with open(path, "ab") as file:
            file.write(b'{"epoch":100000,"time":1e7,"train_loss":0.5}\n')

    def cleanup(self) -> None:
        if self.undo is not None:
            os.truncate(*self.undo)
            self.undo = None


def fresh_process_values(root: Path) -> int:
    code = "import sys, rundocs; r = rundocs.load_runs(sys.argv[1]).metrics; print(r[sys.argv[2:]].notna().sum().sum())"
    done = subprocess.run([sys.executable, "-c", code, str(root), *METRICS], check=True, capture_output=True, text=True)
    return int(done.stdout)


def floor_values(root: Path, loads: Callable[[bytes], Any]) -> int:
    """The least a reader can do: parse both files of every run, one frame of the metric lines."""
    rows: list[dict[str, Any]] = []
    for folder in sorted(entry.path for entry in os.scandir(root) if entry.is_dir()):
        loads(Path(folder, "run.json").read_bytes())
        lines = loads(b"[" + Path(folder, "metrics.jsonl").read_bytes().rstrip(b"\n").replace(b"\n", b",") + b"]")
        name = os.path.basename(folder)
        for line in lines:
            line["run_id"] = name
        rows.extend(lines)
    return _metric_values(pd.DataFrame(rows))


def mlflow_values(uri: str, limit: int | None = None) -> int:
    """The runs of the experiment (``search_runs``, paged; the first ``limit`` only when given),
    then each metric's full history, into one frame."""
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name("bench").experiment_id
    rows = []
    for run in _search_runs(client, experiment, limit):
        name = run.info.run_name
        for key in run.data.metrics:
            rows += [(name, key, m.step, m.timestamp, m.value) for m in client.get_metric_history(run.info.run_id, key)]
    return len(pd.DataFrame(rows, columns=["run", "metric", "step", "timestamp", "value"]))


def _search_runs(client: Any, experiment: str, limit: int | None) -> Iterator[Any]:
    token = None
    while True:
        page = client.search_runs([experiment], max_results=limit or 1000, page_token=token)
        yield from page
        token = page.token
        if not token or limit:
            return


def tbparse_values(root: Path) -> int:
    from tbparse import SummaryReader

    return len(SummaryReader(str(root), extra_columns={"dir_name"}).scalars)


def _metric_values(frame: pd.DataFrame) -> int:
    return int(frame[list(METRICS)].notna().to_numpy().sum())


def readers(data: Path, settings: Settings) -> list[Reader]:
    folder, tb = data / "rundocs", data / "tensorboard"
    changes = OneRunChanges(folder)
    file_uri, sqlite_uri = f"file://{data / 'mlruns'}", f"sqlite:///{data / 'mlflow.db'}"
    sample = min(settings.sqlite_runs, settings.runs)
    sampled = () if sample == settings.runs else (f"read {sample:,} of {settings.runs:,} runs; time scaled to all",)
    return [
        Reader("rundocs load_runs, cold (memo cleared)", "rundocs", lambda: rundocs_values(folder), forget_memo),
        Reader(
            "rundocs load_runs, warm, nothing changed",
            "rundocs",
            lambda: rundocs_values(folder),
            prepare=lambda: rundocs_values(folder),
        ),
        Reader(
            "rundocs load_runs, warm, one run changed",
            "rundocs",
            lambda: rundocs_values(folder),
            prepare=changes.prepare,
            cleanup=changes.cleanup,
            notes=("before each read one line (one value) is appended to a different run, cut off after it",),
        ),
        Reader("rundocs, fresh process (interpreter, imports, load)", "rundocs", lambda: fresh_process_values(folder)),
        Reader("floor: orjson, both files, one pandas frame", "floor", lambda: floor_values(folder, orjson.loads)),
        Reader("floor: std json, both files, one pandas frame", "floor", lambda: floor_values(folder, json.loads)),
        Reader(
            "MLflow file store: search_runs + get_metric_history",
            "peer",
            lambda: mlflow_values(file_uri),
            prime=lambda: mlflow_values(file_uri, limit=1),
        ),
        Reader(
            "MLflow sqlite store: search_runs + get_metric_history",
            "peer",
            lambda: mlflow_values(sqlite_uri, limit=sample if sampled else None),
            prime=lambda: mlflow_values(sqlite_uri, limit=1),
            scale=settings.runs / sample,
            notes=sampled,
        ),
        Reader(
            "tbparse SummaryReader(...).scalars",
            "peer",
            lambda: tbparse_values(tb),
            prime=lambda: tbparse_values(next(tb.iterdir())),
        ),
    ]


# -- timing --------------------------------------------------------------------------------------


def measure_all(subjects: list[Reader], repeats: int) -> list[Result]:
    """Prime every reader and read once; then rounds of the fast readers in turn (so a burst of load
    from other processes does not land on one of them only), then the slow ones."""
    samples: dict[str, list[float]] = {}
    values: dict[str, int] = {}
    for reader in subjects:
        reader.prime()
        first, values[reader.name] = _timed_read(reader)
        samples[reader.name] = [first] if first > SLOW_S else []  # a fast reader's first read is its warm-up
        print(f"  {reader.name}: first read {first:,.3f} s", flush=True)
    fast = [reader for reader in subjects if not samples[reader.name]]
    for _ in range(repeats):
        for reader in fast:
            samples[reader.name].append(_timed_read(reader)[0])
    for reader in subjects:
        taken = samples[reader.name]
        while len(taken) < repeats and sum(taken) * (1 + 1 / len(taken)) <= SLOW_BUDGET_S:
            taken.append(_timed_read(reader)[0])
    return [_result(reader, samples[reader.name], values[reader.name], reader in fast) for reader in subjects]


def _timed_read(reader: Reader) -> tuple[float, int]:
    reader.prepare()
    gc.collect()
    try:
        begin = time.perf_counter()
        values = reader.read()
        return time.perf_counter() - begin, values
    finally:
        reader.cleanup()


def _result(reader: Reader, samples: list[float], values: int, fast: bool) -> Result:
    notes = list(reader.notes) if fast else [*reader.notes, f"slow: {len(samples)} read(s), the first one kept"]
    seconds = statistics.median(samples) * reader.scale
    return Result(reader.name, reader.role, seconds, samples, values, reader.scale, fast, notes)


# -- report --------------------------------------------------------------------------------------


def relative(result: Result, reference: Result) -> float:
    """``result`` over ``reference``: the median of the per-round ratios when both were read in the
    interleaved rounds, else the ratio of the medians."""
    if result.paired and reference.paired:
        return statistics.median(a / b for a, b in zip(result.samples_s, reference.samples_s, strict=True))
    return result.seconds / reference.seconds


def report(results: list[Result], settings: Settings, info: dict[str, Any]) -> str:
    floor, cold = results[4], results[0]
    expected = settings.runs * settings.epochs * len(METRICS)
    rows = [
        [
            r.name + (" ‡" if r.paired else ""),
            f"{r.seconds:,.3f}",
            f"{min(r.samples_s) * r.scale:,.3f}",
            str(len(r.samples_s)),
            ratio(relative(r, floor), 1),
            ratio(relative(r, cold), 1),
            f"{r.values:,}" + _values_note(r, expected),
        ]
        for r in results
    ]
    headers = ["reader", "median, s", "best, s", "reads", "× floor (orjson)", "× rundocs cold", "metric values read"]
    return "\n\n".join(
        [
            f"{settings.runs:,} runs x {settings.epochs} epochs x {len(METRICS)} metrics = {expected:,} values.",
            markdown_table(headers, rows),
            _verdicts(results),
            "Notes:\n" + "\n".join(f"- {r.name}: {note}" for r in results for note in r.notes),
            f"Median of {settings.repeats} reads after a warm-up read. ‡ read in interleaved rounds: the ratios "
            "between these rows are medians of per-round ratios. "
            f"readers slower than {SLOW_S:g} s keep their first read and stop near {SLOW_BUDGET_S:g} s. "
            "gc enabled, collected before each read; OS page cache warm for all.",
            f"Machine: {describe_machine(info)}",
            f"Reproduce: `{command_line()}`",
        ]
    )


def _values_note(result: Result, expected: int) -> str:
    if result.values * result.scale < expected:
        return " (INCOMPLETE)"
    return f" (a sample, time x{result.scale:g})" if result.scale != 1 else ""


def _verdicts(results: list[Result]) -> str:
    cold, warm, floor, std_floor = results[0], results[1], results[4], results[5]
    to_floor = relative(cold, floor)
    fastest = min((r for r in results if r.role == "peer"), key=lambda r: relative(r, cold))
    return "\n".join(
        [
            f"- rundocs cold is {to_floor:.2f}x the orjson floor (target ≤ {TARGET_FLOOR_RATIO:g}x: "
            f"{_met(to_floor <= TARGET_FLOOR_RATIO)}); {relative(cold, std_floor):.2f}x the std-json floor",
            f"- warm reload, nothing changed: {warm.seconds:.3f} s (target < {TARGET_WARM_S:g} s: "
            f"{_met(warm.seconds < TARGET_WARM_S)})",
            f"- the fastest peer, {fastest.name}, takes {relative(fastest, cold):.1f}x rundocs cold",
        ]
    )


def _met(ok: bool) -> str:
    return "met" if ok else "MISSED"


# -- main ----------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"a smoke run: {QUICK.runs} runs x {QUICK.epochs} epochs")
    parser.add_argument("--data", type=Path, help="keep the generated data here and reuse it (default: a temp dir)")
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    args = parser.parse_args()
    settings = QUICK if args.quick else FULL
    with tempfile.TemporaryDirectory(prefix="rundocs-bench-load-") as scratch:
        isolate_peers(Path(scratch))
        data = (args.data or Path(scratch) / "data").resolve()
        generate(data, settings)
        results = measure_all(readers(data, settings), settings.repeats)
    info = machine()
    print("\n" + report(results, settings, info))
    if args.json:
        payload = {"benchmark": "load", "command": command_line(), "machine": info, "settings": asdict(settings)}
        write_json(args.json, payload | {"results": [asdict(r) for r in results]})


if __name__ == "__main__":
    main()
