"""Numbers and dates from a stranger, past what a double, an int64 or a datetime holds: each one is
read or named as a problem, and ``rundocs build`` makes the site from the rest."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import write_run
from tests.security.reading import run_rundocs

ROWS = [{"epoch": e, "time": 10.0 * e, "loss": 1.0 / e} for e in range(1, 4)]
HUGE = "1" + "0" * 400
CHECKPOINT = {"path": "c.pt", "sha256": "0" * 64}


def _edit(folder: Path, old: str, new: str) -> None:
    text = (folder / "run.json").read_text()
    assert old in text
    (folder / "run.json").write_text(text.replace(old, new))


def _project(root: Path) -> None:
    runs = root / "runs"
    write_run(runs, "ok", ROWS, phase="p")
    _edit(write_run(runs, "epochs-2-70", ROWS), '"epochs": null', f'"epochs": {2**70}')
    write_run(runs, "started-9999", ROWS, started_at="9999-12-31T23:00:00+00:00")
    write_run(runs, "started-0001", ROWS, started_at="0001-01-01T00:00:00+00:00")
    write_run(runs, "ended-past-utc", ROWS, ended_at="9999-12-31T23:59:59-14:00")
    _edit(write_run(runs, "summary-huge", ROWS), '"summary": {}', f'"summary": {{"x": {HUGE}}}')
    _edit(
        write_run(runs, "checkpoint-huge", ROWS),
        '"checkpoints": []',
        f'"checkpoints": [{json.dumps(CHECKPOINT)[:-1]}, "epoch": {2**70}, "bytes": {2**70}}}]',
    )
    config = f'"config": {{"x": {HUGE}, "neg": -{HUGE}.5e10, "seed": {2**64 - 1}, "tiny": 1e-400}}'
    _edit(write_run(runs, "config-huge", ROWS, phase="p"), '"config": {}', config)
    write_run(runs, "summary-tiny", ROWS, summary={"x": 5e-324, "y": -1e308, "z": 1e308})
    lines = [
        '{"epoch": 1, "time": 10, "loss": 0.5}',
        f'{{"epoch": {2**70}, "loss": 0.5}}',
        f'{{"epoch": 2, "time": 20, "loss": {HUGE}, "acc": 0.5}}',
        '{"epoch": 3, "time": 4294967296, "loss": -1e308}',
    ]
    write_run(runs, "metrics-huge", "\n".join(lines) + "\n")
    write_run(
        runs,
        "span-1970-2999",
        ROWS,
        started_at="1970-01-01T00:00:00+00:00",
        updated_at="2999-12-31T23:59:59+00:00",
        ended_at="2999-12-31T23:59:59+00:00",
        epochs=2**53,
    )
    write_run(runs, "offsets", ROWS, started_at="2026-01-01T00:00:00+23:59", updated_at="2026-01-01T00:00:00-23:59")
    (root / "plans").mkdir()
    (root / "plans" / "p.yaml").write_text(
        "title: P\ngates:\n  - {metric: loss, green: '>= 1e308'}\n"
        f"  - {{metric: loss, epoch: {2**53 + 1}, green: '<= -1e400'}}\n"
        f"fixed: {{seed: {2**70}, lr: 1e-400, big: {HUGE}}}\n"
    )


def test_numbers_past_every_range_are_read_or_named_and_the_site_builds(tmp_path: Path) -> None:
    _project(tmp_path)

    validate = run_rundocs(tmp_path, "validate")
    build = run_rundocs(tmp_path, "build")

    assert "Traceback" not in validate.stderr + build.stderr
    lines = validate.stdout.splitlines()
    expected = [
        "runs/checkpoint-huge/run.json: field 'checkpoints.0.bytes': 1.1",
        "runs/checkpoint-huge/run.json: field 'checkpoints.0.epoch': 1.1",
        "runs/ended-past-utc/run.json: field 'ended_at': '9999-12-31T2",
        "runs/epochs-2-70/run.json: field 'epochs': 1.1805916207174113",
        "runs/metrics-huge/metrics.jsonl:2: field 'epoch': 1.1805916207",
        "runs/metrics-huge/metrics.jsonl:3: field 'loss': too large for",
        "runs/started-0001/run.json: field 'started_at': '0001-01-01T00",
        "runs/started-9999/run.json: field 'started_at': '9999-12-31T23",
        "runs/summary-huge/run.json: field 'summary.x': too large for",
        "plans/p.yaml: 'gates[1].green': expected a threshold like '>=",  # -1e400 reads as -inf
        "plans/p.yaml: 'gates[1].epoch': expected a whole number from 0",
    ]
    assert [line[: len(start)] for line, start in zip(lines, expected, strict=False)] == expected, validate.stdout
    assert len(lines) == len(expected) and max(map(len, lines)) < 300  # a 401-digit number is cut
    assert build.returncode == 1 and "11 problems in runs and plans" in build.stderr, build.stderr
    docs = tmp_path / "docs"
    built = sorted(path.stem for path in (docs / "runs").glob("*.md") if path.stem != "index")
    assert built == ["config-huge", "metrics-huge", "offsets", "ok", "span-1970-2999", "summary-huge", "summary-tiny"]
    assert HUGE[:30] in (docs / "runs" / "config-huge.md").read_text()
    assert "P" in (docs / "phases" / "p.md").read_text()
