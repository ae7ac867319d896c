"""Training's own files: checkpoints and MNIST's IDX files, damaged or hostile, through the Python
API (the window's training workspace reads them the same way)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import engine
from engine.graph.spec import SpecError
from engine.train import CheckpointError, read_checkpoint, write_checkpoint
from engine.train.dataset import DatasetError
from engine.train.idx import read_idx, write_idx
from tests.hostile import makers as mk
from tests.hostile.harness import assert_api


def _checkpoint(folder: Path) -> Path:
    pipeline = engine.resolve_pipeline("lecture")
    write_checkpoint(folder, pipeline, {"conv1.weight.momentum": np.ones((2, 3), np.float32)},
                     {"step": 3, "epoch": 1}, {"loss": [0.5, 0.25]})
    return folder


def test_a_checkpoint_reads_back(tmp_path):
    pipeline, optimizer, state, metrics = read_checkpoint(_checkpoint(tmp_path / "ck"))
    assert pipeline == engine.resolve_pipeline("lecture")
    np.testing.assert_array_equal(optimizer["conv1.weight.momentum"], np.ones((2, 3)))
    assert state["step"] == 3 and metrics == {"loss": [0.5, 0.25]}


def _replace(name: str, write):
    def damage(folder: Path) -> None:
        path = folder / name
        path.unlink()
        write(path)
    return damage


CHECKPOINTS = [
    ("trainer-deep", _replace("trainer.json", lambda p: p.write_text("[" * 100_000)),
     CheckpointError, "nest 100000 levels deep"),
    ("trainer-fifo", _replace("trainer.json", mk.fifo), CheckpointError, "named pipe (FIFO)"),
    ("trainer-device", _replace("trainer.json", mk.device), CheckpointError, "it is a device"),
    ("trainer-huge", _replace("trainer.json", lambda p: mk.sparse(p, 64 << 20)),
     CheckpointError, "bytes allowed"),
    ("trainer-list", _replace("trainer.json", lambda p: p.write_text("[]")), CheckpointError,
     "is not a CNN Explorer checkpoint"),
    ("optimizer-pickle", _replace("optimizer.npz", lambda p: mk.npz(
        p, m=np.array([object()], dtype=object))), CheckpointError, "holds Python objects"),
    ("optimizer-lying-header", _replace("optimizer.npz", lambda p: mk.npz_lying(p, (1 << 40,))),
     CheckpointError, "the file is damaged"),
    ("optimizer-declares-4gb", _replace("optimizer.npz", lambda p: mk.npz_declaring(
        p, 0xFFFFFFF0)), CheckpointError, "more than the budget"),
    ("optimizer-npy", _replace("optimizer.npz", lambda p: np.save(p.with_suffix(".npy"), 1)
                               or p.with_suffix(".npy").rename(p)), CheckpointError,
     "single .npy array"),
    ("metrics-infinity", _replace("metrics.json", lambda p: p.write_text('{"loss": 1e999}')),
     CheckpointError, "too large for a number"),
    ("metrics-fifo", _replace("metrics.json", mk.fifo), CheckpointError, "named pipe"),
    ("model-npz-outside", _replace("model.json", lambda p: mk.write_json(
        p, mk.conv_from_npz("../elsewhere.npz"))), SpecError, "no absolute path, no '..'"),
]


@pytest.mark.parametrize(("damage", "error", "fragment"),
                         [pytest.param(d, e, f, id=i) for i, d, e, f in CHECKPOINTS])
def test_a_damaged_checkpoint_says_which_file(tmp_path, monkeypatch, damage, error, fragment):
    monkeypatch.setenv("CNN_EXPLORER_MEMORY_BUDGET", "1G")  # the same budget on every machine
    folder = _checkpoint(tmp_path / "ck")
    damage(folder)
    assert_api(lambda: read_checkpoint(folder), error, fragment)


IDX = [
    ("fifo", mk.fifo, "named pipe (FIFO)"), ("device", mk.device, "it is a device"),
    ("folder", Path.mkdir, "it is a folder"), ("socket", mk.unix_socket, "it is a socket"),
    ("lying-header", lambda p: p.write_bytes(b"\0\0\x08\x03" + b"\xff\xff\xff\xff" * 3),
     "damaged or truncated"),
]


@pytest.mark.parametrize(("make", "fragment"), [pytest.param(m, f, id=i) for i, m, f in IDX])
def test_idx_files_must_be_regular_and_honest(tmp_path, make, fragment):
    path = tmp_path / "train-images-idx3-ubyte"
    make(path)
    assert_api(lambda: read_idx(path, ndim=3), DatasetError, fragment)


def test_an_honest_idx_file_reads(tmp_path):
    write_idx(tmp_path / "x.gz", np.arange(24, dtype=np.uint8).reshape(2, 3, 4))
    assert read_idx(tmp_path / "x.gz", ndim=3).shape == (2, 3, 4)
