"""The Trainer: events, determinism, learning, resuming, and the cases that must stop it."""

import math

import numpy as np
import pytest

from engine.graph.node import InputSpec
from engine.graph.pipeline import Pipeline
from engine.layers import BatchNorm2d, Conv2d, Flatten, Linear, MaxPool2d, ReLU
from engine.train import (
    ArrayDataset,
    DatasetError,
    EpochMetrics,
    NetworkMismatch,
    StepMetrics,
    TrainConfig,
    Trainer,
    TrainingError,
    check_fits,
    fit_head,
    open_dataset,
    read_checkpoint,
    reinitialize,
    split,
)
from engine.train.run import save_checkpoint


def small_net(classes=4, channels=1, side=16, bn=True):
    layers = [Conv2d(channels, 6, 3, padding=1, seed=1)]
    layers += [BatchNorm2d(6)] if bn else []
    layers += [ReLU(), MaxPool2d(2), Flatten(), Linear(6 * (side // 2) ** 2, classes, seed=2)]
    return Pipeline.chain(layers, input_spec=InputSpec(channels=channels, height=side,
                                                        width=side))


def bars(n=96, side=16, seed=0):
    """Four easy classes: a bright bar at the top, bottom, left or right, with noise."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 60, (n, side, side, 1)).astype(np.uint8)
    labels = np.arange(n) % 4
    for i, label in enumerate(labels):
        part = [np.s_[:4, :], np.s_[-4:, :], np.s_[:, :4], np.s_[:, -4:]][label]
        images[i][part] = 230
    return ArrayDataset(images, labels, ("top", "bottom", "left", "right"))


def test_events_come_per_step_and_per_epoch():
    events = []
    trainer = Trainer(small_net(), bars(40), bars(12, seed=1), TrainConfig(batch_size=16,
                                                                           epochs=2))
    trainer.subscribe(events.append)
    first = trainer.step()
    assert isinstance(first, StepMetrics) and first.step == 1 and first.examples == 16
    epoch = trainer.run_epoch()  # 40 examples: steps of 16, 16 and 8
    assert [type(e).__name__ for e in events] == ["StepMetrics"] * 3 + ["EpochMetrics"]
    assert isinstance(epoch, EpochMetrics) and epoch.epoch == 1 and epoch.step == 3
    assert 0 <= epoch.val_accuracy <= 1 and math.isfinite(epoch.val_loss)
    assert trainer.examples_seen == 40 and math.isfinite(first.grad_norm) and first.lr > 0


def test_the_same_seed_gives_the_same_run():
    def run(seed):
        t = Trainer(small_net(), bars(48), None, TrainConfig(batch_size=16, seed=seed,
                                                               epochs=3))
        t.run(max_steps=5)
        return t.params

    a, b, c = run(3), run(3), run(4)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert any(not np.array_equal(a[k], c[k]) for k in a)


def test_it_learns_and_run_stops_where_asked():
    data = bars(128)
    trainer = Trainer(small_net(), data, None, TrainConfig(batch_size=16, epochs=4, lr=5e-3))
    trainer.run(max_steps=3)
    assert trainer.step_count == 3
    trainer.subscribe(lambda e: trainer.stop() if getattr(e, "step", 0) == 10 else None)
    trainer.run()
    assert trainer.step_count == 10  # stop() ends the run after the current step
    trainer.run()
    assert trainer.done and trainer.epoch == 4
    losses = [m.loss for m in trainer.curve]
    assert np.mean(losses[-8:]) < 0.5 * np.mean(losses[:4])
    moved = trainer.pipeline.state_dict()["bn1.running_mean"]
    assert np.abs(moved).max() > 0  # training mode moved the running statistics


def test_resuming_a_checkpoint_continues_the_same_run(tmp_path):
    data, val = bars(64), bars(16, seed=1)
    config = TrainConfig(batch_size=16, epochs=3, seed=7)
    straight = Trainer(small_net(), data, val, config)
    straight.run()
    first = Trainer(small_net(), data, val, config)
    first.run_epoch()
    first.run(max_steps=2)  # stop in the middle of the second epoch
    save_checkpoint(first, tmp_path)
    pipeline, optimizer_state, state, metrics = read_checkpoint(tmp_path)
    assert len(metrics["epochs"]) == 1 and len(metrics["steps"]) == 6
    resumed = Trainer(pipeline, data, val, TrainConfig.from_dict(state["config"]))
    resumed.restore(optimizer_state, state, metrics)
    resumed.run()
    assert len(resumed.history) == 3 and len(resumed.curve) == len(straight.curve)
    for name, value in straight.params.items():
        np.testing.assert_array_equal(resumed.params[name], value, err_msg=name)
    assert resumed.history[-1].val_accuracy == straight.history[-1].val_accuracy


def test_a_loss_that_is_not_a_number_stops_and_keeps_the_weights():
    trainer = Trainer(small_net(bn=False), bars(32), None,
                      TrainConfig(batch_size=16, lr=1e30, optimizer="sgd", momentum=0.0))
    before = None
    with pytest.raises(TrainingError, match=r"The loss became (nan|inf) at step \d+"):
        for _ in range(20):
            before = {k: v.copy() for k, v in trainer.params.items()}
            trainer.step()
    assert all(np.array_equal(before[k], trainer.params[k]) for k in before)


def test_mismatches_name_what_to_change():
    with pytest.raises(NetworkMismatch, match=r"output layer 5 \(fc1, Linear\) gives \(3,\)"
                                              r" but the data has 4 classes"):
        Trainer(small_net(classes=3), bars(8), None)
    with pytest.raises(NetworkMismatch, match="takes 3 input channel"):
        check_fits(small_net(channels=3), bars(8))
    one = ArrayDataset(np.zeros((4, 16, 16, 1), np.uint8), np.zeros(4, np.int64), ("only",))
    with pytest.raises(DatasetError, match="at least two classes"):
        Trainer(small_net(classes=1), one, None)
    resized = fit_head(small_net(classes=3), 4)
    assert resized.nodes[-1].layer.out_features == 4
    check_fits(resized, bars(8))


def test_fresh_weights_differ_and_keep_the_architecture():
    net = small_net()
    fresh = reinitialize(net, seed=5)
    assert [n.layer.type_name for n in fresh] == [n.layer.type_name for n in net]
    assert not np.array_equal(fresh["conv1"].layer.weight, net["conv1"].layer.weight)
    assert np.array_equal(reinitialize(net, seed=5)["conv1"].layer.weight,
                          fresh["conv1"].layer.weight)
    assert not fresh["fc1"].layer.bias.any()


def test_the_bundled_shapes_network_trains_on_drawn_shapes():
    data = open_dataset("shapes", size=(64, 64), n=96, seed=0)
    train, val = split(data, 0.25, seed=0)
    from engine.resolve import resolve_pipeline

    net = reinitialize(resolve_pipeline("shapes"), seed=1)
    trainer = Trainer(net, train, val, TrainConfig(batch_size=24, epochs=1))
    epoch = trainer.run_epoch()
    assert epoch.step == 3 and math.isfinite(epoch.train_loss)
