"""The float32 erf and GELU (engine/ops/_erf.py) against math.erf, value by value, over random
shapes, chunkings and thread counts, with the edges: 0, -0, the clamp at +-4, inf and NaN."""

import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from engine.ops import _erf
from engine.ops.pointwise import erf, gelu
from tests.engine.ops.reference import SETTINGS, pieces_of


def _ref_erf(x):
    return np.array([math.erf(float(v)) for v in x.reshape(-1)]).reshape(x.shape)


def _ref_gelu(x):
    return np.array([0.5 * float(v) * (1 + math.erf(float(v) / math.sqrt(2)))
                     for v in x.reshape(-1)]).reshape(x.shape)


values = st.lists(st.floats(-9, 9, width=32), min_size=0, max_size=40)


@given(xs=values, chunk=st.integers(1, 7), threads=st.sampled_from([1, 2]))
@SETTINGS
def test_erf_and_gelu_match_the_true_values(xs, chunk, threads):
    x = np.array(xs, np.float32)
    with pieces_of(_erf, {"_CHUNK": chunk}, threads):  # many chunks, shared by the threads
        e, g = erf(x), gelu(x)
    assert e.dtype == g.dtype == np.float32 and e.shape == g.shape == x.shape
    ref = _ref_erf(x)
    # relative error below 4.3e-7 (a few float32 steps), measured on a fine grid of [-6, 6]
    np.testing.assert_allclose(e, ref, rtol=5e-7, atol=1e-30)
    np.testing.assert_allclose(g, _ref_gelu(x), rtol=1e-6, atol=1e-6)


def test_fine_grid_and_small_values():
    x = np.concatenate([np.linspace(-6, 6, 20001), np.float32(10.0) ** -np.arange(1, 38)])
    x = x.astype(np.float32)
    np.testing.assert_allclose(erf(x), _ref_erf(x), rtol=5e-7, atol=0)


def test_edges_and_shapes():
    x = np.array([[0.0, -0.0, 4.0, -4.0], [np.inf, -np.inf, np.nan, 100.0]], np.float32)
    e = erf(x)
    assert e.shape == (2, 4)
    assert e[0, 0] == 0 and e[0, 1] == 0 and np.signbit(e[0, 1])
    np.testing.assert_array_equal(e[1], [1.0, -1.0, np.nan, 1.0])
    g = gelu(x)
    np.testing.assert_array_equal(g[1], [np.inf, np.nan, np.nan, 100.0])  # -inf * 0 is NaN
    assert erf(np.float32(0.5)).shape == () and erf(np.zeros((0, 3), np.float32)).shape == (0, 3)
    assert gelu(np.ones((2, 3, 4, 5), np.float64)).dtype == np.float32
