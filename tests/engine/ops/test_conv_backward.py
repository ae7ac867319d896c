"""conv2d_backward against plain-loop references and finite differences, every way."""

import contextlib
import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import ops as F
from engine.ops import (
    _checks,
    _conv_backward,
    _conv_wgrad,
    _depthwise_backward,
    _pieces,
)
from tests.engine.ops.backward_reference import (
    assert_close,
    assert_same_nonfinite,
    conv_pads,
    directional_fd,
    dyadic,
    pair,
    ref_conv_backward,
    tiny_pieces,
)


@st.composite
def conv_cases(draw):
    kind = draw(st.sampled_from(["general", "grouped", "depthwise", "multiplier", "1x1", "single"]))
    groups, c, c_out = 1, draw(st.integers(1, 4)), draw(st.integers(1, 5))
    if kind == "grouped":
        groups = draw(st.integers(2, 3))
        c, c_out = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    elif kind in ("depthwise", "multiplier"):
        c = groups = draw(st.integers(1, 5))
        c_out = c * (2 if kind == "multiplier" else 1)
    elif kind == "single":
        c = c_out = 1
    k = (1, 1) if kind == "1x1" else (draw(st.integers(1, 5)), draw(st.integers(1, 5)))
    stride = draw(st.sampled_from([1, 1, 2, 3, (1, 2), (2, 1)]))
    dilation = draw(st.sampled_from([1, 1, 2, (1, 2)]))
    padding = draw(st.sampled_from([0, 1, 2, (0, 1), (2, 0), 4, "valid", "same"]))
    if padding == "same":
        stride = 1
    s, d = pair(stride), pair(dilation)
    pads = conv_pads(padding, k, d)
    min_h = max(1, d[0] * (k[0] - 1) + 1 - pads[0] - pads[1])
    min_w = max(1, d[1] * (k[1] - 1) + 1 - pads[2] - pads[3])
    return dict(n=draw(st.integers(1, 3)), c=c, c_out=c_out, groups=groups, k=k,
                h=draw(st.integers(min_h, min_h + 5)), w=draw(st.integers(min_w, min_w + 5)),
                stride=stride, s=s, padding=padding, pads=pads, dilation=dilation, d=d,
                batched=draw(st.booleans()), seed=draw(st.integers(0, 999)))  # fmt: skip


def conv_arrays(case, rng=None):
    rng = np.random.default_rng(case["seed"]) if rng is None else rng
    x = rng.standard_normal((case["n"], case["c"], case["h"], case["w"])).astype(np.float32)
    w = rng.standard_normal((case["c_out"], case["c"] // case["groups"], *case["k"]))
    y = F.conv2d(x, w.astype(np.float32), None, case["stride"], case["padding"],
                 case["dilation"], case["groups"])  # fmt: skip
    g = rng.standard_normal(y.shape).astype(np.float32)
    return g, x, w.astype(np.float32)


def conv_args(case):
    return case["stride"], case["padding"], case["dilation"], case["groups"]


def every_way(g, x, w, case):
    """(name, grad_x, grad_w, grad_b), None where the way gives none, for every way that
    applies to the case."""
    _, _, w, _, stride, pads, dil, groups, out_hw = _checks.conv_args(x, w, None, *conv_args(case))
    c_out, c_in_g = w.shape[:2]
    cb, cw, dw = _conv_backward, _conv_wgrad, _depthwise_backward
    ways = [("col2im", cb._input_grad_col2im(g, w, x.shape, stride, pads, dil, groups, out_hw)),
            ("im2col", None, *cw.im2col_weight_grad(g, x, w.shape, stride, pads, dil, groups,
                                                    out_hw, True))]  # fmt: skip
    g_pads = cb._grad_pads(w.shape, pads, dil)
    if stride == (1, 1):
        ways.append(("conv", cb._input_grad_conv(g, w, x.shape, groups, dil, g_pads)))
    if stride == (1, 1) and groups == 1:
        ways.append(("flat", cb._input_grad_flat(g, w, x.shape, pads, dil, out_hw),
                     *cw.flat_weight_grad(g, _pieces.flat_source(x, pads), w.shape, dil, out_hw,
                                          True)))  # fmt: skip
    if w.shape[2:] == (1, 1) and stride == (1, 1) and not any(pads) and groups == 1:
        ways.append(("1x1", None, *cw.pointwise_weight_grad(g, x, w.shape, True)))
    if c_in_g == 1 and c_out == x.shape[1]:  # depthwise
        args = (g, w, x.shape, stride, pads, dil, out_hw)
        ways.append(("depthwise", dw.depthwise_input_grad(*args, None),
                     *dw.depthwise_weight_grad(g, x, w.shape, stride, pads, dil, out_hw, True)))
        if stride == (1, 1):
            ways.append(("depthwise flat", dw.depthwise_input_grad(*args, g_pads)))
    return [way + (None,) * (4 - len(way)) for way in ways]


@settings(max_examples=400, deadline=None)
@given(conv_cases())
def test_conv2d_backward_matches_the_loop_reference_every_way(case):
    g, x, w = conv_arrays(case)
    b = case["batched"]
    if not b:  # one image, given without its batch axis
        g, x = g[:1], x[:1]
    gx, gw, gb = ref_conv_backward(g, x, w, case["s"], case["pads"], case["d"], case["groups"])
    for pieces in (contextlib.nullcontext, tiny_pieces):
        with pieces():
            got = F.conv2d_backward(g if b else g[0], x if b else x[0], w, *conv_args(case))
            assert_close(got[0], gx if b else gx[0])
            assert_close(got[1], gw)
            assert_close(got[2], gb)
            for name, *way in every_way(g, x, w, case):
                for actual, expected in zip(way, (gx, gw, gb), strict=True):
                    if actual is not None:
                        try:
                            assert_close(actual, expected)
                        except AssertionError as error:
                            raise AssertionError(f"the {name} way: {error}") from None


@settings(max_examples=150, deadline=None)
@given(conv_cases(), st.integers(0, 999))
def test_conv2d_backward_matches_finite_differences(case, seed):
    rng = np.random.default_rng(seed)
    g, x, w = conv_arrays(case, rng)
    x, w = dyadic(rng, x.shape), dyadic(rng, w.shape)
    b = dyadic(rng, (case["c_out"],))
    gx, gw, gb = F.conv2d_backward(g, x, w, *conv_args(case))

    def loss(x, w, b):  # <G, y> in float64: its gradient is the vector-Jacobian product
        return float(np.sum(g.astype(np.float64) * F.conv2d(x, w, b, *conv_args(case))))

    # conv2d is linear in each argument, so the differences are exact up to float32 rounding
    k = w[0].size
    for _ in range(2):
        dx, dw, db = dyadic(rng, x.shape), dyadic(rng, w.shape), dyadic(rng, b.shape)
        for which, grad, dirs in ((0, gx, (dx, 0 * w, 0 * b)), (1, gw, (0 * x, dw, 0 * b)),
                                  (2, gb, (0 * x, 0 * w, db))):  # fmt: skip
            fd = directional_fd(loss, (x, w, b), dirs, 0.25)
            exact = float(np.sum(grad.astype(np.float64) * dirs[which]))
            tol = 1e-6 * np.abs(g).sum() * (k * 9 + 3) * 4 + 1e-9
            assert abs(fd - exact) <= tol, (which, fd, exact)


def test_conv2d_backward_unbatched_form_and_the_need_flags():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 7, 6)).astype(np.float32)
    w = rng.standard_normal((4, 3, 3, 2)).astype(np.float32)
    g = rng.standard_normal((4, 5, 3)).astype(np.float32)  # stride (1, 2), no padding
    gx, gw, gb = F.conv2d_backward(g, x, w, stride=(1, 2))
    rx, rw, rb = ref_conv_backward(g[None], x[None], w, (1, 2), (0,) * 4, (1, 1), 1)
    assert gx.shape == x.shape and gw.shape == w.shape and gb.shape == (4,)
    assert_close(gx, rx[0])
    assert_close(gw, rw)
    assert_close(gb, rb)
    for flags in [(False, True, True), (True, False, True), (True, True, False), (False,) * 3]:
        need = dict(zip(("need_input", "need_weight", "need_bias"), flags, strict=True))
        got = F.conv2d_backward(g, x, w, stride=(1, 2), **need)
        for value, wanted, full in zip(got, flags, (gx, gw, gb), strict=True):
            if wanted:  # the bias may come from the weights' matmul or from its own sum
                np.testing.assert_allclose(value, full, rtol=1e-6, atol=1e-6)
            else:
                assert value is None


def test_conv2d_backward_reused_workspaces_never_leak_between_layers():
    # The flat ways keep zeros in workspace columns they never write; two layers whose
    # workspaces hold the same number of values but place those zeros differently (padded
    # width 6 and 8) must each get their own, then and when the first comes back.
    rng = np.random.default_rng(4)
    layers = [((1, 2, 4, 6), (3, 2, 1, 3)), ((1, 2, 3, 8), (3, 2, 1, 3))]
    cases = []
    for xs, ws in layers:
        x = rng.standard_normal(xs).astype(np.float32)
        w = rng.standard_normal(ws).astype(np.float32)
        g = rng.standard_normal(F.conv2d(x, w).shape).astype(np.float32)
        cases.append((g, x, w, ref_conv_backward(g, x, w, (1, 1), (0,) * 4, (1, 1), 1)))
    for g, x, w, ref in cases + cases + cases[::-1]:
        for got, expected in zip(F.conv2d_backward(g, x, w), ref, strict=True):
            assert_close(got, expected)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 3), st.integers(1, 40), st.integers(1, 12), st.integers(0, 9),
       st.integers(1, 4), st.integers(1, 2))  # fmt: skip
def test_col2im_waves_never_share_input_rows(n, rows, band, reach, stride, threads):
    # The threads share a wave; a col2im band of output rows [r0, r1) adds into input rows
    # r0*stride ... (r1 - 1)*stride + reach, so two bands of one image in a wave must not meet.
    before = F.get_num_threads()
    F.set_num_threads(threads)
    try:
        parts = _pieces.pieces(n, rows, 1, budget=band, min_band=reach // stride + 1)
    finally:
        F.set_num_threads(before)
    covered = sorted((i, r) for i0, i1, r0, r1 in parts for i in range(i0, i1)
                     for r in range(r0, r1))  # fmt: skip
    assert covered == [(i, r) for i in range(n) for r in range(rows)]  # each row once
    for wave in _pieces.waves(parts):
        spans = sorted((i0, r0 * stride, (r1 - 1) * stride + reach) for i0, _, r0, r1 in wave)
        for (i, _, end), (j, start, _) in itertools.pairwise(spans):
            assert i != j or end < start


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf], ids=["nan", "inf", "-inf"])
def test_conv2d_backward_carries_nan_and_inf_like_the_sum(bad):
    # A non-finite value reaches exactly the gradients whose sums hold it, as in the loop
    # (padding is zeros: 0 * inf is NaN where a window of inf meets it); no warnings.
    rng = np.random.default_rng(5)
    for c, c_out, groups, stride, padding in [(2, 3, 1, 1, 1), (3, 3, 3, 1, 1), (3, 3, 3, 2, 1),
                                              (2, 4, 2, 2, 0), (1, 2, 1, 1, 2)]:  # fmt: skip
        x = rng.standard_normal((2, c, 6, 7)).astype(np.float32)
        w = rng.standard_normal((c_out, c // groups, 3, 3)).astype(np.float32)
        g = rng.standard_normal(F.conv2d(x, w, None, stride, padding, 1, groups).shape)
        g = g.astype(np.float32)
        for target, where in ((x, (1, 0, 2, 3)), (w, (0, 0, 1, 2)), (g, (0, 1, 1, 1))):
            saved = target[where]
            target[where] = bad
            with np.errstate(invalid="ignore", over="ignore"):  # inf * 0 in the loops
                ref = ref_conv_backward(g, x, w, (stride,) * 2, (padding,) * 4, (1, 1), groups)
            for pieces in (contextlib.nullcontext, tiny_pieces):
                with pieces():
                    got = F.conv2d_backward(g, x, w, stride, padding, 1, groups)
                for actual, expected in zip(got, ref, strict=True):
                    assert_same_nonfinite(actual, expected)
            target[where] = saved


def test_conv2d_backward_explains_bad_arguments():
    x = np.zeros((1, 3, 6, 6), np.float32)
    w = np.zeros((2, 3, 3, 3), np.float32)
    g = np.zeros((1, 2, 4, 4), np.float32)
    cases = [
        ((g[:, :, :3], x, w), {}, r"conv2d_backward: grad_out has shape \(1, 2, 3, 4\), "
                                   r"expected \(1, 2, 4, 4\) \(the shape of conv2d's output"),
        ((g[0], x, w), {}, r"grad_out has shape \(2, 4, 4\), expected \(1, 2, 4, 4\)"),
        ((g, x[0], w), {}, r"grad_out has shape \(1, 2, 4, 4\), expected \(2, 4, 4\)"),
        ((g, x, w), {"padding": 1}, r"expected \(1, 2, 6, 6\)"),
        (("grad", x, w), {}, r"conv2d_backward: grad_out must be an array of real numbers"),
        ((g, x[:, :2], w), {}, r"conv2d_backward: input has 2 channels, weight expects 3"),
        ((g, x, w), {"stride": 0}, r"conv2d_backward: stride must be positive"),
        ((g, x, w), {"stride": 2, "padding": "same"},
         r"conv2d_backward: padding 'same' needs stride 1"),
        ((g, x, w[:, :, :, :, None]), {}, r"conv2d_backward: weight must be 4-D"),
    ]  # fmt: skip
    for args, kwargs, message in cases:
        with pytest.raises(ValueError, match=message):
            F.conv2d_backward(*args, **kwargs)
