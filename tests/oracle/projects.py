"""Whole projects for the oracle: run folders and plans written by hand, hostile where it hurts.

A ``ProjectSpec`` is plain data (what hypothesis shrinks); ``write_project`` puts it on disk.
Each run carries the reading its ``run.json`` must get under the issue's rules (``expect``):
``readable`` (valid, or liberal where the meaning is unambiguous), ``unreadable`` (strict
everywhere else), or ``either`` (the issue leaves the outcome open). Runs whose numbers the
issue does not define (``tainted``: nulls, out-of-range integers, overflowing literals) are
left out of the numeric properties but stay in every other one.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st

#: The moment states are judged at (``SOURCE_DATE_EPOCH``); every run starts a month before.
NOW = datetime(2026, 6, 1, tzinfo=UTC)
BASE = NOW - timedelta(days=30)
#: Outside files hold this; no page may ever show it.
SECRET = "OUTSIDE-SECRET-7f3a"

HOSTILE = (
    "{: onclick=alert(1)}",
    "x\n{autofocus onfocus=alert(1)}",
    "pwn {autofocus onfocus=alert(1) tabindex=1}",
    "{{ 7*7 }}",
    "{% raw %}",
    "a | b || c",
    "`tick` ```fence```",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[click](javascript:alert(1))",
    "\u202eRTL\u202c mark",
    "two\nlines\n\n# heading",
    "*emph* _u_ **b**",
    '" onmouseover="alert(1)',
    "<!-- c -->",
)
ODD_FOLDERS = ("exp 1", "javascript:alert(1)", "-dash", "<b>", "x{: onclick=alert(1)}", "a\u202eb", "j\nk")
#: Epoch metrics (on lines with ``epoch``) and a step metric (on lines with ``step`` only).
EPOCH_METRICS = ("train_loss", "val_loss", "val_acc")
STEP_METRIC = "train_batch_loss"
VALUES = (0.1, 0.25, 0.5, 0.75, 0.9, 1.0, 2.0, 0.0, 1e308, -1e308, 5e-324, "NaN", "Infinity", "-Infinity")

READABLE = ("ok",) * 10 + ("evaluates-null", "tags-null", "optional-missing", "extra-keys", "id-differs")
UNREADABLE = (
    "torn", "format-2", "name-missing", "status-succeeded", "summary-string", "epochs-string", "bad-time",
    "bare-nan", "no-run-json", "not-object",
)  # fmt: skip
EITHER = ("epochs-float", "phase-int", "year-9999", "huge-int-summary")
#: Metrics lines the schema refuses: skipped, each a problem (the run still reads).
BAD_LINES = (
    '{{"epoch": {e}, "val_loss": "high"}}',
    '{{"epoch": {e}, "val_loss": NaN}}',
    '{{"epoch": -1, "val_loss": 0.5}}',
    '{{"epoch": {e}, "val_acc": true}}',
    "not json at all {{",
    "[1, 2]",
)
#: Lines whose reading the issue leaves open: the run's numbers are not judged.
TAINTING_LINES = (
    '{{"epoch": {e}, "val_loss": null}}',
    '{{"epoch": 1180591620717411303424, "val_loss": 0.5}}',
    '{{"epoch": {e}, "val_acc": 1e400}}',
    '{{"epoch": {e}, "time": 1e308}}',
)


@dataclass
class RunSpec:
    folder: str
    record: dict[str, Any]
    mutation: str
    lines: list[str]
    torn: str | None = None
    notes: str | None = None
    tainted: bool = False
    shape: str | None = None  # a file-system shape (hostile file-system test only)

    @property
    def expect(self) -> str:
        if self.folder != self.record["id"] or self.shape is not None or self.mutation in EITHER:
            return "either"
        return "unreadable" if self.mutation in UNREADABLE else "readable"


@dataclass
class ProjectSpec:
    runs: list[RunSpec]
    plans: dict[str, dict[str, Any]] = field(default_factory=dict)


def texts() -> st.SearchStrategy[str]:
    plain = st.sampled_from(["base", "lr_1e-3", "wide", "run"])
    hostile = st.sampled_from(HOSTILE)
    return st.one_of(plain, hostile, st.lists(hostile, min_size=2, max_size=3).map("\n".join))


def _stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


@st.composite
def metric_rows(draw: st.DrawFn, clean: bool) -> tuple[list[str], bool, str | None]:
    """Metric lines (raw text), whether any taints the run, and a torn last line or None."""
    zero = draw(st.booleans())
    value = st.one_of(st.sampled_from(VALUES), st.floats(-5, 5, allow_nan=False, width=32))
    lines: list[str] = []
    step = 0
    tainted = False
    epochs = draw(st.sampled_from([3, 1, 2, 4, 5, 0]))
    timed = draw(st.booleans())
    for epoch in range(int(not zero), int(not zero) + epochs):
        for _ in range(draw(st.integers(0, 2))):
            step += 1
            lines.append(json.dumps({"step": step, STEP_METRIC: draw(value)}))
        logged = {m: draw(value) for m in EPOCH_METRICS if draw(st.integers(0, 3))}
        split = draw(st.sampled_from(("one", "one", "train-first", "val-first")))
        train = {k: v for k, v in logged.items() if k.startswith("train")}
        val = {k: v for k, v in logged.items() if not k.startswith("train")}
        parts = [logged] if split == "one" else [train, val] if split == "train-first" else [val, train]
        lines += [json.dumps({"epoch": epoch, **part}) for part in parts]
        if draw(st.integers(0, 7)) == 0:
            lines.append(draw(st.sampled_from(BAD_LINES)).format(e=epoch))
        if not clean and draw(st.integers(0, 40)) == 0:
            lines.append(draw(st.sampled_from(TAINTING_LINES)).format(e=epoch))
            tainted = True
    if timed:
        lines = [_with_time(line, 60.0 * (n + 1)) for n, line in enumerate(lines)]
    torn = '{"epoch": 99, "val_loss": -7.0, "val_acc": 7' if draw(st.integers(0, 4)) == 0 else None
    return lines, tainted, torn


def _with_time(line: str, time: float) -> str:
    if not line.startswith('{"epoch": ') and not line.startswith('{"step": '):
        return line
    try:
        row = json.loads(line)
    except ValueError:
        return line
    return json.dumps({**row, "time": row.get("time", time)}) if isinstance(row, dict) else line


CONFIG = {"lr": st.sampled_from([1e-3, 1e-2]), "seed": st.integers(0, 2), "width": st.sampled_from([16, 32])}


@st.composite
def configs(draw: st.DrawFn, clean: bool) -> dict[str, Any]:
    config: dict[str, Any] = {key: draw(values) for key, values in CONFIG.items() if draw(st.integers(0, 3))}
    if draw(st.integers(0, 3)) == 0:
        config["model"] = {"depth": draw(st.integers(1, 2)), "seed": draw(st.integers(0, 1))}
    if not clean and draw(st.integers(0, 40)) == 0:
        config["layers"] = [{"size": draw(st.sampled_from([3, 4]))}, {"act": "relu"}]
    if draw(st.integers(0, 3)) == 0:
        config[draw(texts())] = draw(texts())
    return config


@st.composite
def run_specs(draw: st.DrawFn, index: int, ids: list[str], clean: bool) -> RunSpec:
    kind = "eval" if ids and draw(st.integers(0, 5)) == 0 else "train"
    run_id = f"r{index:02d}"
    odd = not clean and draw(st.integers(0, 25)) == 0
    folder = draw(st.sampled_from(ODD_FOLDERS)) + str(index) if odd else run_id
    started = BASE + timedelta(hours=index)
    status = draw(st.sampled_from(("completed", "completed", "failed", "interrupted", "running", "stale")))
    lines, tainted, torn = draw(metric_rows(clean)) if kind == "train" else ([], False, None)
    record: dict[str, Any] = {
        "format": "rundocs.run/1",
        "id": run_id,
        "name": draw(texts()) if draw(st.integers(0, 3)) == 0 else f"run{index}",
        "kind": kind,
        "phase": draw(st.sampled_from(["p1", "p1", "p1", "p2", None, HOSTILE[1]])),
        "sweep": draw(st.sampled_from(["s1", "s1", None, HOSTILE[0]])) if kind == "train" else None,
        "tags": draw(st.lists(texts(), max_size=2)),
        "config": draw(configs(clean)),
        "status": "running" if status == "stale" else status,
        "started_at": _stamp(started),
        "updated_at": _stamp(NOW - timedelta(minutes=1) if status == "running" else started + timedelta(hours=2)),
        "ended_at": None if status in ("running", "stale") else _stamp(started + timedelta(hours=2)),
        "epochs": draw(st.sampled_from([None, 3, 4, 5])),
        "summary": {"test_acc": draw(st.sampled_from(VALUES))} if kind == "eval" else {},
        "evaluates": [draw(st.sampled_from(ids))] if kind == "eval" else [],
        "restarts": None,
        "error": {"type": "RuntimeError", "message": draw(texts())} if status == "failed" else None,
        "env": {"host": draw(texts()), "command": draw(texts())},
        "checkpoints": [],
    }
    mutation = draw(st.sampled_from(READABLE + ("evaluates-string",) * (kind == "eval")))
    if clean:
        mutation = draw(st.sampled_from(("ok", "ok", "optional-missing", "extra-keys", "id-differs")))
    elif draw(st.integers(0, 7)) == 0:
        mutation = draw(st.sampled_from(UNREADABLE + EITHER))
    notes = draw(texts()) if draw(st.booleans()) else None
    return RunSpec(folder, record, mutation, lines, torn, notes, tainted)


@st.composite
def projects(draw: st.DrawFn, clean: bool = False) -> ProjectSpec:
    """A whole project; ``clean`` leaves out what the issue does not define the numbers of (runs
    whose reading is open, tainted lines, restart cycles) and readings rundocs may still refuse,
    so that every example tests the semantic rules (hostile text stays)."""
    runs: list[RunSpec] = []
    for index in range(draw(st.integers(2, 8))):
        runs.append(draw(run_specs(index, [r.record["id"] for r in runs if r.record["kind"] == "train"], clean)))
    dead = [r for r in runs if r.record["kind"] == "train" and r.record["status"] != "completed"]
    for old in draw(st.lists(st.sampled_from(dead), max_size=2, unique_by=id)) if dead else []:
        runs.append(_relaunch(draw, old, len(runs), clean))
    train = [r for r in runs if r.record["kind"] == "train"]
    if not clean and len(train) >= 2 and draw(st.integers(0, 9)) == 0:  # a cycle: A restarts B and B restarts A
        a, b = draw(st.lists(st.sampled_from(train), min_size=2, max_size=2, unique_by=id))
        a.record["restarts"], b.record["restarts"] = b.record["id"], a.record["id"]
    plans = {phase: draw(plans_for(phase, runs)) for phase in ("p1", "p2") if draw(st.integers(0, 3))}
    return ProjectSpec(runs, plans)


def _relaunch(draw: st.DrawFn, old: RunSpec, index: int, clean: bool) -> RunSpec:
    new = draw(run_specs(index, [], clean))
    for key in ("name", "phase", "sweep", "config", "kind", "epochs"):
        new.record[key] = old.record[key]
    if draw(st.booleans()):
        new.record["name"] = f"{old.record['name']}_r2"
    new.record["restarts"] = old.record["id"]
    return new


THRESHOLDS = {"val_acc": (">=", "<"), "test_acc": (">=", ">"), "val_loss": ("<=", "<"), "train_loss": ("==", "<=")}


@st.composite
def plans_for(draw: st.DrawFn, phase: str, runs: list[RunSpec]) -> dict[str, Any]:
    plan: dict[str, Any] = {"title": draw(texts()), "goal": draw(texts())}
    names = [r.record["name"] for r in runs if r.record.get("phase") == phase]
    if names and draw(st.booleans()):
        plan["runs"] = [{"name": n} for n in draw(st.lists(st.sampled_from(names), max_size=3, unique=True))]
    gates = []
    for _ in range(draw(st.sampled_from([0, 1, 1, 2, 3]))):
        metric = draw(st.sampled_from(sorted(THRESHOLDS)))
        op = draw(st.sampled_from(THRESHOLDS[metric]))
        gate: dict[str, Any] = {"metric": metric, "green": f"{op} {draw(st.sampled_from([0.5, 0.9, 1.0]))}"}
        if draw(st.booleans()):
            gate["amber"] = f"{op} {draw(st.sampled_from([0.25, 2.0]))}"
        if draw(st.booleans()):
            gate["epoch"] = draw(st.integers(0, 3))
        gates.append(gate)
    if gates:
        plan["gates"] = gates
        plan["decisions"] = {colour: draw(texts()) for colour in ("green", "amber", "red") if draw(st.booleans())}
    if draw(st.booleans()):
        sweep: dict[str, Any] = {"metric": draw(st.sampled_from(["val_loss", "val_acc"]))}
        if draw(st.booleans()):
            sweep["goal"] = draw(st.sampled_from(["min", "max"]))
        plan["sweep"] = sweep
    if draw(st.booleans()):
        plan["compare"] = {"metrics": {"val_acc": "max", "val_loss": "min"}, "baseline": draw(texts())}
    if draw(st.booleans()):
        plan["notes"] = draw(texts())
    return plan


def write_project(root: Path, project: ProjectSpec) -> tuple[Path, Path]:
    """``root/runs`` and ``root/plans`` as a training script and a person would leave them."""
    runs, plans = root / "runs", root / "plans"
    runs.mkdir()
    plans.mkdir()
    for spec in project.runs:
        folder = runs / spec.folder
        folder.mkdir(exist_ok=True)
        text = _run_json(spec)
        if text is not None:
            (folder / "run.json").write_text(text, "utf-8")
        (folder / "metrics.jsonl").write_text("".join(f"{line}\n" for line in spec.lines) + (spec.torn or ""))
        if spec.notes is not None:
            (folder / "notes.md").write_text(spec.notes, "utf-8")
    for phase, plan in project.plans.items():
        (plans / f"{phase}.yaml").write_text(yaml.safe_dump(plan, allow_unicode=True, sort_keys=False), "utf-8")
    return runs, plans


def _run_json(spec: RunSpec) -> str | None:
    record = dict(spec.record)
    mutation = spec.mutation
    if mutation == "no-run-json":
        return None
    if mutation == "evaluates-null":
        record["evaluates"] = None
    elif mutation == "evaluates-string":
        record["evaluates"] = record["evaluates"][0]
    elif mutation == "tags-null":
        record["tags"] = None
    elif mutation == "optional-missing":
        for key in ("tags", "env", "checkpoints", "error", "ended_at", "summary"):
            if not record.get(key):
                record.pop(key, None)
    elif mutation == "extra-keys":
        record["x_writer"] = {"lang": "julia", "note": HOSTILE[2]}
    elif mutation == "id-differs":
        record["id"] = "another-id"
    elif mutation == "format-2":
        record["format"] = "rundocs.run/2"
    elif mutation == "name-missing":
        del record["name"]
    elif mutation == "status-succeeded":
        record["status"] = "succeeded"
    elif mutation == "summary-string":
        record["summary"] = {"test_acc": "high"}
    elif mutation == "epochs-string":
        record["epochs"] = "ten"
    elif mutation == "bad-time":
        record["started_at"] = "yesterday"
    elif mutation == "not-object":
        return json.dumps([record])
    elif mutation == "epochs-float":
        record["epochs"] = 30.0
    elif mutation == "phase-int":
        record["phase"] = 2
    elif mutation == "year-9999":
        record["started_at"] = "9999-12-31T23:59:59+00:00"
    text = json.dumps(record, indent=1, ensure_ascii=False)
    if mutation == "torn":
        return text[: len(text) // 2]
    if mutation == "bare-nan":
        return text.replace('"format"', '"x_loss": NaN, "format"', 1)
    if mutation == "huge-int-summary":
        return text.replace('"format"', '"summary": {"test_acc": 1' + "0" * 400 + '}, "format"', 1)
    return text


def make_outside(root: Path) -> Path:
    """A folder outside the project holding a secret and a valid record that names it."""
    outside = root / "outside"
    outside.mkdir()
    (outside / "secret.md").write_text(f"{SECRET}\n", "utf-8")
    record = {"format": "rundocs.run/1", "id": "x", "name": SECRET, "kind": "train", "status": "completed"}
    record |= {"started_at": _stamp(BASE), "updated_at": _stamp(BASE)}
    (outside / "run.json").write_text(json.dumps(record), "utf-8")
    (outside / "metrics.jsonl").write_text(f'{{"epoch": 1, "{SECRET}_loss": 1.0}}\n', "utf-8")
    return outside


def apply_shape(runs: Path, spec: RunSpec, outside: Path) -> None:
    """Turn one written run folder into a hostile file-system shape."""
    folder = runs / spec.folder
    if spec.shape == "notes-symlink":
        (folder / "notes.md").unlink(missing_ok=True)
        (folder / "notes.md").symlink_to(outside / "secret.md")
    elif spec.shape == "run-json-symlink":
        (folder / "run.json").unlink(missing_ok=True)
        (folder / "run.json").symlink_to(outside / "run.json")
    elif spec.shape == "metrics-symlink":
        (folder / "metrics.jsonl").unlink()
        (folder / "metrics.jsonl").symlink_to(outside / "metrics.jsonl")
    elif spec.shape == "metrics-fifo":
        (folder / "metrics.jsonl").unlink()
        os.mkfifo(folder / "metrics.jsonl")
    elif spec.shape == "notes-fifo":
        (folder / "notes.md").unlink(missing_ok=True)
        os.mkfifo(folder / "notes.md")
    elif spec.shape == "folder-symlink":
        for child in folder.iterdir():
            child.unlink()
        folder.rmdir()
        folder.symlink_to(outside, target_is_directory=True)
    elif spec.shape == "notes-dev-zero":
        (folder / "notes.md").unlink(missing_ok=True)
        (folder / "notes.md").symlink_to("/dev/zero")
    elif spec.shape == "metrics-dev-urandom":
        (folder / "metrics.jsonl").unlink()
        (folder / "metrics.jsonl").symlink_to("/dev/urandom")
    elif spec.shape == "huge-numbers":
        with (folder / "metrics.jsonl").open("a", encoding="utf-8") as file:
            file.write(f'{{"epoch": {2**70}, "val_loss": 1.0}}\n{{"epoch": 1, "val_loss": 1{"0" * 400}}}\n')
            file.write('{"epoch": 1, "val_loss": 1e400}\n{"epoch": 1, "val_loss": 5e-324}\n')


#: Folder names a stranger may give a run folder, each holding a valid run.json (the strategy
#: sets ``RunSpec.folder`` to one; ``apply_shape`` has nothing left to do for them).
ODD_NAMES = {
    "folder-javascript": "javascript:alert(1)",
    "folder-space": "my run",
    "folder-markup": "<img src=x onerror=alert(1)>",
    "folder-braces": "x{: onclick=alert(1)}",
    "folder-index": "index",
}
SHAPES = (
    "notes-symlink", "run-json-symlink", "metrics-symlink", "metrics-fifo", "notes-fifo", "folder-symlink",
    "notes-dev-zero", "metrics-dev-urandom", "huge-numbers", *ODD_NAMES,
)  # fmt: skip


def write_plan_shape(plans: Path, shape: str, outside: Path) -> str:
    """A hostile plan file under ``plans``; returns its file name (it must be named on the site)."""
    if shape == "plan-symlink":
        (outside / "plan.yaml").write_text(f"title: {SECRET}\n", "utf-8")
        (plans / "linked.yaml").symlink_to(outside / "plan.yaml")
        return "linked.yaml"
    if shape == "plan-alias-bomb":
        lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
        lines += [f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]" for i in range(8)]
        (plans / "bomb.yaml").write_text("title: bomb\n" + "notes:\n" + "".join(f"  {line}\n" for line in lines))
        return "bomb.yaml"
    if shape == "plan-not-utf8":
        (plans / "latin.yaml").write_bytes("title: caf\xe9\n".encode("latin-1"))
        return "latin.yaml"
    if shape == "plan-duplicate-keys":
        (plans / "twice.yaml").write_text("title: one\ntitle: two\n", "utf-8")
        return "twice.yaml"
    if shape == "plan-fifo":
        os.mkfifo(plans / "pipe.yaml")
        return "pipe.yaml"
    raise ValueError(shape)


PLAN_SHAPES = ("plan-symlink", "plan-alias-bomb", "plan-not-utf8", "plan-duplicate-keys", "plan-fifo")
