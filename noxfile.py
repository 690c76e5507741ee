"""Sessions: train the demo lab, build the site, run the tests and the linters."""

from __future__ import annotations

import os
import subprocess

import nox

nox.options.default_venv_backend = "virtualenv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["tests"]

CONSTRAINTS = ("-c", ".ci/constraints.txt")
TEST_GROUP = (
    "pytest>=8",
    "hypothesis>=6.100",
    "playwright>=1.45",
    "zensical",
    "omegaconf>=2.3",
    "pydantic>=2",
    "s3fs>=2024.2",  # the object store tests (tests/store) run against moto's S3 server on localhost
    "moto[server]>=5",
)
#: The package with every extra the integration tests drive (real frameworks and trackers, CPU
#: torch through the constraints); DVCLive has no extra (its reader needs nothing) but writes the test logs.
WITH_INTEGRATIONS = (".[torch,optuna,lightning,transformers,keras,tensorboard,mlflow,wandb,query]", "dvclive")
LAB_GROUP = ("scikit-learn>=1.4", "tqdm>=4.66")


def judged_at_last_commit() -> dict[str, str]:
    """SOURCE_DATE_EPOCH as the docs workflow sets it: the time of the last commit that changed
    runs/ or plans/ (none outside a git checkout: then the wall clock)."""
    done = subprocess.run(["git", "log", "-1", "--format=%ct", "--", "runs", "plans"], capture_output=True, text=True)
    epoch = done.stdout.strip() if done.returncode == 0 else ""
    return {"SOURCE_DATE_EPOCH": epoch} if epoch else {}


@nox.session
def train(session: nox.Session) -> None:
    """Train the demo lab into runs/ (CPU, a few minutes), keeping every run already recorded with
    the same settings and code; ``nox -s train -- --fresh`` trains every run again."""
    session.install(*CONSTRAINTS, "-e", ".[torch,optuna]", *LAB_GROUP)
    session.run("python", "-m", "demolab", "--runs", "runs", *session.posargs, env={"PYTHONPATH": "src"})


@nox.session
def docs(session: nox.Session) -> None:
    """Generate the pages from runs/ and build the site into site/ (mkdocs --strict)."""
    session.install(*CONSTRAINTS, "-e", ".")
    session.run("rundocs", "validate")
    session.run("rundocs", "build", env=judged_at_last_commit())
    session.run("mkdocs", "build", "--strict", env=judged_at_last_commit())


@nox.session
def zensical(session: nox.Session) -> None:
    """Build the same docs/ with Zensical, Material for MkDocs' successor, into site/."""
    session.install(*CONSTRAINTS, "-e", ".", "zensical")
    session.run("rundocs", "build")
    session.run("zensical", "build", "--clean")


@nox.session
def check(session: nox.Session) -> None:
    """Fail if runs/ breaks the format or the committed docs/ differ from what build writes."""
    session.install(*CONSTRAINTS, "-e", ".")
    session.run("rundocs", "validate")
    session.run("rundocs", "check", env=judged_at_last_commit())


@nox.session
def tests(session: nox.Session) -> None:
    """Check the project's own runs and docs (validate, check), then run the whole test suite."""
    session.install(*CONSTRAINTS, "-e", *WITH_INTEGRATIONS, *TEST_GROUP, *LAB_GROUP)
    session.run("rundocs", "validate")
    session.run("rundocs", "check", "--no-cache", env=judged_at_last_commit())
    session.run("pytest", *session.posargs)


@nox.session
def oracle(session: nox.Session) -> None:
    """The fuzz oracle (tests/oracle) with many more generated projects than the suite runs.

    ``RUNDOCS_ORACLE_EXAMPLES`` (default here 500) and ``RUNDOCS_ORACLE_SEED`` choose how many
    and which; the suite itself runs a few dozen from a fixed seed.
    """
    session.install(*CONSTRAINTS, "-e", ".", *TEST_GROUP)
    examples = os.environ.get("RUNDOCS_ORACLE_EXAMPLES") or "500"
    session.run(
        "pytest",
        "tests/oracle",
        "-p",
        "no:cacheprovider",
        *session.posargs,
        env={"RUNDOCS_ORACLE_EXAMPLES": examples, "RUNDOCS_ORACLE_SHRINK": "1"},
    )


@nox.session
def tests_core(session: nox.Session) -> None:
    """Run the tests that need no torch, in an environment without torch."""
    session.install(*CONSTRAINTS, "-e", ".[optuna,query]", *TEST_GROUP)
    session.run("pytest", "-m", "not torch", "--ignore=tests/torch", "--ignore=tests/lab", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff (lint and format) on everything, mypy --strict on src/rundocs."""
    session.install(
        *CONSTRAINTS,
        "-e",
        *WITH_INTEGRATIONS,
        "ruff>=0.6",
        "mypy>=1.11",
        "pandas-stubs",
        "types-pyyaml",
        "types-jsonschema",
        *LAB_GROUP,
    )
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy")


@nox.session
def screenshots(session: nox.Session) -> None:
    """Build the site and take the screenshots in docs/assets/screenshots (needs /usr/bin/chromium)."""
    session.install(*CONSTRAINTS, "-e", ".", "playwright>=1.45", "pillow>=10")
    session.run("rundocs", "build", env=judged_at_last_commit())
    session.run("mkdocs", "build", "--strict", env=judged_at_last_commit())
    session.run("python", "scripts/screenshots.py")
