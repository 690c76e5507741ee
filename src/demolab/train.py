"""Training: one recorded run of the digits CNN, with best and last checkpoints."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import torch
from tqdm import tqdm

import rundocs
from demolab.checkpoints import checkpoint_file
from demolab.data import DataConfig, load_data
from demolab.loops import measure, train_epoch
from demolab.models import build_model
from demolab.reuse import CODE_KEY, RunBook, planned_config
from rundocs.torch import load_checkpoint, save_checkpoint


@dataclass(frozen=True)
class TrainConfig:
    """Every setting of a training run; ``arch`` is the part that shapes the model."""

    channels: tuple[int, int] = (16, 32)
    hidden: int = 64
    num_classes: int = 10
    lr: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 0.0
    batch_size: int = 64
    epochs: int = 30
    seed: int = 0
    data: DataConfig = field(default_factory=DataConfig)
    #: Fit the clean splits, or their shifted (rotated, noisy) copies.
    train_on: Literal["clean", "shifted"] = "clean"
    #: Id of the run whose best checkpoint warm-starts the model (loaded strictly).
    init_from: str | None = None

    @property
    def arch(self) -> dict[str, Any]:
        return {"channels": list(self.channels), "hidden": self.hidden, "num_classes": self.num_classes}


def train(config: TrainConfig, *, name: str, phase: str, book: RunBook, sweep: str | None = None) -> str:
    """Train and record one run under its stable id; return the id.

    Logs train and validation scores every epoch, keeps ``best.pt`` (lowest validation
    loss) and ``last.pt``, and puts the best model's clean test scores in the summary. A run
    already recorded with this config and code is kept instead (``RunBook.keep``; a run
    warm-started from another only when that one was kept too); should a later run need its
    checkpoint and find none (checkpoints are not committed), it is trained again then.
    """
    run_id = rundocs.Run.id_for(phase, name)
    upstream = [config.init_from] if config.init_from is not None else []
    if book.keep(run_id, planned_config(config), starts_from=upstream):
        book.restorers[run_id] = lambda: record_training(config, run_id=run_id, name=name, phase=phase, book=book,
                                                         sweep=sweep)  # fmt: skip
        return run_id
    return record_training(config, run_id=run_id, name=name, phase=phase, book=book, sweep=sweep)


def record_training(
    config: TrainConfig, *, run_id: str, name: str, phase: str, book: RunBook, sweep: str | None
) -> str:
    """Train and record run ``run_id`` (``train`` without the keeping); return its id."""
    digits = load_data(config.data)
    fit, val = (digits.train, digits.val) if config.train_on == "clean" else (digits.shifted_train, digits.shifted_val)
    torch.manual_seed(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    with rundocs.Run(
        name,
        id=run_id,
        phase=phase,
        sweep=sweep,
        config=planned_config(config),
        bookkeeping=[CODE_KEY],
        epochs=config.epochs,
        dir=book.runs_dir,
    ) as run:
        model = build_model(config.arch)
        if config.init_from is not None:
            load_checkpoint(book.checkpoint(config.init_from), model, arch=config.arch)
        optimizer = torch.optim.SGD(
            model.parameters(), lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay
        )
        best_loss = float("inf")
        progress = tqdm(range(1, config.epochs + 1), desc=name, unit="epoch", disable=None, leave=False)
        for epoch in progress:
            fitted = train_epoch(model, optimizer, fit, config.batch_size, generator)
            scores = measure(model, val)
            run.log(epoch=epoch, train_loss=fitted.loss, train_acc=fitted.acc, val_loss=scores.loss, val_acc=scores.acc)
            progress.set_postfix(val_loss=f"{scores.loss:.3f}", val_acc=f"{scores.acc:.3f}")
            if epoch == 1 or scores.loss < best_loss:  # epoch 1 counts even when its loss is NaN
                best_loss = scores.loss
                save_checkpoint(model, checkpoint_file(run, "best"), run=run, arch=config.arch, epoch=epoch)
        save_checkpoint(model, checkpoint_file(run, "last"), run=run, arch=config.arch, epoch=config.epochs)
        load_checkpoint(checkpoint_file(run, "best"), model, arch=config.arch)
        test = measure(model, digits.test)
        run.summary(test_acc=test.acc, test_loss=test.loss)
    assert run.id is not None
    return run.id
