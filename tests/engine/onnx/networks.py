"""Small networks built like torchvision's exports (``torch.onnx.export``, opset 13 and 17), from
the operators issue 13 adds: MobileNetV3, ShuffleNetV2, DenseNet, ConvNeXt, EfficientNet (SiLU
as Sigmoid and Mul), a LeNet with LogSoftmax, a U-Net, and a 4-channel PReLU network. Inputs
are small so onnxruntime and the engine both run them in milliseconds."""

from __future__ import annotations

import numpy as np
import onnx

from tests.engine.onnx_models import GraphBuilder

INT = np.int64


def _scalar(g: GraphBuilder, value) -> str:
    return g.const(np.float32(value))


def mobilenet_v3() -> onnx.ModelProto:
    """Stem with HardSwish, an inverted residual with squeeze-excite (HardSigmoid gate), head."""
    g = GraphBuilder(("N", 3, 16, 16), seed=21, opset=14)
    x = g.node("HardSwish", [g.bn(g.conv("input", 3, 8, 3, strides=[2, 2], pads=[1] * 4), 8)])
    y = g.node("Relu", [g.bn(g.conv(x, 8, 16, 1, bias=False), 16)])
    y = g.bn(g.conv(y, 16, 16, 3, groups=16, bias=False, pads=[1] * 4), 16)
    s = g.node("GlobalAveragePool", [y])
    s = g.node("Relu", [g.conv(s, 16, 4, 1)])
    s = g.node("HardSigmoid", [g.conv(s, 4, 16, 1)], alpha=1 / 6, beta=0.5)
    y = g.node("Mul", [s, y])  # the gate first, as torchvision writes scale * input
    y = g.node("HardSwish", [y])
    y = g.bn(g.conv(y, 16, 8, 1, bias=False), 8)
    y = g.node("Add", [y, x])
    y = g.node("Flatten", [g.node("GlobalAveragePool", [y])])
    y = g.node("HardSwish", [g.gemm(y, 8, 12)])
    return g.model([g.gemm(y, 12, 5)])


def shufflenet_v2() -> onnx.ModelProto:
    """A ShuffleNetV2 unit: chunk (Split), a branch, Concat, channel shuffle, then Slice."""
    g = GraphBuilder((1, 8, 6, 6), seed=22)
    g.node("Split", ["input", g.const(np.array([4, 4], INT))], outputs=["left", "right"], axis=1)
    r = g.node("Relu", [g.bn(g.conv("right", 4, 4, 1, bias=False), 4)])
    r = g.bn(g.conv(r, 4, 4, 3, groups=4, bias=False, pads=[1] * 4), 4)
    r = g.node("Relu", [g.bn(g.conv(r, 4, 4, 1, bias=False), 4)])
    y = g.node("Concat", ["left", r], axis=1)
    y = g.node("Reshape", [y, g.const(np.array([1, 2, 4, 6, 6], INT))])
    y = g.node("Transpose", [y], perm=[0, 2, 1, 3, 4])
    y = g.node("Reshape", [y, g.const(np.array([1, -1, 6, 6], INT))])
    half = g.node("Slice", [y, g.const(np.array([0], INT)), g.const(np.array([4], INT)),
                            g.const(np.array([1], INT))])
    rest = g.node("Slice", [y, g.const(np.array([4], INT)), g.const(np.array([2**63 - 1], INT)),
                            g.const(np.array([1], INT))])
    return g.model([g.node("Add", [half, rest])])


def densenet() -> onnx.ModelProto:
    """A dense block whose first layer concatenates one tensor, then a transition."""
    g = GraphBuilder(("N", 3, 8, 8), seed=23)
    x = g.conv("input", 3, 6, 3, pads=[1] * 4)
    features = [x]
    for _ in range(2):
        joined = g.node("Concat", list(features), axis=1)  # one input the first time
        c = 6 + 4 * (len(features) - 1)
        y = g.conv(g.node("Relu", [g.bn(joined, c)]), c, 4, 3, pads=[1] * 4, bias=False)
        features.append(y)
    y = g.node("Concat", features, axis=1)
    y = g.conv(g.node("Relu", [g.bn(y, 14)]), 14, 7, 1, bias=False)
    return g.model([g.node("AveragePool", [y], kernel_shape=[2, 2], strides=[2, 2])])


def convnext() -> onnx.ModelProto:
    """A ConvNeXt block (opset 17): depthwise 7x7, channels-last LayerNormalization, MatMuls
    with GELU written out with Erf, layer scale, residual; then a LayerNorm2d written out with
    ReduceMean, Pow and Sqrt, as older exports do."""
    g = GraphBuilder(("N", 8, 9, 9), seed=24, opset=17)
    y = g.conv("input", 8, 8, 7, groups=8, pads=[3] * 4)
    y = g.node("Transpose", [y], perm=[0, 2, 3, 1])
    y = g.node("LayerNormalization", [y, g.randn(8), g.randn(8)], axis=-1, epsilon=1e-6)
    y = g.node("Add", [g.node("MatMul", [y, g.randn(8, 16, scale=0.3)]), g.randn(16)])
    gelu = g.node("Erf", [g.node("Div", [y, _scalar(g, 2**0.5)])])
    gelu = g.node("Mul", [g.node("Mul", [y, g.node("Add", [gelu, _scalar(g, 1.0)])]),
                          _scalar(g, 0.5)])
    y = g.node("Add", [g.node("MatMul", [gelu, g.randn(16, 8, scale=0.3)]), g.randn(8)])
    y = g.node("Mul", [g.randn(8, scale=0.5), y])  # layer scale (gamma * x)
    y = g.node("Transpose", [y], perm=[0, 3, 1, 2])
    y = g.node("Add", ["input", y])
    mean = g.node("ReduceMean", [y], axes=[1])
    centered = g.node("Sub", [y, mean])
    var = g.node("ReduceMean", [g.node("Pow", [centered, _scalar(g, 2.0)])], axes=[1])
    y = g.node("Div", [centered, g.node("Sqrt", [g.node("Add", [var, _scalar(g, 1e-6)])])])
    y = g.node("Add", [g.node("Mul", [y, g.randn(8, 1, 1)]), g.randn(8, 1, 1)])
    return g.model([g.conv(y, 8, 16, 2, strides=[2, 2])])


def lenet() -> onnx.ModelProto:
    """A plain LeNet on gray digits that ends in LogSoftmax."""
    g = GraphBuilder(("N", 1, 12, 12), seed=25)
    y = g.node("Tanh", [g.conv("input", 1, 4, 5)])
    y = g.node("AveragePool", [y], kernel_shape=[2, 2], strides=[2, 2])
    y = g.node("Relu", [g.conv(y, 4, 6, 3)])
    y = g.gemm(g.node("Flatten", [y]), 24, 10)
    return g.model([g.node("LogSoftmax", [y], axis=1)])


def unet() -> onnx.ModelProto:
    """A two-level U-Net: encoder, bottleneck, ConvTranspose and Resize up, skip Concat, a
    per-pixel output map of 3 classes."""
    g = GraphBuilder(("N", 3, 12, 12), seed=26)
    e1 = g.node("Relu", [g.conv("input", 3, 6, 3, pads=[1] * 4)])
    e2 = g.node("Relu", [g.conv(g.node("MaxPool", [e1], kernel_shape=[2, 2], strides=[2, 2]),
                                6, 8, 3, pads=[1] * 4)])
    b = g.node("Relu", [g.conv(g.node("MaxPool", [e2], kernel_shape=[2, 2], strides=[2, 2]),
                               8, 8, 3, pads=[1] * 4)])
    up = g.node("ConvTranspose", [b, g.randn(8, 8, 2, 2, scale=0.3), g.randn(8)],
                kernel_shape=[2, 2], strides=[2, 2])
    d2 = g.node("Relu", [g.conv(g.node("Concat", [up, e2], axis=1), 16, 6, 3, pads=[1] * 4)])
    up = g.node("Resize", [d2, "", g.const(np.array([1, 1, 2, 2], np.float32))], mode="linear",
                coordinate_transformation_mode="half_pixel")
    d1 = g.node("Relu", [g.conv(g.node("Concat", [up, e1], axis=1), 12, 6, 3, pads=[1] * 4)])
    return g.model([g.conv(d1, 6, 3, 1)])


def four_channels() -> onnx.ModelProto:
    """RGB + depth: a 4-channel input, PReLU, InstanceNormalization and nearest Upsample."""
    g = GraphBuilder(("N", 4, 8, 8), seed=27, opset=9)
    y = g.conv("input", 4, 6, 3, strides=[2, 2], pads=[1] * 4)
    y = g.node("PRelu", [y, g.const(np.full((6, 1, 1), 0.25, np.float32))])
    y = g.node("InstanceNormalization", [y, g.randn(6), g.randn(6)])
    y = g.node("Upsample", [y, g.const(np.array([1, 1, 2, 2], np.float32))], mode="nearest")
    return g.model([g.node("Sigmoid", [g.conv(y, 6, 2, 3, pads=[1] * 4)])])


def efficientnet() -> onnx.ModelProto:
    """An MBConv block as torchvision's EfficientNet exports it: SiLU as Sigmoid then Mul (in
    both operand orders), a squeeze-excite whose Sigmoid gate is not a SiLU, and a Sigmoid read
    twice, which must stay a Sigmoid."""
    g = GraphBuilder(("N", 3, 12, 12), seed=28, opset=17)
    x = g.bn(g.conv("input", 3, 8, 3, strides=[2, 2], pads=[1] * 4), 8)
    x = g.node("Mul", [x, g.node("Sigmoid", [x])])  # SiLU
    y = g.bn(g.conv(x, 8, 8, 3, groups=8, bias=False, pads=[1] * 4), 8)
    y = g.node("Mul", [g.node("Sigmoid", [y]), y])  # SiLU, the gate first
    s = g.node("GlobalAveragePool", [y])
    s = g.conv(s, 8, 2, 1)
    s = g.node("Mul", [s, g.node("Sigmoid", [s])])  # SiLU on the squeezed vector
    gate = g.node("Sigmoid", [g.conv(s, 2, 8, 1)])
    y = g.node("Mul", [y, gate])  # the excitation: not x * sigmoid(x)
    y = g.bn(g.conv(y, 8, 8, 1, bias=False), 8)
    y = g.node("Add", [y, x])
    twice = g.node("Sigmoid", [y])  # read by the Mul and by the Add: stays
    y = g.node("Add", [g.node("Mul", [y, twice]), twice])
    return g.model([g.gemm(g.node("Flatten", [g.node("GlobalAveragePool", [y])]), 8, 5)])


NETWORKS = {
    "efficientnet": efficientnet,
    "mobilenet_v3": mobilenet_v3, "shufflenet_v2": shufflenet_v2, "densenet": densenet,
    "convnext": convnext, "lenet": lenet, "unet": unet, "four_channels": four_channels,
}
