"""What a metric name says: its split (``val`` in ``val_loss``) and which direction is better."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Literal, NamedTuple

Direction = Literal["min", "max"]

SPLITS = ("train", "val", "valid", "validation", "test", "ood", "eval", "dev", "holdout")
LOWER_IS_BETTER = frozenset(
    {"loss", "error", "err", "lsd", "dtw", "mse", "mae", "rmse", "nll", "perplexity", "ppl", "wer", "cer", "fid"}
)
HIGHER_IS_BETTER = frozenset(
    {"acc", "accuracy", "auroc", "auc", "ssim", "cosine", "f1", "precision", "recall", "iou", "dice", "psnr"}
    | {"bleu", "r2", "map", "top1", "top5"}
)

_SEPARATORS = re.compile(r"[_/-]")


class MetricName(NamedTuple):
    name: str
    split: str | None
    base: str
    direction: Direction | None


def parse_metric_name(name: str, overrides: Mapping[str, Direction] | None = None) -> MetricName:
    """``val_loss`` -> split ``val``, base ``loss``, direction ``min``. Words are separated by
    ``_``, ``/`` or ``-`` (``val/loss`` as DVCLive writes it, ``Loss/val`` as TensorBoard users do).

    The direction comes from ``overrides`` (by full name, then by base), else from the name's
    words: loss, error, lsd, dtw... lower is better; acc, auroc, ssim, cosine... higher. A name
    with no known word has no direction, and no best value is claimed for it.
    """
    head, _, rest = _SEPARATORS.sub("_", name).partition("_")
    rest = name[len(head) + 1 :]
    split, base = (head, rest) if head in SPLITS and rest else (None, name)
    overrides = overrides or {}
    direction = overrides.get(name) or overrides.get(base) or _direction_from_words(base)
    return MetricName(name, split, base, direction)


def _direction_from_words(base: str) -> Direction | None:
    words = _SEPARATORS.split(base.lower())
    for word in reversed(words):  # the last word decides: loss_acc is an accuracy
        if word in LOWER_IS_BETTER:
            return "min"
        if word in HIGHER_IS_BETTER:
            return "max"
    return None
