"""Output-size arithmetic and counts: the lecture's numbers, brute force and every message."""

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.ops.shapes import (
    ShapeError,
    activation_bytes,
    conv_macs,
    conv_output_size,
    conv_params,
    dense_params,
    dropped_pixels,
    fc_equivalent_params,
    pair,
    same_padding,
    size_formula,
)


def brute_positions(n, k, s, p, d, ceil_mode=False):
    """Slide the window over the padded input one start at a time and count."""
    padded = n + 2 * p
    eff = d * (k - 1) + 1
    count, start, last_end = 0, 0, 0
    while start + eff <= padded:
        count += 1
        last_end = start + eff
        start += s
    # ceil mode: one more window hanging over the end, if pixels were left and it starts
    # inside the input or the left padding.
    if ceil_mode and count and last_end < padded and start < n + p:
        count += 1
    return count, padded - last_end


# The lecture ----------------------------------------------------------------------------------


def test_lecture_spatial_sizes():
    assert conv_output_size(7, 3) == 5
    assert conv_output_size(7, 3, stride=2) == 3
    assert conv_output_size(7, 3, stride=3) == 2  # floored, like PyTorch
    assert conv_output_size(7, 3, padding=1) == 7


def test_lecture_stride_three_does_not_fit():
    with pytest.raises(ShapeError) as info:
        conv_output_size(7, 3, stride=3, strict=True)
    assert str(info.value) == (
        "stride 3 does not fit: (7 - 3 + 2*0)/3 + 1 = 7/3 = 2.33; the floor drops 1 border pixel"
    )
    assert info.value.field == "stride"


def test_strict_plural_pixels():
    with pytest.raises(ShapeError, match=r"= 12/5 = 2\.40; the floor drops 2 border pixels$"):
        conv_output_size(9, 2, stride=5, strict=True)


def test_lecture_same_padding():
    assert [same_padding(h) for h in (3, 5, 7)] == [1, 2, 3]
    assert same_padding(3, dilation=2) == 2
    with pytest.raises(ShapeError, match=r"even kernel \(4\) has no symmetric same padding"):
        same_padding(4)


def test_lecture_volume_and_parameters():
    h = conv_output_size(32, 5, stride=1, padding=2)
    assert (10, h, h) == (10, 32, 32)
    assert 10 * h * h == 10_240
    assert conv_params(3, 10, 5) == 760
    assert fc_equivalent_params((3, 32, 32), 10) == 94_402_560
    assert fc_equivalent_params((3, 200, 200), 1) == 14_400_120_000
    assert round(fc_equivalent_params((3, 200, 200), 1) / 1e9, 1) == 14.4


def test_counts():
    assert conv_params(3, 10, 5, bias=False) == 750
    assert conv_params(16, 32, (3, 1), groups=4) == 32 * (3 * 1 * 4 + 1)
    assert dense_params(512, 10) == 5130
    assert dense_params(512, 10, bias=False) == 5120
    assert conv_macs((10, 32, 32), 3, 5) == 10 * 32 * 32 * 3 * 25
    assert activation_bytes((10, 32, 32)) == 40_960
    assert activation_bytes((4,), itemsize=8) == 32
    with pytest.raises(ShapeError, match="groups 4 must divide both in_channels 6"):
        conv_params(6, 8, 3, groups=4)


# Formulas --------------------------------------------------------------------------------------


def test_size_formula_text():
    assert size_formula(7, 3, padding=1) == "(7 - 3 + 2*1)/1 + 1 = 7"
    assert size_formula(32, 5, 1, 2) == "(32 - 5 + 2*2)/1 + 1 = 32"
    assert size_formula(7, 3, stride=3) == "(7 - 3 + 2*0)/3 + 1 = floor(2.33) = 2"
    assert size_formula(7, 3, stride=2, dilation=2) == "(7 - 5 + 2*0)/2 + 1 = 2"
    assert size_formula(5, 2, stride=2, ceil_mode=True) == "(5 - 2 + 2*0)/2 + 1 = ceil(2.50) = 3"


def test_ceil_mode_window_starting_in_padding_is_dropped():
    # PyTorch gives 2, not ceil(2.5) = 3: the third window would start in the right padding.
    assert conv_output_size(3, 2, stride=2, padding=1, ceil_mode=True) == 2
    assert conv_output_size(3, 2, stride=2, padding=1) == 2
    assert conv_output_size(5, 2, stride=2, ceil_mode=True) == 3
    text = size_formula(3, 2, stride=2, padding=1, ceil_mode=True)
    assert text.endswith("= ceil(2.50) - 1 = 2 (last window would start in the padding)")


# Errors ----------------------------------------------------------------------------------------


def test_kernel_larger_than_padded_input():
    with pytest.raises(ShapeError) as info:
        conv_output_size(3, 5)
    assert str(info.value) == "kernel 5 is larger than the padded input 3 (3 + 2*0)"
    assert info.value.field == "kernel_size"
    with pytest.raises(ShapeError, match=r"dilated kernel 7 \(3 at dilation 3\) is larger than"
                                         r" the padded input 6 \(4 \+ 2\*1\)"):
        conv_output_size(4, 3, padding=1, dilation=3)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"stride": 0}, "stride must be at least 1, not 0"),
        ({"padding": -1}, "padding must be at least 0, not -1"),
        ({"dilation": 0}, "dilation must be at least 1, not 0"),
        ({"kernel_size": 0}, "kernel size must be at least 1, not 0"),
        ({"n": 0}, "input size must be at least 1, not 0"),
        ({"stride": 1.5}, "stride must be a whole number, not 1.5"),
        ({"stride": True}, "stride must be a whole number, not True"),
    ],
)
def test_bad_arguments(kwargs, message):
    args = {"n": 7, "kernel_size": 3, **kwargs}
    with pytest.raises(ShapeError, match=f"^{re.escape(message)}$"):
        conv_output_size(**args)


def test_pair():
    assert pair(3) == (3, 3)
    assert pair([2, 5]) == (2, 5)
    for bad in ((1, 2, 3), "ab", True, (1.0, 2)):
        with pytest.raises(ValueError, match="must be a whole number or a pair of them"):
            pair(bad, "stride")


# Brute force -----------------------------------------------------------------------------------

sizes = st.integers(1, 40)


@settings(max_examples=60, deadline=None)
@given(n=sizes, k=st.integers(1, 7), s=st.integers(1, 5), p=st.integers(0, 3),
       d=st.integers(1, 3), ceil_mode=st.booleans())
def test_output_size_matches_brute_force(n, k, s, p, d, ceil_mode):
    eff = d * (k - 1) + 1
    if eff > n + 2 * p:
        with pytest.raises(ShapeError, match="is larger than the padded input"):
            conv_output_size(n, k, s, p, d)
        return
    expected, left_over = brute_positions(n, k, s, p, d, ceil_mode)
    assert conv_output_size(n, k, s, p, d, ceil_mode=ceil_mode) == expected
    assert dropped_pixels(n, k, s, p, d) == brute_positions(n, k, s, p, d)[1]
    if left_over and not ceil_mode:
        with pytest.raises(ShapeError, match=f"the floor drops {left_over} border pixel"):
            conv_output_size(n, k, s, p, d, strict=True)
    else:
        assert conv_output_size(n, k, s, p, d, strict=True, ceil_mode=ceil_mode) == expected
    assert size_formula(n, k, s, p, d, ceil_mode).endswith(f"= {expected}") or "ceil" in (
        size_formula(n, k, s, p, d, ceil_mode))
