"""How a process ends decides how its open runs end: real child processes, real signals."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

#: The pytorch/examples shape: a Run made inside main(), never ended, main() returns or exits.
MAIN = """
import sys, rundocs

def main():
    run = rundocs.Run("plain", dir=sys.argv[1], epochs=2)
    for epoch in (1, 2):
        run.log(epoch=epoch, loss=1.0 / epoch)
{ending}

main()
{after}
"""

ENDINGS = {
    "returns": ("", "", 0, "completed", None),
    "sys.exit(0)": ("", "sys.exit(0)", 0, "completed", None),
    "sys.exit()": ("", "sys.exit()", 0, "completed", None),
    "sys.exit(2)": ("", "sys.exit(2)", 2, "failed", "exit code 2"),
    "sys.exit('error')": ("    sys.exit('error')", "", 1, "failed", "error"),
    "exit(2)": ("", "exit(2)", 2, "failed", "exit code 2"),  # the builtin site adds
    "quit('error')": ("    quit('error')", "", 1, "failed", "error"),
    "raise": ("    raise RuntimeError('diverged')", "", 1, "failed", "diverged"),
}


def run_child(script: str, runs: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script), str(runs), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def only_record(runs: Path) -> dict[str, Any]:
    (folder,) = runs.iterdir()
    record: dict[str, Any] = json.loads((folder / "run.json").read_text())
    return record


@pytest.mark.parametrize("ending", ENDINGS)
def test_a_run_never_ended_is_ended_by_how_the_program_ends(
    tmp_path: Path, child_env: dict[str, str], ending: str
) -> None:
    inside, after, returncode, status, message = ENDINGS[ending]
    child = run_child(MAIN.format(ending=inside, after=after), tmp_path, child_env)
    assert child.returncode == returncode, child.stderr

    record = only_record(tmp_path)
    assert record["status"] == status
    assert record["ended_at"] is not None
    if message is None:
        assert record["error"] is None
    else:
        assert record["error"]["message"] == message
        expected_type = "RuntimeError" if ending == "raise" else "SystemExit"
        assert record["error"]["type"] == expected_type
        assert expected_type in record["error"]["traceback"]


def test_an_exception_hook_installed_later_still_lets_the_failure_through(
    tmp_path: Path, child_env: dict[str, str]
) -> None:
    script = """
        import sys, rundocs
        run = rundocs.Run("hooked", dir=sys.argv[1])
        sys.excepthook = lambda *exc: print("user hook", file=sys.stderr)
        raise ValueError("bad batch")
    """
    child = run_child(script, tmp_path, child_env)
    assert child.returncode == 1 and "user hook" in child.stderr
    record = only_record(tmp_path)
    assert (record["status"], record["error"]["type"], record["error"]["message"]) == (
        "failed",
        "ValueError",
        "bad batch",
    )


#: A training loop that waits for a signal: ``mode`` says which handlers the program has.
LOOP = """
import os, signal, sys, time, rundocs

mode = sys.argv[2]
stop = []
def user_handler(signum, frame):
    print("user handler", signal.Signals(signum).name, flush=True)
    if mode.endswith("exit"):
        sys.exit(3)
    stop.append(signum)

if mode.startswith("before"):
    signal.signal(signal.SIGTERM, user_handler)
run = rundocs.Run("loop", dir=sys.argv[1], epochs=10_000, heartbeat_every=3600)
if mode.startswith("after"):
    signal.signal(signal.SIGTERM, user_handler)
for epoch in range(1, 10_001):
    run.log(epoch=epoch, loss=1.0 / epoch)
    if epoch == 3:
        print("ready", flush=True)
    if stop:
        print("stopping at", epoch, flush=True)
        break
    time.sleep(0.01)
print("loop ended", flush=True)
"""


def send_when_ready(runs: Path, env: dict[str, str], mode: str, signum: int) -> tuple[int, str]:
    with subprocess.Popen(
        [sys.executable, "-c", LOOP, str(runs), mode], env=env, stdout=subprocess.PIPE, text=True
    ) as child:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        child.send_signal(signum)
        output = child.stdout.read()
        return child.wait(timeout=60), output


def test_sigterm_records_interrupted_and_still_kills(tmp_path: Path, child_env: dict[str, str]) -> None:
    returncode, output = send_when_ready(tmp_path, child_env, "none", signal.SIGTERM)
    assert returncode == -signal.SIGTERM  # killed by the signal, as without rundocs
    assert "loop ended" not in output
    record = only_record(tmp_path)
    assert record["status"] == "interrupted" and record["ended_at"] is not None
    assert (record["error"]["type"], record["error"]["message"]) == ("Signal", "SIGTERM")
    assert 'File "<string>", line' in record["error"]["traceback"]  # where the loop was
    lines = (next(tmp_path.iterdir()) / "metrics.jsonl").read_text().splitlines()
    assert len(lines) >= 3


@pytest.mark.parametrize(
    ("mode", "returncode", "after_signal"),
    [
        ("before-exit", 3, False),  # handler installed before the Run calls sys.exit(3)
        ("after-exit", 3, False),  # ... installed after the Run
        ("before-flag", 0, True),  # handler sets a flag; the loop stops gracefully
        ("after-flag", 0, True),
    ],
)
def test_sigterm_with_the_programs_own_handler(
    tmp_path: Path, child_env: dict[str, str], mode: str, returncode: int, after_signal: bool
) -> None:
    code, output = send_when_ready(tmp_path, child_env, mode, signal.SIGTERM)
    assert code == returncode
    assert "user handler SIGTERM" in output
    assert ("loop ended" in output) == after_signal
    record = only_record(tmp_path)
    assert record["status"] == "interrupted"
    assert (record["error"]["type"], record["error"]["message"]) == ("Signal", "SIGTERM")
    if after_signal:  # the program logged on after the signal: kept
        stopped_at = int(output.split("stopping at ")[1].split()[0])
        lines = (next(tmp_path.iterdir()) / "metrics.jsonl").read_text().splitlines()
        assert json.loads(lines[-1])["epoch"] == stopped_at


def test_sigint_is_a_keyboard_interrupt_recorded_interrupted(tmp_path: Path, child_env: dict[str, str]) -> None:
    returncode, _ = send_when_ready(tmp_path, child_env, "none", signal.SIGINT)
    assert returncode in (1, -signal.SIGINT)
    record = only_record(tmp_path)
    assert (record["status"], record["error"]["type"]) == ("interrupted", "KeyboardInterrupt")


def test_an_ignored_sigterm_stays_ignored(tmp_path: Path, child_env: dict[str, str]) -> None:
    script = """
        import os, signal, sys, rundocs
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        with rundocs.Run("ignore", dir=sys.argv[1]) as run:
            run.log(epoch=1, loss=1.0)
            os.kill(os.getpid(), signal.SIGTERM)
            run.log(epoch=2, loss=0.5)
    """
    child = run_child(script, tmp_path, child_env)
    assert child.returncode == 0, child.stderr
    assert only_record(tmp_path)["status"] == "completed"


def test_a_run_started_off_the_main_thread_records_quietly(tmp_path: Path, child_env: dict[str, str]) -> None:
    script = """
        import sys, threading, rundocs
        def work():
            with rundocs.Run("thread", dir=sys.argv[1]) as run:
                run.log(epoch=1, loss=1.0)
        worker = threading.Thread(target=work)
        worker.start()
        worker.join()
    """
    child = run_child(script, tmp_path, child_env)
    assert (child.returncode, child.stderr) == (0, "")
    assert only_record(tmp_path)["status"] == "completed"


def test_a_forked_worker_killed_by_sigterm_leaves_the_parents_run_alone(
    tmp_path: Path, child_env: dict[str, str]
) -> None:
    """DataLoader workers are forked and may be terminated: that is not the run's end."""
    script = """
        import os, signal, sys, time, rundocs
        run = rundocs.Run("parent", dir=sys.argv[1])
        run.log(epoch=1, loss=1.0)
        ready, tell = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.write(tell, b"x")
            time.sleep(30)
            os._exit(0)
        os.read(ready, 1)
        os.kill(pid, signal.SIGTERM)
        _, status = os.waitpid(pid, 0)
        print(os.WTERMSIG(status) if os.WIFSIGNALED(status) else "exited")
        print(open(run.folder / "run.json").read().count('"running"'))
    """
    child = run_child(script, tmp_path, child_env)
    assert child.stdout.split() == [str(int(signal.SIGTERM)), "1"], child.stderr
    assert only_record(tmp_path)["status"] == "completed"
