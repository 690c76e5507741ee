"""A tiny transformers model and Trainer on generated data, for the callback's tests and their child scripts."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from transformers import PretrainedConfig, PreTrainedModel, PrinterCallback, Trainer, TrainerCallback, TrainingArguments


class TinyConfig(PretrainedConfig):
    model_type = "rundocs-tiny"

    def __init__(self, width: int = 8, fail_at: int | None = None, **kwargs: Any) -> None:
        self.width = width
        self.fail_at = fail_at  # the training forward call that raises
        super().__init__(**kwargs)


class TinyModel(PreTrainedModel):
    config_class = TinyConfig

    def __init__(self, config: TinyConfig) -> None:
        super().__init__(config)
        self.net = nn.Sequential(nn.Linear(4, config.width), nn.ReLU(), nn.Linear(config.width, 1))
        self.calls = 0
        self.post_init()

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
        if self.training:
            self.calls += 1
            if self.calls == self.config.fail_at:
                raise ValueError(f"loss exploded at call {self.calls}")
        prediction = self.net(x)
        return {"loss": nn.functional.mse_loss(prediction, labels), "logits": prediction}


class Pairs(torch.utils.data.Dataset[dict[str, torch.Tensor]]):
    def __init__(self, x: torch.Tensor, y: torch.Tensor) -> None:
        self.x, self.y = x, y

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        return {"x": self.x[index], "labels": self.y[index]}


def data() -> tuple[Pairs, Pairs]:
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(96, 4, generator=generator)
    y = x.sum(1, keepdim=True)
    return Pairs(x[:64], y[:64]), Pairs(x[64:], y[64:])


def make_trainer(output: str, callback: TrainerCallback, fail_at: int | None = None, **options: Any) -> Trainer:
    """3 epochs of 4 steps, a log every 2 steps, an evaluation per epoch; nothing saved, printed or reported."""
    arguments = {
        "num_train_epochs": 3,
        "per_device_train_batch_size": 16,
        "per_device_eval_batch_size": 16,
        "learning_rate": 0.05,
        "logging_steps": 2,
        "eval_strategy": "epoch",
        "save_strategy": "no",
        "report_to": "none",
        "disable_tqdm": True,
        "use_cpu": True,
        "seed": 0,
        **options,
    }
    train, val = data()
    model = TinyModel(TinyConfig(fail_at=fail_at))
    trainer = Trainer(model=model, args=TrainingArguments(output, **arguments), train_dataset=train, eval_dataset=val,
                      callbacks=[callback])  # fmt: skip
    trainer.remove_callback(PrinterCallback)  # the logs printed where a progress bar would be
    return trainer
