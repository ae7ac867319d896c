"""Grad-CAM against its formula written out here, with d logit / d A from central differences
of the layers after A (the engine's forward only); the upsampling against OpenCV."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

import engine
from assets import asset_path
from engine.explain import ExplainError, default_cam_layer, grad_cam, map_layers, saliency
from engine.explain.overlay import upsample
from engine.graph.autograd import logits_node
from tests.engine.explain.nets import drawn_shapes, random_input, small_net

H = 1e-3


def head(pipeline, layer: str, a: np.ndarray) -> np.ndarray:
    """The logits computed from the layer's output ``a`` by the layers after it (a chain)."""
    v = a.astype(np.float32)
    for node in pipeline.nodes[pipeline.index(layer) + 1:pipeline.index(logits_node(pipeline))
                               + 1]:
        v = node.layer(v)
    return v.astype(np.float64)


def cam_by_hand(pipeline, x, layer, k):
    a = pipeline.forward(x)[layer].astype(np.float64)  # (C, h, w)
    grad = np.zeros_like(a)
    for i in np.ndindex(a.shape):
        up, down = a.copy(), a.copy()
        up[i] += H
        down[i] -= H
        grad[i] = (head(pipeline, layer, up)[k] - head(pipeline, layer, down)[k]) / (2 * H)
    alpha = grad.mean(axis=(1, 2))  # (C,): mean over positions of d logit_k / d A_c
    return np.maximum((alpha[:, None, None] * a).sum(axis=0), 0.0)


@pytest.mark.parametrize("layer", ["conv2", "relu1"])
def test_grad_cam_is_relu_of_the_gradient_weighted_maps(layer):
    pipeline, x = small_net(), random_input(2, 6, 6, seed=2)
    scores = pipeline.forward(x)["fc1"]
    for k in (None, int(np.argmin(scores))):
        e = grad_cam(pipeline, x, target=k, layer=layer)
        expected = cam_by_hand(pipeline, x, layer, int(np.argmax(scores)) if k is None else k)
        assert e.layer == layer and e.method == "gradcam" and e.map.dtype == np.float32
        assert e.map.shape == pipeline.shapes(x.shape)[layer][1:]
        np.testing.assert_allclose(e.map, expected, atol=2e-3 * (expected.max() + 1e-3))


def test_grad_cam_of_the_shapes_network_defaults_to_its_last_conv_block():
    pipeline, x, labels = drawn_shapes(3, seed=4)
    assert default_cam_layer(pipeline, x.shape[1:]) == "relu3"
    e = grad_cam(pipeline, x, target=labels)
    assert e.map.shape == (3, 16, 16) and e.target == tuple(int(k) for k in labels)
    assert (e.map >= 0).all() and (e.map.max(axis=(1, 2)) > 0).all()
    assert grad_cam(pipeline, x[0], layer="conv1").map.shape == (64, 64)
    assert "fc1" not in map_layers(pipeline, x.shape[1:])


def test_a_layer_that_is_not_maps_or_does_not_exist_is_refused():
    pipeline, x = small_net(), random_input(2, 6, 6)
    with pytest.raises(ExplainError, match="fc1 gives shape"):
        grad_cam(pipeline, x, layer="fc1")
    with pytest.raises(ExplainError, match="no layer called 'conv9'; the layers are: conv1"):
        grad_cam(pipeline, x, layer="conv9")


def test_explanations_of_the_onnx_import_match_the_native_network():
    native, x, _labels = drawn_shapes(2, seed=8)
    imported = engine.load_onnx(asset_path("models", "shapes.onnx"))
    a = grad_cam(native, x, layer="relu3")
    b = grad_cam(imported, x, layer="/7/Relu_output_0")
    np.testing.assert_allclose(b.map, a.map, rtol=1e-3, atol=1e-4 * a.map.max())
    assert a.target == b.target
    np.testing.assert_allclose(saliency(imported, x).map, saliency(native, x).map, rtol=1e-3,
                               atol=1e-4)


@pytest.mark.parametrize("size", [(4, 4, 64, 64), (3, 5, 17, 9), (6, 6, 6, 6), (8, 8, 4, 4)])
def test_upsampling_is_bilinear_like_opencv(size):
    h, w, height, width = size
    heat = random_input(h, w, seed=h * w)
    expected = cv2.resize(heat, (width, height), interpolation=cv2.INTER_LINEAR)
    np.testing.assert_allclose(upsample(heat, height, width), expected, atol=1e-5)
