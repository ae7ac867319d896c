"""SiLU (x * sigmoid(x)): the op against a plain loop and float64 finite differences, and the
importer's reading of ONNX's Sigmoid-then-Mul pair as one SiLU layer (only where nothing else
reads the Sigmoid), against onnxruntime."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import engine
from engine.layers import imported as O
from engine.onnx.importer import load_onnx_model
from engine.ops.pointwise import silu, silu_backward
from tests.engine.onnx.networks import NETWORKS
from tests.engine.onnx.reference import check_model
from tests.engine.onnx_models import GraphBuilder

SETTINGS = settings(max_examples=25, deadline=None, derandomize=True, database=None)
values = st.floats(-120, 120, width=32)


def _reference(x: np.ndarray) -> np.ndarray:
    out = np.empty(x.shape, np.float64)
    for i, v in np.ndenumerate(x.astype(np.float64)):
        out[i] = v / (1 + math.exp(-v)) if v > -700 else 0.0
    return out


@given(x=arrays(np.float32, st.tuples(st.integers(1, 3), st.integers(1, 9), st.integers(1, 9)),
                elements=values))
@SETTINGS
def test_silu_matches_a_plain_loop(x):
    np.testing.assert_allclose(silu(x), _reference(x), rtol=2e-6, atol=1e-30)


@pytest.mark.parametrize("threads", [1, 2])
def test_silu_in_pieces_on_the_threads(threads):
    """Over 128k values the pieces are shared by the threads; every value is still right."""
    engine.configure(threads=threads)
    try:
        x = np.random.default_rng(4).standard_normal((5, 170, 190)).astype(np.float32) * 8
        np.testing.assert_allclose(silu(x), _reference(x), rtol=2e-6, atol=1e-30)
    finally:
        engine.configure(threads=1)


def test_silu_edges():
    x = np.array([-np.inf, -100.0, 0.0, 100.0, np.inf, np.nan], np.float32)
    y = silu(x)
    assert np.isnan(y[0]) and np.isnan(y[5])  # -inf * 0, as Sigmoid then Mul gives
    assert y[1] == 0.0 and y[2] == 0.0 and y[3] == 100.0 and y[4] == np.inf


@given(x=arrays(np.float64, st.tuples(st.integers(1, 3), st.integers(1, 6)),
                elements=st.floats(-12, 12)))
@SETTINGS
def test_silu_backward_matches_finite_differences(x):
    grad = np.random.default_rng(1).standard_normal(x.shape)
    h = 1e-6
    f = _reference
    numeric = grad * (f(x + h) - f(x - h)) / (2 * h)
    np.testing.assert_allclose(silu_backward(grad.astype(np.float32), x.astype(np.float32)),
                               numeric, rtol=1e-4, atol=1e-5)


def _pair(shape, gate_first: bool, opset: int):
    g = GraphBuilder(("N", *shape), seed=3, opset=opset)
    s = g.node("Sigmoid", ["input"])
    return g.model([g.node("Mul", [s, "input"] if gate_first else ["input", s])])


@given(shape=st.tuples(st.integers(1, 4), st.integers(1, 6), st.integers(1, 6)),
       gate_first=st.booleans(), opset=st.sampled_from([13, 17]))
@settings(max_examples=12, deadline=None, derandomize=True, database=None)
def test_sigmoid_then_mul_is_read_as_one_silu(shape, gate_first, opset):
    model = _pair(shape, gate_first, opset)
    pipeline = check_model(model)
    assert [n.layer.type_name for n in pipeline] == ["SiLU"]
    assert pipeline.nodes[0].name == model.graph.output[0].name
    assert "SiLU" in pipeline.description


def test_a_sigmoid_that_is_read_elsewhere_stays():
    g = GraphBuilder(("N", 2, 3, 3), opset=13)
    s = g.node("Sigmoid", ["input"])
    model = g.model([g.node("Mul", ["input", s]), s])  # the Sigmoid is a graph output too
    assert [n.layer.type_name for n in check_model(model)] == ["Sigmoid", "Mul"]
    g = GraphBuilder(("N", 2, 3, 3), opset=13)
    y = g.node("Sigmoid", [g.node("Relu", ["input"])])
    model = g.model([g.node("Mul", ["input", y])])  # sigmoid of another value: a gate
    assert [n.layer.type_name for n in check_model(model)] == ["ReLU", "Sigmoid", "Mul"]


def test_efficientnet_style_block():
    pipeline = load_onnx_model(NETWORKS["efficientnet"]())
    types = [n.layer.type_name for n in pipeline]
    assert types.count("SiLU") == 3 and types.count("Sigmoid") == 2 and types.count("Mul") == 2


def test_silu_layer():
    layer = O.SiLU()
    assert layer.type_name == "SiLU" and layer.num_params == 0
    assert layer.out_shape((4, 5, 6)) == (4, 5, 6) and layer.macs((4, 5, 6)) == 120
