"""Keras 3 (``pip install 'rundocs[keras]'``, torch as the backend): ``RundocsCallback`` records ``model.fit``.

Keras picks its backend once, when it is first imported: from ``KERAS_BACKEND``, else from
``~/.keras/keras.json``, else TensorFlow. When nothing chose one yet (``KERAS_BACKEND`` unset,
Keras not imported) and TensorFlow is not installed, importing this module first sets
``KERAS_BACKEND=torch``, the backend the extra installs. The callback itself works with any backend.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Iterable, Mapping
from typing import Any

from rundocs.integrations.recorder import Recorder

#: The variable Keras reads its backend from.
KERAS_BACKEND = "KERAS_BACKEND"

if "keras" not in sys.modules and not os.environ.get(KERAS_BACKEND) and importlib.util.find_spec("tensorflow") is None:
    os.environ[KERAS_BACKEND] = "torch"

try:
    import keras
except ImportError as error:  # pragma: no cover - exercised only without the extra
    from rundocs.exceptions import MissingDependencyError

    raise MissingDependencyError("keras", "keras") from error

__all__ = ["RundocsCallback"]


class RundocsCallback(keras.callbacks.Callback):  # type: ignore[misc]  # Keras has no type hints
    """A Keras callback that records each ``model.fit`` as a run in ``<dir>/<id>/``.

    Usage::

        callback = RundocsCallback("mlp", phase="baseline", config={"data": "blobs"})
        model.fit(x, y, epochs=20, validation_split=0.2, callbacks=[callback])
        model.evaluate(x_test, y_test, callbacks=[callback])  # the run's summary: test_loss, ...

    Each epoch's logs (``loss``, ``val_loss``, metrics) are one line with the epoch counted from
    1, as Keras prints it (``Epoch 3/20``) and names checkpoints; a fit resumed with
    ``initial_epoch`` goes on counting. The run ends ``completed`` with ``on_train_end``, also
    when ``EarlyStopping`` stopped training. Keras tells callbacks nothing of an exception: an
    uncaught one is recorded when the program ends (``failed`` with it), and a fit that never
    reached its end is ``failed`` by then anyway. ``model.evaluate(..., callbacks=[callback])``
    after ``fit`` adds its values to the summary, named ``test_<name>`` as ``fit`` names
    validation values ``val_<name>``.

    Args:
        name: Human name of the run; defaults to its id.
        phase: Phase the run belongs to.
        sweep: Sweep the run belongs to.
        config: Settings of the run; ``model`` (class, number of parameters), ``optimizer`` (its
            config) and ``loss`` (its name) are added.
        epochs: Planned epochs; defaults to ``fit``'s ``epochs``.
        tags: Free labels.
        id: Folder name of the run; by default a new time-sorted id.
        dir: Runs folder; defaults to ``$RUNDOCS_DIR`` or ``runs``.
        options: Any other ``rundocs.Run`` argument (``kind``, ``restarts``, ``resume``...).
    """

    def __init__(
        self,
        name: str | None = None,
        *,
        phase: str | None = None,
        sweep: str | None = None,
        config: Mapping[str, Any] | Any = None,
        epochs: int | None = None,
        tags: Iterable[str] = (),
        id: str | None = None,  # noqa: A002 - as in rundocs.Run
        dir: str | os.PathLike[str] | None = None,  # noqa: A002
        **options: Any,
    ) -> None:
        super().__init__()
        arguments = {"name": name, "phase": phase, "sweep": sweep, "tags": tags, "id": id, "dir": dir}
        self.recorder = Recorder(config, epochs, {**arguments, **options})

    def on_train_begin(self, logs: Mapping[str, Any] | None = None) -> None:
        self.recorder.settings = _settings(self.model)
        self.recorder.start(epochs=self.params.get("epochs"))

    def on_epoch_end(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        run = self.recorder.live
        if run is not None:
            run.log(epoch=epoch + 1, **(logs or {}))

    def on_train_end(self, logs: Mapping[str, Any] | None = None) -> None:
        self.recorder.end()

    def on_test_end(self, logs: Mapping[str, Any] | None = None) -> None:
        """Values of ``evaluate`` after ``fit``; during ``fit``, validation arrives with the epoch's logs."""
        if self.recorder.live is None and logs:
            self.recorder.summary({f"test_{key}": value for key, value in logs.items()})


def _settings(model: Any) -> dict[str, Any]:
    """What the compiled model says of itself: class, size, optimizer and loss.

    Not its name: Keras numbers the names of unnamed models (``sequential_2``), which would make
    runs of one program differ in a setting nobody chose.
    """
    settings: dict[str, Any] = {"model": {"class": type(model).__name__}}
    if model.built:
        settings["model"]["parameters"] = model.count_params()
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None:
        settings["optimizer"] = optimizer.get_config()
    if getattr(model, "loss", None) is not None:
        settings["loss"] = _loss_name(model.loss)
    return settings


def _loss_name(loss: Any) -> Any:
    """``"mse"``, a loss object's or function's name, or those of each output's loss."""
    if isinstance(loss, str):
        return loss
    if isinstance(loss, Mapping):
        return {key: _loss_name(value) for key, value in loss.items()}
    if isinstance(loss, list | tuple):
        return [_loss_name(value) for value in loss]
    return getattr(loss, "name", None) or getattr(loss, "__name__", None) or type(loss).__name__
