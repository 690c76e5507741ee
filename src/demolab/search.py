"""Search: an Optuna study over backbone width and learning rate, every trial a recorded run.

Twelve trials of ten epochs each on the clean splits (TPE, seeded; a median pruner stops weak
trials early). Each trial is a run of the ``width-lr-search`` sweep in the ``search`` phase,
recorded live by ``rundocs.optuna.RundocsCallback``; pruned trials are completed runs tagged
``pruned``. The study itself lives in memory: the run folders are the record. Each trial
depends on the ones before it, so a rerun keeps the whole search (every trial recorded,
completed, with these settings and code) or runs it all again; its trials get new ids then
(``RundocsCallback`` names their folders).
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import optuna
import torch

from demolab.data import load_data
from demolab.loops import measure, train_epoch
from demolab.models import build_model
from demolab.phases import LabConfig
from demolab.reuse import RunBook, planned_config
from demolab.train import TrainConfig
from rundocs import current_run
from rundocs.load.records import RunRecord
from rundocs.optuna import RundocsCallback
from rundocs.optuna.trials import trial_name

SWEEP = "width-lr-search"
PHASE = "search"
TRIALS = 12
EPOCHS = 10
#: Channels of the first conv block; the second has twice as many.
WIDTHS = (4, 8, 16)
LR_RANGE = (0.01, 0.5)


def run_search(lab: LabConfig, n_trials: int = TRIALS, book: RunBook | None = None) -> list[str]:
    """Run the search (at most ``lab.epochs`` epochs per trial); return the ids of its runs."""
    book = book if book is not None else RunBook(lab.runs_dir)
    base = TrainConfig(epochs=min(EPOCHS, lab.epochs), data=lab.data)
    shared = {k: v for k, v in planned_config(base).items() if k not in ("channels", "lr", "init_from", "train_on")}
    recorded = [record for record in book.recorded([PHASE]) if record.sweep == SWEEP]
    if not book.fresh and _same_search(recorded, shared, n_trials):
        ids = [record.id for record in sorted(recorded, key=lambda record: record.name)]
        book.kept.update(ids)
        book.ids.extend(ids)
        return ids
    for record in recorded:
        book.remove(record.id)
    recorder = RundocsCallback(
        book.runs_dir,
        metric="val_loss",
        epochs=base.epochs,
        phase=PHASE,
        sweep=SWEEP,
        config=shared,
        log_reports=False,  # logged with the epoch's other metrics, in one line
    )
    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # the runs are the record, not Optuna's log
    try:
        study = optuna.create_study(
            study_name=SWEEP,
            direction="minimize",
            sampler=optuna.samplers.TPESampler(seed=0),
            pruner=optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=3),
        )
        study.optimize(recorder.track(lambda trial: _objective(trial, base)), n_trials=n_trials)
    finally:
        optuna.logging.set_verbosity(verbosity)
    book.ids.extend(recorder.run_ids)
    return recorder.run_ids


def _same_search(recorded: list[RunRecord], shared: dict[str, Any], n_trials: int) -> bool:
    """Whether ``recorded`` is a whole search of ``n_trials`` trials, each completed with the shared settings."""
    names = sorted(record.name for record in recorded)
    return names == [trial_name(number) for number in range(n_trials)] and all(
        record.status == "completed" and {key: record.config.get(key) for key in shared} == shared
        for record in recorded
    )


def _objective(trial: optuna.Trial, base: TrainConfig) -> float:
    """Train one suggested configuration; report the validation loss each epoch; return its best."""
    width = trial.suggest_categorical("width", WIDTHS)
    lr = trial.suggest_float("lr", *LR_RANGE, log=True)
    config = replace(base, channels=(width, 2 * width), lr=lr)
    digits = load_data(config.data)
    torch.manual_seed(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    model = build_model(config.arch)
    optimizer = torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum)
    run = current_run()
    best = math.inf
    for epoch in range(1, config.epochs + 1):
        fitted = train_epoch(model, optimizer, digits.train, config.batch_size, generator)
        scores = measure(model, digits.val)
        if run is not None:
            run.log(epoch=epoch, train_loss=fitted.loss, train_acc=fitted.acc, val_loss=scores.loss, val_acc=scores.acc)
        trial.report(scores.loss, epoch)
        best = min(best, scores.loss) if math.isfinite(scores.loss) else best
        if trial.should_prune():
            raise optuna.TrialPruned()
    return best
