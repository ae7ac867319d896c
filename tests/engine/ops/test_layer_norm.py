"""The float32 layer normalization over the last axis (engine/ops/_layer_norm.py) against a
plain loop in float64, over shapes, chunkings, thread counts and broadcast weights."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from engine.layers.norms import LayerNorm
from engine.ops import _layer_norm
from engine.ops._layer_norm import layer_norm_last
from tests.engine.ops.reference import SETTINGS, pieces_of


def _ref(x, w, b, eps):
    x64 = x.astype(np.float64).reshape(-1, x.shape[-1])
    y = np.empty_like(x64)
    for r, row in enumerate(x64):
        mean = sum(row) / len(row)
        var = sum((v - mean) ** 2 for v in row) / len(row)
        y[r] = [(v - mean) / np.sqrt(var + eps) * wi + bi for v, wi, bi in
                zip(row, np.broadcast_to(w, row.shape), np.broadcast_to(b, row.shape),
                    strict=True)]
    return y.reshape(x.shape)


@given(shape=st.lists(st.integers(1, 6), min_size=1, max_size=4), shared=st.booleans(),
       chunk=st.integers(1, 40), threads=st.sampled_from([1, 2]), seed=st.integers(0, 99))
@SETTINGS
def test_matches_the_plain_loop(shape, shared, chunk, threads, seed):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(shape) * 3 + 2).astype(np.float32)
    c = 1 if shared else shape[-1]
    w, b = rng.standard_normal(c).astype(np.float32), rng.standard_normal(c).astype(np.float32)
    with pieces_of(_layer_norm, {"_CHUNK": chunk}, threads):  # many chunks, both threads
        y = layer_norm_last(x, w, b, 1e-5)
    assert y.dtype == np.float32 and y.shape == x.shape
    # A row of nearly equal values is ill-conditioned in float32 (as in PyTorch): the mean's
    # rounding, half an ulp of the values, is divided by a standard deviation near sqrt(eps).
    x64 = x.astype(np.float64)
    spread = np.sqrt(x64.var(axis=-1, keepdims=True) + 1e-5)
    rounding = np.abs(x64).max(axis=-1, keepdims=True) / spread * np.abs(w).max()
    tolerance = 1e-5 + 1e-4 * np.abs(_ref(x, w, b, 1e-5)) + 4 * 2.0**-24 * rounding
    assert (np.abs(y - _ref(x, w, b, 1e-5)) <= tolerance).all()


def test_the_layer_takes_it_for_the_last_axis_only_and_nan_stays_in_its_row():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 4, 5)).astype(np.float32)
    x[0, 1, 2, 3] = np.nan
    w, b = rng.standard_normal(5).astype(np.float32), rng.standard_normal(5).astype(np.float32)
    y = LayerNorm(-1, w, b, in_rank=3)(x)
    assert np.isnan(y[0, 1, 2]).all() and np.isfinite(np.delete(y.reshape(-1, 5), 6, 0)).all()
    finite = np.isfinite(y)
    np.testing.assert_allclose(y[finite], _ref(x, w, b, 1e-5)[finite], rtol=1e-4, atol=1e-5)
    w2 = rng.standard_normal((4, 5)).astype(np.float32)
    y2 = LayerNorm(1, w2, np.zeros_like(w2), in_rank=3)(x[1])  # two axes: the float64 route
    x64 = x[1].astype(np.float64)
    mean = x64.mean(axis=(1, 2), keepdims=True)
    ref = (x64 - mean) / np.sqrt(x64.var(axis=(1, 2), keepdims=True) + 1e-5) * w2
    np.testing.assert_allclose(y2, ref, rtol=1e-5, atol=1e-6)
