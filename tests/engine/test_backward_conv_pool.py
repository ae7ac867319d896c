"""The backward passes of convolution and pooling against references written here.

Two references, both float64 and blind to the engine's machinery:

1. central finite differences of the engine's own forward ops (``F.conv2d``, ``F.max_pool2d``,
   ...): a gradient is what the forward's changes say it is;
2. plain loops over every output position, scattering each output's gradient into grad_x and
   accumulating grad_w (the vector-Jacobian product written out, as torch.nn.grad defines it).

Every internal way of computing a gradient (flat, im2col, col2im, convolution, depthwise) is
checked, not only the one the engine picks for a shape; each op also runs with one-row pieces
shared by two threads (``tiny_pieces``), to reach band edges, waves and per-thread sums.
PyTorch itself is compared in benchmarks/backward.py (torch is a benchmark extra only).
"""

import contextlib
import itertools
import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from engine import ops as F
from engine.ops import (
    _checks,
    _conv,
    _conv_backward,
    _conv_wgrad,
    _depthwise_backward,
    _parallel,
    _pieces,
    _pool_backward,
)

# ---------------------------------------------------------------- references


def pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def conv_pads(padding, k, d):
    """(top, bottom, left, right) for an int, a pair, "valid" or "same" (PyTorch's rules)."""
    if padding == "valid":
        return (0, 0, 0, 0)
    if padding == "same":
        th, tw = d[0] * (k[0] - 1), d[1] * (k[1] - 1)
        return (th // 2, th - th // 2, tw // 2, tw - tw // 2)
    ph, pw = pair(padding)
    return (ph, ph, pw, pw)


def ref_conv_backward(g, x, w, stride, pads, dil, groups):
    """(grad_x, grad_w, grad_b) in float64: a loop over every output position.

    Each output (i, f, oy, ox) met the window xp[i, group's channels, oy*sh + s*dh,
    ox*sw + t*dw] (xp zero-padded): its gradient goes to that window through the weights, and
    the window through the gradient to the weights.
    """
    g, x, w = (a.astype(np.float64) for a in (g, x, w))
    n, c, h, wd = x.shape
    c_out, c_in_g, kh, kw = w.shape
    top, bottom, left, right = pads
    xp = np.zeros((n, c, h + top + bottom, wd + left + right))
    xp[:, :, top : top + h, left : left + wd] = x
    gxp = np.zeros_like(xp)
    gw = np.zeros_like(w)
    (sh, sw), (dh, dw) = stride, dil
    per = c_out // groups
    for i in range(n):
        for oy in range(g.shape[2]):
            for ox in range(g.shape[3]):
                rows = (oy * sh + np.arange(kh) * dh)[:, None]
                cols = (ox * sw + np.arange(kw) * dw)[None, :]
                for grp in range(groups):
                    fs = slice(grp * per, (grp + 1) * per)  # the group's filters
                    cs = slice(grp * c_in_g, (grp + 1) * c_in_g)  # and its channels
                    gv = g[i, fs, oy, ox]  # (C_out/G,)
                    window = xp[i, cs][:, rows, cols]  # (C_in/G, kh, kw)
                    gw[fs] += gv[:, None, None, None] * window[None]
                    gxp[i, cs][:, rows, cols] += np.tensordot(gv, w[fs], axes=1)
    gx = gxp[:, :, top : top + h, left : left + wd]
    return gx, gw, g.sum(axis=(0, 2, 3))


def pool_starts(n, k, s, p, d, ceil_mode):
    """Where each window starts along one axis (input coordinates, may be negative)."""
    span = n + 2 * p - d * (k - 1) - 1
    count = (span + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (count - 1) * s >= n + p:  # PyTorch: the last window starts inside
        count -= 1
    return [j * s - p for j in range(count)]


def pool_windows(shape, k, s, p, d, ceil_mode):
    """(output row, output column, cells in row-major order) of every window."""
    h, w = shape[2:]
    rows = pool_starts(h, k[0], s[0], p[0], d[0], ceil_mode)
    cols = pool_starts(w, k[1], s[1], p[1], d[1], ceil_mode)
    for a, r in enumerate(rows):
        for b, c in enumerate(cols):
            yield a, b, [(r + u * d[0], c + v * d[1]) for u in range(k[0]) for v in range(k[1])]


def ref_max_pool_backward(g, x, k, s, p, d, ceil_mode):
    """PyTorch's rule cell by cell: the first real cell unless a later one is greater or NaN."""
    gx = np.zeros(x.shape)
    for a, b, cells in pool_windows(x.shape, k, s, p, d, ceil_mode):
        real = [(y, z) for y, z in cells if 0 <= y < x.shape[2] and 0 <= z < x.shape[3]]
        if not real:  # dilation can leave a window on padding only: -inf, no gradient
            continue
        for i in range(x.shape[0]):
            for ch in range(x.shape[1]):
                best, won = -np.inf, real[0]
                for y, z in real:
                    v = x[i, ch, y, z]
                    if v > best or np.isnan(v):
                        best, won = v, (y, z)
                gx[i, ch][won] += g[i, ch, a, b]
    return gx


def ref_avg_pool_backward(g, shape, k, s, p, ceil_mode, count_include_pad):
    """Each window's gradient over its divisor, to each of its real cells."""
    h, w = shape[2:]
    gx = np.zeros(shape)
    for a, b, cells in pool_windows(shape, k, s, p, (1, 1), ceil_mode):
        real = [(y, z) for y, z in cells if 0 <= y < h and 0 <= z < w]
        # cells of the zero padding count, cells beyond it (ceil_mode's last window) do not
        padded = [(y, z) for y, z in cells if -p[0] <= y < h + p[0] and -p[1] <= z < w + p[1]]
        divisor = len(padded) if count_include_pad else len(real)
        for y, z in real:
            gx[:, :, y, z] += g[:, :, a, b] / divisor
    return gx


def directional_fd(loss, arrays, directions, step):
    """(L(a + step d) - L(a - step d)) / (2 step) for the arrays perturbed together."""
    up = loss(*(a + step * d for a, d in zip(arrays, directions, strict=True)))
    down = loss(*(a - step * d for a, d in zip(arrays, directions, strict=True)))
    return (up - down) / (2 * step)


# ---------------------------------------------------------------- helpers


@contextlib.contextmanager
def tiny_pieces():
    """Every op in one-row (or one-map) pieces, shared by two threads.

    Small test inputs otherwise fit in one piece and never reach band edges, the waves of a
    col2im, the per-thread accumulators or the thread pool; this white-box switch runs them.
    """
    knobs = [(_pieces, "_PIECE_BYTES"), (_depthwise_backward, "_DEPTHWISE_PIECE_BYTES"),
             (_pool_backward, "_PIECE"), (_parallel, "_THREAD_MIN_WORK")]  # fmt: skip
    knobs += [(_conv, name) for name in vars(_conv) if name.endswith(("_BAND", "_BAND_BYTES"))]
    saved = [getattr(module, name) for module, name in knobs]
    threads = F.get_num_threads()
    for module, name in knobs:
        setattr(module, name, 0 if name == "_THREAD_MIN_WORK" else 1)
    F.set_num_threads(2)
    try:
        yield
    finally:
        F.set_num_threads(threads)
        for (module, name), value in zip(knobs, saved, strict=True):
            setattr(module, name, value)


def assert_close(actual, expected, tol=2e-5):
    """float32, same shape, and close to the float64 reference relative to its scale."""
    assert actual.dtype == np.float32
    assert actual.shape == expected.shape
    scale = max(1.0, float(np.max(np.abs(expected), initial=0.0)))
    np.testing.assert_allclose(actual, expected, rtol=0, atol=tol * scale)


def assert_same_nonfinite(actual, expected):
    """NaN and +-inf where the reference has them; close elsewhere."""
    np.testing.assert_array_equal(np.isnan(actual), np.isnan(expected))
    np.testing.assert_array_equal(np.isposinf(actual), np.isposinf(expected))
    np.testing.assert_array_equal(np.isneginf(actual), np.isneginf(expected))
    finite = np.isfinite(expected)
    assert_close(np.where(finite, actual, 0).astype(np.float32), np.where(finite, expected, 0))


def dyadic(rng, shape, scale=16):
    """float32 values k / scale: sums and perturbations of them stay exact in float32."""
    return (rng.integers(-3 * scale, 3 * scale, shape) / scale).astype(np.float32)


# ---------------------------------------------------------------- convolution


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


# ---------------------------------------------------------------- pooling


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
