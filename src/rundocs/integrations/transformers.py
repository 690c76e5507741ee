"""Hugging Face transformers (``pip install 'rundocs[transformers]'``): ``RundocsCallback`` records a ``Trainer``'s run.

The training arguments and the model's config become the run's config, every ``Trainer.log``
a metrics line at its global step, and training's closing totals (``train_runtime``,
``train_loss``...) and any evaluation after training the summary.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any

try:
    from transformers import TrainerCallback, TrainerControl, TrainerState, TrainingArguments
    from transformers.trainer_utils import IntervalStrategy
except ImportError as error:  # pragma: no cover - exercised only without the extra
    from rundocs.exceptions import MissingDependencyError

    raise MissingDependencyError("transformers", "transformers") from error

from rundocs.integrations.recorder import Recorder

__all__ = ["RundocsCallback"]

#: The key of the totals ``Trainer.train`` logs once, after its last step.
_CLOSING_KEY = "train_runtime"


#: ``TrainingArguments`` that say where and how a run was logged, not what it tried: never a
#: sweep dimension (``Run(bookkeeping=...)``); the callback's own ``bookkeeping`` adds to them.
TRAINER_BOOKKEEPING = (
    "args.output_dir",
    "args.logging_*",
    "args.save_*",
    "args.eval_steps",
    "args.report_to",
    "args.run_name",
    "args.hub_*",
    "args.push_to_hub",
    "args.overwrite_output_dir",
    "args.disable_tqdm",
    "args.dataloader_num_workers",
)


class RundocsCallback(TrainerCallback):
    """A ``TrainerCallback`` that records each ``trainer.train()`` as a run in ``<dir>/<id>/``.

    Usage::

        trainer = Trainer(model, args, train_dataset=train, eval_dataset=val,
                          callbacks=[RundocsCallback("bert-tiny", phase="finetune")])
        trainer.train()
        trainer.evaluate(test, metric_key_prefix="test")  # the run's summary

    Lines carry ``state.global_step`` as the step. Lines that close an epoch (evaluation with
    ``eval_strategy="epoch"``, training logs with ``logging_strategy="epoch"``) also carry the
    epoch, the whole number of epochs done (counted from 1, as the Trainer's ``epoch`` reads
    then); the Trainer's fractional ``epoch`` is not kept. The run ends ``completed`` with
    ``on_train_end`` (also when early stopping ends training). The Trainer tells callbacks
    nothing of an exception: an uncaught one is recorded when the program ends (``failed`` with
    it), and a training that never reached its end is ``failed`` by then anyway. Only the
    global main process records.

    Args:
        name: Human name of the run; defaults to its id.
        phase: Phase the run belongs to.
        sweep: Sweep the run belongs to.
        config: Settings of the run; ``args`` (``TrainingArguments.to_dict()``, tokens masked) and
            ``model`` (the model's config) are added.
        epochs: Planned epochs; defaults to the Trainer's number of training epochs.
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
        arguments = {"name": name, "phase": phase, "sweep": sweep, "tags": tags, "id": id, "dir": dir}
        bookkeeping = [*TRAINER_BOOKKEEPING, *options.pop("bookkeeping", ())]
        self.recorder = Recorder(config, epochs, {**arguments, "bookkeeping": bookkeeping, **options})

    def on_train_begin(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        if not state.is_world_process_zero:
            return
        arguments: Callable[[], dict[str, Any]] = args.to_dict  # tokens masked, enums as their values
        settings = {"args": arguments()}
        model_config: Any = getattr(kwargs.get("model"), "config", None)
        if callable(getattr(model_config, "to_dict", None)):
            settings["model"] = model_config.to_dict()
        self.recorder.settings = settings
        planned = state.num_train_epochs
        self.recorder.start(epochs=planned if 0 < planned < sys.maxsize else None)

    def on_log(
        self,
        args: TrainingArguments,
        state: TrainerState,
        control: TrainerControl,
        logs: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        if not state.is_world_process_zero or not logs:
            return
        values = {key: value for key, value in logs.items() if key != "epoch"}
        run = self.recorder.live
        if run is None or _CLOSING_KEY in values:  # after training: an evaluation of the trained model
            self.recorder.summary(values)
            return
        evaluation = any(key.startswith("eval_") for key in values)
        strategy = args.eval_strategy if evaluation else args.logging_strategy
        closes_epoch = strategy == IntervalStrategy.EPOCH and state.epoch is not None
        run.log(epoch=round(state.epoch) if closes_epoch else None, step=state.global_step, **values)

    def on_train_end(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        if state.is_world_process_zero:
            self.recorder.end()
