"""The settings of a training run, checked, and the optimizer and schedule they describe."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

from engine.i18n import _
from engine.train.augment import Augment
from engine.train.dataset import DatasetError
from engine.train.optim import SGD, Adam, AdamW, Optimizer
from engine.train.schedules import constant, cosine_lr, step_lr

__all__ = ["OPTIMIZERS", "SCHEDULES", "TrainConfig", "make_optimizer", "make_schedule"]

OPTIMIZERS = ("adam", "adamw", "sgd")
SCHEDULES = ("cosine", "step", "constant")


@dataclass(frozen=True)
class TrainConfig:
    """How to train: optimizer, learning rate and its schedule, batches, epochs, augmentation.

    Examples
    --------
    >>> TrainConfig(lr=0.01, optimizer="sgd").optimizer
    'sgd'
    """

    epochs: int = 10
    batch_size: int = 64
    lr: float = 2e-3
    optimizer: str = "adam"
    momentum: float = 0.9  # SGD only
    weight_decay: float = 0.0
    schedule: str = "cosine"
    warmup_steps: int = 0
    clip_norm: float | None = None
    augment: Augment = field(default_factory=Augment)
    seed: int = 0

    def __post_init__(self):
        def whole(name, low):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise DatasetError(_("{name} must be a whole number of at least {low}, not"
                                     " {value!r}").format(name=name, low=low, value=value))

        whole("epochs", 1)
        whole("batch_size", 1)
        whole("warmup_steps", 0)
        whole("seed", 0)
        for name in ("lr", "momentum", "weight_decay"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not (
                    math.isfinite(value) and value >= 0) or (name == "lr" and value == 0):
                raise DatasetError(_("{name} must be a number above zero, not {value!r}")
                                   .format(name=name, value=value) if name == "lr" else
                                   _("{name} must be a number of at least zero, not {value!r}")
                                   .format(name=name, value=value))
        if self.optimizer not in OPTIMIZERS:
            raise DatasetError(_("Unknown optimizer {name!r}; choose {choices}")
                               .format(name=self.optimizer, choices=", ".join(OPTIMIZERS)))
        if self.schedule not in SCHEDULES:
            raise DatasetError(_("Unknown learning-rate schedule {name!r}; choose {choices}")
                               .format(name=self.schedule, choices=", ".join(SCHEDULES)))
        if self.clip_norm is not None and not (isinstance(self.clip_norm, int | float)
                                               and self.clip_norm > 0):
            raise DatasetError(_("The gradient clipping norm must be above zero, not {value!r}")
                               .format(value=self.clip_norm))
        if not isinstance(self.augment, Augment):
            object.__setattr__(self, "augment", Augment(**dict(self.augment)))

    def to_dict(self) -> dict:
        """JSON-able settings (the augmentation as a dict)."""
        out = dataclasses.asdict(self)
        out["augment"] = dataclasses.asdict(self.augment)
        return out

    @classmethod
    def from_dict(cls, d: dict) -> TrainConfig:
        """The settings :meth:`to_dict` wrote; a clear DatasetError for anything else."""
        known = {f.name for f in dataclasses.fields(cls)}
        if not isinstance(d, dict) or set(d) - known:
            raise DatasetError(_("Unknown training settings: {names}")
                               .format(names=", ".join(sorted(set(d) - known))
                                       if isinstance(d, dict) else repr(d)))
        try:
            return cls(**{**d, "augment": Augment(**d.get("augment", {}))})
        except TypeError as error:
            raise DatasetError(_("Training settings that cannot be read: {reason}")
                               .format(reason=error)) from None


def make_optimizer(config: TrainConfig) -> Optimizer:
    """The optimizer the settings name, with their learning rate and weight decay."""
    if config.optimizer == "sgd":
        return SGD(lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay)
    if config.optimizer == "adamw":
        return AdamW(lr=config.lr, weight_decay=config.weight_decay)
    return Adam(lr=config.lr, weight_decay=config.weight_decay)


def make_schedule(config: TrainConfig, total_steps: int):
    """The learning rate at each step: cosine to zero over the run (after an optional linear
    warm-up), a tenth every third of the run, or constant."""
    total_steps = max(int(total_steps), 1)
    if config.schedule == "cosine":
        return cosine_lr(config.lr, total_steps, warmup_steps=config.warmup_steps)
    if config.schedule == "step":
        return step_lr(config.lr, max(total_steps // 3, 1), gamma=0.1)
    return constant(config.lr)
