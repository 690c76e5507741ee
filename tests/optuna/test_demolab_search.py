"""The demo lab's Optuna search, shortened: every trial a run of the search sweep, one line per epoch."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import rundocs

torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")

from demolab.phases import LabConfig  # noqa: E402 - needs torch
from demolab.search import PHASE, SWEEP, run_search  # noqa: E402
from tests.optuna.helpers import trial_number  # noqa: E402

pytestmark = pytest.mark.torch


@pytest.fixture
def one_thread() -> Iterator[None]:
    """As ``python -m demolab`` does; the tiny convolutions run faster on one thread."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_the_search_records_each_trial(tmp_dir: Path, one_thread: None) -> None:
    ids = run_search(LabConfig.quick(Path("runs")), n_trials=4)
    runs = rundocs.load_runs("runs", strict=True)
    assert sorted(ids) == sorted(runs.records)
    records = sorted(runs.records.values(), key=trial_number)
    assert [record.name for record in records] == ["trial-0000", "trial-0001", "trial-0002", "trial-0003"]
    for record in records:
        assert (record.sweep, record.phase, record.status, record.epochs) == (SWEEP, PHASE, "completed", 2)
        assert {"width", "lr", "batch_size", "momentum"} <= set(record.config)
        history = runs.history(record.id)
        assert history["epoch"].tolist() == [1, 2]  # one line per epoch: the report is not logged twice
        assert record.summary["val_loss"] == history["val_loss"].min()
