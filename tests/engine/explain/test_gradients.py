"""Saliency, gradient x input, SmoothGrad and guided backpropagation against their definitions,
with d logit / d x from central differences of the engine's forward (no backward pass)."""

from __future__ import annotations

import numpy as np
import pytest

from engine.explain import (
    ExplainError,
    NotDifferentiableLayer,
    gradient_x_input,
    guided_backprop,
    input_range,
    non_differentiable,
    occlusion,
    saliency,
    smoothgrad,
)
from engine.graph.autograd import logits_node
from engine.graph.node import InputSpec
from engine.graph.pipeline import Pipeline
from engine.layers import Conv2d, Flatten, Linear, NotDifferentiable, ReLU
from engine.layers.arithmetic import LocalResponseNorm
from tests.engine.explain.nets import dense_relu_net, random_input, relu_net, small_net

H = 1e-3  # small enough that no step crosses a ReLU kink of these nets and inputs


def logits(pipeline, x) -> np.ndarray:
    return pipeline.forward(x)[logits_node(pipeline)].astype(np.float64)


def numeric_gradient(pipeline, x, k) -> np.ndarray:
    """d logit_k / d x by central differences, accumulated in float64."""
    x = x.astype(np.float64)
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += H
        down[i] -= H
        grad[i] = (logits(pipeline, up.astype(np.float32))[k]
                   - logits(pipeline, down.astype(np.float32))[k]) / (2 * H)
    return grad


def close(ours, reference, tol=2e-3):
    scale = np.abs(reference).max() + 1e-6
    np.testing.assert_allclose(ours, reference, atol=tol * scale, rtol=0)


def away_from_kinks(pipeline, shape, margin=0.02):
    """The first seeded input whose ReLU inputs are all at least ``margin`` from zero: there
    central differences and the gradient agree (at a kink they cannot)."""
    for seed in range(200):
        x = random_input(*shape, seed=seed)
        if np.abs(pipeline.forward(x)["conv1"]).min() > margin:
            return x
    raise AssertionError("no input away from the kinks")


@pytest.fixture(scope="module")
def net_and_input():
    pipeline = small_net()
    x = away_from_kinks(pipeline, (2, 6, 6))
    return pipeline, x, logits(pipeline, x)


def test_saliency_is_the_largest_absolute_gradient_over_channels(net_and_input):
    pipeline, x, scores = net_and_input
    e = saliency(pipeline, x)
    top = int(np.argmax(scores))  # the default class: the top one of the logits (before Softmax)
    grad = numeric_gradient(pipeline, x, top)
    assert e.target == top and e.method == "saliency"
    assert e.map.dtype == np.float32 and e.map.shape == (6, 6)
    close(e.attribution, grad)
    close(e.map, np.abs(grad).max(axis=0))
    assert e.score == pytest.approx(scores[top], rel=1e-5)
    p = np.exp(scores - scores.max())
    assert e.probability == pytest.approx(p[top] / p.sum(), rel=1e-5)


def test_saliency_of_another_class_and_of_a_batch(net_and_input):
    pipeline, x, scores = net_and_input
    other = int(np.argmin(scores))
    close(saliency(pipeline, x, target=other).map,
          np.abs(numeric_gradient(pipeline, x, other)).max(axis=0))
    batch = np.stack([x, random_input(2, 6, 6, seed=300)])
    e = saliency(pipeline, batch, target=[other, 1])
    assert e.map.shape == (2, 6, 6) and e.target == (other, 1)
    np.testing.assert_allclose(e.map[0], saliency(pipeline, x, target=other).map, rtol=1e-5,
                               atol=1e-7)
    np.testing.assert_allclose(e.map[1], saliency(pipeline, batch[1], target=1).map, rtol=1e-5,
                               atol=1e-7)


def test_gradient_x_input_is_the_gradient_times_the_input(net_and_input):
    pipeline, x, _scores = net_and_input
    e = gradient_x_input(pipeline, x, target=2)
    grad = numeric_gradient(pipeline, x, 2)
    close(e.attribution, grad * x)
    close(e.map, (grad * x).sum(axis=0))
    assert e.signed and e.map.min() < 0 < e.map.max()


def test_smoothgrad_is_the_mean_saliency_of_noisy_copies(net_and_input):
    pipeline, x, scores = net_and_input
    n, sigma, seed = 5, 0.2, 3
    e = smoothgrad(pipeline, x, n=n, sigma=sigma, seed=seed, batch=2)
    lo, hi = input_range(pipeline)
    noise = np.random.default_rng(seed).standard_normal((n, *x.shape)).astype(np.float32)
    top = int(np.argmax(scores))  # the clean input's class, kept for every copy
    expected = np.mean([saliency(pipeline, x + sigma * (hi - lo) * z, target=top).map
                        for z in noise], axis=0)
    np.testing.assert_allclose(e.map, expected, rtol=1e-5, atol=1e-7)
    assert e.target == top and e.settings == {"n": n, "sigma": sigma, "seed": seed}
    np.testing.assert_array_equal(smoothgrad(pipeline, x, n=n, sigma=sigma, seed=seed,
                                             batch=2).map, e.map)  # seeded
    again = smoothgrad(pipeline, x, n=n, sigma=sigma, seed=seed, batch=3)
    np.testing.assert_allclose(again.map, e.map, rtol=1e-6)  # batching: rounding only
    assert not np.allclose(smoothgrad(pipeline, x, n=n, sigma=sigma, seed=4).map, e.map)


def test_smoothgrad_with_one_clean_copy_is_saliency(net_and_input):
    pipeline, x, _ = net_and_input
    np.testing.assert_allclose(smoothgrad(pipeline, x, n=1, sigma=0.0).map,
                               saliency(pipeline, x).map, rtol=1e-6, atol=1e-8)


def test_guided_backprop_zeroes_negative_gradients_at_every_relu():
    pipeline = dense_relu_net()
    x = random_input(2, 2, 3, seed=5) - 0.5
    w = {name: pipeline[name].layer for name in ("fc1", "fc2", "fc3")}
    v = x.astype(np.float64).ravel()
    h1 = w["fc1"].weight @ v + w["fc1"].bias
    h2 = w["fc2"].weight @ np.maximum(h1, 0) + w["fc2"].bias
    out = w["fc3"].weight @ np.maximum(h2, 0) + w["fc3"].bias
    k = int(np.argmax(out))
    g = w["fc3"].weight[k].astype(np.float64)  # d logit_k / d relu2
    g = g * (h2 > 0) * (g > 0)  # the guided rule: forward sign and backward sign both positive
    g = w["fc2"].weight.T @ g
    g = g * (h1 > 0) * (g > 0)
    g = (w["fc1"].weight.T @ g).reshape(x.shape)
    e = guided_backprop(pipeline, x)
    assert e.target == k
    np.testing.assert_allclose(e.attribution, g, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(e.map, np.abs(g).max(axis=0), rtol=1e-5, atol=1e-6)
    plain = saliency(pipeline, x).attribution
    assert not np.allclose(plain, g)  # the rule made a difference here


def test_guided_backprop_on_a_conv_relu_net_keeps_only_positive_paths():
    pipeline, x = relu_net(), random_input(2, 6, 6, seed=6)
    e = guided_backprop(pipeline, x)
    assert e.attribution.shape == x.shape and np.isfinite(e.attribution).all()
    # the last ReLU passes only positive gradients, and what reaches conv2 is W^T of that
    assert not np.allclose(e.attribution, saliency(pipeline, x).attribution)
    with pytest.raises(ExplainError, match="ReLU"):
        guided_backprop(small_net_without_relu(), random_input(2, 6, 6))


def small_net_without_relu() -> Pipeline:
    return Pipeline.chain([Flatten(), Linear(72, 3, seed=1)], input_spec=InputSpec(channels=2))


def test_a_layer_without_backward_is_named_and_occlusion_still_works():
    pipeline = Pipeline.chain([
        Conv2d(2, 3, 3, padding=1, seed=1), ReLU(), LocalResponseNorm(3), Flatten(),
        Linear(3 * 6 * 6, 3, seed=2)], input_spec=InputSpec(channels=2))
    x = random_input(2, 6, 6)
    assert non_differentiable(pipeline) == ["lrn1"]
    for method in (saliency, gradient_x_input, guided_backprop, smoothgrad):
        with pytest.raises(NotDifferentiable, match=r"layer 2 \(lrn1, LocalResponseNorm\)") as err:
            method(pipeline, x)
        assert isinstance(err.value, NotDifferentiableLayer) and "occlusion" in str(err.value)
    assert occlusion(pipeline, x, patch=2, stride=2).map.shape == (6, 6)


def test_bad_requests_say_what_is_wrong(net_and_input):
    pipeline, x, _ = net_and_input
    with pytest.raises(ExplainError, match="class 4 does not exist: this network has 4"):
        saliency(pipeline, x, target=4)
    with pytest.raises(ExplainError, match="one whole number per input"):
        saliency(pipeline, np.stack([x, x]), target=[1, 2, 3])
    with pytest.raises(ExplainError, match="SmoothGrad needs"):
        smoothgrad(pipeline, x, n=0)
    with pytest.raises(ValueError, match="input channel"):
        saliency(pipeline, random_input(3, 6, 6))
    maps_only = Pipeline.chain([Conv2d(2, 3, 3, seed=1)], input_spec=InputSpec(channels=2))
    with pytest.raises(ExplainError, match="need a classifier"):
        saliency(maps_only, x)


def test_the_input_only_backward_gives_the_layers_own_input_gradient():
    """Explanations skip the weight gradients (INPUT_ONLY_RULES); the input gradient must be
    what every layer's own backward gives, for every conv option."""
    from engine.graph.autograd import forward_backward

    spec = InputSpec(channels=4)
    pipeline = Pipeline.chain([
        Conv2d(4, 6, 3, stride=2, padding=1, seed=1), ReLU(),
        Conv2d(6, 6, 3, padding=2, dilation=2, groups=3, seed=2, flip=True), ReLU(),
        Conv2d(6, 4, 1, bias=False, seed=3), Flatten(), Linear(4 * 4 * 4, 5, seed=4)],
        input_spec=spec)
    x = random_input(2, 4, 7, 8, seed=9)
    for k in range(5):
        cotangent = np.zeros((2, 5), np.float32)
        cotangent[:, k] = 1
        own = forward_backward(pipeline, x, cotangent, loss="dot").grads["input"]
        ours = saliency(pipeline, x, target=k).attribution
        np.testing.assert_allclose(ours, own, rtol=1e-6, atol=1e-7)


def test_saliency_on_an_imported_resnet_block_matches_central_differences(tmp_path):
    """A graph with branches (Add), batch norm and a pooled head, imported from ONNX."""
    import onnx

    from engine import load_onnx
    from engine.explain import grad_cam
    from tests.engine.onnx_models import residual

    onnx.save(residual(), str(tmp_path / "block.onnx"))
    pipeline = load_onnx(tmp_path / "block.onnx", input_size=(12, 12))
    x = random_input(3, 12, 12, seed=11)
    e = saliency(pipeline, x, target=3)
    rng = np.random.default_rng(0)
    for _ in range(4):
        v = rng.standard_normal(x.shape)
        v /= np.linalg.norm(v)
        step = (H * v).astype(np.float32)
        numeric = (logits(pipeline, x + step)[3] - logits(pipeline, x - step)[3]) / (2 * H)
        assert float(np.sum(e.attribution * v)) == pytest.approx(numeric, rel=2e-2, abs=2e-3)
    relu = [node.name for node in pipeline if node.layer.type_name == "ReLU"][-1]
    assert grad_cam(pipeline, x, layer=relu).map.shape == (6, 6)
    assert guided_backprop(pipeline, x).map.shape == (12, 12)
