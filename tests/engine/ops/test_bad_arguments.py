"""Every op refuses bad arguments with a ValueError that names the op and the numbers."""


import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import ops as F
from tests.engine.ops.reference import (
    ref_conv2d,
)

x3 = np.zeros((3, 8, 8), np.float32)
w3 = np.zeros((2, 3, 3, 3), np.float32)

BAD = [
    (
        lambda: F.conv2d(np.zeros((3, 3, 3)), np.zeros((1, 3, 5, 5))),
        "conv2d: kernel 5x5 is larger than the padded input 3x3",
    ),
    (lambda: F.conv2d(np.zeros((4, 8, 8)), w3), "conv2d: input has 4 channels, weight expects 3"),
    (
        lambda: F.conv2d(np.zeros((4, 8, 8)), np.zeros((3, 1, 3, 3)), groups=3),
        "conv2d: groups 3 does not divide the 4 input channels",
    ),
    (
        lambda: F.conv2d(np.zeros((4, 8, 8)), np.zeros((3, 2, 3, 3)), groups=2),
        "conv2d: groups 2 does not divide the 3 output channels",
    ),
    (
        lambda: F.conv2d(np.zeros((4, 8, 8)), np.zeros((4, 1, 3, 3)), groups=2),
        r"conv2d: input has 4 channels, weight expects 2 \(1 per group x 2 groups\)",
    ),
    (
        lambda: F.conv2d(np.zeros((8, 8)), w3),
        r"conv2d: input must be 3-D \(C, H, W\) or 4-D \(N, C, H, W\), got 2-D",
    ),
    (lambda: F.conv2d(x3, np.zeros((3, 3, 3))), "conv2d: weight must be 4-D"),
    (lambda: F.conv2d(x3, w3, stride=0), "conv2d: stride must be positive, got 0"),
    (lambda: F.conv2d(x3, w3, stride=(1, -2)), "conv2d: stride must be positive, got 1x-2"),
    (lambda: F.conv2d(x3, w3, stride=1.5), r"conv2d: stride must be an int or a pair \(h, w\)"),
    (lambda: F.conv2d(x3, w3, dilation=0), "conv2d: dilation must be positive, got 0"),
    (lambda: F.conv2d(x3, w3, padding=-1), "conv2d: padding must be zero or more, got -1"),
    (
        lambda: F.conv2d(x3, w3, padding="full"),
        "conv2d: padding 'full' is not 'valid', 'same' or a number",
    ),
    (
        lambda: F.conv2d(x3, w3, stride=2, padding="same"),
        "conv2d: padding 'same' needs stride 1, got 2",
    ),
    (
        lambda: F.conv2d(x3, w3, np.zeros(3)),
        r"conv2d: bias has shape \(3,\), expected 2 values \(one per filter\)",
    ),
    (lambda: F.conv2d(x3, w3, groups=0), "conv2d: groups must be a positive int, got 0"),
    (
        lambda: F.conv2d(np.zeros((3, 5, 5)), w3, dilation=3),
        "conv2d: kernel 3x3 with dilation 3 spans 7x7, so it is larger than the padded input 5x5",
    ),
    (lambda: F.conv2d("image", w3), "conv2d: input must be an array of real numbers, got str"),
    (lambda: F.conv2d(x3 + 1j, w3), "conv2d: input must be an array of real numbers"),
    (lambda: F.conv2d(np.zeros((3, 0, 8)), w3), r"conv2d: input shape \(3, 0, 8\) has an empty"),
    (
        lambda: F.max_pool2d(x3, 3, padding=2),
        "max_pool2d: padding 2 is more than half the kernel 3",
    ),
    (
        lambda: F.max_pool2d(np.zeros((1, 2, 2)), 3),
        "max_pool2d: kernel 3x3 is larger than the padded input 2x2",
    ),
    (
        lambda: F.max_pool2d(np.zeros((1, 4, 4)), 3, dilation=2),
        "max_pool2d: kernel 3x3 with dilation 2 spans 5x5, so it is larger than the padded input",
    ),
    (lambda: F.max_pool2d(x3, 0), "max_pool2d: kernel_size must be positive, got 0"),
    (lambda: F.max_pool2d(x3, 2, stride=0), "max_pool2d: stride must be positive, got 0"),
    (lambda: F.max_pool2d(x3, 2, ceil_mode="yes"), "max_pool2d: ceil_mode must be True or False"),
    (lambda: F.max_pool2d(np.zeros(5), 2), "max_pool2d: input must be 3-D"),
    (
        lambda: F.avg_pool2d(x3, 2, padding=(0, 2)),
        "avg_pool2d: padding 2 is more than half the kernel 2",
    ),
    (lambda: F.avg_pool2d(x3, 9), "avg_pool2d: kernel 9x9 is larger than the padded input 8x8"),
    (
        lambda: F.avg_pool2d(x3, 2, count_include_pad=None),
        "avg_pool2d: count_include_pad must be True or False",
    ),
    (lambda: F.global_avg_pool2d(np.zeros((3, 3))), "global_avg_pool2d: input must be 3-D"),
    (
        lambda: F.softmax(np.zeros((2, 3)), dim=2),
        r"softmax: dim 2 is out of range for a 2-D input \(allowed: -2 to 1\)",
    ),
    (lambda: F.softmax(np.float32(1)), "softmax: input must have at least 1 dimension"),
    (lambda: F.hardtanh(x3, 2, 1), "hardtanh: min_val 2 is greater than max_val 1"),
    (lambda: F.leaky_relu(x3, "0.1"), "leaky_relu: negative_slope must be a real number"),
    (lambda: F.relu([1, "a"]), "relu: input must be an array of real numbers"),
    (
        lambda: F.batch_norm(x3, np.zeros(4), np.ones(3)),
        r"batch_norm: running_mean has shape \(4,\), expected 3 values \(one per channel\)",
    ),
    (
        lambda: F.batch_norm(x3, np.zeros(3), -np.ones(3)),
        "batch_norm: running_var \\+ eps must be positive",
    ),
    (
        lambda: F.batch_norm(np.zeros((1, 1, 1, 1, 1)), np.zeros(1), np.ones(1)),
        "batch_norm: input must be 1-D to 4-D, got 5-D",
    ),
    (
        lambda: F.linear(np.zeros(5), np.zeros((2, 4))),
        "linear: input has 5 features, weight expects 4",
    ),
    (lambda: F.linear(np.zeros(5), np.zeros(5)), "linear: weight must be 2-D"),
    (
        lambda: F.linear(np.zeros(4), np.zeros((2, 4)), np.zeros(3)),
        r"linear: bias has shape \(3,\), expected 2 values",
    ),
    (lambda: F.flatten(x3, 2, 1), "flatten: start_dim 2 comes after end_dim 1"),
    (lambda: F.flatten(x3, 3), "flatten: start_dim 3 is out of range for a 3-D input"),
    (lambda: F.pad(x3, (1, 2, 3)), "pad: padding must be an int or"),
    (lambda: F.pad(x3, (-4, -4, 0, 0)), "pad: padding .* leaves nothing of the 8x8 input"),
    (lambda: F.pad(np.zeros(3), 1), "pad: input must have at least 2 dimensions"),
    # cropping more than the input has (PyTorch: "narrow(): length must be non-negative")
    (
        lambda: F.pad(np.ones((1, 2)), (0, 0, -2, 3), 7.0),
        r"pad: padding \(0, 0, -2, 3\) crops 2 of the 1 rows, which leaves nothing of the 1x2",
    ),
    (
        lambda: F.pad(np.ones((1, 2)), (-3, 4, 0, 0)),
        r"pad: padding \(-3, 4, 0, 0\) crops 3 of the 2 columns, which leaves nothing",
    ),
    # all of it: PyTorch returns only the fill here, the engine refuses an input cropped away
    (lambda: F.pad(np.ones((2, 2)), (0, 0, -2, 3)), "pad: padding .* crops 2 of the 2 rows"),
    (lambda: F.pad(x3, (0, 0, -5, -3)), "pad: padding .* crops 8 of the 8 rows"),
    # sizes no op should allocate: a message instead of numpy's "array is too big"
    (
        lambda: F.pad(np.zeros((1, 4, 4)), 10**9),
        r"pad: padding \(1000000000, 1000000000, 1000000000, 1000000000\) makes the output "
        r"1x2000000004x2000000004, 4,000,000,016,000,000,016 values; the engine allows at most "
        r"2,147,483,648",
    ),
    (
        lambda: F.pad(np.zeros((2, 4, 4)), (0, 0, 0, 2**30)),
        "pad: padding .* makes the output 2x1073741828x4, 8,589,934,624 values",
    ),
    (
        lambda: F.conv2d(np.zeros((1, 4, 4)), np.ones((1, 1, 3, 3)), padding=10**9),
        "conv2d: padding 1000000000 makes the padded input 1x1x2000000004x2000000004, "
        "4,000,000,016,000,000,016 values; the engine allows at most 2,147,483,648",
    ),
    (
        lambda: F.conv2d(np.zeros((1, 4, 4)), np.ones((1, 1, 3, 3)), padding=(0, 10**9)),
        "conv2d: padding 0x1000000000 makes the padded input 1x1x4x2000000004",
    ),
    (
        lambda: F.conv2d(np.zeros((1, 4, 4)), np.ones((1, 1, 1, 2)), padding="same",
                         dilation=(1, 10**9 + 1)),
        r"conv2d: padding \(0, 0, 500000000, 500000001\) \(top, bottom, left, right\) makes the"
        " padded input 1x1x4x1000000005",
    ),
    (
        lambda: F.conv2d(np.zeros((1, 4, 4)), np.ones((2**20, 1, 1, 1)), padding=(0, 2**9)),
        "conv2d: the output would be 1x1048576x4x1028, 4,311,744,512 values",
    ),
    (
        lambda: F.max_pool2d(np.ones((1, 5, 5)), 10**9, padding=5 * 10**8),
        "max_pool2d: padding 500000000 makes the padded input 1x1x1000000005x1000000005, "
        "1,000,000,010,000,000,025 values; the engine allows at most 2,147,483,648",
    ),
    (
        lambda: F.avg_pool2d(np.ones((1, 5, 5)), (1, 10**9), padding=(0, 5 * 10**8)),
        "avg_pool2d: padding 0x500000000 makes the padded input 1x1x5x1000000005",
    ),
    (lambda: F.local_response_norm(x3, 0), "local_response_norm: size must be a positive int"),
    (lambda: F.set_num_threads(0), "set_num_threads: the thread count must be a positive int"),
]


@pytest.mark.parametrize(("call", "message"), BAD, ids=[m[:40] for _, m in BAD])
def test_bad_arguments_raise_value_error_with_the_numbers(call, message):
    with pytest.raises(ValueError, match="^" + message):
        call()


junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 4),
    st.floats(-2, 2),
    st.just(float("nan")),
    st.text(max_size=3),
    st.tuples(st.integers(-1, 3)),
    st.tuples(st.integers(-1, 3), st.integers(-1, 3)),
    st.tuples(st.integers(0, 2), st.integers(0, 2), st.integers(0, 2)),
    st.sampled_from(["same", "valid", [1, 1], (1.5, 1), np.int64(2), np.float32(0.5)]),
)
OPS = {
    "conv2d": lambda x, a, b, c: F.conv2d(x, np.ones((2, 3, 3, 3)), None, a, b, c),
    "conv2d ": lambda x, a, b, c: F.conv2d(x, np.ones((3, 1, 2, 2)), a, 1, 0, 1, b),
    "max_pool2d": lambda x, a, b, c: F.max_pool2d(x, a, b, c),
    "max_pool2d ": lambda x, a, b, c: F.max_pool2d(x, 2, None, 0, a, b),
    "avg_pool2d": lambda x, a, b, c: F.avg_pool2d(x, a, b, c),
    "avg_pool2d ": lambda x, a, b, c: F.avg_pool2d(x, 2, None, 0, a, b),
    "softmax": lambda x, a, b, c: F.softmax(x, a),
    "flatten": lambda x, a, b, c: F.flatten(x, a, b),
    "pad": lambda x, a, b, c: F.pad(x, a, b),
    "hardtanh": lambda x, a, b, c: F.hardtanh(x, a, b),
    "leaky_relu": lambda x, a, b, c: F.leaky_relu(x, a),
    "batch_norm": lambda x, a, b, c: F.batch_norm(x, np.zeros(3), np.ones(3), a, b, c),
    "linear": lambda x, a, b, c: F.linear(x, np.ones((2, 5)), a),
    "local_response_norm": lambda x, a, b, c: F.local_response_norm(x, a, b, c),
}


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(sorted(OPS)), junk, junk, junk, st.sampled_from([(3, 5, 5), (1, 3, 4, 5)]))
def test_junk_arguments_give_a_value_error_naming_the_op(op, a, b, c, shape):
    x = np.ones(shape, np.float32)
    try:
        out = OPS[op](x, a, b, c)
    except ValueError as exc:
        assert str(exc).startswith(op.strip() + ": "), str(exc)
    else:
        assert isinstance(out, np.ndarray)
        assert out.dtype == np.float32


def test_reused_workspaces_do_not_leak_between_biased_and_unbiased_layers():
    # Small convolutions share workspaces keyed by shape; a biased layer keeps a row of ones in
    # its columns. An unbiased layer of matching size must not overwrite it for the next call.
    rng = np.random.default_rng(5)
    x1 = rng.standard_normal((1, 20, 20)).astype(np.float32)
    w1 = rng.standard_normal((3, 1, 5, 3)).astype(np.float32)
    b1 = rng.standard_normal(3).astype(np.float32)
    x2 = rng.standard_normal((4, 21, 22)).astype(np.float32)
    w2 = rng.standard_normal((3, 4, 2, 2)).astype(np.float32)
    first = F.conv2d(x1, w1, b1, padding=(2, 1))
    F.conv2d(x2, w2, None)
    again = F.conv2d(x1, w1, b1, padding=(2, 1))
    np.testing.assert_array_equal(first, again)
    expected = ref_conv2d(x1[None].astype(np.float64), w1, b1, (1, 1), (2, 2, 1, 1), (1, 1), 1)[0]
    np.testing.assert_allclose(again, expected, rtol=1e-5, atol=1e-5)
