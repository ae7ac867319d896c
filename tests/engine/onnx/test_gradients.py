"""The backward pass of every layer type new in issue 13 against finite differences."""

from __future__ import annotations

import numpy as np
import pytest

from engine.graph.node import InputSpec, Node
from engine.graph.pipeline import Pipeline
from engine.layers import Conv2d
from engine.layers import imported as O
from tests.engine.gradcheck import check_gradients

RNG = np.random.default_rng(0)
SHAPE = (2, 3, 5, 4)


def _chain(*layers, channels=3):
    return Pipeline.chain(list(layers), input_spec=InputSpec(channels=channels))


def _x(low=None, shape=SHAPE, seed=1, kinks=(0.0,)):
    """Random values kept 0.05 away from the ``kinks``, where finite differences mislead."""
    rng = np.random.default_rng(seed)
    if low is not None:
        return rng.uniform(low, low + 1.5, shape).astype(np.float32)
    x = rng.standard_normal(shape)
    for k in kinks:
        near = np.abs(x - k) < 0.05
        x[near] = k + np.where(x[near] >= k, 0.05, -0.05)
    return x.astype(np.float32)


UNARY = {
    "HardSigmoid": (O.HardSigmoid(0.3, 0.4), None), "HardSwish": (O.HardSwish(), None),
    "SiLU": (O.SiLU(), None),
    "ELU": (O.ELU(0.8), None), "SELU": (O.SELU(), None), "GELU": (O.GELU(), None),
    "GELU-tanh": (O.GELU("tanh"), None), "Erf": (O.Erf(), None),
    "Softplus": (O.Softplus(), None), "Sqrt": (O.Sqrt(), 0.5), "Reciprocal": (O.Reciprocal(), 0.5),
    "Exp": (O.Exp(), None), "Log": (O.Log(), 0.5), "Abs": (O.Abs(), None),
    "Neg": (O.Neg(), None), "LogSoftmax": (O.LogSoftmax(0, in_rank=3), None),
    "LogSoftmax-last": (O.LogSoftmax(-1, in_rank=3), None),
    "PReLU-channels": (O.PReLU(RNG.uniform(0, 0.5, (3, 1, 1))), None),
    "PReLU-shared": (O.PReLU([0.2]), None), "Clip": (O.Clip(-0.5, 0.7), None),
    "Clip-low": (O.Clip(min_val=0.1), None), "Identity": (O.Identity(), None),
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_layers(name):
    layer, low = UNARY[name]
    kinks = (-0.5, 0.7, 0.1, 0.0, -3.0, 3.0, -4 / 3, 2.0)  # Clip's, HardSwish's, HardSigmoid's
    check_gradients(_chain(layer), _x(low, kinks=kinks))


SHAPING = {
    "Slice": O.Slice([(0, 0, 2, 1), (2, -1, -100, -2)], 3),
    "Gather": O.Gather([2, 0, 2], axis=0, in_rank=3),
    "Gather-scalar": O.Gather(1, axis=1, in_rank=3),
    "Reshape": O.Reshape((3, -1), 3), "Transpose": O.Transpose((1, 2, 0)),
    "Pad-constant": O.Pad((1, 2, 0, 1), value=0.5), "Pad-reflect": O.Pad((1, 2, 2, 1), "reflect"),
    "Pad-edge": O.Pad((0, 2, 3, 1), "edge"),
    "ReduceMean": O.ReduceMean((1, 2), False, 3), "ReduceSum": O.ReduceSum((0,), True, 3),
    "ReduceMax": O.ReduceMax((0, 2), True, 3), "ReduceMin": O.ReduceMin((1,), False, 3),
    "MatMul": O.MatMul(RNG.standard_normal((4, 3))),
    "LayerNorm": O.LayerNorm(1, RNG.standard_normal((5, 4)), RNG.standard_normal((5, 4)),
                             in_rank=3),
    "LayerNorm-last": O.LayerNorm(-1, RNG.standard_normal(4), RNG.standard_normal(4), in_rank=3),
    "InstanceNorm2d": O.InstanceNorm2d(3, RNG.standard_normal(3), RNG.standard_normal(3)),
    "Resize-nearest": O.Resize(scale_factor=(2, 1.5)),
    "Resize-linear": O.Resize(scale_factor=(1.5, 2), mode="linear"),
    "Resize-corners": O.Resize(size=(7, 3), mode="linear", coordinate_mode="align_corners"),
    "Resize-asymmetric": O.Resize(scale_factor=(0.5, 2), coordinate_mode="asymmetric",
                                  nearest_mode="floor"),
    "ConvTranspose2d": O.ConvTranspose2d(3, 4, 3, stride=2, padding=1, output_padding=1),
    "ConvTranspose2d-groups": O.ConvTranspose2d(3, 6, 2, stride=1, dilation=2, groups=3),
    "ConvTranspose2d-no-bias": O.ConvTranspose2d(3, 2, (2, 3), stride=(2, 1), bias=False,
                                                 seed=3),
    "LpPool2d": O.LpPool2d(2.0, 2, stride=1, padding=1),
    "LpPool2d-3": O.LpPool2d(3.0, (2, 3), stride=2),
}


@pytest.mark.parametrize("name", sorted(SHAPING))
def test_shaping_reducing_and_window_layers(name):
    check_gradients(_chain(SHAPING[name]), _x())


BINARY = {
    "Sum": O.Sum, "Mul": O.Mul, "Sub": O.Sub, "Div": O.Div, "Pow": O.Pow, "Max": O.Max,
    "Min": O.Min,
}


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("swap", [False, True])
def test_binary_layers_between_broadcast_tensors(name, swap):
    """A map and a computed (C, 1, W) tensor, either way round, then a conv to mix them."""
    gate = Node("gate", O.ReduceMean((1,), True, 3), ("input",))
    positive = Node("pos", O.Exp(), ("input",))
    first = "pos" if name in ("Div", "Pow") else "input"
    other = "gate" if name not in ("Div", "Pow") else "g2"
    g2 = Node("g2", O.Exp(), ("gate",))
    inputs = (other, first) if swap and name != "Pow" else (first, other)
    nodes = [gate, positive, g2, Node("op", BINARY[name](), inputs),
             Node("conv", Conv2d(3, 2, 3, seed=2), ("op",))]
    check_gradients(Pipeline(nodes, InputSpec(channels=3)), _x(seed=4))


@pytest.mark.parametrize("name", ["Mul", "Sub", "Div", "Pow", "Max", "Min"])
@pytest.mark.parametrize("first", [False, True])
def test_binary_layers_with_a_constant(name, first):
    constant = RNG.uniform(0.5, 1.5, (3, 1, 4)).astype(np.float32)
    layer = BINARY[name](constant, constant_first=first)
    check_gradients(_chain(layer), _x(0.5 if name in ("Div", "Pow") else None))


def test_three_inputs_and_add_constant():
    nodes = [Node("a", O.ReduceMax((2,), True, 3), ("input",)),
             Node("b", O.AddConstant(np.ones((3, 1, 1))), ("input",)),
             Node("sum", O.Sum(), ("input", "a", "b")),
             Node("max", O.Max(), ("input", "a", "sum"))]
    check_gradients(Pipeline(nodes, InputSpec(channels=3)), _x(seed=5))
