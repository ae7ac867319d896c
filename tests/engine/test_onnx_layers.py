"""The layer types only imported ONNX models use, against their ONNX formulas."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.layers import LAYER_TYPES
from engine.layers.imported import (
    ONNX_LAYER_TYPES,
    LocalResponseNorm,
    Pad,
    Reshape,
    register_onnx_layers,
)
from engine.ops.shapes import ShapeError


def _lrn_reference(x, size, alpha, beta, k):
    """ONNX's formula, one channel at a time."""
    c = x.shape[0]
    out = np.empty_like(x, dtype=np.float64)
    for i in range(c):
        lo = max(0, i - (size - 1) // 2)
        hi = min(c - 1, i + math.ceil((size - 1) / 2))
        square_sum = (x[lo:hi + 1].astype(np.float64) ** 2).sum(axis=0)
        out[i] = x[i] / (k + alpha / size * square_sum) ** beta
    return out


@pytest.mark.parametrize("size", [1, 2, 3, 4, 5, 8])
def test_local_response_norm_matches_onnx_formula(size):
    x = np.random.default_rng(size).standard_normal((6, 3, 4)).astype(np.float32)
    layer = LocalResponseNorm(size, alpha=0.3, beta=0.75, k=1.5, in_rank=3)
    np.testing.assert_allclose(layer(x), _lrn_reference(x, size, 0.3, 0.75, 1.5), rtol=1e-5)
    np.testing.assert_allclose(layer(x[None])[0], layer(x), rtol=1e-6)


def test_reshape_layer_shapes_and_errors():
    layer = Reshape((0, -1), in_rank=3)
    assert layer.out_shape((4, 4, 4)) == (4, 16)
    assert layer(np.zeros((2, 4, 4, 4), np.float32)).shape == (2, 4, 16)
    with pytest.raises(ShapeError, match="do not split"):
        Reshape((3, -1), in_rank=3).out_shape((4, 4, 4))
    with pytest.raises(ShapeError, match="built for 3"):
        layer.out_shape((4, 16))
    assert repr(layer) == "Reshape((0, -1))"


def test_pad_layer_modes_and_replace():
    x = np.arange(6, dtype=np.float32).reshape(1, 2, 3)
    layer = Pad((1, 0, 0, 1), mode="edge")
    assert layer(x).tolist() == [[[0, 0, 1, 2], [3, 3, 4, 5], [3, 3, 4, 5]]]
    assert layer.out_shape((1, 2, 3)) == (1, 3, 4)
    assert layer.replace(mode="constant", value=7.0)(x)[0, 2].tolist() == [7, 7, 7, 7]
    with pytest.raises(ShapeError, match="smaller than the side"):
        Pad((3, 0, 0, 0), mode="reflect").out_shape((1, 2, 3))


def test_register_onnx_layers():
    saved = dict(LAYER_TYPES)
    try:
        register_onnx_layers()
        for name, cls in ONNX_LAYER_TYPES.items():
            assert LAYER_TYPES[name] is cls
        assert LAYER_TYPES["Conv2d"] is saved["Conv2d"]
    finally:
        LAYER_TYPES.clear()
        LAYER_TYPES.update(saved)
