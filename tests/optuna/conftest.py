"""Fixtures of the Optuna tests."""

from __future__ import annotations

from collections.abc import Iterator

import optuna
import pytest


@pytest.fixture(autouse=True)
def quiet_optuna() -> Iterator[None]:
    """Optuna logs every trial (failed ones as warnings with a traceback); the tests look at files."""
    previous = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.CRITICAL)
    yield
    optuna.logging.set_verbosity(previous)
