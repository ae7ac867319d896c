"""The element-wise operators and normalizations new in issue 13, each against onnxruntime over
random shapes and attributes: activations, maths, broadcasting arithmetic, Clip's semantics,
LayerNormalization and InstanceNormalization."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.engine.onnx.reference import check_model
from tests.engine.onnx_models import GraphBuilder

SETTINGS = settings(max_examples=12, deadline=None, derandomize=True, database=None)
shapes = st.tuples(st.integers(1, 4), st.integers(1, 6), st.integers(1, 6))


def _one(op, shape, opset=13, inputs=(), seed=0, **attrs):
    g = GraphBuilder(("N", *shape), seed=seed, opset=opset)
    return g.model([g.node(op, ["input", *[g.const(np.asarray(v)) for v in inputs]], **attrs)])


@pytest.mark.parametrize(("op", "low", "attrs"), [
    ("HardSwish", None, {}), ("Selu", None, {}), ("Erf", None, {}), ("Softplus", None, {}),
    ("Sqrt", 0.1, {}), ("Reciprocal", 0.5, {}), ("Exp", None, {}), ("Log", 0.1, {}),
    ("Abs", None, {}), ("Neg", None, {}), ("Elu", None, {"alpha": 0.7}),
    ("HardSigmoid", None, {"alpha": 1 / 6, "beta": 0.5}), ("HardSigmoid", None, {}),
])
@given(shape=shapes)
@SETTINGS
def test_unary_operators(op, low, attrs, shape):
    check_model(_one(op, shape, opset=14 if op == "HardSwish" else 13, **attrs), low=low)


@given(shape=shapes, approximate=st.sampled_from(["none", "tanh"]))
@SETTINGS
def test_gelu_opset_20(shape, approximate):
    check_model(_one("Gelu", shape, opset=20, approximate=approximate))


@given(shape=shapes, shared=st.booleans(), seed=st.integers(0, 99))
@SETTINGS
def test_prelu(shape, shared, seed):
    slope = np.random.default_rng(seed).uniform(-0.5, 0.5, (1,) if shared else (shape[0], 1, 1))
    check_model(_one("PRelu", shape, inputs=[slope.astype(np.float32)]))


@given(shape=shapes, axis=st.integers(-3, 3), opset=st.sampled_from([11, 13]))
@SETTINGS
def test_log_softmax(shape, axis, opset):
    if opset == 11:
        axis = 3  # the old meaning flattens from the axis on: one axis, the last
    if axis == 0:
        axis = 1
    check_model(_one("LogSoftmax", shape, opset=opset, axis=axis))


@given(shape=shapes, exponent=st.sampled_from([2.0, 3.0, 0.5, -1.0]))
@SETTINGS
def test_pow_by_a_constant(shape, exponent):
    check_model(_one("Pow", shape, inputs=[np.float32(exponent)]), low=0.2)


# ---------------------------------------------------------------- broadcasting between tensors


@given(shape=shapes, axes=st.sets(st.integers(1, 3), min_size=1),
       op=st.sampled_from(["Add", "Sub", "Mul", "Div", "Max", "Min", "Pow"]),
       swap=st.booleans())
@SETTINGS
def test_broadcasting_binary_operators_between_tensors(shape, axes, op, swap):
    """A map against a computed (N, C, 1, 1) gate, (N, 1, H, W) mask, ...: squeeze-excite."""
    g = GraphBuilder(("N", *shape), seed=3)
    a = g.node("Exp", ["input"]) if op == "Pow" else "input"
    b = g.node("ReduceMean", ["input"], axes=sorted(axes))
    if op in ("Div", "Pow"):
        b = g.node("Sigmoid", [b])  # away from zero, and a modest exponent
    pair = [b, a] if swap and op != "Pow" else [a, b]
    check_model(g.model([g.node(op, pair)]), low=0.1 if op == "Pow" else None)


@given(shape=shapes, op=st.sampled_from(["Sum", "Max", "Min", "Mean"]))
@SETTINGS
def test_variadic_operators_with_broadcasting(shape, op):
    g = GraphBuilder(("N", *shape), seed=4)
    parts = ["input", g.node("ReduceMax", ["input"], axes=[1]),
             g.node("ReduceMin", ["input"], axes=[2, 3])]
    check_model(g.model([g.node(op, parts)]))


@pytest.mark.parametrize(("lo", "hi"), [(0.5, -0.5), (0.2, 0.2), (None, 0.3), (-0.3, None),
                                        (-1.0, 1.0), (0.0, 6.0), (0.0, None)])
def test_clip_semantics(lo, hi):
    g = GraphBuilder(("N", 3, 5, 4), seed=5)
    bounds = ["" if v is None else g.const(np.float32(v)) for v in (lo, hi)]
    while bounds and bounds[-1] == "":
        bounds.pop()
    check_model(g.model([g.node("Clip", ["input", *bounds])]))


# ---------------------------------------------------------------- normalizations


@given(shape=shapes, axis=st.sampled_from([1, 2, 3, -1, -2]), bias=st.booleans(),
       seed=st.integers(0, 99))
@SETTINGS
def test_layer_normalization(shape, axis, bias, seed):
    g = GraphBuilder(("N", *shape), seed=seed, opset=17)
    normalized = (1, *shape)[axis:]
    inputs = ["input", g.randn(*normalized)] + ([g.randn(*normalized)] if bias else [])
    check_model(g.model([g.node("LayerNormalization", inputs, axis=axis, epsilon=1e-3)]))


@given(shape=shapes, seed=st.integers(0, 99))
@SETTINGS
def test_instance_normalization(shape, seed):
    g = GraphBuilder(("N", *shape), seed=seed)
    c = shape[0]
    y = g.node("InstanceNormalization", ["input", g.randn(c), g.randn(c)], epsilon=1e-3)
    check_model(g.model([y]), rtol=1e-3 if shape[1] * shape[2] == 1 else 1e-4)
