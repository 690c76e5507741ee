"""Evaluation: a trained run's checkpoint, loaded strictly, scored in and out of distribution."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import rundocs
from demolab.checkpoints import find_checkpoint
from demolab.data import DataConfig, load_data
from demolab.loops import measure
from demolab.models import build_model
from rundocs.torch import load_checkpoint


@dataclass(frozen=True)
class EvalConfig:
    """Which checkpoint of the evaluated run, and the data whose test splits score it."""

    checkpoint: str = "best"
    data: DataConfig = field(default_factory=DataConfig)


def evaluate(train_run: str, config: EvalConfig, *, name: str, phase: str, runs_dir: Path) -> str:
    """Record an eval run of ``train_run``: ``test_*`` on the clean test split, ``ood_*`` on its shifted copy.

    The model is rebuilt from the architecture stored in the checkpoint; a checkpoint whose
    keys or shapes differ from that model is refused (``rundocs.CheckpointError``), and the
    eval run is recorded as failed.
    """
    digits = load_data(config.data)
    with rundocs.Run(name, kind="eval", phase=phase, evaluates=train_run, config=asdict(config), dir=runs_dir) as run:
        model = load_checkpoint(find_checkpoint(runs_dir, train_run, config.checkpoint), build_model)
        test, ood = measure(model, digits.test), measure(model, digits.shifted_test)
        run.summary(test_acc=test.acc, test_loss=test.loss, ood_acc=ood.acc, ood_loss=ood.loss)
    assert run.id is not None
    return run.id
