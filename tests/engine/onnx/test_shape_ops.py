"""The selecting, reducing, resizing and windowed operators new in issue 13, each against
onnxruntime over random shapes and attributes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tests.engine.onnx.reference import check_model
from tests.engine.onnx_models import GraphBuilder

SETTINGS = settings(max_examples=15, deadline=None, derandomize=True, database=None)
shapes = st.tuples(st.integers(1, 5), st.integers(1, 7), st.integers(1, 7))


def _ints(values):
    return np.array(values, np.int64)


@given(shape=shapes, data=st.data())
@SETTINGS
def test_slice(shape, data):
    axes = data.draw(st.lists(st.integers(1, 3), min_size=1, max_size=3, unique=True))
    starts, ends, steps = [], [], []
    for a in axes:
        n = shape[a - 1]
        steps.append(data.draw(st.sampled_from([1, 2, -1, 3])))
        starts.append(data.draw(st.integers(-n, n - 1)))
        ends.append(data.draw(st.sampled_from([n, -n - 5, 2**63 - 1, -(2**63), 0, -1, 1])))
    g = GraphBuilder(("N", *shape), seed=1)
    y = g.node("Slice", ["input", g.const(_ints(starts)), g.const(_ints(ends)),
                         g.const(_ints(axes)), g.const(_ints(steps))])
    try:
        model = g.model([y])
    except Exception:  # ONNX's own shape inference refuses an empty slice
        model = None
    assume(model is not None)
    assume(0 not in [d.dim_value for d in model.graph.output[0].type.tensor_type.shape.dim[1:]])
    check_model(model)


@given(shape=shapes, data=st.data(), opset=st.sampled_from([13, 18]))
@SETTINGS
def test_split_into_parts(shape, data, opset):
    axis = data.draw(st.integers(1, 3))
    n = shape[axis - 1]
    parts = data.draw(st.integers(1, n))
    g = GraphBuilder(("N", *shape), seed=2, opset=opset)
    if opset == 18 and data.draw(st.booleans()):
        names = [f"part{i}" for i in range(parts)]
        g.node("Split", ["input"], outputs=names, axis=axis, num_outputs=parts)
    else:
        cuts = sorted(data.draw(st.sets(st.integers(1, n - 1), max_size=parts - 1))) if n > 1 \
            else []
        sizes = np.diff([0, *cuts, n])
        names = [f"part{i}" for i in range(len(sizes))]
        g.node("Split", ["input", g.const(_ints(sizes))], outputs=names, axis=axis)
    outs = [g.node("Relu", [name]) for name in names]  # each part used by a later node
    check_model(g.model(outs))


@given(shape=shapes, data=st.data())
@SETTINGS
def test_gather_and_squeeze_unsqueeze(shape, data):
    axis = data.draw(st.integers(1, 3))
    n = shape[axis - 1]
    scalar = data.draw(st.booleans())
    indices = (np.int64(data.draw(st.integers(-n, n - 1))) if scalar else
               _ints(data.draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=5))))
    g = GraphBuilder(("N", *shape), seed=3)
    y = g.node("Gather", ["input", g.const(indices)], axis=axis)
    z = g.node("Unsqueeze", ["input", g.const(_ints([2, -1]))])  # (N, C, 1, H, W, 1)
    z = g.node("Squeeze", [z, g.const(_ints([2]))])
    check_model(g.model([y, z]))


def test_concat_of_one_input():
    g = GraphBuilder(("N", 3, 4, 4), seed=4)
    check_model(g.model([g.node("Concat", [g.node("Relu", ["input"])], axis=1)]))


@given(shape=shapes, axes=st.sets(st.integers(1, 3), min_size=1), keep=st.booleans(),
       op=st.sampled_from(["ReduceMean", "ReduceMax", "ReduceMin", "ReduceSum"]),
       opset=st.sampled_from([13, 18]))
@SETTINGS
def test_reductions(shape, axes, keep, op, opset):
    g = GraphBuilder(("N", *shape), seed=5, opset=opset)
    if opset >= 18 or op == "ReduceSum":
        y = g.node(op, ["input", g.const(_ints(sorted(axes)))], keepdims=int(keep))
    else:
        y = g.node(op, ["input"], axes=sorted(axes), keepdims=int(keep))
    check_model(g.model([y]))


# ---------------------------------------------------------------- resizing


@given(shape=shapes, data=st.data())
@SETTINGS
def test_resize(shape, data):
    mode = data.draw(st.sampled_from(["nearest", "linear"]))
    coord = data.draw(st.sampled_from(["half_pixel", "pytorch_half_pixel", "align_corners",
                                       "asymmetric", "half_pixel_symmetric"]
                                      + (["tf_half_pixel_for_nn"] if mode == "nearest" else [])))
    nearest = data.draw(st.sampled_from(["round_prefer_floor", "round_prefer_ceil", "floor",
                                         "ceil"]))
    g = GraphBuilder(("N", *shape), seed=6, opset=19)
    if data.draw(st.booleans()):
        scales = [data.draw(st.sampled_from([0.5, 1.0, 1.5, 2.0, 3.0, 0.75])) for _ in "hw"]
        assume(min(int(n * f) for n, f in zip(shape[1:], scales, strict=True)) >= 1)
        inputs = ["input", "", g.const(np.array([1, 1, *scales], np.float32))]
    else:
        sizes = [data.draw(st.integers(1, 12)) for _ in "hw"]
        inputs = ["input", "", "", g.const(_ints([2, shape[0], *sizes]))]
    y = g.node("Resize", inputs, mode=mode, coordinate_transformation_mode=coord,
               nearest_mode=nearest)
    check_model(g.model([y]))


@pytest.mark.parametrize(("opset", "mode"), [(9, "nearest"), (9, "linear"), (10, "nearest"),
                                             (10, "linear")])
def test_upsample_and_the_old_resize(opset, mode):
    g = GraphBuilder(("N", 2, 3, 5), seed=7, opset=opset)
    scales = g.const(np.array([1, 1, 2, 3], np.float32))
    op = "Upsample" if opset == 9 else "Resize"
    check_model(g.model([g.node(op, ["input", scales], mode=mode)]))


# ---------------------------------------------------------------- windows


@given(data=st.data())
@SETTINGS
def test_conv_transpose(data):
    groups = data.draw(st.sampled_from([1, 2]))
    c_in, c_out = 2 * data.draw(st.integers(1, 2)), 2 * data.draw(st.integers(1, 2))
    k, s, d = (data.draw(st.integers(1, 3)) for _ in "ksd")
    h, w = data.draw(st.integers(1, 5)), data.draw(st.integers(1, 5))
    attrs = {"strides": [s, s], "dilations": [d, d], "group": groups, "kernel_shape": [k, k]}
    kind = data.draw(st.sampled_from(["pads", "output_shape", "auto"]))
    if kind == "pads":
        pads = [data.draw(st.integers(0, (k - 1) * d // 2)) for _ in range(4)]
        attrs["pads"] = pads
        attrs["output_padding"] = [data.draw(st.integers(0, max(s, d) - 1)) for _ in "hw"]
    elif kind == "output_shape":
        full = [(n - 1) * s + (k - 1) * d + 1 for n in (h, w)]
        attrs["output_shape"] = [max(1, f - data.draw(st.integers(0, 2))) for f in full]
    else:
        attrs["auto_pad"] = data.draw(st.sampled_from(["SAME_UPPER", "SAME_LOWER", "VALID"]))
    g = GraphBuilder(("N", c_in, h, w), seed=8)
    weight = g.randn(c_in, c_out // groups, k, k)
    inputs = ["input", weight] + ([g.randn(c_out)] if data.draw(st.booleans()) else [])
    try:
        model = g.model([g.node("ConvTranspose", inputs, **attrs)])
    except Exception:  # ONNX refuses some combinations itself
        model = None
    assume(model is not None)
    check_model(model)


@given(data=st.data())
@SETTINGS
def test_average_pool_same_padding_without_the_zeros(data):
    k, s = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 3))
    h, w = data.draw(st.integers(k, 9)), data.draw(st.integers(k, 9))
    auto = data.draw(st.sampled_from(["SAME_UPPER", "SAME_LOWER", "NOTSET"]))
    attrs = {"auto_pad": auto} if auto != "NOTSET" else {
        "pads": [data.draw(st.integers(0, k - 1)) for _ in range(4)]}
    g = GraphBuilder(("N", 3, h, w), seed=9)
    y = g.node("AveragePool", ["input"], kernel_shape=[k, k], strides=[s, s],
               count_include_pad=data.draw(st.sampled_from([0, 1])), **attrs)
    check_model(g.model([y]))


@given(data=st.data())
@SETTINGS
def test_lp_pool(data):
    k, s = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3))
    p = data.draw(st.sampled_from([1, 2, 3]))
    pads = [data.draw(st.integers(0, k - 1)) for _ in range(4)]
    g = GraphBuilder(("N", 2, 7, 6), seed=10)
    y = g.node("LpPool", ["input"], kernel_shape=[k, k], strides=[s, s], pads=pads, p=p)
    check_model(g.model([y]))


@pytest.mark.parametrize("channels", [2, 4, 5, 12])
def test_any_number_of_input_channels(channels):
    g = GraphBuilder(("N", channels, 6, 6), seed=11)
    pipeline = check_model(g.model([g.node("Relu", [g.conv("input", channels, 3, 3)])]))
    assert pipeline.input_spec.channels == channels
    assert pipeline.input_spec.color == {1: "gray", 3: "rgb"}.get(channels, "none")
