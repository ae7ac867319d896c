"""Activation maximization: the channel's activation rises, seeded runs repeat, stop works."""

from __future__ import annotations

import numpy as np
import pytest

import engine
from engine.explain import ExplainError, input_range, maximize
from engine.explain.maximize import gaussian_blur


@pytest.fixture(scope="module")
def shapes():
    return engine.resolve_pipeline("shapes")


def mean_activation(pipeline, image, layer, channel):
    return float(pipeline.forward(image)[layer][channel].mean())


def test_the_channel_rises_and_a_seed_repeats_the_picture(shapes):
    steps = []
    r = maximize(shapes, "conv2", channel=3, steps=40, seed=1, progress=steps.append)
    before = r.initial
    after = mean_activation(shapes, r.image, "conv2", 3)
    assert after == pytest.approx(r.objective, rel=1e-4, abs=1e-5)
    assert after > before + 1.0  # from noise to a picture this channel likes
    assert np.mean(r.history[-5:]) > np.mean(r.history[:5])
    assert [s.step for s in steps] == list(range(1, 41)) and steps[-1].steps == 40
    np.testing.assert_array_equal(steps[-1].image, r.image)
    lo, hi = input_range(shapes)
    assert r.image.shape == (3, 64, 64) and r.image.dtype == np.float32
    assert (r.image >= lo).all() and (r.image <= hi).all()
    again = maximize(shapes, "conv2", channel=3, steps=40, seed=1)
    np.testing.assert_array_equal(again.image, r.image)
    other = maximize(shapes, "conv2", channel=3, steps=40, seed=2)
    assert not np.array_equal(other.image, r.image)
    assert r.to_dict()["steps_run"] == 40 and not r.stopped


def test_a_class_score_and_one_unit(shapes):
    r = maximize(shapes, channel=5, steps=30)  # default layer: the logits
    assert r.layer == "fc2" and r.objective > r.initial + 10
    unit = maximize(shapes, "conv3", channel=8, unit=(4, 5), steps=30)
    assert unit.objective == pytest.approx(float(shapes.forward(unit.image)["conv3"][8, 4, 5]),
                                           rel=1e-4)
    assert unit.objective > unit.initial


def test_stop_ends_the_ascent_with_what_it_has(shapes):
    calls = []

    def stop():
        calls.append(1)
        return len(calls) > 3

    r = maximize(shapes, "conv1", channel=0, steps=50, stop=stop)
    assert r.stopped and len(r.history) == 3


def test_bad_requests(shapes):
    with pytest.raises(ExplainError, match="conv2 has 16 channels"):
        maximize(shapes, "conv2", channel=16)
    with pytest.raises(ExplainError, match="unit"):
        maximize(shapes, "conv2", channel=1, unit=(40, 0))
    with pytest.raises(ExplainError, match="no layer called"):
        maximize(shapes, "conv7")


def test_blur_keeps_the_mean_and_smooths():
    x = np.random.default_rng(0).standard_normal((2, 9, 7)).astype(np.float32)
    y = gaussian_blur(x, 1.0)
    assert y.shape == x.shape and y.std() < x.std()
    assert abs(float(y.mean() - x.mean())) < 0.1
    np.testing.assert_array_equal(gaussian_blur(x, 0.0), x)
