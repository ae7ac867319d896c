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
"""

from engine.train.augment import Augment, augment
from engine.train.batching import batches, to_batch
from engine.train.checkpoint import CheckpointError, read_checkpoint, write_checkpoint
from engine.train.config import TrainConfig
from engine.train.dataset import (
    ArrayDataset,
    Dataset,
    DatasetError,
    fit_image,
    split,
    stratified_pick,
)
from engine.train.draw_digits import draw_digit, make_digits
from engine.train.draw_shapes import draw_shape, make_dataset
from engine.train.evaluation import Evaluation, evaluate
from engine.train.folder import load_folder
from engine.train.idx import (
    FASHION_CLASSES,
    MNIST_CLASSES,
    find_mnist_files,
    load_mnist,
    read_idx,
    write_idx,
)
from engine.train.network import NetworkMismatch, check_fits, fit_head, reinitialize
from engine.train.optim import SGD, Adam, AdamW, Optimizer, OptimizerError
from engine.train.schedules import (
    Constant,
    CosineLR,
    StepLR,
    clip_grad_norm,
    constant,
    cosine_lr,
    global_norm,
    step_lr,
)
from engine.train.sources import digits_dataset, open_dataset, shapes_dataset
from engine.train.trainer import EpochMetrics, StepMetrics, Trainer, TrainingError

__all__ = [
    "FASHION_CLASSES",
    "MNIST_CLASSES",
    "SGD",
    "Adam",
    "AdamW",
    "ArrayDataset",
    "Augment",
    "CheckpointError",
    "Constant",
    "CosineLR",
    "Dataset",
    "DatasetError",
    "EpochMetrics",
    "Evaluation",
    "NetworkMismatch",
    "Optimizer",
    "OptimizerError",
    "StepLR",
    "StepMetrics",
    "TrainConfig",
    "Trainer",
    "TrainingError",
    "augment",
    "batches",
    "check_fits",
    "clip_grad_norm",
    "constant",
    "cosine_lr",
    "digits_dataset",
    "draw_digit",
    "draw_shape",
    "evaluate",
    "find_mnist_files",
    "fit_head",
    "fit_image",
    "global_norm",
    "load_folder",
    "load_mnist",
    "make_dataset",
    "make_digits",
    "open_dataset",
    "read_checkpoint",
    "read_idx",
    "reinitialize",
    "shapes_dataset",
    "split",
    "step_lr",
    "stratified_pick",
    "to_batch",
    "write_checkpoint",
    "write_idx",
]
