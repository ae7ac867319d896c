"""Products in column pieces (engine.ops._gemm) against plain sums, and the convolutions that
use them (im2col, flat shifted slices, 1x1) against the plain-loop reference, pieces forced.

The pieces run only on OpenBLAS's AVX-512 cores and only above a million multiply-accumulates;
these tests switch them on for test-sized inputs (one-column pieces and up), so every machine
checks the remainder piece, a folded or separate bias, stride 2 and several images.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine import ops as F
from engine.ops import _gemm
from tests.engine.ops.reference import SETTINGS, arrays, assert_close, pieces_of, ref_conv2d


def _forced(budget: int, threads: int = 1):
    """Pieces on, of budget // (M * K) columns (at least one), on ``threads`` threads."""
    knobs = {"_pieces_pay": True, "SMALL_GEMM": budget, "_ALIGN": 1, "_MIN_PIECE": 1}
    return pieces_of(_gemm, knobs, threads)


def _loop_product(a, b):
    m, k = a.shape
    out = np.zeros((m, b.shape[1]))
    for i in range(m):
        for j in range(k):
            out[i] += float(a[i, j]) * b[j].astype(float)
    return out


@SETTINGS
@given(m=st.integers(1, 9), k=st.integers(1, 12), n=st.integers(1, 90), gap=st.integers(0, 5),
       budget=st.integers(1, 400), seed=st.integers(0, 99))  # fmt: skip
def test_matmul_into_pieces_match_a_plain_product(m, k, n, gap, budget, seed):
    rng = np.random.default_rng(seed)
    a = arrays(rng, (m, k))
    b = arrays(rng, (k, n + gap))[:, :n]  # rows `gap` values apart, like a workspace band
    out = np.full((m, n + 3), np.nan, np.float32)  # the product goes into a band of it
    with _forced(budget):
        _gemm.matmul_into(a, b, out[:, :n])
    assert_close(out[:, :n], _loop_product(a, b))
    assert np.isnan(out[:, n:]).all()  # nothing written past the band


def test_piece_width_follows_the_small_kernel_limit(monkeypatch):
    monkeypatch.setattr(_gemm, "_pieces_pay", True)
    # 16 x 73 (8 -> 16 3x3 with its bias row): 1e6 / 1168 = 856 columns, in whole 64-byte lines
    assert _gemm.piece_columns(16, 73) == 848
    assert 16 * 73 * _gemm.piece_columns(16, 73) <= _gemm.SMALL_GEMM
    assert _gemm.piece_columns(64, 577) == 0  # deep products stay whole
    assert _gemm.piece_columns(64, 148) == 0  # ResNet's 7x7 stem: pieces of 96 would lose
    monkeypatch.setattr(_gemm, "_pieces_pay", False)
    assert _gemm.piece_columns(16, 73) == 0  # a core without the small kernel: whole


def test_only_openblas_avx512_cores_take_pieces(monkeypatch):
    import threadpoolctl

    def with_blas(arch, api="openblas"):
        info = [{"user_api": "blas", "internal_api": api, "architecture": arch,
                 "filepath": "/site-packages/numpy.libs/libscipy_openblas64_.so"}]  # fmt: skip
        monkeypatch.setattr(threadpoolctl, "threadpool_info", lambda: info)
        monkeypatch.setattr(_gemm, "_pieces_pay", None)
        return _gemm.pieces_pay()

    assert with_blas("SkylakeX") and with_blas("SapphireRapids")
    assert not with_blas("Haswell") and not with_blas("Zen")
    assert not with_blas("SkylakeX", api="mkl")


@st.composite
def conv_cases(draw):
    kind = draw(st.sampled_from(["3x3", "3x3", "5x5", "1x1"]))
    k = {"3x3": 3, "5x5": 5, "1x1": 1}[kind]
    return dict(
        n=draw(st.integers(1, 2)),
        c=draw(st.integers(1, 4)),
        c_out=draw(st.integers(1, 6)),
        h=draw(st.integers(k, k + 9)),
        w=draw(st.integers(k, k + 13)),
        k=k,
        stride=draw(st.sampled_from([1, 1, 2])),
        padding=0 if k == 1 else draw(st.sampled_from([0, k // 2])),
        bias=draw(st.booleans()),
        budget=draw(st.integers(1, 3000)),
        threads=draw(st.sampled_from([1, 2])),
        seed=draw(st.integers(0, 99)),
    )


@SETTINGS
@given(case=conv_cases())
def test_conv2d_in_pieces_matches_the_loop_reference(case):
    rng = np.random.default_rng(case["seed"])
    x = arrays(rng, (case["n"], case["c"], case["h"], case["w"]))
    w = arrays(rng, (case["c_out"], case["c"], case["k"], case["k"]))
    b = arrays(rng, (case["c_out"],)) if case["bias"] else None
    s, p = case["stride"], case["padding"]
    expected = ref_conv2d(x, w, b, (s, s), (p,) * 4, (1, 1), 1)
    with _forced(case["budget"], case["threads"]):
        got = F.conv2d(x, w, b, s, p)
    assert_close(got, expected)


@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("bias", [False, True])
def test_large_conv2d_bands_in_pieces(stride, bias):
    # 8 -> 16 3x3 on 2 x 8 x 75 x 90: above the serial limit, so im2col bands on two threads,
    # each band in pieces of 848 columns (the real width) and a narrower last piece
    rng = np.random.default_rng(stride)
    x = arrays(rng, (2, 8, 75, 90))
    w = arrays(rng, (16, 8, 3, 3))
    b = arrays(rng, (16,)) if bias else None
    with pieces_of(_gemm, {"_pieces_pay": True}, threads=2):
        got = F.conv2d(x, w, b, stride, 1)
    ho, wo = got.shape[2:]
    positions = [(0, r, col) for r in (0, 1, ho // 2, ho - 1) for col in (0, 7, wo - 1)]
    positions += [(1, ho - 1, wo - 1), (1, 3, 4)]
    expected = ref_conv2d(x, w, b, (stride, stride), (1, 1, 1, 1), (1, 1), 1, positions)
    for i, r, col in positions:
        assert_close(got[i, :, r, col], expected[i, :, r, col])
