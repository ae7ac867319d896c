"""Training tools of the numpy engine: optimizers, schedules, clipping, data sets, batches.

Everything here is numpy (and OpenCV for reading and drawing pictures); nothing knows a window.

>>> import numpy as np
>>> from engine.train import Adam, Augment, batches, cosine_lr, open_dataset, split, to_batch
>>> data = open_dataset("shapes", size=(32, 32), n=40, seed=0)
>>> train, val = split(data, val_fraction=0.25, seed=0)
>>> images, labels = next(batches(train, batch_size=8, seed=0))
>>> x = to_batch(Augment(mirror=True)(images, np.random.default_rng(0)))
>>> x.shape, x.dtype, len(val)
((8, 3, 32, 32), dtype('float32'), 8)

The names below are imported on first use (PEP 562), so that starting the app or a
subcommand that does not train loads none of the training code.
"""

from __future__ import annotations

import importlib

# Bound now: ``augment`` is also the name of the submodule that defines it, and importing the
# submodule later would otherwise leave the module, not the function, under this name.
from engine.train.augment import Augment as Augment
from engine.train.augment import augment as augment

_WHERE = {
    "Adam": "engine.train.optim",
    "AdamW": "engine.train.optim",
    "ArrayDataset": "engine.train.dataset",
    "CheckpointError": "engine.train.checkpoint",
    "Constant": "engine.train.schedules",
    "CosineLR": "engine.train.schedules",
    "Dataset": "engine.train.dataset",
    "DatasetError": "engine.train.dataset",
    "EpochMetrics": "engine.train.trainer",
    "Evaluation": "engine.train.evaluation",
    "FASHION_CLASSES": "engine.train.idx",
    "MNIST_CLASSES": "engine.train.idx",
    "NetworkMismatch": "engine.train.network",
    "Optimizer": "engine.train.optim",
    "OptimizerError": "engine.train.optim",
    "SGD": "engine.train.optim",
    "StepLR": "engine.train.schedules",
    "StepMetrics": "engine.train.trainer",
    "TrainConfig": "engine.train.config",
    "Trainer": "engine.train.trainer",
    "TrainingError": "engine.train.trainer",
    "batches": "engine.train.batching",
    "check_fits": "engine.train.network",
    "clip_grad_norm": "engine.train.schedules",
    "constant": "engine.train.schedules",
    "cosine_lr": "engine.train.schedules",
    "digits_dataset": "engine.train.sources",
    "draw_digit": "engine.train.draw_digits",
    "draw_shape": "engine.train.draw_shapes",
    "evaluate": "engine.train.evaluation",
    "find_mnist_files": "engine.train.idx",
    "fit_head": "engine.train.network",
    "fit_image": "engine.train.dataset",
    "global_norm": "engine.train.schedules",
    "load_folder": "engine.train.folder",
    "load_mnist": "engine.train.idx",
    "make_dataset": "engine.train.draw_shapes",
    "make_digits": "engine.train.draw_digits",
    "open_dataset": "engine.train.sources",
    "read_checkpoint": "engine.train.checkpoint",
    "read_idx": "engine.train.idx",
    "reinitialize": "engine.train.network",
    "shapes_dataset": "engine.train.sources",
    "split": "engine.train.dataset",
    "step_lr": "engine.train.schedules",
    "stratified_pick": "engine.train.dataset",
    "to_batch": "engine.train.batching",
    "write_checkpoint": "engine.train.checkpoint",
    "write_idx": "engine.train.idx",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str):
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_WHERE})
