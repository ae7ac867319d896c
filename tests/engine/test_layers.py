"""Layer classes: shapes, counts, formulas, reprs, replace, fields and every message."""

import json
import math

import numpy as np
import pytest

from engine.layers import (
    LAYER_TYPES,
    REQUIRED,
    Add,
    AvgPool2d,
    BatchNorm2d,
    Concat,
    Conv2d,
    Field,
    Flatten,
    GlobalAvgPool2d,
    Hardtanh,
    LayerError,
    LeakyReLU,
    Linear,
    MaxPool2d,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
)
from engine.layers.kernels import PRESETS, he_init
from engine.ops.shapes import ShapeError


def conv_loop(x, w, b, stride, padding):
    """Plain-loop cross-correlation: g(y, x) = sum_c sum_s sum_t w(c, s, t) f(c, y*S+s, x*S+t)."""
    c_in, h, wd = x.shape
    padded = np.zeros((c_in, h + 2 * padding, wd + 2 * padding))
    padded[:, padding:padding + h, padding:padding + wd] = x
    c_out, _, kh, kw = w.shape
    h_out = (h + 2 * padding - kh) // stride + 1
    w_out = (wd + 2 * padding - kw) // stride + 1
    out = np.zeros((c_out, h_out, w_out))
    for o in range(c_out):
        for i in range(h_out):
            for j in range(w_out):
                window = padded[:, i * stride:i * stride + kh, j * stride:j * stride + kw]
                out[o, i, j] = (window * w[o]).sum() + (b[o] if b is not None else 0)
    return out


# Conv2d ---------------------------------------------------------------------------------------


def test_conv_lecture_numbers():
    conv = Conv2d(3, 10, 5, stride=1, padding=2)
    assert conv.out_shape((3, 32, 32)) == (10, 32, 32)
    assert math.prod(conv.out_shape((3, 32, 32))) == 10_240
    assert conv.num_params == 760
    assert conv.params_formula((3, 32, 32)) == "10 x (5 x 5 x 3 + 1) = 760"
    assert conv.size_formula((3, 32, 32)) == "(32 - 5 + 2*2)/1 + 1 = 32"
    assert conv.macs((3, 32, 32)) == 10 * 32 * 32 * 75
    assert conv.floor_note((3, 32, 32)) == ""
    assert repr(conv) == "Conv2d(3, 10, kernel_size=5, stride=1, padding=2)"


def test_conv_runs_like_a_plain_loop():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 7, 6)).astype(np.float32)
    weight = rng.standard_normal((3, 2, 3, 3)).astype(np.float32)
    bias = np.array([0.5, -1.0, 2.0], np.float32)
    conv = Conv2d(2, 3, 3, stride=2, padding=1, weight=weight, bias_values=bias)
    y = conv(x)
    assert y.shape == conv.out_shape(x.shape) == (3, 4, 3)
    np.testing.assert_allclose(y, conv_loop(x, weight, bias, 2, 1), atol=1e-4)
    batched = conv(np.stack([x, 2 * x]))
    assert batched.shape == (2, 3, 4, 3)
    np.testing.assert_allclose(batched[1], conv_loop(2 * x, weight, bias, 2, 1), atol=1e-4)


def test_flip_runs_true_convolution():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((1, 6, 6)).astype(np.float32)
    k = np.arange(9, dtype=np.float32).reshape(1, 1, 3, 3)
    conv = Conv2d(1, 1, 3, weight=k, bias=False, flip=True)
    # True convolution: g(y, x) = sum_s sum_t w(s, t) f(y + 2 - s, x + 2 - t) (valid part).
    expected = np.zeros((4, 4))
    for i in range(4):
        for j in range(4):
            expected[i, j] = sum(k[0, 0, s, t] * x[0, i + 2 - s, j + 2 - t]
                                 for s in range(3) for t in range(3))
    np.testing.assert_allclose(conv(x)[0], expected, atol=1e-4)
    np.testing.assert_array_equal(conv.weight, k)  # the stored kernel is not flipped
    assert repr(conv) == "Conv2d(1, 1, kernel_size=3, stride=1, bias=False, flip=True)"


def test_conv_weight_sources():
    conv = Conv2d(3, 8, 3, seed=5)
    np.testing.assert_array_equal(conv.weight, he_init((8, 3, 3, 3), 5))
    assert conv.kernel_source == "he seed 5" and conv.weight_source == {"init": "he", "seed": 5}
    assert not conv.bias.any()
    edges = Conv2d(1, 2, 3, weight_source={"presets": ["sobel_x", "sobel_y"]})
    np.testing.assert_array_equal(edges.weight[1, 0], PRESETS["sobel_y"])
    assert edges.kernel_source == "presets sobel_x, sobel_y on the single channel"
    explicit = Conv2d(1, 1, 1, weight=[[[[2.0]]]])
    assert explicit.kernel_source == "explicit values" and explicit.weight_source is None
    with pytest.raises(ValueError):
        conv.weight[0, 0, 0, 0] = 1.0  # layers are immutable


@pytest.mark.parametrize(
    ("build", "message", "field"),
    [
        (lambda: Conv2d(3, 8, 3, groups=2), "Conv2d: groups 2 must divide both in_channels 3 and"
         " out_channels 8", "groups"),
        (lambda: Conv2d(3, 8, 3, weight=np.zeros((8, 3, 5, 5))), "Conv2d: weight has shape"
         " (8, 3, 5, 5), expected (8, 3, 3, 3) (out_channels, in_channels/groups, kh, kw)",
         "weights"),
        (lambda: Conv2d(3, 8, 3, bias=False, bias_values=np.zeros(8)), "Conv2d: bias values were"
         " given but bias is false", "bias_values"),
        (lambda: Conv2d(3, 2, 3, bias_values=[1.0]), "Conv2d: bias has shape (1,), expected (2,)",
         "bias_values"),
        (lambda: Conv2d(3, 0, 3), "Conv2d: out_channels must be at least 1, not 0",
         "out_channels"),
        (lambda: Conv2d(3, 8, 3, stride=0), "Conv2d: stride must be at least 1, not 0", "stride"),
        (lambda: Conv2d(3, 8, (3, 3, 3)), "Conv2d: kernel_size must be a whole number or a pair",
         "kernel_size"),
        (lambda: Conv2d(3, 8, 3.5), "Conv2d: kernel_size must be a whole number or a pair of"
         " them, not 3.5", "kernel_size"),
        (lambda: Conv2d(3, 8, 3, init="xavier"), "Conv2d: init must be one of he, glorot, not"
         " 'xavier'", "init"),
        (lambda: Conv2d(3, 8, 3, bias=1), "Conv2d: bias must be true or false, not 1", "bias"),
        (lambda: Conv2d(1, 1, 5, weight_source={"preset": "sobel_x"}), "Conv2d: weights: preset"
         " sobel_x is 3x3 but the layer's kernel is 5x5", "weights"),
    ],
)
def test_conv_construction_errors(build, message, field):
    with pytest.raises(LayerError) as info:
        build()
    assert str(info.value).startswith(message)
    assert info.value.field == field


def test_conv_shape_errors():
    conv = Conv2d(3, 10, 5)
    with pytest.raises(ShapeError, match=r"^Conv2d: input has 1 channels, the layer expects 3$"):
        conv.out_shape((1, 32, 32))
    with pytest.raises(ShapeError, match=r"^Conv2d: height: kernel 5 is larger than the padded"
                                         r" input 3 \(3 \+ 2\*0\)$"):
        conv.out_shape((3, 3, 32))
    with pytest.raises(ShapeError, match=r"needs a \(C, H, W\) map, got shape \(3, 32\)"):
        conv.out_shape((3, 32))
    strided = Conv2d(1, 1, 3, stride=3)
    assert strided.out_shape((1, 7, 7)) == (1, 2, 2)
    assert strided.floor_note((1, 7, 7)) == (
        "the floor drops 1 border pixel in height and 1 in width: no window reaches them")
    with pytest.raises(ShapeError, match=r"^Conv2d: height: stride 3 does not fit: .* drops 1"
                                         " border pixel$") as info:
        strided.out_shape((1, 7, 7), strict=True)
    assert info.value.field == "stride"


def test_conv_rectangular_and_grouped():
    conv = Conv2d(4, 8, (3, 1), stride=(2, 1), padding=(1, 0), groups=4)
    assert conv.out_shape((4, 9, 5)) == (8, 5, 5)
    assert conv.size_formula((4, 9, 5)) == ("H: (9 - 3 + 2*1)/2 + 1 = 5; W: (5 - 1 + 2*0)/1 + 1"
                                            " = 5")
    assert conv.params_formula() == "8 x (3 x 1 x 1 + 1) = 32" and conv.num_params == 32
    assert conv(np.ones((4, 9, 5), np.float32)).shape == (8, 5, 5)
    assert repr(conv) == ("Conv2d(4, 8, kernel_size=(3, 1), stride=(2, 1), padding=(1, 0),"
                          " groups=4)")


def test_conv_replace():
    conv = Conv2d(3, 8, 3, padding=1, seed=2)
    wider = conv.replace(out_channels=16)
    assert wider.weight.shape == (16, 3, 3, 3) and conv.weight.shape == (8, 3, 3, 3)
    np.testing.assert_array_equal(wider.weight, he_init((16, 3, 3, 3), 2))
    same = conv.replace(padding=2)
    np.testing.assert_array_equal(same.weight, conv.weight)
    assert same.padding == 2 and conv.padding == 1
    reseeded = conv.replace(seed=3)
    np.testing.assert_array_equal(reseeded.weight, he_init((8, 3, 3, 3), 3))
    edited = conv.replace(weight=np.ones((8, 3, 3, 3)))
    assert edited.kernel_source == "explicit values"
    sobel = Conv2d(3, 1, 3, weight_source={"preset": "sobel_x"})
    assert sobel.replace(in_channels=1).kernel_source == "preset sobel_x on the single channel"
    fallback = sobel.replace(kernel_size=5)  # the 3x3 preset cannot fill a 5x5 kernel
    assert fallback.kernel_source == "he seed 0" and fallback.weight.shape == (1, 3, 5, 5)
    assert conv.replace(bias=False).bias is None
    with pytest.raises(LayerError, match="Conv2d has no argument strides"):
        conv.replace(strides=2)
    assert conv.replace() == conv and conv.replace(seed=3) != conv


# Pooling ---------------------------------------------------------------------------------------


def test_max_pool_lecture_example():
    x = np.array([[[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]]], np.float32)
    pool = MaxPool2d(2, stride=2)
    np.testing.assert_array_equal(pool(x), [[[6, 8], [3, 4]]])
    assert pool.out_shape((1, 4, 4)) == (1, 2, 2)
    assert pool.size_formula((1, 4, 4)) == "(4 - 2 + 2*0)/2 + 1 = 2"
    assert repr(pool) == "MaxPool2d(kernel_size=2, stride=2)"
    assert repr(MaxPool2d(3)) == "MaxPool2d(kernel_size=3)"
    assert pool.num_params == 0 and pool.params_formula() == "" and pool.macs((1, 4, 4)) == 0


def test_pools():
    assert MaxPool2d(3, 2, ceil_mode=True).out_shape((2, 8, 8)) == (2, 4, 4)
    assert MaxPool2d(3, 2, ceil_mode=True).floor_note((2, 8, 8)) == ""
    avg = AvgPool2d(2)
    np.testing.assert_allclose(avg(np.arange(16, dtype=np.float32).reshape(1, 4, 4)),
                               [[[2.5, 4.5], [10.5, 12.5]]])
    assert avg.macs((1, 4, 4)) == 16
    assert repr(AvgPool2d(3, stride=1, padding=1)) == "AvgPool2d(kernel_size=3, stride=1," \
                                                      " padding=1)"
    with pytest.raises(LayerError, match="MaxPool2d: padding 2 is more than half the window 3"):
        MaxPool2d(3, padding=2)
    with pytest.raises(ShapeError, match=r"MaxPool2d: width: kernel 4 is larger than the padded"
                                         r" input 3"):
        MaxPool2d(4).out_shape((1, 8, 3))
    gap = GlobalAvgPool2d()
    assert gap.out_shape((16, 5, 7)) == (16, 1, 1)
    assert gap.size_formula((16, 5, 7)) == "mean over 5 x 7 = 1 x 1"
    np.testing.assert_allclose(gap(np.ones((2, 3, 3), np.float32) * 2), np.full((2, 1, 1), 2))


# Element-wise and the rest --------------------------------------------------------------------


def test_activations_match_their_formulas():
    x = np.linspace(-3, 3, 13, dtype=np.float32).reshape(1, 1, 13)
    np.testing.assert_allclose(ReLU()(x), np.maximum(x, 0))
    np.testing.assert_allclose(LeakyReLU(0.2)(x), np.where(x > 0, x, 0.2 * x), rtol=1e-6)
    np.testing.assert_allclose(Sigmoid()(x), 1 / (1 + np.exp(-x)), rtol=1e-6)
    np.testing.assert_allclose(Tanh()(x), np.tanh(x), rtol=1e-6)
    np.testing.assert_allclose(Hardtanh(0, 2)(x), np.clip(x, 0, 2))
    for layer in (ReLU(), LeakyReLU(), Sigmoid(), Tanh(), Hardtanh()):
        assert layer.out_shape((4, 5, 6)) == (4, 5, 6) and layer.size_formula((4, 5, 6)) == ""
    assert [repr(a) for a in (ReLU(), LeakyReLU(0.2), Hardtanh(0.0, 6.0), Sigmoid())] == [
        "ReLU()", "LeakyReLU(negative_slope=0.2)", "Hardtanh(min_val=0.0, max_val=6.0)",
        "Sigmoid()"]
    with pytest.raises(LayerError, match=r"Hardtanh: min_val 1\.0 must be below max_val 1\.0"):
        Hardtanh(1, 1)


def test_batch_norm():
    bn = BatchNorm2d(2, running_mean=[1, 2], running_var=[4, 1], weight=[2, 1], bias=[0, 1])
    x = np.ones((2, 1, 1), np.float32) * 3
    expected = [(3 - 1) / math.sqrt(4 + 1e-5) * 2, (3 - 2) / math.sqrt(1 + 1e-5) + 1]
    np.testing.assert_allclose(bn(x)[:, 0, 0], expected, rtol=1e-5)
    assert bn.num_params == 4 and bn.params_formula() == "2 x 2 = 4"
    assert repr(bn) == "BatchNorm2d(2)"
    with pytest.raises(ShapeError, match=r"BatchNorm2d: input has shape \(3, 4, 4\), the layer"
                                         r" expects \(2, H, W\)"):
        bn.out_shape((3, 4, 4))
    with pytest.raises(LayerError, match=r"running_mean has shape \(3,\), expected \(2,\)"):
        BatchNorm2d(2, running_mean=[0, 0, 0])
    assert bn.replace(num_features=3).running_mean.shape == (3,)


def test_flatten_linear_softmax():
    flat = Flatten()
    assert flat.out_shape((16, 4, 4)) == (256,)
    assert flat.size_formula((16, 4, 4)) == "16 x 4 x 4 = 256"
    assert flat(np.zeros((16, 4, 4))).shape == (256,)
    assert flat(np.zeros((5, 16, 4, 4))).shape == (5, 256)
    assert Flatten(1).out_shape((3, 4, 5)) == (3, 20)
    with pytest.raises(ShapeError, match=r"Flatten: dims 2..-1 do not fit a shape of 1"):
        Flatten(2).out_shape((7,))
    fc = Linear(256, 10, seed=3)
    assert fc.out_shape((256,)) == (10,)
    assert fc.params_formula() == "(256 + 1) x 10 = 2,570" and fc.num_params == 2570
    assert fc.macs((256,)) == 2560
    x = np.random.default_rng(0).standard_normal(256).astype(np.float32)
    np.testing.assert_allclose(fc(x), fc.weight @ x + fc.bias, rtol=1e-5, atol=1e-5)
    assert fc.replace(out_features=4).weight.shape == (4, 256)
    with pytest.raises(ShapeError, match=r"Linear: input has shape \(16, 4, 4\), the layer expects"
                                         r" 256 features .* \(add a Flatten before it\)"):
        fc.out_shape((16, 4, 4))
    assert repr(fc) == "Linear(256, 10)" and repr(Linear(4, 2, bias=False)) == (
        "Linear(4, 2, bias=False)")
    soft = Softmax()
    y = soft(np.array([1.0, 2.0, 3.0], np.float32))
    np.testing.assert_allclose(y, np.exp([1, 2, 3]) / np.exp([1, 2, 3]).sum(), rtol=1e-6)
    assert soft(np.ones((4, 3), np.float32)).sum(axis=1) == pytest.approx([1.0] * 4)
    with pytest.raises(ShapeError, match=r"Softmax: dim 1 does not exist in shape \(10,\)"):
        Softmax(1).out_shape((10,))


def test_add_and_concat():
    a, b = np.ones((2, 3, 3), np.float32), np.full((2, 3, 3), 2, np.float32)
    np.testing.assert_array_equal(Add()(a, b, a), np.full((2, 3, 3), 4))
    assert Add().out_shape((2, 3, 3), (2, 3, 3)) == (2, 3, 3)
    assert Add().macs((2, 3, 3), (2, 3, 3)) == 18
    with pytest.raises(ShapeError, match=r"Add: inputs must have the same shape, got \(2, 3, 3\),"
                                         r" \(3, 3, 3\)"):
        Add().out_shape((2, 3, 3), (3, 3, 3))
    with pytest.raises(ShapeError, match="Add needs at least 2 inputs, got 1"):
        Add().out_shape((2, 3, 3))
    with pytest.raises(ShapeError, match="ReLU takes 1 input, got 2"):
        ReLU().out_shape((1,), (1,))
    cat = Concat()
    assert cat.out_shape((2, 3, 3), (5, 3, 3)) == (7, 3, 3)
    assert cat.size_formula((2, 3, 3), (5, 3, 3)) == "2 + 5 = 7"
    y = cat(np.stack([a, a]), np.stack([b, b]))  # batched: joins channels, not the batch
    assert y.shape == (2, 4, 3, 3) and y[0, 2, 0, 0] == 2
    with pytest.raises(ShapeError, match=r"Concat: inputs must match except in dim 0"):
        cat.out_shape((2, 3, 3), (2, 4, 3))


# Fields and the registry ---------------------------------------------------------------------

SAMPLE_ARGS = {"in_channels": 4, "out_channels": 4, "kernel_size": 3, "num_features": 4,
               "in_features": 4, "out_features": 4}
SAMPLE_INPUTS = {"Linear": [(4,)], "Softmax": [(4,)], "Add": [(4, 6, 6)] * 2,
                 "Concat": [(4, 6, 6)] * 2}


def test_registry_lists_every_type():
    assert list(LAYER_TYPES) == ["Conv2d", "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Hardtanh",
                                 "MaxPool2d", "AvgPool2d", "GlobalAvgPool2d", "BatchNorm2d",
                                 "Flatten", "Linear", "Softmax", "Dropout", "Add", "Concat"]


@pytest.mark.parametrize("type_name", list(LAYER_TYPES))
def test_each_type_from_its_fields(type_name):
    cls = LAYER_TYPES[type_name]
    assert cls.type_name == type_name
    kwargs = {}
    for field in cls.fields():
        assert field.kind in ("int", "float", "bool", "choice") and field.help
        if field.required:
            kwargs[field.name] = SAMPLE_ARGS[field.name]
        else:
            assert field.check(field.default, type_name) == field.default
    layer = cls(**kwargs)
    config = layer.config()
    assert list(config) == [f.name for f in cls.fields()]
    json.dumps(config)
    assert cls(**config).config() == config
    inputs = SAMPLE_INPUTS.get(type_name, [(4, 6, 6)])
    shape = layer.out_shape(*inputs)
    y = layer(*[np.ones(s, np.float32) for s in inputs])
    assert y.shape == shape and y.dtype == np.float32
    assert eval(repr(layer), vars(__import__("engine.layers").layers)).config() == config


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (Field("n", "int", 1, 1, 10), 0, "X: n must be at least 1, not 0"),
        (Field("n", "int", 1, 1, 10), 11, "X: n must be at most 10, not 11"),
        (Field("n", "int", 1, 1, 10), True, "X: n must be a whole number, not True"),
        (Field("n", "int", 1, 1, 10), "3", "X: n must be a whole number, not '3'"),
        (Field("x", "float", 0.5, 0.0, 1.0), float("nan"), "X: x must be finite, not nan"),
        (Field("x", "float", 0.5, 0.0, 1.0), 1.5, "X: x must be at most 1, not 1.5"),
        (Field("b", "bool", False), "yes", "X: b must be true or false, not 'yes'"),
        (Field("c", "choice", "a", choices=("a", "b")), "z", "X: c must be one of a, b, not 'z'"),
        (Field("k", "int", REQUIRED, 1, 9, pair=True), [1, 2, 3],
         "X: k must be a whole number or a pair of them, not [1, 2, 3]"),
    ],
)
def test_field_messages(field, value, message):
    with pytest.raises(LayerError) as info:
        field.check(value, "X")
    assert str(info.value) == message
    assert info.value.field == field.name
    assert message.endswith(info.value.reason)


def test_field_accepts():
    assert Field("k", "int", 1, 1, 9, pair=True).check([2, 3], "X") == (2, 3)
    assert Field("s", "int", None, 1, 9, optional=True).check(None, "X") is None
    assert Field("x", "float", 0.5).check(1, "X") == 1.0
    assert Field("n", "int").check(np.int64(4), "X") == 4
