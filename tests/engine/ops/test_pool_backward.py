"""Pooling backward passes against loop references, finite differences and PyTorch's tie rule."""

import contextlib
import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from engine import ops as F
from tests.engine.ops.backward_reference import (
    assert_close,
    directional_fd,
    pair,
    ref_avg_pool_backward,
    ref_max_pool_backward,
    tiny_pieces,
)


@st.composite
def pool_cases(draw):
    k = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    stride = draw(st.sampled_from([None, 1, 2, 3, (1, 2), (3, 1)]))
    p = (draw(st.integers(0, k[0] // 2)), draw(st.integers(0, k[1] // 2)))
    d = draw(st.sampled_from([(1, 1), (1, 1), (2, 1), (2, 2)]))
    s = k if stride is None else pair(stride)
    ceil_mode = draw(st.booleans())
    ek = [di * (ki - 1) + 1 for ki, di in zip(k, d, strict=True)]
    h = draw(st.integers(max(1, ek[0] - 2 * p[0]), ek[0] + 6))
    w = draw(st.integers(max(1, ek[1] - 2 * p[1]), ek[1] + 6))
    return dict(shape=(draw(st.integers(1, 3)), draw(st.integers(1, 3)), h, w), k=k,
                stride=stride, s=s, p=p, d=d, ceil_mode=ceil_mode,
                count_include_pad=draw(st.booleans()), batched=draw(st.booleans()),
                seed=draw(st.integers(0, 999)))  # fmt: skip


def max_args(case):
    return case["k"], case["stride"], case["p"], case["d"], case["ceil_mode"]


def avg_args(case):
    return case["k"], case["stride"], case["p"], case["ceil_mode"], case["count_include_pad"]


@settings(max_examples=300, deadline=None)
@given(pool_cases())
def test_max_pool2d_backward_follows_pytorchs_tie_rule(case):
    # small integers: windows full of ties; now and then a NaN or an -inf
    rng = np.random.default_rng(case["seed"])
    x = rng.integers(-2, 3, case["shape"]).astype(np.float32)
    for value in (np.nan, -np.inf):
        if rng.random() < 0.3:
            x[tuple(rng.integers(0, n) for n in x.shape)] = value
    if not case["batched"]:
        x = x[:1]
    y = F.max_pool2d(x, *max_args(case))
    g = rng.standard_normal(y.shape).astype(np.float32)
    expected = ref_max_pool_backward(g, x, case["k"], case["s"], case["p"], case["d"],
                                     case["ceil_mode"])  # fmt: skip
    b = case["batched"]
    for pieces in (contextlib.nullcontext, tiny_pieces):
        with pieces():
            got = F.max_pool2d_backward(g if b else g[0], x if b else x[0], *max_args(case))
        assert_close(got, expected if b else expected[0])


@settings(max_examples=150, deadline=None)
@given(pool_cases())
def test_max_pool2d_backward_matches_finite_differences_without_ties(case):
    # distinct values 1/8 apart, moved by at most 1/64: every window keeps its winner, and
    # the loss is linear around x (exact in float32: all values are multiples of 1/64)
    rng = np.random.default_rng(case["seed"])
    size = math.prod(case["shape"])
    x = (rng.permutation(size).reshape(case["shape"]) / 8 - size / 16).astype(np.float32)
    y = F.max_pool2d(x, *max_args(case))
    assume(np.isfinite(y).all())  # a window on padding only is -inf: no difference to take
    g = rng.standard_normal(y.shape).astype(np.float32)
    gx = F.max_pool2d_backward(g, x, *max_args(case))

    def loss(x):
        return float(np.sum(g.astype(np.float64) * F.max_pool2d(x, *max_args(case))))

    for _ in range(3):
        direction = rng.choice([-1.0, 1.0], x.shape).astype(np.float32)
        fd = directional_fd(loss, (x,), (direction,), 1 / 64)
        # (grad_x sums in float32 the gradients of the windows a cell won)
        assert fd == pytest.approx(float(np.sum(gx.astype(np.float64) * direction)), abs=1e-5)


def test_max_pool2d_backward_ties_nan_and_minus_infinity_by_hand():
    g = np.array([[[[10.0]]]], np.float32)
    cases = [  # (window, cell that gets the gradient)
        ([[1, 3], [3, 0]], (0, 1)),  # a tie: the first in row-major order
        ([[np.nan, 1], [np.nan, 0]], (1, 0)),  # NaN beats numbers; a later NaN an earlier one
        ([[5, np.nan], [9, 1]], (0, 1)),
        ([[-np.inf, -np.inf], [-np.inf, -np.inf]], (0, 0)),  # nothing beats -inf: the first
    ]
    for window, cell in cases:
        expected = np.zeros((1, 1, 2, 2))
        expected[(0, 0, *cell)] = 10.0
        got = F.max_pool2d_backward(g, np.array([[window]], np.float32), 2)
        np.testing.assert_array_equal(got, expected)
    # with padding, an all -inf window still gives its gradient to its first real cell
    x = np.full((1, 1, 3, 3), -np.inf, np.float32)
    got = F.max_pool2d_backward(np.ones((1, 1, 3, 3), np.float32), x, 3, 1, 1)
    np.testing.assert_array_equal(got[0, 0], [[4, 2, 0], [2, 1, 0], [0, 0, 0]])


@settings(max_examples=300, deadline=None)
@given(pool_cases())
def test_avg_pool2d_backward_matches_the_loop_reference(case):
    rng = np.random.default_rng(case["seed"])
    x = np.zeros(case["shape"] if case["batched"] else (1, *case["shape"][1:]), np.float32)
    y = F.avg_pool2d(x, *avg_args(case))
    g = rng.standard_normal(y.shape).astype(np.float32)
    expected = ref_avg_pool_backward(g, x.shape, case["k"], case["s"], case["p"],
                                     case["ceil_mode"], case["count_include_pad"])  # fmt: skip
    b = case["batched"]
    shape = x.shape if b else x.shape[1:]
    for pieces in (contextlib.nullcontext, tiny_pieces):
        with pieces():
            got = F.avg_pool2d_backward(g if b else g[0], shape, *avg_args(case))
        assert_close(got, expected if b else expected[0])
    # and against the forward itself: <G, avg_pool(x + d) - avg_pool(x - d)> / 2, linear
    direction = rng.standard_normal(x.shape).astype(np.float32)
    fd = directional_fd(lambda x: float(np.sum(g * F.avg_pool2d(x, *avg_args(case)),
                                               dtype=np.float64)),
                        (x,), (direction,), 0.5)  # fmt: skip
    got = F.avg_pool2d_backward(g, x.shape, *avg_args(case))
    assert fd == pytest.approx(float(np.sum(got * direction, dtype=np.float64)), abs=1e-4)


def test_global_avg_pool2d_backward_against_the_forward_and_by_hand():
    rng = np.random.default_rng(6)
    g = rng.standard_normal((2, 3, 1, 1)).astype(np.float32)
    gx = F.global_avg_pool2d_backward(g, (2, 3, 4, 5))
    np.testing.assert_array_equal(gx, np.broadcast_to(g / np.float32(20), (2, 3, 4, 5)))
    assert gx.dtype == np.float32 and gx.flags.c_contiguous
    np.testing.assert_array_equal(F.global_avg_pool2d_backward(g[0], [3, 4, 5]), gx[0])
    x = rng.standard_normal((2, 3, 4, 5)).astype(np.float32)
    direction = rng.standard_normal(x.shape).astype(np.float32)
    fd = directional_fd(lambda x: float(np.sum(g * F.global_avg_pool2d(x), dtype=np.float64)),
                        (x,), (direction,), 0.5)  # fmt: skip
    assert fd == pytest.approx(float(np.sum(gx * direction, dtype=np.float64)), abs=1e-5)


def test_pool_backward_explain_bad_arguments():
    x = np.zeros((1, 2, 6, 6), np.float32)
    g = np.zeros((1, 2, 3, 3), np.float32)
    cases = [
        (F.max_pool2d_backward, (g[:, :1], x, 2),
         r"max_pool2d_backward: grad_out has shape \(1, 1, 3, 3\), expected \(1, 2, 3, 3\) "
         r"\(the shape of max_pool2d's output"),
        (F.max_pool2d_backward, (g, x, 2, 2, 2), r"max_pool2d_backward: padding 2 is more than"),
        (F.max_pool2d_backward, (g, x, 2, None, 0, 1, "yes"),
         r"max_pool2d_backward: ceil_mode must be True or False"),
        (F.avg_pool2d_backward, (g, (1, 2), 2), r"avg_pool2d_backward: x_shape must be 3 or 4"),
        (F.avg_pool2d_backward, (g, (1, 2, 0, 6), 2), r"x_shape must be 3 or 4 positive ints"),
        (F.avg_pool2d_backward, (g, x.shape, 2, None, 0, False, 1),
         r"avg_pool2d_backward: count_include_pad must be True or False"),
        (F.avg_pool2d_backward, (g, x.shape, 3), r"avg_pool2d_backward: grad_out has shape"),
        (F.global_avg_pool2d_backward, (g, x.shape),
         r"global_avg_pool2d_backward: grad_out has shape \(1, 2, 3, 3\), expected \(1, 2, 1, 1\)"),
        (F.global_avg_pool2d_backward, (g, "shape"), r"global_avg_pool2d_backward: x_shape must"),
    ]  # fmt: skip
    for fn, args, message in cases:
        with pytest.raises(ValueError, match=message):
            fn(*args)
