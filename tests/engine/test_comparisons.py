"""Parameter comparisons (engine.lecture.comparisons) and the pipeline translation test.

References: counts taken from the layers' real weight arrays and window positions counted in
loops; shifts by edge padding; changes computed with plain loops over the engine's own forward
pass.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.graph.pipeline import Pipeline
from engine.layers import AvgPool2d, Conv2d, Flatten, Linear, MaxPool2d, ReLU
from engine.lecture.comparisons import comparison_for_layer, lecture_comparison, nearest_conv_index
from engine.lecture.translation import (
    compare_translation_pipeline,
    layers_to_compare,
    relative_change,
    shift_image,
)
from engine.ops.shapes import ShapeError

# -- references -------------------------------------------------------------------------------


def positions(n, k, s, p):
    """Window positions along one axis, counted one by one."""
    return sum(1 for start in range(-p, n + p - k + 1, s))


def stored_numbers(layer):
    """What a conv layer really stores: its weight array plus its bias array."""
    return layer.weight.size + (0 if layer.bias is None else layer.bias.size)


def loop_relative(a, b):
    a, b = np.ravel(a).astype(np.float64), np.ravel(b).astype(np.float64)
    diff = sum(abs(float(y) - float(x)) for x, y in zip(a, b, strict=True))
    scale = sum(abs(float(x)) for x in a)
    return diff / scale  # the element counts cancel between the two means


def shifted_by_edge_padding(x, dy, dx):
    """Move the content by (dy, dx): pad with repeated edges, then cut the moved window."""
    _, h, w = x.shape
    m = max(abs(dy), abs(dx))
    padded = np.pad(x, ((0, 0), (m, m), (m, m)), mode="edge")
    return padded[:, m - dy:m - dy + h, m - dx:m - dx + w]


# -- lecture comparisons ----------------------------------------------------------------------


def test_the_lectures_32x32x3_example():
    cmp = lecture_comparison((3, 32, 32), 10, 5, 1, 2, title="slide")
    assert cmp.title == "slide" and cmp.kernel == (5, 5)
    assert cmp.in_shape == (3, 32, 32) and cmp.out_shape == (10, 32, 32)
    assert cmp.conv == 760
    assert cmp.conv_formula == "10 x (5 x 5 x 3 + 1) = 760"
    assert cmp.lecture == 94_402_560
    assert cmp.lecture_formula == "(32 x 32 x 3 + 1) x (32 x 32 x 3) x 10 = 94,402,560"
    assert cmp.dense == 3073 * 10240
    assert cmp.fan_in == 75 and cmp.connections == 10240 * 75
    assert cmp.sharing == pytest.approx(10240 * 75 / 760)


def test_the_lectures_200x200_mlp():
    cmp = lecture_comparison((3, 200, 200), 3, 5, 1, 2)
    assert cmp.dense == 14_400_120_000  # the slide's 14.4 x 10^9, with the bias row
    assert cmp.out_shape == (3, 200, 200)


@settings(max_examples=40, deadline=None)
@given(c=st.integers(1, 4), h=st.integers(5, 20), w=st.integers(5, 20), n=st.integers(1, 5),
       k=st.integers(1, 5), s=st.integers(1, 3), p=st.integers(0, 2))
def test_lecture_comparison_against_counting(c, h, w, n, k, s, p):
    cmp = lecture_comparison((c, h, w), n, k, s, p)
    oh, ow = positions(h, k, s, p), positions(w, k, s, p)
    assert cmp.out_shape == (n, oh, ow)
    assert cmp.conv == stored_numbers(Conv2d(c, n, k, stride=s, padding=p))
    volume = c * h * w
    assert cmp.dense == (volume + 1) * (n * oh * ow)  # every input plus a bias, per output unit
    assert cmp.lecture == n * (volume + 1) * volume
    # Connections: each output unit of each map reads one k x k x c window.
    assert cmp.fan_in == k * k * c
    assert cmp.connections == sum(k * k * c for _ in range(n * oh * ow))


def test_a_kernel_that_does_not_fit_says_so():
    with pytest.raises(ShapeError, match="7"):
        lecture_comparison((3, 4, 4), 2, 7)


# -- the pipeline's conv layer ----------------------------------------------------------------


def grouped_pipeline():
    return Pipeline.chain([Conv2d(3, 4, 3, padding=1), ReLU(), MaxPool2d(2),
                           Conv2d(4, 6, 3, stride=2, groups=2, bias=False), ReLU(),
                           AvgPool2d(2), Flatten(), Linear(24, 2)])


def test_comparison_for_a_grouped_conv_without_bias():
    pipeline = grouped_pipeline()
    x = np.zeros((3, 24, 20), np.float32)
    acts = pipeline.forward(x)
    cmp = comparison_for_layer(pipeline, 4, x.shape)  # relu2 -> its conv, conv2
    layer = pipeline.nodes[3].layer
    assert cmp.title == f"conv2: {layer!r}"
    assert cmp.in_shape == acts["pool1"].shape == (4, 12, 10)
    assert cmp.out_shape == acts["conv2"].shape
    assert cmp.conv == stored_numbers(layer) == 6 * 3 * 3 * 2
    assert cmp.conv_formula == "6 x (3 x 3 x 2) = 108"
    assert cmp.fan_in == 3 * 3 * 2
    assert cmp.connections == acts["conv2"].size * 18
    assert cmp.dense == (acts["pool1"].size + 1) * acts["conv2"].size
    assert cmp.lecture == 6 * (480 + 1) * 480


def test_comparison_for_the_first_conv_and_without_any():
    pipeline = grouped_pipeline()
    cmp = comparison_for_layer(pipeline, 0, (3, 24, 20))
    assert cmp.in_shape == (3, 24, 20) and cmp.conv == 4 * (27 + 1)
    assert cmp.conv_formula == "4 x (3 x 3 x 3 + 1) = 112"
    assert comparison_for_layer(Pipeline.chain([MaxPool2d(2), ReLU()]), 1, (3, 8, 8)) is None


def test_comparison_on_a_frame_the_pipeline_cannot_take():
    with pytest.raises(ShapeError):
        comparison_for_layer(grouped_pipeline(), 0, (3, 2, 2))


def test_nearest_conv_index_against_its_definition():
    layers = [ReLU(), Conv2d(3, 3, 1), ReLU(), MaxPool2d(2), Conv2d(3, 3, 1), ReLU()]
    pipeline = Pipeline.chain(layers)
    convs = [i for i, layer in enumerate(layers) if isinstance(layer, Conv2d)]
    for index in range(len(layers)):
        before = [i for i in convs if i <= index]
        expected = max(before) if before else min(i for i in convs if i > index)
        assert nearest_conv_index(pipeline, index) == expected
    with pytest.raises(ValueError, match="6 layers"):
        nearest_conv_index(pipeline, 6)


# -- relative change and the pipeline translation test ----------------------------------------


def test_relative_change_against_loops():
    rng = np.random.default_rng(4)
    a = rng.standard_normal((3, 5, 4)).astype(np.float32)
    b = a + rng.standard_normal((3, 5, 4)).astype(np.float32) * 0.3
    assert relative_change(a, b) == pytest.approx(loop_relative(a, b), rel=1e-5)
    zeros = np.zeros((2, 3))
    assert relative_change(zeros, zeros) == 0.0
    assert relative_change(zeros, zeros + 1) == float("inf")


@pytest.mark.parametrize("offset", [(0, 1), (2, 0), (1, -3)])
def test_pipeline_changes_against_loops(offset):
    pipeline = Pipeline.chain([Conv2d(3, 4, 3, padding=1), ReLU(), MaxPool2d(2)])
    x = np.random.default_rng(7).random((3, 10, 12), dtype=np.float32)
    names = [pipeline.input_name, "conv1", "relu1", "pool1"]
    changes = compare_translation_pipeline(pipeline, x, *offset, names)
    assert [c.name for c in changes] == names
    moved = shifted_by_edge_padding(x, *offset)
    before = {pipeline.input_name: x, **pipeline.forward(x)}
    after = {pipeline.input_name: moved, **pipeline.forward(moved)}
    for change in changes:
        a, b = before[change.name], after[change.name]
        assert change.change == pytest.approx(loop_relative(a, b), rel=1e-4)
        c, h, w = a.shape
        diff = np.zeros((h, w))
        for i in range(h):
            for j in range(w):
                diff[i, j] = sum(abs(float(b[k, i, j]) - float(a[k, i, j])) for k in range(c)) / c
        np.testing.assert_allclose(change.diff, diff, rtol=1e-5, atol=1e-6)


def test_pipeline_changes_name_the_missing_layer():
    pipeline = Pipeline.chain([Conv2d(3, 2, 3)])
    with pytest.raises(ValueError, match="'pool9'"):
        compare_translation_pipeline(pipeline, np.zeros((3, 6, 6), np.float32), 0, 1, ["pool9"])
    with pytest.raises(ShapeError, match=r"\(C, H, W\)"):
        shift_image(np.zeros((6, 6)), 0, 1)


def test_layers_to_compare():
    block = Pipeline.chain([Conv2d(3, 4, 3), ReLU(), MaxPool2d(2), Conv2d(4, 4, 3), ReLU(),
                            AvgPool2d(2)])
    assert layers_to_compare(block, 1) == (["conv1", "relu1", "pool1"], "pool1")
    assert layers_to_compare(block, 5) == (["conv2", "relu2", "avgpool1"], "avgpool1")
    # A second conv before any pooling: only the first conv is compared.
    two_convs = Pipeline.chain([Conv2d(3, 4, 3), ReLU(), Conv2d(4, 4, 3), MaxPool2d(2)])
    assert layers_to_compare(two_convs, 0) == (["conv1"], None)
    assert layers_to_compare(two_convs, 3) == (["conv2", "pool1"], "pool1")
    no_pool = Pipeline.chain([ReLU(), Conv2d(3, 4, 3), ReLU()])
    assert layers_to_compare(no_pool, 0) == (["conv1"], None)
    assert layers_to_compare(Pipeline.chain([MaxPool2d(2)]), 0) == ([], None)
