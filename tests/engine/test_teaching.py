"""The players' traces, the lecture's examples and the translation test (receptive fields:
test_receptive.py).

References are plain loops written here, plus the engine's own conv2d / pooling / forward.
"""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from engine import ops as F
from engine.lecture.examples import (
    LECTURE_POOL_INPUT,
    crop_around,
    lecture_7x7,
    lecture_volume,
    lecture_volume_summary,
)
from engine.lecture.text import (
    conv_sum_text,
    fit_text,
    format_value,
    formula_text,
    parse_kernel,
    pool_text,
)
from engine.lecture.traces import TraceError, trace_conv, trace_pool
from engine.lecture.translation import compare_translation, shift_image

# -- plain-loop references --------------------------------------------------------------------


def loop_conv(x, w, b, s, p, d):
    """One filter w (C, kh, kw) over x (C, H, W), written out as loops."""
    c, h, wd = x.shape
    _, kh, kw = w.shape
    xp = np.zeros((c, h + 2 * p, wd + 2 * p))
    xp[:, p:p + h, p:p + wd] = x
    oh = (h + 2 * p - d * (kh - 1) - 1) // s + 1
    ow = (wd + 2 * p - d * (kw - 1) - 1) // s + 1
    out = np.zeros((oh, ow))
    for i in range(oh):
        for j in range(ow):
            total = b
            for ch in range(c):
                for u in range(kh):
                    for v in range(kw):
                        total += xp[ch, i * s + u * d, j * s + v * d] * w[ch, u, v]
            out[i, j] = total
    return out


def loop_maxpool(x, k):
    h, w = x.shape[0] // k, x.shape[1] // k
    return np.array([[x[i * k:(i + 1) * k, j * k:(j + 1) * k].max() for j in range(w)]
                     for i in range(h)])


# -- convolution trace ------------------------------------------------------------------------

conv_cases = st.tuples(
    st.integers(1, 3), st.integers(3, 9), st.integers(3, 9),  # C, H, W
    st.integers(1, 4), st.integers(1, 3),                      # kh, kw
    st.integers(1, 3), st.integers(0, 2), st.integers(1, 2),   # stride, padding, dilation
    st.integers(0, 2**31 - 1),
)


@settings(max_examples=50, deadline=None)
@given(conv_cases)
def test_conv_trace_matches_engine_and_loops_at_every_step(case):
    c, h, w, kh, kw, s, p, d, seed = case
    assume(d * (kh - 1) + 1 <= h + 2 * p and d * (kw - 1) + 1 <= w + 2 * p)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((c, h, w)).astype(np.float32)
    weight = rng.standard_normal((c, kh, kw)).astype(np.float32)
    bias = float(rng.standard_normal())
    trace = trace_conv(x, weight, bias, s, p, d)
    engine = F.conv2d(x, weight[None], np.array([bias], np.float32), stride=s, padding=p,
                      dilation=d)[0]
    loops = loop_conv(x, weight, bias, s, p, d)
    assert trace.out_shape == engine.shape == loops.shape
    assert len(trace) == engine.size
    for k in range(len(trace)):
        step = trace.step(k)
        assert (step.row, step.col) == divmod(k, engine.shape[1])
        np.testing.assert_allclose(step.value, engine[step.row, step.col], rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(step.value, loops[step.row, step.col], rtol=1e-4, atol=1e-4)
        # The highlighted cells are the dilated taps of this window in padded coordinates.
        assert step.rows.tolist() == [step.row * s + u * d for u in range(kh)]
        assert step.cols.tolist() == [step.col * s + v * d for v in range(kw)]
        np.testing.assert_allclose(step.products, step.window * weight, rtol=1e-6)
        np.testing.assert_allclose(step.channel_sums.sum() + bias, step.value, rtol=1e-5,
                                   atol=1e-5)
    np.testing.assert_allclose(trace.output, engine, rtol=1e-4, atol=1e-4)
    # Padding cells are exactly the zero border.
    assert trace.pad_mask.sum() == trace.pad_mask.size - h * w
    assert np.all(trace.padded[:, trace.pad_mask] == 0)


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 10), st.integers(2, 10), st.integers(1, 4), st.integers(1, 3),
       st.integers(0, 2), st.sampled_from(["max", "avg"]), st.integers(0, 2**31 - 1))
def test_pool_trace_matches_engine_at_every_step(h, w, k, s, p, mode, seed):
    assume(p <= k // 2 and k <= min(h, w) + 2 * p)
    rng = np.random.default_rng(seed)
    # Few distinct values, so that ties happen and the first-winner rule is exercised.
    x = rng.integers(0, 4, size=(h, w)).astype(np.float32)
    trace = trace_pool(x, mode, k, s, p)
    op = F.max_pool2d if mode == "max" else F.avg_pool2d
    engine = op(x[None], k, s, p)[0]
    assert trace.out_shape == engine.shape
    for i in range(len(trace)):
        step = trace.step(i)
        np.testing.assert_allclose(step.value, engine[step.row, step.col], rtol=1e-6)
        if mode == "max":
            # The winner is the first maximum in reading order, like PyTorch's index.
            cells = [(r, c) for r in step.rows for c in step.cols]
            values = [trace.padded[r, c] for r, c in cells]
            assert step.winner == cells[int(np.argmax(values))]
            assert trace.padded[step.winner] == step.value
        else:
            assert step.winner is None


def test_pool_winner_ties_pick_the_first():
    trace = trace_pool(np.array([[3, 3], [3, 3]], np.float32), "max", 2)
    assert trace.step(0).winner == (0, 0)


# -- the lecture's examples -------------------------------------------------------------------


def test_lecture_7x7_sizes_and_first_step():
    x, w = lecture_7x7()
    assert x.shape == (1, 7, 7) and np.all(x == np.round(x))
    assert trace_conv(x, w).out_shape == (5, 5)
    assert trace_conv(x, w, stride=2).out_shape == (3, 3)
    padded = trace_conv(x, w, padding=1)
    assert padded.out_shape == (7, 7) and padded.fits
    first = trace_conv(x, w).step(0)
    # Sobel X on the top-left window: right column minus left column, middle row twice.
    window = x[0, :3, :3]
    by_hand = (window[:, 2] - window[:, 0]) @ np.array([1, 2, 1])
    assert first.value == by_hand == 5


def test_lecture_stride_3_does_not_fit():
    x, w = lecture_7x7()
    trace = trace_conv(x, w, stride=3)
    assert not trace.fits
    assert trace.out_shape == (2, 2)
    assert trace.fit_rows.dropped == (6,) and trace.fit_cols.dropped == (6,)
    assert "floor(2.33) = 2" in trace.fit_rows.formula
    message = fit_text(trace)
    assert "does not fit" in message and "row 6" in message and "column 6" in message


def test_lecture_pool_example():
    trace = trace_pool(LECTURE_POOL_INPUT, "max", 2, 2)
    assert trace.output.tolist() == [[6, 8], [3, 4]]
    assert [trace.step(k).winner for k in range(4)] == [(1, 1), (1, 3), (2, 0), (3, 3)]
    assert pool_text(trace, trace.step(0)) == "max(1, 1, 5, 6) = 6"
    avg = trace_pool(LECTURE_POOL_INPUT, "avg", 2, 2)
    assert avg.output.tolist() == [[3.25, 5.25], [2.0, 2.0]]
    assert pool_text(avg, avg.step(0)) == "(1 + 1 + 5 + 6) / 4 = 3.25"


def test_lecture_volume_numbers():
    s = lecture_volume_summary()
    assert s["out_shape"] == (10, 32, 32) and s["out_volume"] == 10240
    assert s["params"] == 760 and s["params_formula"] == "10 x (5 x 5 x 3 + 1) = 760"
    assert s["fc_params"] == (32 * 32 * 3 + 1) * (32 * 32 * 3) * 10
    assert 0.5e8 < s["fc_params"] < 2e8  # the slide's "about 10^8"
    big = lecture_volume_summary((3, 200, 200), 1)
    assert round(big["fc_params"] / 1e9, 1) == 14.4


def test_lecture_volume_is_the_lecture_pipelines_layer_on_a_32x32_sample():
    from engine.resolve import resolve_pipeline

    x, w, b = lecture_volume()
    assert x.shape == (3, 32, 32) and w.shape == (10, 3, 5, 5) and b.shape == (10,)
    assert np.array_equal(x, np.round(x)) and x.min() >= 0 and x.max() <= 9
    pipeline = resolve_pipeline("lecture")
    layer = pipeline.nodes[0].layer
    assert (layer.stride, layer.padding) == (1, 2)
    np.testing.assert_array_equal(w, layer.weight)
    maps = pipeline.forward(x)["conv1"]  # (10, 32, 32)
    for f in (0, 4, 9):
        trace = trace_conv(x, w[f], b[f], padding=2, max_side=32)
        assert trace.out_shape == (32, 32) and len(trace) == 1024
        assert "(32 - 5 + 2*2)/1 + 1 = 32" in formula_text(trace)
        np.testing.assert_allclose(trace.output, maps[f], rtol=1e-5, atol=1e-4)
        # One step by plain loops over the zero-padded input.
        step = trace.step(7 * 32 + 31)
        padded = np.zeros((3, 36, 36), np.float32)
        padded[:, 2:34, 2:34] = x
        ref = float(b[f]) + sum(float(padded[c, 7 + u, 31 + v] * w[f, c, u, v])
                                for c in range(3) for u in range(5) for v in range(5))
        assert step.value == pytest.approx(ref, abs=1e-4)
        assert step.channel_sums.shape == (3,)
    text = conv_sum_text(trace, step, 1)
    assert "Channel G" in text and f"= {format_value(step.value)}" in text


def test_trace_conv_max_side_admits_the_lecture_volume_only_when_asked():
    x = np.zeros((3, 32, 32), np.float32)
    with pytest.raises(TraceError, match="at most 16x16"):
        trace_conv(x, np.ones((3, 5, 5)), padding=2)
    with pytest.raises(TraceError, match="at most 32x32"):
        trace_conv(np.zeros((1, 33, 33)), np.ones((1, 3, 3)), max_side=32)


def test_conv_sum_text_writes_out_small_sums():
    x, w = lecture_7x7()
    trace = trace_conv(x, w)
    text = conv_sum_text(trace, trace.step(0), 0)
    assert text.startswith("Sum of products: (-1×0) + 0×0 + 1×1")
    assert text.endswith("Total 5 + bias 0 = 5")


# -- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "words"),
    [
        ((np.zeros((1, 17, 4)), np.ones((1, 3, 3))), "at most 16x16"),
        ((np.zeros((1, 4, 4)), np.ones((1, 5, 5))), "larger than the padded input"),
        ((np.zeros((2, 4, 4)), np.ones((3, 3, 3))), "2 channel(s)"),
        ((np.zeros((4, 4)), np.ones((3, 3))), "(C, H, W)"),
    ],
)
def test_trace_conv_rejects_bad_input_with_numbers(args, words):
    with pytest.raises(TraceError) as info:
        trace_conv(*args)
    assert words in str(info.value)


def test_trace_pool_rejects_bad_input():
    with pytest.raises(TraceError, match="more than half"):
        trace_pool(np.zeros((4, 4)), "max", 2, 2, 2)
    with pytest.raises(TraceError, match="'max' or 'avg'"):
        trace_pool(np.zeros((4, 4)), "min", 2)
    with pytest.raises(TraceError, match="step 4 is outside"):
        trace_pool(np.zeros((4, 4)), "max", 2).step(4)


def test_parse_kernel():
    assert parse_kernel("-1 0 1; -2, 0, 2").tolist() == [[-1, 0, 1], [-2, 0, 2]]
    for bad, words in (("1 2; 3", "same number"), ("a b", "numbers"), ("", "rows of numbers")):
        with pytest.raises(ValueError, match=words):
            parse_kernel(bad)


# -- crop and translation ---------------------------------------------------------------------


def test_crop_around_stays_inside_the_image():
    image = np.arange(3 * 20 * 30, dtype=np.float32).reshape(3, 20, 30)
    crop, (y0, x0) = crop_around(image, 10, 15, 8)
    assert (y0, x0) == (6, 11) and np.array_equal(crop, image[:, 6:14, 11:19])
    crop, origin = crop_around(image, 0, 29, 16)
    assert origin == (0, 14) and crop.shape == (3, 16, 16)
    crop, origin = crop_around(image[:, :5, :5], 2, 2, 16)
    assert origin == (0, 0) and crop.shape == (3, 5, 5)
    with pytest.raises(TraceError, match="1 to 16"):
        crop_around(image, 0, 0, 17)


def test_shift_image_against_loops():
    rng = np.random.default_rng(0)
    x = rng.random((2, 5, 6)).astype(np.float32)
    for dy, dx in ((0, 1), (2, 0), (1, 3), (-1, -2)):
        ref = np.empty_like(x)
        for i in range(5):
            for j in range(6):
                ref[:, i, j] = x[:, min(max(i - dy, 0), 4), min(max(j - dx, 0), 5)]
        assert np.array_equal(shift_image(x, dy, dx), ref)


@pytest.mark.parametrize("shift", [1, 2, 3])
def test_translation_comparison_against_loops(shift):
    rng = np.random.default_rng(shift)
    x = rng.random((2, 8, 8)).astype(np.float32)
    w = rng.standard_normal((3, 2, 3, 3)).astype(np.float32)
    result = compare_translation(x, w, 0, shift, pool=2, padding="same")

    def maps(image):
        conv = np.stack([np.maximum(loop_conv(image, w[o], 0.0, 1, 1, 1), 0) for o in range(3)])
        return conv, np.stack([loop_maxpool(m, 2) for m in conv])

    (ca, pa), (cb, pb) = maps(x), maps(shift_image(x, 0, shift))
    np.testing.assert_allclose(result.conv_diff, np.abs(cb - ca).mean(0), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(result.pool_diff, np.abs(pb - pa).mean(0), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(result.conv_change, np.abs(cb - ca).mean() / np.abs(ca).mean(),
                               rtol=1e-4)
    np.testing.assert_allclose(result.pool_change, np.abs(pb - pa).mean() / np.abs(pa).mean(),
                               rtol=1e-4)


def test_pooling_absorbs_a_shift_inside_its_window():
    # A thin vertical line at column 4, kept as it is by the identity kernel. Moved to column 5
    # it leaves the conv map entirely (change 2: one column gone, one new), but it stays in the
    # same 2x2 pooling window (columns 4-5), so the pooled map does not change at all.
    x = np.zeros((1, 8, 8), np.float32)
    x[0, :, 4] = 1.0
    identity = np.zeros((1, 1, 3, 3), np.float32)
    identity[0, 0, 1, 1] = 1.0
    still = compare_translation(x, identity, 0, 0)
    assert still.conv_change == 0 and still.pool_change == 0
    moved = compare_translation(x, identity, 0, 1)
    assert moved.conv_change == pytest.approx(2.0) and moved.pool_change == 0
    assert moved.conv_diff[:, 4].tolist() == [1.0] * 8 and moved.pool_diff.max() == 0
    # Two pixels carry it into the next window: now the pooled map changes too.
    assert compare_translation(x, identity, 0, 2).pool_change == pytest.approx(2.0)
