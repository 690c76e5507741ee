"""Logged and summary values the reader would drop are dropped at record time, with a warning,
so every line and record loads strictly and keeps everything else."""

from __future__ import annotations

import math
import warnings
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import rundocs
from rundocs.record.fields import DOUBLE_LIMIT

#: The largest whole number a double holds: 2**1024 - 2**971, the last below ``DOUBLE_LIMIT``.
_LARGEST = 2**1024 - 2**971


def record(tmp_path: Path, **metrics: Any) -> tuple[rundocs.Run, list[str]]:
    """One run that logs ``metrics`` once; the messages of the recording warnings it gave."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with rundocs.Run("v", dir=tmp_path) as run:
            run.log(**metrics)
    return run, [_text(w) for w in caught if issubclass(w.category, rundocs.RecordingWarning)]


def _text(caught: warnings.WarningMessage) -> str:
    """A warning as the run's ``warnings`` list keeps it."""
    return str(caught.message).removeprefix("rundocs: ")


@pytest.mark.parametrize(
    ("metrics", "kept", "warned"),
    [
        ({"step": 2**64, "val_loss": 0.2}, {"val_loss": 0.2}, ["step must be"]),
        ({"step": 2**53 + 1, "val_loss": 0.2}, {"val_loss": 0.2}, ["step must be"]),
        ({"epoch": 2**60, "val_loss": 0.2}, {"val_loss": 0.2}, ["epoch must be"]),
        ({"epoch": 2.0**60, "step": 2**53, "val_loss": 0.2}, {"step": 2**53, "val_loss": 0.2}, ["epoch must be"]),
        ({"step": math.inf, "loss": 1.0}, {"loss": 1.0}, ["step must be"]),
        ({"step": -1, "epoch": np.int64(-1), "loss": 1.0}, {"loss": 1.0}, ["epoch must be", "step must be"]),
        ({"step": True, "loss": 1.0}, {"loss": 1.0}, ["step must be"]),
        ({"step": np.uint64(2**64 - 1), "n": np.uint64(2**64 - 1)}, {"n": 2.0**64}, ["step must be"]),
        ({"step": Decimal(7), "epoch": Fraction(6, 2), "loss": 1.0}, {"step": 7, "epoch": 3, "loss": 1.0}, []),
        ({"big": 10**400, "loss": 0.2}, {"loss": 0.2}, ["'big' got a number beyond"]),
        ({"big": -(10**400), "loss": 0.2}, {"loss": 0.2}, ["'big' got a number beyond"]),
        ({"big": DOUBLE_LIMIT, "top": _LARGEST}, {"top": float(_LARGEST)}, ["'big' got a number beyond"]),
        ({"d": Decimal("1e400"), "e": Decimal("0.5")}, {"e": 0.5}, ["'d' got a number beyond"]),
        ({"f": Fraction(10**400, 3), "third": Fraction(1, 3)}, {"third": 1 / 3}, ["'f' got a number beyond"]),
        ({"": 1.0, " ": 2.0, "ok": 3.0}, {"ok": 3.0}, ["blank name ''", "blank name ' '"]),
        ({"time": 5.0, "loss": 1.0}, {"loss": 1.0}, ["time= is for replaying a past run"]),
    ],
)
def test_a_value_the_reader_would_drop_is_dropped_with_one_warning(
    tmp_path: Path, metrics: dict[str, Any], kept: dict[str, float], warned: list[str]
) -> None:
    run, messages = record(tmp_path, **metrics)
    loaded = rundocs.load_runs(tmp_path, strict=True)
    history = loaded.history(run.id)
    assert set(history.columns) - {"run_id", "time"} == set(kept)
    assert {key: history[key].iloc[0] for key in kept} == kept
    assert len(messages) == len(warned)
    assert all(sum(part in message for message in messages) == 1 for part in warned)
    assert sorted(loaded.records[run.id].warnings) == sorted(messages)


def test_a_summary_value_the_reader_would_drop_is_dropped_with_one_warning(tmp_path: Path) -> None:
    with pytest.warns(rundocs.RecordingWarning) as caught, rundocs.Run("s", dir=tmp_path) as run:
        run.summary(n=10**400, m=Decimal("-1e400"), acc=0.9, third=Fraction(1, 3), **{"": 1.0, "\t": 2.0})
    record = rundocs.load_runs(tmp_path, strict=True).records[run.id]
    assert record.summary == {"acc": 0.9, "third": 1 / 3}
    assert len(caught) == 4 and sorted(record.warnings) == sorted(map(_text, caught))


def test_values_whose_text_cannot_be_made_never_stop_the_run(tmp_path: Path) -> None:
    """``repr`` of an int of more than 4300 digits raises; so may a user's own ``__repr__``."""

    class Opaque:
        def __repr__(self) -> str:
            raise RuntimeError("no text")

    huge = 10**5000
    with pytest.warns(rundocs.RecordingWarning), rundocs.Run("h", epochs=huge, dir=tmp_path) as run:
        run.log(epoch=huge, step=Opaque(), x=huge, y=Opaque(), z=1.0)
        run.summary(x=huge, y=Opaque(), z=1.0)
    loaded = rundocs.load_runs(tmp_path, strict=True)
    assert loaded.history(run.id)["z"].tolist() == [1.0]
    assert loaded.records[run.id].summary == {"z": 1.0}
    assert loaded.records[run.id].epochs is None


def test_a_summary_holds_texts_and_booleans_beside_numbers(tmp_path: Path) -> None:
    """A note, a commit, a data version: recorded as they are, read back, shown on the run page."""
    from rundocs.render.pages import SiteOptions, render_site

    with rundocs.Run(dir=tmp_path, id="r") as run:
        run.log(epoch=1, val_loss=0.5)
        run.summary(test_acc=0.9, commit="3f2a1c9", data="v2 | <b>", converged=True, flaky=np.bool_(False))
    loaded = rundocs.load_runs(tmp_path, strict=True)
    record = loaded.records["r"]
    assert record.summary == {"test_acc": 0.9}
    assert record.summary_text == {"commit": "3f2a1c9", "data": "v2 | <b>", "converged": True, "flaky": False}
    page = render_site(loaded, SiteOptions()).files["runs/r.md"].decode()
    assert "| commit (summary) | — | — | 3f2a1c9 | — |" in page and "| converged (summary) | — | — | yes | — |" in page
    assert "| data (summary) | — | — | v2 \\| &lt;b&gt; | — |" in page
