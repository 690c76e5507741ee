"""A tiny Lightning training on generated data, for the importer tests (CPU, a few seconds)."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import torch


def train_tiny(logger: Any, epochs: int = 3, root: Path | None = None) -> dict[str, list[float]]:
    """Train a linear regression with Lightning for ``epochs``; the validation losses it reported,
    by epoch, as Lightning's own ``callback_metrics`` held them at each validation end."""
    import lightning.pytorch as pl

    torch.manual_seed(0)
    x = torch.randn(64, 4)
    y = x @ torch.tensor([1.0, -2.0, 0.5, 3.0]) + 0.1 * torch.randn(64)
    data = torch.utils.data.TensorDataset(x, y)
    seen: dict[str, list[float]] = {"val_loss": []}

    class Regression(pl.LightningModule):
        def __init__(self, lr: float = 0.05) -> None:
            super().__init__()
            self.save_hyperparameters()
            self.layer = torch.nn.Linear(4, 1)

        def training_step(self, batch: Any, index: int) -> torch.Tensor:
            loss = torch.nn.functional.mse_loss(self.layer(batch[0]).squeeze(-1), batch[1])
            self.log("train_loss", loss, on_step=True, on_epoch=True)
            return loss

        def validation_step(self, batch: Any, index: int) -> None:
            self.log("val_loss", torch.nn.functional.mse_loss(self.layer(batch[0]).squeeze(-1), batch[1]))

        def on_validation_epoch_end(self) -> None:
            if not self.trainer.sanity_checking:
                seen["val_loss"].append(float(self.trainer.callback_metrics["val_loss"]))

        def configure_optimizers(self) -> torch.optim.Optimizer:
            return torch.optim.SGD(self.parameters(), lr=self.hparams["lr"])

    loader = torch.utils.data.DataLoader(data, batch_size=16)
    trainer = pl.Trainer(
        max_epochs=epochs,
        logger=logger,
        enable_progress_bar=False,
        enable_model_summary=False,
        enable_checkpointing=False,
        log_every_n_steps=1,
        num_sanity_val_steps=0,
        default_root_dir=root,
        accelerator="cpu",
    )
    with warnings.catch_warnings():  # Lightning's own deprecation and data loader notes
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        warnings.filterwarnings("ignore", ".*does not have many workers", UserWarning)
        trainer.fit(Regression(), loader, loader)
    return seen
