"""PyTorch Lightning (``pip install 'rundocs[lightning]'``): ``RundocsLogger`` records a trainer's run.

Hyperparameters become the run's config, metrics its lines, the checkpoints ``ModelCheckpoint``
keeps its checkpoints, and the trainer's own end its status. Lightning hands a logger only
metrics and a step; whether a call holds per-step values or values aggregated over an epoch
(``on_epoch=True``, every validation metric), and in which epoch, is read from the trainer,
which the logger meets in ``log_graph`` when a ``fit``, ``validate`` or ``test`` starts.
"""

from __future__ import annotations

import os
import sys
from argparse import Namespace
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from torch import Tensor
from torch.nn import Module

try:
    from lightning.fabric.loggers.logger import rank_zero_experiment
    from lightning.pytorch import LightningModule, Trainer
    from lightning.pytorch.callbacks import ModelCheckpoint
    from lightning.pytorch.loggers import Logger
    from lightning.pytorch.trainer.states import TrainerFn
    from lightning.pytorch.utilities import rank_zero_only
except ImportError:  # pragma: no cover - only the package under its older name is installed
    try:
        from lightning_fabric.loggers.logger import rank_zero_experiment
        from pytorch_lightning import LightningModule, Trainer  # type: ignore[assignment]
        from pytorch_lightning.callbacks import ModelCheckpoint  # type: ignore[assignment]
        from pytorch_lightning.loggers import Logger  # type: ignore[assignment]
        from pytorch_lightning.trainer.states import TrainerFn  # type: ignore[assignment]
        from pytorch_lightning.utilities import rank_zero_only
    except ImportError as error:
        from rundocs.exceptions import MissingDependencyError

        raise MissingDependencyError("lightning", "lightning") from error

from rundocs.integrations.recorder import Recorder, as_settings
from rundocs.record.environment import make_run_id
from rundocs.record.run import Run
from rundocs.store.locations import recording_folder
from rundocs.torch import _sha256

__all__ = ["RundocsLogger"]


class RundocsLogger(Logger):
    """A Lightning logger that records the trainer's run in ``<dir>/<id>/``.

    Usage::

        trainer = lightning.pytorch.Trainer(max_epochs=30, logger=RundocsLogger("lr3e-4", phase="lr-sweep"))
        trainer.fit(model, datamodule)
        trainer.test(model, datamodule)  # test metrics: the run's summary

    Values aggregated over an epoch (``on_epoch=True``, validation metrics) are logged with the
    epoch the trainer was in (counted from 0, as Lightning counts) and the step; per-step values
    with the step alone. Metrics of ``validate`` and ``test`` go to the summary. The run ends
    with the trainer: ``completed``, ``failed`` with the exception, ``interrupted`` by Ctrl-C.
    Checkpoints that ``ModelCheckpoint`` keeps are recorded with their sha256 when a stage ends;
    by default they are written in the run folder (``checkpoints/``). Only global rank 0 records.

    Lightning's names for the folders: ``save_dir`` is the runs folder's parent, ``name`` the runs
    folder's name and ``version`` the run's id, so ``log_dir`` is the run folder.

    Args:
        name: Human name of the run; defaults to its id.
        phase: Phase the run belongs to.
        sweep: Sweep the run belongs to.
        config: Settings of the run; the model's (and datamodule's) hyperparameters are added.
        epochs: Planned epochs; defaults to the trainer's ``max_epochs``.
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
        self._root, store_url = recording_folder(dir)  # a store's runs: their staging folder here
        # Known before the run starts: ModelCheckpoint asks for the folder when it is set up.
        self._id: str = id or make_run_id()
        arguments = {"name": name, "phase": phase, "sweep": sweep, "tags": tags, "dir": store_url or self._root}
        self._recorder = Recorder(config, epochs, {**arguments, **options})
        self._trainer: Trainer | None = None
        # The run's ModelCheckpoints, the epoch each file was saved in, and what is recorded of it:
        # per path, (mtime, size) when saved or recorded.
        self._savers: dict[str, ModelCheckpoint] = {}
        self._saved: dict[str, tuple[tuple[int, int], int | None]] = {}
        self._recorded: dict[str, tuple[int, int]] = {}

    # -- what Lightning asks of a logger ------------------------------------------------

    @property
    def name(self) -> str:
        return self._root.name

    @property
    def version(self) -> str:
        """The id of the run, or of the run the next stage starts."""
        return self._id

    @property
    def save_dir(self) -> str:
        return str(self._root.parent)

    @property
    def root_dir(self) -> str:
        return str(self._root)

    @property
    def log_dir(self) -> str:
        return str(self._root / self.version)

    @property
    @rank_zero_experiment
    def experiment(self) -> Run | None:
        """The ``rundocs.Run``, once a stage of the trainer has started (None before; a stand-in
        that accepts every call on other ranks)."""
        return self._recorder.run

    @rank_zero_only
    def log_hyperparams(self, params: dict[str, Any] | Namespace, *args: Any, **kwargs: Any) -> None:
        self._recorder.update_settings(as_settings(params))

    @rank_zero_only
    def log_graph(self, model: Module, input_array: Tensor | None = None) -> None:
        """Called when a stage starts: the logger meets the trainer, and a ``fit`` opens the run."""
        try:
            trainer = model.trainer if isinstance(model, LightningModule) else None
        except RuntimeError:  # a module not attached to a trainer
            return
        if isinstance(trainer, Trainer):
            self._trainer = trainer
            if trainer.state.fn == TrainerFn.FITTING:
                self._open()

    @rank_zero_only
    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None:
        values: dict[str, Any] = {key: value for key, value in metrics.items() if key != "epoch"}
        trainer = self._trainer
        if trainer is None:  # log_graph never came (Trainer(enable_autolog_hparams=False)): Lightning's epoch
            epoch = metrics.get("epoch")
            self._open().log(epoch=int(epoch) if epoch is not None else None, step=step, **values)
        elif not _aggregated(trainer, metrics):
            self._open().log(step=step, **values)
        elif trainer.state.fn == TrainerFn.FITTING:
            self._open().log(epoch=trainer.current_epoch, step=step, **values)
        else:
            self._open()
            self._recorder.summary(values)

    @rank_zero_only
    def after_save_checkpoint(self, checkpoint_callback: ModelCheckpoint) -> None:
        """Note the epoch of each file the callback just wrote; the files it keeps are recorded at the end."""
        self._savers[checkpoint_callback.state_key] = checkpoint_callback
        epoch = self._trainer.current_epoch if self._trainer is not None else None
        for path in _kept(checkpoint_callback):
            stamp = _stamp(path)
            if stamp is not None and self._saved.get(path, (None, None))[0] != stamp:
                self._saved[path] = (stamp, epoch)

    @rank_zero_only
    def finalize(self, status: str) -> None:
        """End the run as the trainer's stage ended: ``success``, or ``failed`` with the exception
        Lightning is handling (``KeyboardInterrupt``: interrupted)."""
        if status == "finished":
            return  # SLURM auto-requeue: the job is killed and requeued next; that signal ends the run
        if status == "failed":
            self._open()
        if self._recorder.live is None:
            return
        self._record_checkpoints()
        error = sys.exception() if status == "failed" else None
        self._recorder.end("completed" if status == "success" else status, error)
        if self._recorder.run is not None and self._recorder.run.status != "completed":
            self._id = make_run_id()  # a later fit with this logger is a new attempt, in a folder of its own

    # -- internals ----------------------------------------------------------------------

    def _open(self) -> Run:
        """The open run: started on first use, reopened by a later stage of the trainer."""
        run = self._recorder.reopen()
        if run is None:
            trainer = self._trainer
            run = self._recorder.start(epochs=_planned_epochs(trainer) if trainer is not None else None, id=self._id)
            self._id = run.id or self._id
            self._savers, self._saved, self._recorded = {}, {}, {}
        return run

    def _record_checkpoints(self) -> None:
        run = self._recorder.live
        if run is None:
            return
        for saver in self._savers.values():
            try:
                kept = _kept(saver)
            except ReferenceError:  # Lightning passes a weak proxy; the trainer let go of the callback
                continue
            for path in kept:
                file, stamp = Path(path), _stamp(path)
                if stamp is None or not file.is_file() or self._recorded.get(path) == stamp:
                    continue  # gone, or recorded as it is by an earlier stage
                epoch = self._saved[path][1] if path in self._saved else None
                run.record_checkpoint(file, sha256=_sha256(file), size=stamp[1], epoch=epoch, arch=None)
                self._recorded[path] = stamp


def _aggregated(trainer: Trainer, metrics: Mapping[str, float]) -> bool:
    """Whether Lightning logs values aggregated over an epoch (or an evaluation loop), not one step's.

    Training: the epoch-end values are logged after the epoch's end hooks and before Lightning
    counts the epoch as completed. Evaluation: Lightning adds ``epoch`` to the values it
    aggregated over the loop, and not to per-step values, which come with their own step.
    """
    if not trainer.training:
        return "epoch" in metrics
    progress = trainer.fit_loop.epoch_progress.current
    processed: int = getattr(progress, "processed", progress.completed)  # typed as its base class
    return processed > progress.completed


def _planned_epochs(trainer: Trainer) -> int | None:
    """``max_epochs`` when the trainer will run that many (no step limit, not endless)."""
    epochs = trainer.max_epochs
    return epochs if epochs is not None and epochs > 0 and trainer.max_steps == -1 else None


def _kept(saver: ModelCheckpoint) -> list[str]:
    """The files a ``ModelCheckpoint`` keeps: its top k, best and last (deleted ones drop out)."""
    paths = [*saver.best_k_models, saver.best_model_path, saver.last_model_path]
    return [str(path) for path in dict.fromkeys(paths) if path]


def _stamp(path: str) -> tuple[int, int] | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size
