"""``rundocs serve`` as a user runs it: a real server process, a run logging from this process, the
served HTML followed until it shows the new values, a broken run folder and a new run, then Ctrl-C."""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

import rundocs
from rundocs.site import serve
from rundocs.site.generate import Project
from rundocs.site.mkdocs_config import uses_rundocs_plugin
from tests.conftest import child_environment

TIMEOUT = 60.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_for(url: str, text: str, server: subprocess.Popen[bytes], log: Path) -> None:
    """Fetch ``url`` until its HTML contains ``text``; fail with the server's output if it never does."""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"the server exited with {server.returncode}:\n{log.read_text('utf-8')}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if text in response.read().decode("utf-8"):
                    return
        except (urllib.error.URLError, ConnectionError):
            pass  # not serving yet, or the page is not built yet
        time.sleep(0.1)
    pytest.fail(f"{url} never showed {text!r} within {TIMEOUT} s:\n{log.read_text('utf-8')}")


@contextlib.contextmanager
def serving(command: list[str], cwd: Path, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A server process writing to ``log``; at the end it must stop on Ctrl-C with status 0
    (killed if it is still running, whatever happened)."""
    with log.open("wb") as output:
        server = subprocess.Popen(command, cwd=cwd, env=child_environment(), stdout=output, stderr=subprocess.STDOUT)
    try:
        yield server
        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=20) == 0
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def test_serve_shows_new_values_and_runs_while_they_train_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "rundocs", "init"], cwd=tmp_path, env=child_environment(), check=True)
    base = f"http://127.0.0.1:{_free_port()}"
    log = tmp_path / "serve.log"
    with rundocs.Run("live", id="live", dir=tmp_path / "runs", epochs=3) as run:
        run.log(epoch=1, val_acc=0.5)
        command = [sys.executable, "-m", "rundocs", "serve", "--interval", "0.1", "--dev-addr", base[7:]]
        with serving(command, tmp_path, log) as server:
            _wait_for(f"{base}/runs/live.html", "E001/003", server, log)
            run.log(epoch=2, val_acc=0.8125)
            run.summary(test_acc=0.4321)
            _wait_for(f"{base}/runs/live.html", "0.4321", server, log)
            _wait_for(f"{base}/runs/live.html", "E002/003", server, log)
            (tmp_path / "runs" / "broken").mkdir()
            (tmp_path / "runs" / "broken" / "run.json").write_text("{")
            _wait_for(f"{base}/problems.html", "broken", server, log)
            with rundocs.Run("second", id="second-run", dir=tmp_path / "runs") as second:
                second.log(epoch=1, val_acc=0.25)
            _wait_for(f"{base}/runs/index.html", "second-run", server, log)
    output = log.read_text("utf-8")
    assert [line for line in output.splitlines() if "broken" in line] == [
        "WARNING -  rundocs: runs/broken/run.json:1: invalid JSON: unexpected end of data (column 2)"
    ]  # logged once, when it appeared; the server went on
    assert "Shutting down" in output
    assert "Traceback" not in output


def test_serve_on_a_taken_address_is_one_error_line(tmp_path: Path) -> None:
    (tmp_path / "mkdocs.yml").write_text("site_name: x\n")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        address = f"127.0.0.1:{taken.getsockname()[1]}"
        done = subprocess.run(
            [sys.executable, "-m", "rundocs", "serve", "--dev-addr", address],
            cwd=tmp_path,
            env=child_environment(),
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1] == f"Error: cannot serve on {address}: Address already in use"
    assert "Traceback" not in done.stderr


def test_a_look_sees_what_pages_are_made_from_and_nothing_else(tmp_path: Path) -> None:
    project = Project(tmp_path / "runs", tmp_path / "plans", tmp_path / "docs", None)
    templates = tmp_path / "templates"
    folder = project.runs / "a"
    folder.mkdir(parents=True)
    (folder / "run.json").write_text("{}")
    (folder / "metrics.jsonl").write_text('{"epoch":1}\n')
    before = serve.take_snapshot(project, templates)
    (folder / "model.pt").write_bytes(b"weights")  # not read by any page
    (project.runs / ".cache").mkdir()  # hidden, as the loader skips it
    (folder / "checkpoints").mkdir()
    assert serve.take_snapshot(project, templates) == before
    with (folder / "metrics.jsonl").open("a") as metrics:
        metrics.write('{"epoch":2}\n')
    grown = serve.take_snapshot(project, templates)
    assert grown != before
    (project.runs / "b").mkdir()
    assert serve.take_snapshot(project, templates).keys() - grown.keys() == {str(project.runs / "b")}
    (templates / "_partials").mkdir(parents=True)
    (templates / "_partials" / "row.md.j2").write_text("{{ run.id }}")
    project.plans.mkdir()
    (project.plans / "p.yaml").write_text("phase: p")
    assert serve.take_snapshot(project, templates).keys() - grown.keys() == {
        str(project.runs / "b"),
        str(templates / "_partials" / "row.md.j2"),
        str(project.plans / "p.yaml"),
    }


@pytest.mark.parametrize(
    ("longest_wait", "generated_at"),
    [(serve.LONGEST_WAIT, [2, 7]), (0.0, [1, 5, 6])],
    ids=["after-a-quiet-look", "at-once-when-waited-long-enough"],
)
def test_the_watcher_generates_once_the_inputs_settle(
    monkeypatch: pytest.MonkeyPatch, longest_wait: float, generated_at: list[int]
) -> None:
    """Looks 1-2 see one change, 3-4 nothing new, 5-6 a change each, 7 the same again."""
    monkeypatch.setattr(serve, "LONGEST_WAIT", longest_wait)
    sights = [{"a": ((1, 1),)}, {"a": ((2, 2),)}]
    sequence = [sights[1]] * 4 + [{}, sights[0], sights[0]]
    stop, looks, generations = threading.Event(), list[int](), list[int]()

    def look() -> serve.Snapshot:
        looks.append(1)
        if len(looks) == len(sequence):
            stop.set()
        return sequence[len(looks) - 1]

    serve.watch_inputs(look, lambda: generations.append(len(looks)), sights[0], stop, 0.001)
    assert generations == generated_at


@pytest.mark.parametrize(
    ("plugins", "listed"),
    [
        ("[search, rundocs]", True),
        ("[search, {rundocs: {runs: runs}}]", True),
        ("{search: {}, rundocs: {}}", True),
        ("[search, offline]", False),
        ("rundocs", False),  # not a list: MkDocs refuses it
    ],
)
def test_serve_leaves_generation_to_the_plugin_when_mkdocs_yml_lists_it(
    tmp_path: Path, plugins: str, listed: bool
) -> None:
    config = tmp_path / "mkdocs.yml"
    config.write_text(f"site_name: x\nplugins: {plugins}\nextra: !ENV [HOME]\n")
    assert uses_rundocs_plugin(config) is listed
