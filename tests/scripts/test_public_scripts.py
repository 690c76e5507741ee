"""Scripts written the way public examples are give pages that read true (issue 9, "Done when").

One project is made for the module (``project.make_project``): pytorch/examples-style runs
(``Run`` created in ``main()`` without ``with`` and never ended; per-step and per-epoch logs; epochs
from 0; ``sys.exit("error")``; one run killed by SIGTERM and relaunched) and optuna-examples-style
maximisation studies (recorded live, and recorded plainly then imported). Every assertion reads
the generated Markdown and compares it with the raw records or with Optuna's own study.
"""

from __future__ import annotations

import re
import signal

import optuna
import pytest
from optuna.trial import TrialState

from rundocs.formatting import format_number
from tests.scripts.project import (
    EPOCHS,
    KILLED_NAME,
    LIVE_STUDY,
    LOSS_GATE,
    PLAIN_STUDY,
    Project,
    escaped,
    figures,
    make_project,
    script_env,
    table,
)

pytestmark = pytest.mark.torch


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    pytest.importorskip("torch")
    made = make_project(tmp_path_factory.mktemp("project"), script_env())
    for label in ("main", "zero", "live", "plain", "relaunch", "import"):
        assert made.done[label].returncode == 0, f"{label} failed:\n{made.done[label].stderr[-3000:]}"
    return made


def badge(page: str) -> str:
    """The state badge under a run page's title, e.g. ``completed`` or ``running E003/003``."""
    found = re.search(r'^<span class="rd-badge rd-[a-z]+">([^<]*)</span>', page, flags=re.M)
    assert found, "no state badge"
    return found.group(1)


def log_state(project: Project, run_id: str) -> str:
    """The state badge of a run's row in the experiment log (notes such as "relaunched as" left out)."""
    (row,) = [r for r in table(project.page("runs/index.md"), "Started (UTC)") if f"({run_id}.md)" in r["Run"]]
    found = re.match(r'<span class="rd-badge rd-[a-z]+">[^<]*</span>', row["State"])
    return found.group(0) if found else row["State"]


def header(page: str) -> dict[str, str]:
    (row,) = table(page, "Id")
    return row


# -- states -------------------------------------------------------------------------------


def test_a_run_created_in_main_without_with_reads_completed(project: Project) -> None:
    run_id = project.run_id("mlp_main")
    page = project.page(f"runs/{run_id}.md")
    seen = {
        "badge": badge(page),
        "ended": header(page)["Ended"] != "",
        "epochs": header(page)["Epochs"],
        "log": log_state(project, run_id),
    }
    assert seen == {
        "badge": "completed",
        "ended": True,
        "epochs": f"E{EPOCHS:03d}/{EPOCHS:03d}",
        "log": '<span class="rd-badge rd-completed">completed</span>',
    }


@pytest.mark.parametrize(
    ("label", "name", "error"), [("exit", "mlp_exit", "error"), ("uncaught", "mlp_uncaught", "RuntimeError")]
)
def test_a_script_ending_in_sys_exit_error_or_an_uncaught_exception_reads_failed(
    project: Project, label: str, name: str, error: str
) -> None:
    run_id = project.run_id(name)
    page = project.page(f"runs/{run_id}.md")
    seen = {
        "returncode": project.done[label].returncode,
        "badge": badge(page),
        "failure block": bool(re.search(rf'^!!! failure ".*\b{error}\b', page, flags=re.M)),
        "log": log_state(project, run_id),
    }
    assert seen == {
        "returncode": 1,
        "badge": "failed",
        "failure block": True,
        "log": '<span class="rd-badge rd-failed">failed</span>',
    }


def test_sigterm_reads_interrupted_with_the_signal_named_and_still_kills(project: Project) -> None:
    run_id = project.run_id(KILLED_NAME, restarts=False)
    page = project.page(f"runs/{run_id}.md")
    seen = {
        "returncode": project.done["killed"].returncode,
        "badge": badge(page),
        "signal named": "SIGTERM" in page.split("## Results")[0],
        "recorded": "This attempt recorded the status `interrupted`." in page,
        "epochs": header(page)["Epochs"],
        "log": log_state(project, run_id),
    }
    assert seen == {  # it was relaunched afterwards: every page calls it so, its page says what it recorded
        "returncode": -signal.SIGTERM,
        "badge": "relaunched",
        "signal named": True,
        "recorded": True,
        "epochs": f"E002/{EPOCHS:03d}",
        "log": '<span class="rd-badge rd-relaunched">relaunched</span>',
    }


# -- per-step metrics ---------------------------------------------------------------------


def test_per_step_metrics_appear_in_the_results_table_and_the_figure(project: Project) -> None:
    run_id = project.run_id("mlp_main")
    steps = [(line["step"], line["train_loss"]) for line in project.metrics(run_id) if "train_loss" in line]
    assert len(steps) == EPOCHS * 4  # 8 batches an epoch, logged every 2
    page = project.page(f"runs/{run_id}.md")
    rows = {row["Metric"]: row for row in table(page, "Metric")}
    traces = [trace for figure in figures(page) for trace in figure["data"] if trace.get("name") == "train_loss"]
    row = rows.get("train\\_loss", {})
    seen = {
        "best": row.get("Best"),
        "latest": row.get("Latest"),
        "traces": [(trace["x"], trace["y"]) for trace in traces],
    }
    assert seen == {
        "best": format_number(min(loss for _, loss in steps)),
        "latest": format_number(steps[-1][1]),
        "traces": [([step for step, _ in steps], [float(f"{loss:.6g}") for _, loss in steps])],
    }


# -- epochs from 0 ------------------------------------------------------------------------


def test_a_complete_run_counting_epochs_from_zero_shows_every_epoch_done(project: Project) -> None:
    run_id = project.run_id("mlp_zero")
    assert [line["epoch"] for line in project.metrics(run_id) if "epoch" in line] == list(range(EPOCHS))
    page = project.page(f"runs/{run_id}.md")
    seen = {"badge": badge(page), "epochs": header(page)["Epochs"], "stopped early": "stopped early" in page.lower()}
    assert seen == {"badge": "completed", "epochs": f"E{EPOCHS:03d}/{EPOCHS:03d}", "stopped early": False}


# -- relaunch -----------------------------------------------------------------------------


def test_the_relaunch_supersedes_its_dead_attempt_in_the_phase(project: Project) -> None:
    dead, relaunch = project.run_id(KILLED_NAME, restarts=False), project.run_id(KILLED_NAME, restarts=True)
    epochs = {line["epoch"]: line for line in project.metrics(relaunch) if "epoch" in line}
    best_loss = min(epochs, key=lambda epoch: epochs[epoch]["val_loss"])
    dead_loss = min(line["val_loss"] for line in project.metrics(dead) if "val_loss" in line)
    assert epochs[best_loss]["val_loss"] <= LOSS_GATE < dead_loss, "the gate must tell the attempts apart"
    page = project.page("phases/relaunch.md")
    tracker, total = table(project.page("phases/index.md"), "Phase")
    seen = {
        "title": next(line for line in page.splitlines() if line.startswith('<span class="rd-badge')).split(";")[0],
        "status": {row["Run"]: row["State"] for row in table(page, "Planned run")},
        "gates": [(row["Run"], row["Metric"], row["Observed"], row["Result"]) for row in table(page, "Run")],
        "tracker": (tracker["Status"], tracker["Progress"], tracker["Verdict"]),
        "total runs": (tracker["Runs"], total["Runs"]),
    }
    name = escaped(KILLED_NAME)
    link = f"[{name}](../runs/{relaunch}.md)"
    green = '<span class="rd-badge rd-verdict-green">GREEN</span>'
    done = '<span class="rd-badge rd-done">done</span>'
    assert seen == {
        "title": f"{done} {green} 1/1 planned runs completed",
        "status": {
            f"[{name}](../runs/{dead}.md)": '<span class="rd-badge rd-relaunched">relaunched</span>',
            link: '<span class="rd-badge rd-completed">completed</span>',
        },
        "gates": [
            (link, "val\\_acc", format_number(epochs[EPOCHS]["val_acc"]), green),
            (link, "val\\_loss", f"{format_number(epochs[best_loss]['val_loss'])} (epoch {best_loss})", green),
        ],
        "tracker": (done, "1/1 runs", green),
        "total runs": ("2", "**2**"),
    }


# -- Optuna -------------------------------------------------------------------------------


def load_study(project: Project, study_name: str) -> optuna.Study:
    return optuna.load_study(study_name=study_name, storage=f"sqlite:///{project.root / study_name}.db")


@pytest.mark.parametrize("study_name", [LIVE_STUDY, PLAIN_STUDY], ids=["recorded-live", "imported"])
def test_a_maximisation_study_is_ranked_as_optuna_ranks_it(project: Project, study_name: str) -> None:
    study = load_study(project, study_name)
    best = study.best_trial
    complete = study.get_trials(deepcopy=False, states=[TrialState.COMPLETE])
    assert [t.value for t in complete].count(best.value) == 1, "the scenario needs a unique best trial"
    by_peak = max(complete, key=lambda t: max(t.intermediate_values.values()))
    assert by_peak.number != best.number, "the scenario must tell the objective from the best reported value"
    best_link = f"[trial-{best.number:04d}](../runs/{project.trial_run_id(study_name, best.number)}.md)"

    page = project.page(f"sweeps/{study_name}.md")
    target = re.search(r"target \*\*(.+?)\*\* \(([^)]*)\)", page)
    best_line = next(line for line in page.splitlines() if line.startswith("Best run:"))
    link, value = re.search(r"^Best run: (\[.*?\]\(.*?\)), value = ([^ ,]+?)[.,]?(?: |$)", best_line).groups()
    (row,) = [r for r in table(project.page("sweeps/index.md"), "Sweep") if r["Sweep"].startswith(f"[{study_name}]")]
    seen = {
        "target": target and target.groups(),
        "best run": (link, value),
        "first trial": table(page, "Run")[0]["Run"],
        "index": (row["Target"], row["Best run"], row["Best"]),
    }
    assert seen == {
        "target": ("value", "higher is better"),
        "best run": (best_link, format_number(best.value)),
        "first trial": f"**{best_link}**",
        "index": ("value (max)", best_link, format_number(best.value)),
    }


@pytest.mark.parametrize("study_name", [LIVE_STUDY, PLAIN_STUDY], ids=["recorded-live", "imported"])
def test_complete_trials_reporting_from_epoch_zero_did_not_stop_early(project: Project, study_name: str) -> None:
    study = load_study(project, study_name)
    rows = {r["Run"].strip("*"): r for r in table(project.page(f"sweeps/{study_name}.md"), "Run")}
    complete = next(t for t in study.trials if t.state == TrialState.COMPLETE)
    page = project.page(f"runs/{project.trial_run_id(study_name, complete.number)}.md")
    seen: dict[str, object] = {
        f"trial {t.number} epochs, stopped early": (row["Epochs"], row["Stopped early"])
        for t in study.trials
        for row in [rows[f"[trial-{t.number:04d}](../runs/{project.trial_run_id(study_name, t.number)}.md)"]]
    }
    seen[f"trial {complete.number} page"] = header(page)["Epochs"]
    expected: dict[str, object] = {
        f"trial {t.number} epochs, stopped early": (
            str(len(t.intermediate_values)),
            "yes" if t.state == TrialState.PRUNED else "",
        )
        for t in study.trials
    }
    expected[f"trial {complete.number} page"] = f"E{EPOCHS:03d}/{EPOCHS:03d}"
    assert seen == expected


# -- the commands -------------------------------------------------------------------------


def test_build_exits_zero_and_check_passes_right_after(project: Project) -> None:
    seen = {label: project.done[label].returncode for label in ("build", "check", "check-no-cache")}
    assert seen == {"build": 0, "check": 0, "check-no-cache": 0}, {k: project.done[k].stderr for k in seen}
    assert project.done["build"].stdout.rstrip().endswith(", 0 problems")
    assert all("up to date" in project.done[label].stdout for label in ("check", "check-no-cache"))
