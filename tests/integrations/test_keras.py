"""``RundocsCallback`` for Keras 3 on the torch backend: a real ``model.fit`` on CPU, and the run
says what Keras's own ``History`` says."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

# Keras reads its backend once, on first import: torch, the one the extra installs.
os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")
np = pytest.importorskip("numpy")

from rundocs.formatting import format_number  # noqa: E402
from rundocs.integrations.keras import RundocsCallback  # noqa: E402
from rundocs.integrations.recorder import UNFINISHED  # noqa: E402
from tests.integrations.helpers import lines, only_run, run_page  # noqa: E402

pytestmark = [
    pytest.mark.torch,
    # Keras's torch backend converts tensors with np.array(tensor, copy=False), which NumPy 2 warns about.
    pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"),
]

CAUGHT_CRASH_SCRIPT = """
import sys

import rundocs.integrations.keras  # first: it picks the backend Keras has none for
import keras
import numpy as np

from rundocs.integrations.keras import RundocsCallback


class Exploding(keras.layers.Layer):
    calls = 0

    def call(self, x, training=False):
        if training:
            Exploding.calls += 1
            if Exploding.calls == 6:
                raise ValueError("activations exploded at step 6")
        return x


print(keras.backend.backend(), flush=True)
x = np.random.default_rng(0).normal(size=(64, 4)).astype("float32")
model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8), Exploding(), keras.layers.Dense(1)])
model.compile(optimizer="sgd", loss="mse")
callback = RundocsCallback(dir=sys.argv[1])
try:
    model.fit(x, x.sum(1, keepdims=True), epochs=3, batch_size=16, verbose=0, callbacks=[callback])
except ValueError:
    pass  # the program carries on, and ends normally
"""


def compiled_model() -> Any:
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss=keras.losses.MeanSquaredError(), metrics=["mae"])
    return model


def data() -> tuple[Any, Any]:
    x = np.random.default_rng(0).normal(size=(96, 4)).astype("float32")
    return x, x.sum(1, keepdims=True)


def test_a_fit_records_the_history_by_epoch_counted_from_one(tmp_dir: Path) -> None:
    x, y = data()
    model, callback = compiled_model(), RundocsCallback("mlp", dir="runs", config={"data": "sum4"})
    history = model.fit(x[:64], y[:64], validation_data=(x[64:], y[64:]), epochs=3, batch_size=16, verbose=0,
                        callbacks=[callback])  # fmt: skip
    test = model.evaluate(x[64:], y[64:], verbose=0, callbacks=[callback], return_dict=True)

    runs, record = only_run(tmp_dir / "runs")
    assert record.status == "completed" and record.error is None and record.name == "mlp"
    assert record.epochs == 3
    assert record.config["data"] == "sum4" and record.config["loss"] == "mean_squared_error"
    assert record.config["model"] == {"class": "Sequential", "parameters": 49}
    assert record.config["optimizer"]["name"] == "sgd"
    assert record.config["optimizer"]["learning_rate"] == pytest.approx(0.05)
    expected = [
        {"epoch": epoch + 1, **{name: values[index] for name, values in history.history.items()}}
        for index, epoch in enumerate(history.epoch)
    ]
    assert lines(runs, record.id) == expected
    assert record.summary == {f"test_{name}": value for name, value in test.items()}

    page = run_page(runs, record.id)
    assert "| E003/003 |" in page
    assert "| Metric | Best | At epoch | Latest | At epoch |" in page
    assert f"| val\\_loss | {format_number(min(history.history['val_loss']))} | 3 |" in page


def test_early_stopping_ends_the_run_completed_before_its_planned_epochs(tmp_dir: Path) -> None:
    x, y = data()
    stop = keras.callbacks.EarlyStopping(monitor="loss", min_delta=100.0, patience=0)  # no epoch improves enough
    history = compiled_model().fit(
        x, y, epochs=10, batch_size=16, verbose=0, callbacks=[stop, RundocsCallback(dir="runs")]
    )

    runs, record = only_run(tmp_dir / "runs")
    assert history.epoch == [0, 1] and record.status == "completed" and record.epochs == 10
    assert [line["epoch"] for line in lines(runs, record.id)] == [1, 2]
    assert "| E002/010 |" in run_page(runs, record.id)


def test_a_crash_the_program_caught_ends_the_run_failed_at_exit(tmp_dir: Path, child_env: dict[str, str]) -> None:
    """Keras tells callbacks nothing of the exception, and here it never reaches the top: when the
    program ends, the run whose fit never reached its end is failed, not completed."""
    script = tmp_dir / "train.py"
    script.write_text(CAUGHT_CRASH_SCRIPT)
    env = {key: value for key, value in child_env.items() if key != "KERAS_BACKEND"}
    done = subprocess.run([sys.executable, str(script), "runs"], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["torch" if importlib.util.find_spec("tensorflow") is None else "tensorflow"]

    runs, record = only_run(tmp_dir / "runs")
    assert record.status == "failed"
    assert record.error is not None and record.error.message == UNFINISHED
    assert [line["epoch"] for line in lines(runs, record.id)] == [1]  # the crash came in epoch 2
