"""A rundocs project made by running the example scripts as a user would, then building its site.

``make_project`` runs every script of this folder as a child process in one project folder
(the killed run is sent SIGTERM and relaunched), imports the plain Optuna study, and runs
``rundocs build`` and ``rundocs check``. The helpers below read what came out: run records,
pages as text, Markdown tables and the figures' JSON.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.conftest import child_environment

SCRIPTS = Path(__file__).resolve().parent
TIMEOUT = 90
EPOCHS = 3
LIVE_STUDY, PLAIN_STUDY = "mlp-live", "mlp-plain"
KILLED_NAME = "mlp_s1"
#: Between the best val_loss of the killed attempt (1.277, epoch 2) and of the full run (1.237, epoch 3):
#: judged on the dead attempt, the gate is red and turns the phase RED.
LOSS_GATE = 1.25

RELAUNCH_PLAN = f"""\
title: Relaunch after a time limit
date: 2026-12-01
goal: Does the MLP reach 40% validation accuracy in {EPOCHS} epochs?
runs:
  - name: {KILLED_NAME}
gates:
  - metric: val_acc
    epoch: {EPOCHS}
    green: ">= 0.4"
    amber: ">= 0.3"
  - metric: val_loss
    green: "<= {LOSS_GATE}"
decisions:
  green: Train the larger model.
  amber: Tune the learning rate first.
  red: Check the data.
"""


@dataclass
class Project:
    root: Path
    env: dict[str, str]
    #: Finished child processes by label: main, zero, exit, killed, relaunch, live, plain, import, build, check...
    done: dict[str, subprocess.CompletedProcess[str]] = field(default_factory=dict)

    @property
    def runs(self) -> Path:
        return self.root / "runs"

    def records(self) -> list[dict[str, Any]]:
        return [json.loads(path.read_text()) for path in sorted(self.runs.glob("*/run.json"))]

    def run_id(self, name: str, *, restarts: bool | None = None) -> str:
        """The id of the one run called ``name`` (``restarts``: only relaunches, or only first attempts)."""
        ids = [
            r["id"]
            for r in self.records()
            if r["name"] == name and (restarts is None or bool(r.get("restarts")) == restarts)
        ]
        assert len(ids) == 1, f"expected one run called {name!r}, found {ids}"
        return ids[0]

    def trial_run_id(self, study: str, number: int) -> str:
        ids = [r["id"] for r in self.records() if {f"study:{study}", f"trial:{number}"} <= set(r.get("tags", []))]
        assert len(ids) == 1, f"expected one run of trial {number} of {study!r}, found {ids}"
        return ids[0]

    def metrics(self, run_id: str) -> list[dict[str, Any]]:
        text = (self.runs / run_id / "metrics.jsonl").read_text()
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    def page(self, path: str) -> str:
        """A generated page of ``docs/`` as text, e.g. ``runs/<id>.md``."""
        return (self.root / "docs" / path).read_text()

    def rundocs(self, label: str, *args: str) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", "rundocs", *args],
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
        self.done[label] = result
        return result


def script_env() -> dict[str, str]:
    """``child_environment()``, with one thread per child."""
    env = child_environment()
    env["OMP_NUM_THREADS"] = "1"  # seven tiny trainings at once
    return env


def make_project(root: Path, env: dict[str, str]) -> Project:
    """Run every script into ``root/runs``, kill and relaunch one, import a study, build and check."""
    project = Project(root, env)
    (root / "plans").mkdir(parents=True)
    (root / "plans" / "relaunch.yaml").write_text(RELAUNCH_PLAN)
    # the killed run first: its relaunch waits for it
    killed = _start(project, "mnist_main.py", "--name", KILLED_NAME, "--phase", "relaunch", "--pause-after-epoch", "2")
    children = {
        "main": _start(project, "mnist_main.py", "--name", "mlp_main"),
        "zero": _start(project, "mnist_zero_based.py", "--name", "mlp_zero"),
        "exit": _start(project, "mnist_exit_error.py", "--name", "mlp_exit"),
        "uncaught": _start(project, "mnist_uncaught.py", "--name", "mlp_uncaught"),
        "live": _start(project, "optuna_recorded.py", f"sqlite:///{LIVE_STUDY}.db", LIVE_STUDY),
        "plain": _start(project, "optuna_simple.py", f"sqlite:///{PLAIN_STUDY}.db", PLAIN_STUDY),
    }
    _kill_when_paused(project, killed, "paused after epoch 2")
    dead = project.run_id(KILLED_NAME)
    children["relaunch"] = _start(
        project, "mnist_main.py", "--name", KILLED_NAME, "--phase", "relaunch", "--restarts", dead
    )
    for label, child in children.items():
        _finish(project, label, child)
    project.rundocs("import", "import", "optuna", "--storage", f"sqlite:///{PLAIN_STUDY}.db", "--study", PLAIN_STUDY)
    project.rundocs("build", "build")
    project.rundocs("check", "check")
    project.rundocs("check-no-cache", "check", "--no-cache")
    return project


def _start(project: Project, script: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(SCRIPTS / script), *args],
        cwd=project.root,
        env=project.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _kill_when_paused(project: Project, child: subprocess.Popen[str], marker: str) -> None:
    assert child.stdout is not None
    seen = []
    for line in child.stdout:
        seen.append(line)
        if line.startswith(marker):
            child.send_signal(signal.SIGTERM)
            break
    else:
        child.wait(TIMEOUT)
    _finish(project, "killed", child, "".join(seen))


def _finish(project: Project, label: str, child: subprocess.Popen[str], head: str = "") -> None:
    try:
        out, err = child.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        child.kill()
        out, err = child.communicate()
    project.done[label] = subprocess.CompletedProcess(child.args, child.returncode, head + out, err)


def tables(page: str) -> list[list[dict[str, str]]]:
    """Every Markdown table of a page, as rows of {header: cell}; ``\\|`` stays inside its cell."""
    found, lines = [], page.splitlines()
    for i in range(len(lines) - 1):
        if (
            lines[i].startswith("|")
            and re.fullmatch(r"\|(\s*-+\s*\|)+\s*", lines[i + 1])
            and (i == 0 or not lines[i - 1].startswith("|"))
        ):
            header = _cells(lines[i])
            rows = []
            for line in lines[i + 2 :]:
                if not line.startswith("|"):
                    break
                rows.append(dict(zip(header, _cells(line), strict=False)))
            found.append(rows)
    return found


def table(page: str, first_header: str) -> list[dict[str, str]]:
    """The one table of ``page`` whose first column is ``first_header``."""
    matches = [rows for rows in tables(page) if rows and next(iter(rows[0])) == first_header]
    assert len(matches) == 1, f"expected one table headed {first_header!r}, found {len(matches)}"
    return matches[0]


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip())[1:-1]]


def figures(page: str) -> list[dict[str, Any]]:
    """The Plotly figures of a page (``<div class="rd-figure"><script type="application/json">``)."""
    pattern = r'<div class="rd-figure"><script type="application/json">(.*?)</script></div>'
    return [json.loads(text) for text in re.findall(pattern, page, flags=re.S)]


def escaped(text: str) -> str:
    """A name as pages write it in Markdown (``mlp\\_s1``)."""
    return text.replace("_", "\\_")
