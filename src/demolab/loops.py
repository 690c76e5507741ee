"""One pass over a split: a training epoch, or a measurement without gradients."""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from demolab.data import Split


class Scores(NamedTuple):
    """Mean cross-entropy and accuracy over a split."""

    loss: float
    acc: float


def train_epoch(
    model: nn.Module, optimizer: torch.optim.Optimizer, split: Split, batch_size: int, generator: torch.Generator
) -> Scores:
    """One epoch of minibatch training in a seeded random order; returns the running scores."""
    model.train()
    order = torch.randperm(len(split), generator=generator)
    total_loss, correct = 0.0, 0
    for start in range(0, len(split), batch_size):
        index = order[start : start + batch_size]
        logits = model(split.images[index])
        loss = nn.functional.cross_entropy(logits, split.labels[index])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total_loss += loss.item() * len(index)
        correct += int((logits.argmax(1) == split.labels[index]).sum())
    return Scores(total_loss / len(split), correct / len(split))


@torch.no_grad()
def measure(model: nn.Module, split: Split) -> Scores:
    """Loss and accuracy of ``model`` on a whole split, in evaluation mode."""
    model.eval()
    logits = model(split.images)
    loss = nn.functional.cross_entropy(logits, split.labels).item()
    return Scores(loss, (logits.argmax(1) == split.labels).float().mean().item())
