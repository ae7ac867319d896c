"""The Train workspace's Qt-free parts: networks, plans, run folders, recorded classes, curves,
histograms and the training thread, without a window."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

from engine.train.config import TrainConfig
from engine.train.dataset import DatasetError
from gui.train import runs
from gui.train.curves_data import CurveStore, smooth
from gui.train.networks import build_network, natural_input
from gui.train.plan import TrainPlan, describe_source, prepare, source_classes
from gui.train.recording import RecordedClasses, clean_name, list_datasets
from gui.train.snapshot import histograms
from gui.train.worker import TrainWorker

SMALL = TrainConfig(epochs=2, batch_size=16, lr=2e-3)


def small_plan(**changes) -> TrainPlan:
    """64 drawn shapes, the tiny network, batches of 16: 4 steps an epoch."""
    return TrainPlan(data="shapes", samples=64, network="tiny", config=SMALL).replace(**changes)


@pytest.mark.parametrize(("key", "channels", "size", "classes"),
                         [("tiny", 3, (64, 64), 8), ("small", 1, (28, 28), 10),
                          ("small", 3, (48, 32), 2)])
def test_each_architecture_is_built_for_the_data_with_its_head_sized(key, channels, size,
                                                                     classes):
    net = build_network(key, channels, size, classes, seed=3)
    out = net.forward(np.zeros((channels, *size), np.float32))[net.nodes[-1].name]
    assert out.shape == (classes,)
    assert net.input_spec.preprocess.size == size  # live frames are cut as the data was


def test_data_words_name_their_classes_and_input():
    assert source_classes("shapes")[:2] == ("circle", "triangle")
    assert len(source_classes("digits")) == 10
    assert natural_input("fashion-mnist:/x") == ((28, 28), 1)
    assert describe_source("shapes") == "drawn shapes"
    with pytest.raises(DatasetError, match="neither shapes"):
        prepare(small_plan(data="no/such/folder"))


def test_a_plan_survives_json_and_prepares_a_trainer():
    plan = small_plan(val_split=0.25)
    assert TrainPlan.from_dict(json.loads(json.dumps(plan.to_dict()))) == plan
    ready = prepare(plan)
    assert len(ready.train) + len(ready.val) == 64
    assert ready.trainer.steps_per_epoch == 3
    assert ready.start.nodes[-1].layer.out_features == 8


def test_the_current_pipeline_must_end_in_a_linear_layer(session):
    with pytest.raises(DatasetError, match=r"not a\s+Linear layer"):
        prepare(small_plan(network="current"), current=session.pipeline)  # the default net


def test_recorded_classes_are_a_folder_that_trains_and_survives(tmp_path):
    from engine.train.folder import load_folder

    classes = RecordedClasses(tmp_path / "mine")
    assert classes.problem() is not None and classes.classes() == []
    for name in ("cup", "pen"):
        classes.add_class(name)
    assert "'cup' has no frames" in classes.problem()
    rng = np.random.default_rng(0)
    for name in ("cup", "pen"):
        for _ in range(3):
            classes.add_frame(name, rng.integers(0, 255, (480, 640, 3), dtype=np.uint8))
    assert classes.problem() is None
    again = RecordedClasses(tmp_path / "mine")  # a restart reads the same folder
    assert [again.count(n) for n in again.classes()] == [3, 3]
    assert again.frames("cup")[-1].name == "0003.png"
    assert again.delete_frames(again.frames("cup")[:1]) == 1
    assert again.add_frame("cup", np.zeros((10, 10), np.uint8)).name == "0004.png"
    data = load_folder(tmp_path / "mine", size=(32, 32))
    assert data.class_names == ("cup", "pen") and len(data) == 6
    again.delete_class("pen")
    assert again.classes() == ["cup"] and "at least two classes" in again.problem()
    with pytest.raises(ValueError, match="cannot be a name"):
        clean_name("../up")
    with pytest.raises(ValueError, match="already a class"):
        again.add_class("cup")
    assert list_datasets(tmp_path) == ["mine"]


def test_the_newest_unfinished_run_is_offered(tmp_path):
    plan, start = small_plan(), build_network("tiny", 3, (64, 64), 8)
    old = runs.new_run(plan, ("a", "b"), start, tmp_path)
    (old / "trainer.json").write_text(json.dumps({"step": 4, "epoch": 1}))
    assert runs.unfinished_run(tmp_path).folder == old
    runs.set_status(old, "stopped")
    assert runs.unfinished_run(tmp_path) is None
    runs.set_status(old, "paused")
    newer = runs.new_run(plan, ("a", "b"), start, tmp_path)  # no checkpoint yet
    assert newer.name > old.name and runs.unfinished_run(tmp_path) is None
    assert (newer / "model.labels.txt").read_text() == "a\nb\n"


def test_curves_grow_in_place_and_smooth_incrementally():
    from engine.train.trainer import StepMetrics

    store = CurveStore(capacity=4)
    losses = np.random.default_rng(1).random(11)
    for start in (0, 3, 9):
        end = {0: 3, 3: 9, 9: 11}[start]
        store.extend([StepMetrics(i + 1, 0, losses[i], 0.5, 1e-3, 1.0, i, 0.0)
                      for i in range(start, end)])
        np.testing.assert_allclose(store.smoothed("loss", 0.6), smooth(losses[:end], 0.6))
    assert store.n == 11 and len(store.step) >= 11
    assert store.step[:11].tolist() == list(range(1, 12))
    assert smooth(np.array([1.0, np.nan, 3.0]), 0.0)[1] != smooth(np.array([1.0]), 0.0)[0]


def test_histograms_show_a_vanishing_layer():
    from gui.train.histograms import gradient_note

    params = {"conv1.weight": np.ones((4, 3, 3, 3)), "fc.weight": np.ones((2, 4)),
              "fc.bias": np.zeros(2)}
    grads = {"conv1.weight": np.full((4, 3, 3, 3), 1e-9), "fc.weight": np.full((2, 4), 1e-2)}
    h = histograms(params, grads)
    assert h.names == ("conv1.weight", "fc.weight")  # biases left out
    assert h.grads[0].argmax() < h.grads[1].argmax()  # further left on the log10 axis
    note = gradient_note(h.names, h.grad_rms)
    assert "The gradients of conv1 vanish" in note and "explode" not in note
    assert "explode" in gradient_note(h.names, np.array([1.0, 1e3]))


def wait_for(worker, predicate, timeout=60.0):
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        snapshot = worker.latest
        if predicate(snapshot):
            return snapshot
        time.sleep(0.02)
    raise AssertionError(f"timed out; last snapshot: {worker.latest}")


def test_the_worker_trains_pauses_steps_checkpoints_and_resumes(data_dir):
    worker = TrainWorker(persist=True)
    worker.start()
    try:
        worker.command("prepare", small_plan(config=SMALL.__class__(epochs=3, batch_size=16)))
        worker.command("run", 2)
        s = wait_for(worker, lambda s: s.state == "paused")
        assert (s.step, s.curve_len, s.epochs) == (2, 2, 3)
        assert s.filters.shape == (8, 3, 5, 5) and s.hist.names[0] == "conv1.weight"
        worker.command("step")
        assert wait_for(worker, lambda s: s.step == 3).state == "paused"
        worker.command("epoch")  # the rest of epoch 1: one more step, then validation
        s = wait_for(worker, lambda s: s.epoch == 1 and s.state == "paused")
        assert s.step == 4 and s.evaluation is not None
        assert len(s.epoch_filters) == 2  # the start and epoch 1
        folder = s.run_folder
        assert (folder / "trainer.json").is_file()  # the epoch's checkpoint
        worker.command("step")
        wait_for(worker, lambda s: s.step == 5)
    finally:
        worker.shutdown()
    info = runs.unfinished_run()
    assert info is not None and info.folder == folder and info.step == 5  # kept at closing
    worker = TrainWorker(persist=True)
    worker.start()
    try:
        worker.command("resume", folder)
        s = wait_for(worker, lambda s: s.state == "paused")
        assert (s.step, s.epoch, s.curve_len) == (5, 1, 5)
        worker.command("run")
        s = wait_for(worker, lambda s: s.state == "done")
        assert s.step == 12 and "finished" in s.message
        assert json.loads((folder / "run.json").read_text())["status"] == "finished"
    finally:
        worker.shutdown()


# The run diverges on purpose; no warning may escape (the engine's op threads run under the
# trainer's error settings), and warnings are errors in the tests.
def test_a_loss_that_is_not_a_number_stops_and_keeps_the_last_good_weights(data_dir):
    worker = TrainWorker(persist=False)
    worker.start()
    try:
        config = TrainConfig(epochs=2, batch_size=16, lr=1e20, optimizer="sgd")
        worker.command("prepare", small_plan(network="small", config=config))
        worker.command("run")
        s = wait_for(worker, lambda s: s.state == "error")
        assert "loss became nan" in s.message.lower()
        assert s.step == 1 and np.isfinite(s.filters).all()
        assert s.has_network  # Save and Use still work on the last good weights
    finally:
        worker.shutdown()


def test_bad_data_becomes_a_message_not_a_dead_thread(data_dir, tmp_path):
    (tmp_path / "only").mkdir()
    (tmp_path / "only" / "a").mkdir()
    worker = TrainWorker(persist=False)
    worker.start()
    try:
        worker.command("prepare", small_plan(data=str(tmp_path / "only"), samples=None))
        s = wait_for(worker, lambda s: s.state == "error")
        assert "only one class" in s.message
        worker.command("prepare", small_plan())
        assert wait_for(worker, lambda s: s.state == "ready").step == 0
    finally:
        worker.shutdown()
    assert not worker.is_alive()
