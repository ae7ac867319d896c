"""FGSM: the formula, the clipping, and a flipped answer on the bundled shapes network."""

from __future__ import annotations

import numpy as np
import pytest

import engine
from engine.explain import ExplainError, fgsm, fgsm_sweep, input_range
from tests.engine.explain.nets import drawn_shapes, random_input, small_net


def test_fgsm_steps_along_the_sign_of_the_loss_gradient_and_clips():
    pipeline, x = small_net(), random_input(2, 6, 6, seed=7)
    x[0, 0, :3] = [0.0, 1.0, 0.999]  # values at the edges of the range get clipped
    top = int(np.argmax(pipeline.forward(x)["fc1"]))
    for eps, target in ((0.05, None), (0.2, 2)):
        k = top if target is None else target
        _loss, grads = engine.value_and_grad(pipeline, x[None], np.array([k]))
        expected = np.clip(x + eps * np.sign(grads["input"][0]), 0.0, 1.0)
        a = fgsm(pipeline, x, eps, target=target)
        np.testing.assert_allclose(a.image, expected, atol=1e-6)
        np.testing.assert_allclose(a.perturbation, expected - x, atol=1e-6)
        assert a.original == top and a.target == k and a.epsilon == eps
        scores = pipeline.forward(a.image)["fc1"].astype(np.float64)
        assert a.predicted == int(np.argmax(scores)) and a.flipped == (a.predicted != top)
        p = np.exp(scores - scores.max())
        assert a.probability == pytest.approx(p.max() / p.sum(), rel=1e-5)
        assert a.target_probability == pytest.approx(p[k] / p.sum(), rel=1e-5)


def test_a_modest_epsilon_flips_a_drawn_shape():
    pipeline, x, labels = drawn_shapes(8, seed=21)
    right = np.argmax(pipeline.forward(x)["fc2"], axis=1) == labels
    assert right.sum() >= 6  # the network knows these shapes
    eps = 4 / 255  # four grey levels: hard to see
    a = fgsm(pipeline, x[right], eps)
    assert any(a.flipped)
    lo, hi = input_range(pipeline)
    assert np.abs(a.perturbation).max() <= eps + 1e-6
    assert (a.image >= lo).all() and (a.image <= hi).all()
    flipped = int(np.argmax(a.flipped))
    assert a.predicted[flipped] != a.original[flipped]
    assert a.to_dict()["flipped"] == list(a.flipped)


def test_a_sweep_is_fgsm_for_each_epsilon_from_one_gradient():
    pipeline, x, _labels = drawn_shapes(1, seed=5)
    epsilons = [0.0, 1 / 255, 4 / 255, 16 / 255]
    sweep = fgsm_sweep(pipeline, x[0], epsilons)
    for eps, a in zip(epsilons, sweep, strict=True):
        b = fgsm(pipeline, x[0], eps)
        np.testing.assert_array_equal(a.image, b.image)
        assert (a.predicted, a.original, a.flipped) == (b.predicted, b.original, b.flipped)
        assert a.probability == pytest.approx(b.probability, rel=1e-5)
    assert not sweep[0].flipped
    with pytest.raises(ExplainError, match="epsilon"):
        fgsm(pipeline, x[0], -0.1)
    with pytest.raises(ExplainError, match="one input"):
        fgsm_sweep(pipeline, x, epsilons)
