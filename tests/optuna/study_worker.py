"""One worker process of a shared study: ``python study_worker.py JOURNAL RUNS_DIR N_TRIALS SEED``.

Each worker loads the study from the shared journal file and records its trials with
``RundocsCallback.track`` (and passes the recorder as a callback too, which must not add
copies). A quadratic with simulated epochs keeps every trial a few milliseconds long.
"""

from __future__ import annotations

import sys

import optuna
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend

import rundocs.optuna

STUDY = "quadratic"
EPOCHS = 6
FAILING_TRIAL = 5
FAILURE = f"deliberate failure in trial {FAILING_TRIAL}"


def objective(trial: optuna.Trial) -> float:
    """``(x - 1)^2 + 0.1 layers + 1/epoch``: a loss falling each epoch toward the quadratic."""
    x = trial.suggest_float("x", -4.0, 4.0)
    layers = trial.suggest_int("layers", 1, 3)
    optimizer = trial.suggest_categorical("optimizer", ["sgd", "adam"])
    value = float("inf")
    for epoch in range(1, EPOCHS + 1):
        value = (x - 1.0) ** 2 + 0.1 * layers + (0.5 if optimizer == "sgd" else 1.0) / epoch
        trial.report(value, epoch)
        if trial.number == FAILING_TRIAL and epoch == 1:  # before the pruner can stop it
            raise RuntimeError(FAILURE)
        if trial.should_prune():
            raise optuna.TrialPruned()
    return value


def main() -> None:
    journal, runs_dir, n_trials, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = optuna.load_study(
        study_name=STUDY,
        storage=JournalStorage(JournalFileBackend(journal)),
        sampler=optuna.samplers.RandomSampler(seed=seed),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=4, n_warmup_steps=1),
    )
    recorder = rundocs.optuna.RundocsCallback(
        runs_dir, metric="val_loss", epochs=EPOCHS, phase="search", config={"epochs": EPOCHS}
    )
    study.optimize(recorder.track(objective), n_trials=n_trials, callbacks=[recorder], catch=(RuntimeError,))


if __name__ == "__main__":
    main()
