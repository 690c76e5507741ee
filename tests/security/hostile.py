"""A project whose every field under runs/ and plans/ is hostile markup, as a stranger's pull
request could write it (docs/security.md)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from tests.helpers import write_run

ROOT = Path(__file__).resolve().parents[2]
#: Markup plotly.js draws live in figure text (names, titles, hover text, category ticks):
#: a link out and a style; the sweep sets the second to either, so both are categories too.
CARRIERS = ['<a href="https://evil.example/phish">CLICK</a>', '<span style="font-size:90px;color:red">BIG</span>']
#: Each is text that some Markdown extension, HTML parser, Mermaid, Jinja or plotly would read as code.
STRINGS = [
    "pwn {autofocus onfocus=alert(1) tabindex=1}",
    "x\n{: onclick=alert(2)}",
    "<script>alert(3)</script>",
    "<img src=x onerror=alert(4)>",
    "[click](javascript:alert(5))",
    "[nl](java\nscript:alert(6))",
    "{{ 7*7 }}",
    "{% raw %}",
    "</script><script>alert(8)</script>",
    '%%{init: {"securityLevel":"loose"}}%%',
    "click A call alert(9)",
    "\u202ertl\u200f mark",
    "a | b || c",
    "``` tick `x`",
    "```\n<b>pwnbold</b>\n",
    "<!-- open",
    "line\u2028separator\u2029para",
    "x\n# pwnheading",
    "x\n!!! pwnclass",
    '??? pwnclass "t"',
    '=== "pwntab"',
    "1. pwnlist",
    "- pwnlist",
    "__search",
    "x\r\r<i>pwnitalic</i>",
    "```mermaid\ngraph LR\nA-->B\nclick A call alert(10)\n```",
    "*pwn*{onclick=alert(11)}",
    *CARRIERS,
]
JOINED = "\n".join(STRINGS)
MARKDOWN = ["[ref][r]\n\n[r]: javascript:alert(12)", "```py {onclick=alert(13)}\nx = 1\n```", "## Sub"]
NOTES = "\n\n".join([*STRINGS, *MARKDOWN])
GUIDE = [
    "recording.md",
    "integrations.md",
    "site.md",
    "plans.md",
    "sweeps.md",
    "optuna.md",
    "export.md",
    "teams.md",
    "security.md",
    "benchmarks.md",
]
SHA = "0" * 64


def write_hostile_project(project: Path) -> None:
    """The shipped mkdocs.yml, verbatim, and runs, a sweep and a phase plan made of ``STRINGS``."""
    shutil.copy(ROOT / "mkdocs.yml", project / "mkdocs.yml")
    (project / "templates" / "theme").mkdir(parents=True)
    (project / "docs").mkdir()
    for page in GUIDE:  # the shipped nav lists the project's own guide pages
        (project / "docs" / page).write_text(f"# {page}\n")
    runs = project / "runs"
    config = {text: text for text in STRINGS}
    swept = [{"lr": 0.1, CARRIERS[1]: CARRIERS[0]}, {"lr": 0.2, CARRIERS[1]: CARRIERS[1]}]
    for number, run_id in enumerate(["20260101_100000_pwn", "20260101_110000_pwn"]):
        metrics = [{"epoch": epoch, **{text: 0.5 + epoch / 10 + number for text in STRINGS}} for epoch in (1, 2)]
        folder = write_run(
            runs, run_id, metrics, name=JOINED if number == 0 else "__search", phase="pwn", sweep=JOINED,
            tags=STRINGS, config={**config, **swept[number], "nested": config}, status="failed",
            summary={text: 1.0 for text in STRINGS}, epochs=2, warnings=STRINGS,
            error={"type": JOINED, "message": JOINED, "traceback": JOINED},
            env={"host": JOINED, "user": JOINED, "command": JOINED, "git": {"commit": JOINED, "dirty": True}},
            checkpoints=[{"path": JOINED, "epoch": 1, "sha256": SHA, "bytes": 10, "arch": config}],
        )  # fmt: skip
        (folder / "notes.md").write_text(NOTES)
    plan = {
        "title": JOINED,
        "goal": JOINED,
        "hypothesis": NOTES,
        "fixed": config,
        "changed": {text: {"a": text, "b": text} for text in STRINGS[:3]},
        "runs": [{"name": JOINED}, {"name": "__search"}, {"name": "1. pwnlist"}],
        "gates": [{"metric": text, "green": ">= 0.1", "amber": ">= 0.0"} for text in STRINGS],
        "decisions": {"green": NOTES, "amber": JOINED, "red": STRINGS[-2]},
        "compare": {"metrics": {text: "max" for text in STRINGS[:4]}},
        "notes": NOTES,
    }
    (project / "plans").mkdir()
    (project / "plans" / "pwn.yaml").write_text(yaml.safe_dump(plan), "utf-8")


def build(project: Path) -> Path:
    """``rundocs build`` then ``mkdocs build --strict``, as a CI job would; the site folder."""
    for command in (["-m", "rundocs", "build", "--allow-problems"], ["-m", "mkdocs", "build", "--strict"]):
        done = subprocess.run([sys.executable, *command], cwd=project, capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr
    return project / "site"
