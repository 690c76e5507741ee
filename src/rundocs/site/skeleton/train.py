"""Example training script: a logistic regression on generated data, recorded with rundocs.

Replace the model and the data with yours and keep the ``rundocs.Run`` lines: each run writes
``runs/<id>/`` (``run.json``, ``metrics.jsonl``), and ``rundocs build`` turns ``runs/`` into
pages in ``docs/``. Four runs (two learning rates, two seeds) take about a second on a CPU.
"""

from __future__ import annotations

import numpy as np

import rundocs

EPOCHS = 10
FEATURES = 8


def make_data(seed: int = 0) -> tuple[np.ndarray, ...]:
    """800 points in FEATURES dimensions, labelled by a noisy linear rule: 600 to train, 200 to validate."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(800, FEATURES))
    y = (x @ rng.normal(size=FEATURES) + rng.normal(scale=0.8, size=800) > 0).astype(float)
    return x[:600], y[:600], x[600:], y[600:]


def evaluate(w: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Cross-entropy loss and accuracy of the weights ``w`` on ``(x, y)``."""
    p = np.clip(1 / (1 + np.exp(-(x @ w))), 1e-7, 1 - 1e-7)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))), float(np.mean((p > 0.5) == y))


def train(lr: float, seed: int) -> None:
    """Mini-batch SGD for EPOCHS epochs, logging every epoch (counted from 1)."""
    x, y, x_val, y_val = make_data()
    rng = np.random.default_rng(seed)
    config = {"lr": lr, "seed": seed, "batch_size": 32, "epochs": EPOCHS}
    with rundocs.Run(f"lr{lr}_s{seed}", phase="baseline", sweep="lr", config=config, epochs=EPOCHS) as run:
        w = rng.normal(scale=0.1, size=FEATURES)
        for epoch in range(1, EPOCHS + 1):
            for batch in np.array_split(rng.permutation(len(x)), len(x) // 32):
                p = 1 / (1 + np.exp(-(x[batch] @ w)))
                w -= lr * x[batch].T @ (p - y[batch]) / len(batch)
            train_loss, _ = evaluate(w, x, y)
            val_loss, val_acc = evaluate(w, x_val, y_val)
            run.log(epoch=epoch, train_loss=train_loss, val_loss=val_loss, val_acc=val_acc)


if __name__ == "__main__":
    for lr in (0.03, 0.3):
        for seed in (0, 1):
            train(lr, seed)
