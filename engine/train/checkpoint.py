"""Training checkpoints: a pipeline file that opens like any other, plus what resuming needs.

A checkpoint folder holds ``model.json`` + ``model.npz`` (the network, :func:`save_pipeline`'s
format: JSON and arrays, never pickle), ``optimizer.npz`` (the optimizer's state by parameter
name), ``trainer.json`` (settings, step, epoch, the random generator's state) and
``metrics.json`` (the curves). Every file is written to a temporary name, flushed to disk and
renamed over the old one, so a crash leaves the previous epoch's file, never half of one.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from engine.graph.pipeline import Pipeline
from engine.graph.spec import dump_json, load_pipeline, save_pipeline
from engine.i18n import _
from engine.io.files import write_atomic
from engine.io.npz import NUMBERS, NpzArchive
from engine.io.safe_json import JsonError, load_file
from engine.train.dataset import DatasetError

__all__ = ["CheckpointError", "read_checkpoint", "write_atomic", "write_checkpoint"]

FORMAT = "cnn-explorer-checkpoint"
VERSION = 1


class CheckpointError(DatasetError):
    """A checkpoint folder that cannot be read or written; the message says which file."""


def _fsync_replace(temporary: Path, target: Path) -> None:
    with open(temporary, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(temporary, target)


def write_checkpoint(folder, pipeline: Pipeline, optimizer_state: dict, trainer_state: dict,
                     metrics: dict) -> Path:
    """Write (or replace) the checkpoint in ``folder``; return the path of ``model.json``."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=".checkpoint-", dir=folder) as scratch:
            scratch = Path(scratch)
            save_pipeline(pipeline, scratch / "model.json")
            arrays = {k: np.asarray(v) for k, v in optimizer_state.items()}
            np.savez(scratch / "optimizer.npz", **arrays)
            for name in ("model.npz", "optimizer.npz", "model.json"):
                if (scratch / name).exists():
                    _fsync_replace(scratch / name, folder / name)
        state = {"format": FORMAT, "version": VERSION, **trainer_state}
        write_atomic(folder / "trainer.json", (dump_json(state) + "\n").encode())
        write_atomic(folder / "metrics.json", (dump_json(metrics) + "\n").encode())
    except OSError as error:
        raise CheckpointError(_("Cannot write the checkpoint in {folder}: {reason}")
                              .format(folder=folder, reason=error.strerror or error)) from None
    return folder / "model.json"


def read_checkpoint(folder) -> tuple[Pipeline, dict, dict, dict]:
    """``(pipeline, optimizer_state, trainer_state, metrics)`` from a checkpoint folder."""
    folder = Path(folder)
    try:  # regular files of limited size and depth (engine.io.safe_json): no hostile JSON
        state = load_file(folder / "trainer.json", "trainer.json")
    except JsonError as error:
        raise CheckpointError(_("{folder} holds no readable checkpoint (trainer.json: {reason})")
                              .format(folder=folder, reason=error.reason)) from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(_("{file} is not a CNN Explorer checkpoint")
                              .format(file=folder / "trainer.json"))
    if state.get("version") != VERSION:
        raise CheckpointError(_("{file} has checkpoint version {version}; this version reads"
                                " {supported}").format(file=folder / "trainer.json",
                                                       version=state.get("version"),
                                                       supported=VERSION))
    pipeline = load_pipeline(folder / "model.json")
    try:  # every array's size is checked against the memory budget before it is read
        with NpzArchive(folder / "optimizer.npz", "optimizer.npz", NUMBERS + "U") as saved:
            optimizer = {k: saved.read(k) for k in saved}
        metrics = load_file(folder / "metrics.json", "metrics.json")
    except (OSError, ValueError) as error:
        raise CheckpointError(_("The checkpoint in {folder} is incomplete: {reason}")
                              .format(folder=folder, reason=error)) from None
    return pipeline, optimizer, state, metrics
