"""Element-wise ops, softmax, batch norm, linear, flatten, pad and LRN against loops."""

import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from engine import ops as F
from tests.engine.ops.reference import (
    SETTINGS,
    arrays,
    assert_close,
    both_ways,
)


@SETTINGS
@given(
    st.lists(st.floats(-200, 200, width=32), min_size=1, max_size=20),
    st.floats(-1, 1),
    st.floats(-3, 0),
    st.floats(0, 3),
)
def test_elementwise_ops_match_math(values, slope, lo, hi):
    x = np.array(values, np.float32)
    assert_close(F.relu(x), np.array([max(v, 0.0) for v in values]))
    assert_close(
        F.leaky_relu(x, slope), np.array([v if v > 0 else v * np.float32(slope) for v in values])
    )
    assert_close(
        F.sigmoid(x),
        np.array([1 / (1 + math.exp(-v)) if v > -700 else 0.0 for v in x.astype(float)]),
        tol=1e-6,
    )
    assert_close(F.tanh(x), np.array([math.tanh(v) for v in x.astype(float)]), tol=1e-6)
    assert_close(F.hardtanh(x, lo, hi), np.array([min(max(v, lo), hi) for v in x.astype(float)]))


def each(x, fn):
    """``fn`` applied to every value of ``x`` in a plain loop, in float64."""
    out = np.zeros(x.shape)
    for idx in np.ndindex(x.shape):
        out[idx] = fn(float(x[idx]))
    return out


@SETTINGS
@given(
    st.one_of(
        st.tuples(st.integers(1, 4), st.integers(1, 6), st.integers(1, 6)),  # (C, H, W)
        st.tuples(st.integers(1, 2), st.integers(1, 4), st.integers(1, 6), st.integers(1, 6)),
    ),
    st.sampled_from([1.0, 10.0, 100.0]),
    st.integers(0, 99),
    st.floats(-3, 3),
    st.floats(-3, 0),
    st.floats(0, 3),
)
def test_elementwise_ops_on_image_shapes(shape, spread, seed, slope, lo, hi):
    x = arrays(np.random.default_rng(seed), shape) * np.float32(spread)
    s32 = float(np.float32(slope))
    assert_close(F.relu(x), each(x, lambda v: max(v, 0.0)))
    assert_close(F.leaky_relu(x, slope), each(x, lambda v: v if v > 0 else v * s32))
    assert_close(
        F.sigmoid(x), each(x, lambda v: 1 / (1 + math.exp(-v)) if v > -700 else 0.0), tol=1e-6
    )
    assert_close(F.tanh(x), each(x, math.tanh), tol=1e-6)
    assert_close(F.hardtanh(x, lo, hi), each(x, lambda v: min(max(v, lo), hi)))


def test_clamping_ops_on_arrays_longer_than_their_constant_vectors():
    x = arrays(np.random.default_rng(12), (3, 211, 173))  # 109,509 values: chunks and a tail
    expected_relu = np.where(x > 0, x, 0).astype(float)
    assert_close(F.relu(x), expected_relu)
    assert_close(F.relu(x.transpose(2, 0, 1)), expected_relu.transpose(2, 0, 1))
    assert_close(F.hardtanh(x, -0.5, 0.25), np.where(x < -0.5, -0.5, np.where(x > 0.25, 0.25, x)))
    assert_close(F.leaky_relu(x, 0.2), np.where(x > 0, x, 0.2 * x).astype(float))
    assert_close(F.leaky_relu(x, -2.0), np.where(x > 0, x, -2.0 * x).astype(float))


def test_sigmoid_extremes_do_not_overflow():
    out = F.sigmoid(np.array([-1e4, -90, 0, 90, 1e4], np.float32))  # warnings are errors
    np.testing.assert_allclose(out, [0, 0, 0.5, 1, 1], atol=1e-30)
    assert out.dtype == np.float32


@SETTINGS
@given(st.integers(1, 4), st.integers(0, 99), st.data())
def test_softmax_matches_loop(ndim, seed, data):
    shape = tuple(np.random.default_rng(seed).integers(1, 5, ndim))
    x = arrays(np.random.default_rng(seed), shape) * 30
    dim = data.draw(st.integers(-ndim, ndim - 1))
    expected = np.zeros(shape)
    moved = np.moveaxis(x.astype(float), dim, -1)
    out_moved = np.moveaxis(expected, dim, -1)  # a view: writing it fills `expected`
    for idx in np.ndindex(moved.shape[:-1]):
        top = max(moved[idx])
        exps = [math.exp(v - top) for v in moved[idx]]
        out_moved[idx] = [e / sum(exps) for e in exps]
    assert_close(F.softmax(x, dim), expected, tol=1e-6)


def channel_of(ndim):
    """The channel axis of a 1-D to 4-D input: 0 unbatched ((C,) and (C, H, W)), else 1."""
    return 0 if ndim in (1, 3) else 1


@SETTINGS
@given(
    st.lists(st.integers(1, 4), min_size=1, max_size=4),
    st.booleans(),
    st.booleans(),
    st.sampled_from([1e-5, 1e-3, 0.1]),
    st.integers(0, 99),
)
def test_batch_norm_matches_loop(dims, with_weight, with_bias, eps, seed):
    rng = np.random.default_rng(seed)
    shape = tuple(dims)  # (C,), (N, C), (C, H, W) or (N, C, H, W)
    axis = channel_of(len(shape))
    c = shape[axis]
    x = arrays(rng, shape) * 3
    mean, var = arrays(rng, c), np.abs(arrays(rng, c)) + 0.1
    gamma = arrays(rng, c) if with_weight else None
    beta = arrays(rng, c) if with_bias else None
    expected = np.zeros(shape)
    for idx in np.ndindex(shape):
        ch = idx[axis]
        v = (float(x[idx]) - float(mean[ch])) / math.sqrt(float(var[ch]) + eps)
        if gamma is not None:
            v *= float(gamma[ch])
        if beta is not None:
            v += float(beta[ch])
        expected[idx] = v
    assert_close(F.batch_norm(x, mean, var, gamma, beta, eps), expected)


@SETTINGS
@given(
    st.lists(st.integers(1, 3), max_size=3),
    st.integers(1, 6),
    st.integers(1, 5),
    st.booleans(),
    st.integers(0, 99),
)
def test_linear_matches_loop(lead, n_in, n_out, with_bias, seed):
    rng = np.random.default_rng(seed)
    x, w = arrays(rng, (*lead, n_in)), arrays(rng, (n_out, n_in))  # no lead dims: one vector
    b = arrays(rng, n_out) if with_bias else None
    expected = np.zeros((*lead, n_out))
    for idx in np.ndindex(*lead):
        for o in range(n_out):
            total = 0.0 if b is None else float(b[o])
            for i in range(n_in):
                total += float(x[(*idx, i)]) * float(w[o, i])
            expected[(*idx, o)] = total
    assert_close(both_ways(lambda: F.linear(x, w, b)), expected)


@SETTINGS
@given(st.lists(st.integers(1, 4), min_size=1, max_size=4), st.integers(0, 99), st.data())
def test_flatten_matches_index_arithmetic(dims, seed, data):
    ndim = len(dims)
    start = data.draw(st.integers(-ndim, ndim - 1), label="start_dim")
    end = data.draw(st.integers(-ndim, ndim - 1), label="end_dim")
    s, e = start % ndim, end % ndim
    x = arrays(np.random.default_rng(seed), tuple(dims))
    if s > e:
        message = rf"^flatten: start_dim {start} comes after end_dim {end}$"
        with pytest.raises(ValueError, match=message):
            F.flatten(x, start, end)
        return
    merged = 1
    for d in dims[s : e + 1]:
        merged *= d
    out = F.flatten(x, start, end)
    assert out.dtype == np.float32
    assert out.shape == (*dims[:s], merged, *dims[e + 1 :])
    for idx in np.ndindex(*dims):
        flat = 0
        for d in range(s, e + 1):  # row-major position inside the merged dims
            flat = flat * dims[d] + idx[d]
        assert out[(*idx[:s], flat, *idx[e + 1 :])] == x[idx]


def test_flatten_defaults_and_edges():
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    assert F.flatten(x).shape == (24,)
    assert F.flatten(x, 1).shape == (2, 12)
    assert F.flatten(x, 1, 1).shape == (2, 3, 4)
    assert F.flatten(np.float32(3)).shape == (1,)
    np.testing.assert_array_equal(F.flatten(x, 1)[1], np.arange(12, 24))


amount = st.integers(-2, 3)


@SETTINGS
@given(
    st.lists(st.integers(1, 3), max_size=2),
    st.integers(1, 5),
    st.integers(1, 5),
    st.one_of(amount, st.tuples(amount, amount), st.tuples(amount, amount, amount, amount)),
    st.floats(-5, 5, width=32),
    st.integers(0, 99),
)
def test_pad_matches_loop(lead, h, w, amounts, value, seed):
    if isinstance(amounts, int):
        left = right = top = bottom = amounts
    else:
        left, right, top, bottom = (*amounts, 0, 0)[:4]
    # crops must leave part of the input: cropping more than there is is a separate case
    assume(h + min(top, 0) + min(bottom, 0) >= 1 and w + min(left, 0) + min(right, 0) >= 1)
    x = arrays(np.random.default_rng(seed), (*lead, h, w))
    new_h, new_w = h + top + bottom, w + left + right
    expected = np.full((*lead, new_h, new_w), float(value))
    for yy in range(new_h):
        for xx in range(new_w):
            sy, sx = yy - top, xx - left
            if 0 <= sy < h and 0 <= sx < w:
                expected[..., yy, xx] = x[..., sy, sx]
    assert_close(F.pad(x, amounts, value), expected)


@SETTINGS
@given(
    st.lists(st.integers(1, 5), min_size=1, max_size=4),
    st.integers(1, 6),
    st.sampled_from([1e-4, 1e-2, 0.5, 1.0]),
    st.sampled_from([0.5, 0.75, 1.0]),
    st.sampled_from([1.0, 2.0]),
    st.integers(0, 99),
)
def test_local_response_norm_matches_loop(dims, size, alpha, beta, k, seed):
    shape = tuple(dims)  # (C,), (N, C), (C, H, W) or (N, C, H, W)
    axis = channel_of(len(shape))
    x = arrays(np.random.default_rng(seed), shape) * 4
    expected = np.zeros(shape)
    for idx in np.ndindex(shape):
        c = idx[axis]
        sq = 0.0
        for cc in range(c - size // 2, c + (size - 1) // 2 + 1):  # zeros beyond the ends
            if 0 <= cc < shape[axis]:
                sq += float(x[(*idx[:axis], cc, *idx[axis + 1 :])]) ** 2
        expected[idx] = float(x[idx]) / (k + alpha / size * sq) ** beta
    assert_close(F.local_response_norm(x, size, alpha, beta, k), expected)


def test_a_negative_zero_bound_does_not_change_a_later_zero_bound():
    """The bounds' constant vectors are cached: -0.0 (equal to 0.0) must get its own."""
    x = np.array([-3.0, 0.5, 9.0], np.float32)
    F.hardtanh(x, -0.0, 6.0)
    assert np.signbit(F.hardtanh(x, 0.0, 6.0)).tolist() == [False, False, False]
    assert np.signbit(F.relu(x)).tolist() == [False, False, False]


def test_the_engines_threads_follow_the_callers_error_settings():
    """Work handed to the pool's threads runs under the caller's np.errstate: a caller that
    expects overflow (a diverging training run) gets no warning from another thread."""
    before = F.get_num_threads()
    F.set_num_threads(2)
    try:
        x = np.full((64, 2048), 1e30, np.float32)
        w = np.full((1024, 2048), 1e30, np.float32)
        with np.errstate(over="ignore", invalid="ignore"):
            y = F.linear(x, w)  # large enough to be split between the threads
        assert np.isinf(y).all()
    finally:
        F.set_num_threads(before)


@SETTINGS
@given(st.lists(st.floats(-10, 10, width=32), min_size=1, max_size=30), st.floats(0.05, 1),
       st.floats(-1, 1))
def test_mobilenet_v3_activations_match_math(values, alpha, beta):
    from engine.ops.pointwise import hardsigmoid, hardswish

    x = np.array(values, np.float32)
    a32, b32 = float(np.float32(alpha)), float(np.float32(beta))
    assert_close(hardswish(x), np.array([v * min(max(v / 6 + 0.5, 0), 1) for v in values]),
                 tol=1e-6)
    assert_close(hardsigmoid(x), np.array([min(max(v / 6 + 0.5, 0), 1) for v in values]),
                 tol=1e-6)
    assert_close(hardsigmoid(x, alpha, beta),
                 np.array([min(max(a32 * v + b32, 0), 1) for v in values]), tol=1e-6)
    edge = np.array([np.nan, np.inf, -np.inf], np.float32)  # NaN stays; -inf * 0 is NaN
    np.testing.assert_array_equal(hardswish(edge), [np.nan, np.inf, np.nan])
    np.testing.assert_array_equal(hardsigmoid(edge), [np.nan, 1, 0])
