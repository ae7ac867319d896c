"""Max, average and global average pooling against plain-loop references."""


import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine import ops as F
from tests.engine.ops.reference import (
    SETTINGS,
    arrays,
    assert_close,
    batch,
    both_ways,
    pairs,
    ref_avg_pool,
    ref_max_pool,
)


@st.composite
def pool_cases(draw):
    k = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    stride = draw(st.one_of(st.none(), pairs))
    p = (draw(st.integers(0, k[0] // 2)), draw(st.integers(0, k[1] // 2)))
    d = draw(st.sampled_from([(1, 1), (2, 2), (1, 2)]))
    ceil_mode = draw(st.booleans())
    h = draw(st.integers(max(1, d[0] * (k[0] - 1) + 1 - 2 * p[0]), 11))
    w = draw(st.integers(max(1, d[1] * (k[1] - 1) + 1 - 2 * p[1]), 11))
    return dict(
        k=k,
        stride=stride,
        s=k if stride is None else (stride, stride) if isinstance(stride, int) else stride,
        p=p,
        d=d,
        ceil_mode=ceil_mode,
        shape=(draw(st.integers(1, 2)), draw(st.integers(1, 3)), h, w),
        batched=draw(st.booleans()),
        include=draw(st.booleans()),
        seed=draw(st.integers(0, 99)),
    )


@SETTINGS
@given(pool_cases())
def test_max_pool2d_matches_loop_reference(case):
    x = arrays(np.random.default_rng(case["seed"]), case["shape"])
    if not case["batched"]:
        x = x[:1]
    expected = ref_max_pool(x, case["k"], case["s"], case["p"], case["d"], case["ceil_mode"])
    xb = batch(x, case["batched"])
    out = both_ways(
        lambda: F.max_pool2d(xb, case["k"], case["stride"], case["p"], case["d"], case["ceil_mode"])
    )
    assert_close(out, batch(expected, case["batched"]))


@SETTINGS
@given(pool_cases())
def test_avg_pool2d_matches_loop_reference(case):
    x = arrays(np.random.default_rng(case["seed"]), case["shape"])
    if not case["batched"]:
        x = x[:1]
    h, w = case["shape"][2:]
    if case["k"][0] > h + 2 * case["p"][0] or case["k"][1] > w + 2 * case["p"][1]:
        return  # the drawn size was for a dilated kernel; avg_pool2d has no dilation
    expected = ref_avg_pool(x, case["k"], case["s"], case["p"], case["ceil_mode"], case["include"])
    xb = batch(x, case["batched"])
    out = both_ways(
        lambda: F.avg_pool2d(
            xb, case["k"], case["stride"], case["p"], case["ceil_mode"], case["include"]
        )
    )
    assert_close(out, batch(expected, case["batched"]))


def test_max_pool2d_lecture_example():
    x = np.array([[[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]]], np.float32)
    out = F.max_pool2d(x, 2, 2)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, [[[6, 8], [3, 4]]])


def test_pools_large_threaded():
    rng = np.random.default_rng(5)
    x = arrays(rng, (16, 120, 160))
    np.testing.assert_array_equal(F.max_pool2d(x, 2), x.reshape(16, 60, 2, 80, 2).max(axis=(2, 4)))
    assert_close(F.avg_pool2d(x, 2), x.reshape(16, 60, 2, 80, 2).astype(float).mean(axis=(2, 4)))
    got = F.max_pool2d(x, 3, 2, 1, ceil_mode=True)
    assert_close(got, ref_max_pool(x[None], (3, 3), (2, 2), (1, 1), (1, 1), True)[0])


def test_avg_pool2d_ceil_mode_divisors_like_pytorch():
    x = np.ones((1, 5, 5), np.float32)
    # windows of 2 at stride 2 over 5: the last one covers one real cell and nothing else
    np.testing.assert_allclose(F.avg_pool2d(x, 2, ceil_mode=True)[0, -1], [1, 1, 1])
    # with padding counted, a border window of 3 with pad 1 covers 4 real cells of 9
    assert F.avg_pool2d(x, 3, 2, 1)[0, 0, 0] == pytest.approx(4 / 9)
    assert F.avg_pool2d(x, 3, 2, 1, count_include_pad=False)[0, 0, 0] == pytest.approx(1.0)


@SETTINGS
@given(
    st.integers(1, 2),
    st.integers(1, 4),
    st.integers(1, 7),
    st.integers(1, 7),
    st.booleans(),
    st.integers(0, 99),
)
def test_global_avg_pool2d_matches_loop(n, c, h, w, batched, seed):
    x = arrays(np.random.default_rng(seed), (n, c, h, w)) * 10
    expected = np.zeros((n, c, 1, 1))
    for i in range(n):
        for ch in range(c):
            total = 0.0
            for yy in range(h):
                for xx in range(w):
                    total += float(x[i, ch, yy, xx])
            expected[i, ch, 0, 0] = total / (h * w)
    assert_close(F.global_avg_pool2d(batch(x, batched)), batch(expected, batched))
