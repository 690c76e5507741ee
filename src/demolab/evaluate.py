"""Evaluation: a trained run's checkpoint, loaded strictly, scored in and out of distribution."""

from __future__ import annotations

from dataclasses import dataclass, field

import rundocs
from demolab.data import DataConfig, load_data
from demolab.loops import measure
from demolab.models import build_model
from demolab.reuse import CODE_KEY, RunBook, planned_config
from rundocs.torch import load_checkpoint


@dataclass(frozen=True)
class EvalConfig:
    """Which checkpoint of the evaluated run, and the data whose test splits score it."""

    checkpoint: str = "best"
    data: DataConfig = field(default_factory=DataConfig)


def evaluate(train_run: str, config: EvalConfig, *, name: str, phase: str, book: RunBook) -> str:
    """Record an eval run of ``train_run``: ``test_*`` on the clean test split, ``ood_*`` on its shifted copy.

    The model is rebuilt from the architecture stored in the checkpoint; a checkpoint whose
    keys or shapes differ from that model is refused (``rundocs.CheckpointError``), and the
    eval run is recorded as failed. An eval run already recorded with this config and code,
    of a train run that was kept, is kept (``RunBook.keep``).
    """
    run_id = rundocs.Run.id_for(phase, name)
    settings = planned_config(config)
    if book.keep(run_id, settings, starts_from=[train_run]):
        return run_id
    digits = load_data(config.data)
    with rundocs.Run(
        name,
        id=run_id,
        kind="eval",
        phase=phase,
        evaluates=train_run,
        config=settings,
        bookkeeping=[CODE_KEY],
        dir=book.runs_dir,
    ) as run:
        model = load_checkpoint(book.checkpoint(train_run, config.checkpoint), build_model)
        test, ood = measure(model, digits.test), measure(model, digits.shifted_test)
        run.summary(test_acc=test.acc, test_loss=test.loss, ood_acc=ood.acc, ood_loss=ood.loss)
    assert run.id is not None
    return run.id
