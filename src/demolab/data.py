"""The lab's data: scikit-learn's bundled 8x8 digits, split by seed, plus a shifted copy.

Nothing is downloaded: ``load_digits`` ships inside scikit-learn. The shifted set (rotation
and pixel noise, both drawn from a seeded generator) stands in for out-of-distribution data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

import numpy as np
import torch
from scipy.ndimage import rotate
from sklearn.datasets import load_digits

#: Pixel values of ``load_digits`` run from 0 to 16.
_PIXEL_MAX = 16.0


@dataclass(frozen=True)
class ShiftConfig:
    """How the out-of-distribution copy differs: a random rotation plus Gaussian pixel noise."""

    max_angle: float = 35.0
    min_angle: float = 15.0
    noise: float = 0.2
    seed: int = 1234


@dataclass(frozen=True)
class DataConfig:
    """Which samples go where: the split seed and fractions, a size limit, and the shift."""

    seed: int = 0
    val_fraction: float = 0.2
    test_fraction: float = 0.2
    limit: int | None = None
    shift: ShiftConfig = field(default_factory=ShiftConfig)


@dataclass(frozen=True)
class Split:
    """Images ``(n, 1, 8, 8)`` scaled to [0, 1] and their labels."""

    images: torch.Tensor
    labels: torch.Tensor

    def __len__(self) -> int:
        return len(self.labels)


@dataclass(frozen=True)
class Digits:
    """The fixed splits of one lab: clean train/val/test and their shifted copies."""

    train: Split
    val: Split
    test: Split
    shifted_train: Split
    shifted_val: Split
    shifted_test: Split


@cache
def load_data(config: DataConfig) -> Digits:
    """Split the digits by ``config.seed`` and shift each split with its own noise draw.

    ``config.limit`` keeps only the first ``limit`` samples of the shuffled set (quick runs).
    Cached: every run of a lab shares the same tensors, which training never modifies.
    """
    bunch = load_digits()
    images = np.asarray(bunch.images, dtype=np.float32) / _PIXEL_MAX
    labels = np.asarray(bunch.target, dtype=np.int64)
    order = np.random.default_rng(config.seed).permutation(len(labels))[: config.limit]
    n_val, n_test = round(len(order) * config.val_fraction), round(len(order) * config.test_fraction)
    parts = {"test": order[:n_test], "val": order[n_test : n_test + n_val], "train": order[n_test + n_val :]}
    clean = {name: _to_split(images[index], labels[index]) for name, index in parts.items()}
    shifted = {
        name: _to_split(shift_images(images[index], config.shift, offset), labels[index])
        for offset, (name, index) in enumerate(parts.items())
    }
    return Digits(
        train=clean["train"],
        val=clean["val"],
        test=clean["test"],
        shifted_train=shifted["train"],
        shifted_val=shifted["val"],
        shifted_test=shifted["test"],
    )


def shift_images(images: np.ndarray, shift: ShiftConfig, offset: int = 0) -> np.ndarray:
    """Rotate each image by a random angle (either sign) and add clipped Gaussian noise.

    ``offset`` is added to the seed, so each split gets its own but reproducible draw.
    """
    rng = np.random.default_rng(shift.seed + offset)
    angles = rng.uniform(shift.min_angle, shift.max_angle, len(images)) * rng.choice([-1.0, 1.0], len(images))
    pairs = zip(images, angles, strict=True)
    rotated = np.stack([rotate(image, angle, reshape=False, order=1, mode="constant") for image, angle in pairs])
    noisy = rotated + rng.normal(0.0, shift.noise, rotated.shape)
    return np.clip(noisy, 0.0, 1.0).astype(np.float32)


def _to_split(images: np.ndarray, labels: np.ndarray) -> Split:
    return Split(torch.from_numpy(images).unsqueeze(1), torch.from_numpy(labels))
