"""``RundocsLogger``: a real Lightning trainer fits a tiny model on CPU, and the run says what Lightning said."""

from __future__ import annotations

import csv
import hashlib
import signal
from argparse import Namespace
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("lightning")
torch = pytest.importorskip("torch")

import lightning.pytorch as pl  # noqa: E402
from lightning.pytorch.callbacks import ModelCheckpoint  # noqa: E402
from lightning.pytorch.loggers import CSVLogger  # noqa: E402
from omegaconf import DictConfig, OmegaConf  # noqa: E402
from torch import nn  # noqa: E402
from torch.nn import functional as F  # noqa: E402
from torch.utils.data import DataLoader, TensorDataset  # noqa: E402

import rundocs  # noqa: E402
from rundocs.formatting import format_number  # noqa: E402
from rundocs.integrations.lightning import RundocsLogger  # noqa: E402
from tests.integrations.helpers import lines, only_run, run_page  # noqa: E402

pytestmark = [
    pytest.mark.torch,
    # torch deprecates a pytree check that Lightning still makes.
    pytest.mark.filterwarnings("ignore:`isinstance\\(treespec, LeafSpec\\)` is deprecated:FutureWarning"),
]


class Regressor(pl.LightningModule):
    def __init__(self, cfg: DictConfig, fail_at: int | None = None, interrupt_at: int | None = None) -> None:
        super().__init__()
        self.save_hyperparameters(cfg)
        self.net = nn.Sequential(nn.Linear(4, cfg.width), nn.ReLU(), nn.Linear(cfg.width, 1))
        self.fail_at, self.interrupt_at = fail_at, interrupt_at

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        if self.global_step == self.fail_at:
            raise ValueError(f"loss exploded at step {self.global_step}")
        if self.global_step == self.interrupt_at:
            raise KeyboardInterrupt
        x, y = batch
        loss = F.mse_loss(self.net(x), y)
        self.log("train_loss", loss, on_step=True, on_epoch=True)
        return loss

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        x, y = batch
        self.log("val_loss", F.mse_loss(self.net(x), y))

    def test_step(self, batch: Any, batch_idx: int) -> None:
        x, y = batch
        self.log("test_loss", F.mse_loss(self.net(x), y))

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=self.hparams.optim.lr)


def data() -> tuple[DataLoader[Any], DataLoader[Any]]:
    torch.manual_seed(0)
    x = torch.randn(96, 4)
    y = x.sum(1, keepdim=True)
    return (
        DataLoader(TensorDataset(x[:64], y[:64]), batch_size=16),
        DataLoader(TensorDataset(x[64:], y[64:]), batch_size=16),
    )


def make_trainer(loggers: list[Any], **options: Any) -> pl.Trainer:
    return pl.Trainer(
        max_epochs=3,
        logger=loggers,
        log_every_n_steps=1,
        accelerator="cpu",
        enable_progress_bar=False,
        enable_model_summary=False,
        **options,
    )


def model(**options: Any) -> Regressor:
    return Regressor(OmegaConf.create({"optim": {"lr": 0.05}, "width": 8}), **options)


def csv_rows(logger: CSVLogger) -> list[dict[str, Any]]:
    """What Lightning handed its own CSV logger: one row per call, empty cells left out."""
    with open(Path(logger.log_dir) / "metrics.csv", newline="") as file:
        rows = [{k: float(v) for k, v in row.items() if v} for row in csv.DictReader(file)]
    return [{k: int(v) if k in ("epoch", "step") else v for k, v in row.items()} for row in rows]


@pytest.fixture
def sigint_kept() -> Iterator[None]:
    """Lightning ignores SIGINT after a KeyboardInterrupt (so Ctrl-C cannot cut its shutdown): put it back."""
    handler = signal.getsignal(signal.SIGINT)
    yield
    signal.signal(signal.SIGINT, handler)


def test_a_fit_records_what_lightning_logged_with_its_epochs_and_steps(tmp_dir: Path) -> None:
    reference = CSVLogger(tmp_dir / "csv")
    trainer = make_trainer([RundocsLogger("fit", dir="runs", config=Namespace(data="sum4")), reference])
    trainer.fit(model(), *data())
    trainer.test(trainer.lightning_module, data()[1], verbose=False)

    runs, record = only_run(tmp_dir / "runs")
    assert record.status == "completed" and record.error is None and record.name == "fit"
    assert record.config == {"data": "sum4", "optim": {"lr": 0.05}, "width": 8}
    assert record.epochs == 3
    told = csv_rows(reference)
    *fitting, testing = told
    # Per-step values carry their step; values aggregated over an epoch (validation, *_epoch)
    # carry the epoch Lightning was in, counted from 0 as Lightning counts.
    expected = [
        row if "train_loss_step" not in row else {k: v for k, v in row.items() if k != "epoch"} for row in fitting
    ]
    assert lines(runs, record.id) == expected
    assert [row["epoch"] for row in lines(runs, record.id) if "val_loss" in row] == [0, 1, 2]
    assert record.summary == {"test_loss": testing["test_loss"]}
    assert record.summary["test_loss"] == pytest.approx(trainer.callback_metrics["test_loss"].item())

    page = run_page(runs, record.id)
    assert "| E003/003 |" in page
    assert f"| val\\_loss | {format_number(fitting[-2]['val_loss'])} | epoch 2 |" in page
    assert "| step 11 |" in page.split("| train\\_loss\\_step |")[1].splitlines()[0]


def test_the_checkpoint_modelcheckpoint_keeps_is_recorded_in_the_run_folder_and_loads(tmp_dir: Path) -> None:
    saver = ModelCheckpoint(monitor="val_loss", save_top_k=1)
    trainer = make_trainer([RundocsLogger(dir="runs")], callbacks=[saver])
    trainer.fit(model(), *data())

    _, record = only_run(tmp_dir / "runs")
    best = Path(saver.best_model_path).resolve()
    assert best.parent == record.folder / "checkpoints"  # where Lightning put it: the logger's log_dir
    (checkpoint,) = record.checkpoints  # the files of earlier epochs were deleted by ModelCheckpoint
    assert checkpoint.path == f"checkpoints/{best.name}"
    assert checkpoint.sha256 == hashlib.sha256(best.read_bytes()).hexdigest()
    assert checkpoint.bytes == best.stat().st_size
    assert checkpoint.epoch == torch.load(best, weights_only=False)["epoch"] == 2
    loaded = Regressor.load_from_checkpoint(
        record.folder / checkpoint.path, weights_only=False
    )  # hparams: a DictConfig
    assert torch.equal(loaded.net[0].weight, trainer.lightning_module.net[0].weight)


def test_an_exception_in_training_step_ends_the_run_failed_with_it(tmp_dir: Path) -> None:
    logger = RundocsLogger(dir="runs")
    with pytest.raises(ValueError, match="loss exploded"):
        make_trainer([logger]).fit(model(fail_at=6), *data())

    runs, record = only_run(tmp_dir / "runs")
    assert record.status == "failed"
    assert record.error is not None and record.error.type == "ValueError"
    assert record.error.message == "loss exploded at step 6"
    assert max(row["step"] for row in lines(runs, record.id)) == 5

    make_trainer([logger]).fit(model(), *data())  # the same logger again: a new attempt, in a run of its own
    again = rundocs.load_runs(tmp_dir / "runs", strict=True).records
    assert sorted(run.status for run in again.values()) == ["completed", "failed"]
    assert logger.version != record.id and again[logger.version].status == "completed"


@pytest.mark.usefixtures("sigint_kept")
def test_ctrl_c_ends_the_run_interrupted(tmp_dir: Path) -> None:
    trainer = make_trainer([RundocsLogger(dir="runs")])
    with pytest.raises(SystemExit):  # Lightning's graceful shutdown exits after a KeyboardInterrupt
        trainer.fit(model(interrupt_at=2), *data())

    _, record = only_run(tmp_dir / "runs")
    assert record.status == "interrupted"
    assert record.error is not None and record.error.type == "KeyboardInterrupt"


def test_without_autologged_hyperparameters_lines_carry_lightnings_epoch_and_step(tmp_dir: Path) -> None:
    """The logger meets the trainer in ``log_graph``, which Lightning calls only with autologging:
    without it, every line Lightning gave an epoch keeps it."""
    reference = CSVLogger(tmp_dir / "csv")
    trainer = make_trainer([RundocsLogger(dir="runs", epochs=3), reference], enable_autolog_hparams=False)
    trainer.fit(model(), *data())

    runs, record = only_run(tmp_dir / "runs")
    assert record.status == "completed" and record.epochs == 3 and record.config == {}
    assert lines(runs, record.id) == csv_rows(reference)
