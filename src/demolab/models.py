"""The lab's model: a small CNN whose backbone channels are its capacity knob."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn


class DigitsCNN(nn.Module):
    """Two 3x3 conv blocks (the backbone), 2x2 max-pooling, then a linear classifier."""

    def __init__(self, channels: Sequence[int], hidden: int, num_classes: int) -> None:
        super().__init__()
        first, second = channels
        self.backbone = nn.Sequential(
            nn.Conv2d(1, first, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(first, second, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.head = nn.Sequential(
            nn.Flatten(), nn.Linear(second * 16, hidden), nn.ReLU(), nn.Linear(hidden, num_classes)
        )

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.backbone(images))


def build_model(arch: Mapping[str, Any]) -> DigitsCNN:
    """A fresh model from an architecture config (the ``arch`` stored with a checkpoint)."""
    return DigitsCNN(channels=arch["channels"], hidden=arch["hidden"], num_classes=arch["num_classes"])
