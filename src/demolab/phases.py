"""The lab's three phases, run in order: each trains (and evaluates) its set of runs.

``lr-sweep``: three learning rates x three seeds. ``capacity``: a large and a small backbone,
each evaluated on the clean and the shifted test split. ``finetune``: the large model,
warm-started from its best checkpoint and fine-tuned on the shifted data, then evaluated.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from demolab.data import DataConfig
from demolab.evaluate import EvalConfig, evaluate
from demolab.reuse import RunBook
from demolab.train import TrainConfig, train

LEARNING_RATES = (0.01, 0.1, 0.3)
SEEDS = (0, 1, 2)
#: Backbone channels per size; everything else is held fixed.
BACKBONES = {"large": (16, 32), "small": (4, 8)}
FINETUNE_LR = 0.01


@dataclass(frozen=True)
class LabConfig:
    """Where runs go and how long they train; ``quick`` shrinks both for tests."""

    runs_dir: Path
    epochs: int = 30
    finetune_epochs: int = 10
    data: DataConfig = field(default_factory=DataConfig)

    @classmethod
    def quick(cls, runs_dir: Path) -> LabConfig:
        """Two epochs on 500 samples: every phase and run, in seconds."""
        return cls(runs_dir, epochs=2, finetune_epochs=2, data=DataConfig(limit=500))


#: The lab's phases, in the order they run.
PHASES = ("lr-sweep", "capacity", "finetune", "search")


def run_lab(lab: LabConfig, book: RunBook) -> dict[str, list[str]]:
    """Run every phase but the search in order; return the ids of the runs each kept or recorded."""
    sweep = run_lr_sweep(lab, book)
    capacity = run_capacity(lab, book)
    finetune = run_finetune(lab, book, init_from=capacity[0])  # the large backbone's train run
    return {"lr-sweep": sweep, "capacity": capacity, "finetune": finetune}


def run_lr_sweep(lab: LabConfig, book: RunBook) -> list[str]:
    """Train the large backbone at every learning rate with every seed."""
    base = TrainConfig(channels=BACKBONES["large"], epochs=lab.epochs, data=lab.data)
    return [
        train(
            replace(base, lr=lr, seed=seed),
            name=f"lr{lr:g}_s{seed}",
            phase="lr-sweep",
            sweep="lr",
            book=book,
        )
        for lr in LEARNING_RATES
        for seed in SEEDS
    ]


def run_capacity(lab: LabConfig, book: RunBook) -> list[str]:
    """Train each backbone at the default learning rate, then evaluate it; large first."""
    ids = []
    for size, channels in BACKBONES.items():
        config = TrainConfig(channels=channels, epochs=lab.epochs, data=lab.data)
        name = f"{size}_s{config.seed}"
        trained = train(config, name=name, phase="capacity", sweep="backbone", book=book)
        ids.append(trained)
        ids.append(evaluate(trained, EvalConfig(data=lab.data), name=f"eval_{size}", phase="capacity", book=book))
    return ids


def run_finetune(lab: LabConfig, book: RunBook, init_from: str) -> list[str]:
    """Fine-tune run ``init_from`` (the large backbone) on the shifted splits, then evaluate it."""
    config = TrainConfig(
        channels=BACKBONES["large"],
        lr=FINETUNE_LR,
        epochs=lab.finetune_epochs,
        data=lab.data,
        train_on="shifted",
        init_from=init_from,
    )
    tuned = train(config, name="finetune_large_shifted", phase="finetune", book=book)
    evaluated = evaluate(tuned, EvalConfig(data=lab.data), name="eval_finetune", phase="finetune", book=book)
    return [tuned, evaluated]
