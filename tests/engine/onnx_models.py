"""Small ONNX models built with ``onnx.helper`` for the import tests (seeded random weights).

Every builder returns a checked ``onnx.ModelProto`` whose graph input is ``"input"``. The models
are tiny (inputs of a few hundred pixels) so that onnxruntime and our engine both run them in
milliseconds; together they use every operator and attribute the importer supports.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

# ir_version 8 and opset 13 are read by every onnxruntime since 1.10.
IR_VERSION = 8


class GraphBuilder:
    """Collects nodes and seeded initializers, then makes a model.

    Examples
    --------
    >>> g = GraphBuilder((1, 3, 8, 8))
    >>> y = g.node("Relu", ["input"])
    >>> g.model([y]).graph.node[0].op_type
    'Relu'
    """

    def __init__(self, input_shape, seed: int = 0, opset: int = 13):
        self.input_shape = input_shape
        self.rng = np.random.default_rng(seed)
        self.opset = opset
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self._count = 0

    def _name(self, prefix: str) -> str:
        self._count += 1
        return f"{prefix}_{self._count}"

    def const(self, value, prefix: str = "w") -> str:
        """Add an initializer and return its name."""
        name = self._name(prefix)
        self.inits.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def randn(self, *shape, scale: float = 1.0) -> str:
        return self.const((self.rng.standard_normal(shape) * scale).astype(np.float32))

    def node(self, op: str, inputs, outputs: int | list[str] = 1, **attrs) -> str:
        """Add a node; returns its (first) output name, ``<op>_<n>`` like an exporter would."""
        names = outputs if isinstance(outputs, list) else [
            self._name(op.lower()) for _ in range(outputs)]
        self.nodes.append(helper.make_node(op, list(inputs), names, name=f"node_{names[0]}",
                                           **attrs))
        return names[0]

    def conv(self, x, c_in, c_out, k, groups=1, bias=True, **attrs) -> str:
        w = self.randn(c_out, c_in // groups, k, k, scale=(2.0 / (c_in // groups * k * k)) ** 0.5)
        inputs = [x, w] + ([self.randn(c_out, scale=0.1)] if bias else [])
        return self.node("Conv", inputs, kernel_shape=[k, k], group=groups, **attrs)

    def bn(self, x, c) -> str:
        scale = self.const((1 + 0.2 * self.rng.standard_normal(c)).astype(np.float32))
        bias = self.const((0.1 * self.rng.standard_normal(c)).astype(np.float32))
        mean = self.const((0.1 * self.rng.standard_normal(c)).astype(np.float32))
        var = self.const(self.rng.uniform(0.5, 2.0, c).astype(np.float32))
        return self.node("BatchNormalization", [x, scale, bias, mean, var], epsilon=1e-3)

    def gemm(self, x, n_in, n_out, trans_b=1, **attrs) -> str:
        shape = (n_out, n_in) if trans_b else (n_in, n_out)
        w = self.randn(*shape, scale=(1.0 / n_in) ** 0.5)
        return self.node("Gemm", [x, w, self.randn(n_out, scale=0.1)], transB=trans_b, **attrs)

    def model(self, outputs: list[str], input_name: str = "input") -> onnx.ModelProto:
        graph = helper.make_graph(
            self.nodes, "test",
            [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, self.input_shape)],
            [onnx.ValueInfoProto(name=o) for o in outputs],  # typed by shape inference
            initializer=self.inits,
        )
        m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", self.opset)],
                              producer_name="cnn-explorer-tests")
        m.ir_version = IR_VERSION
        m = onnx.shape_inference.infer_shapes(m, strict_mode=True)
        m.graph.ClearField("value_info")  # keep the file as an exporter without inference would
        onnx.checker.check_model(m, full_check=True)
        return m


def plain_chain() -> onnx.ModelProto:
    """conv -> relu -> maxpool -> conv (stride 2) -> relu -> flatten -> gemm."""
    g = GraphBuilder((1, 3, 16, 16), seed=1)
    y = g.conv("input", 3, 8, 3, pads=[1, 1, 1, 1])
    y = g.node("Relu", [y])
    y = g.node("MaxPool", [y], kernel_shape=[2, 2], strides=[2, 2])
    y = g.conv(y, 8, 6, 3, strides=[2, 2])
    y = g.node("Relu", [y])
    y = g.node("Flatten", [y], axis=1)
    y = g.gemm(y, 6 * 3 * 3, 10)
    return g.model([y])


def residual() -> onnx.ModelProto:
    """A ResNet basic block with batch norm, on a symbolic batch size, then a pooled head."""
    g = GraphBuilder(("N", 3, 12, 12), seed=2)
    stem = g.node("Relu", [g.bn(g.conv("input", 3, 8, 3, bias=False, pads=[1, 1, 1, 1]), 8)])
    y = g.node("Relu", [g.bn(g.conv(stem, 8, 8, 3, bias=False, pads=[1, 1, 1, 1]), 8)])
    y = g.bn(g.conv(y, 8, 8, 3, bias=False, pads=[1, 1, 1, 1]), 8)
    y = g.node("Relu", [g.node("Add", [y, stem])])
    # a downsampling block: the shortcut is a strided 1x1 conv
    z = g.node("Relu", [g.conv(y, 8, 12, 3, strides=[2, 2], pads=[1, 1, 1, 1])])
    z = g.conv(z, 12, 12, 3, pads=[1, 1, 1, 1])
    short = g.conv(y, 8, 12, 1, strides=[2, 2])
    y = g.node("Relu", [g.node("Add", [z, short])])
    y = g.node("GlobalAveragePool", [y])
    y = g.node("Flatten", [y])
    return g.model([g.gemm(y, 12, 5)])


def inception() -> onnx.ModelProto:
    """Four parallel branches (1x1, 3x3, 5x5, pool + 1x1) concatenated on channels."""
    g = GraphBuilder((1, 3, 10, 10), seed=3)
    b1 = g.node("Relu", [g.conv("input", 3, 3, 1)])
    b2 = g.node("Relu", [g.conv(g.conv("input", 3, 2, 1), 2, 5, 3, pads=[1, 1, 1, 1])])
    b3 = g.node("Relu", [g.conv("input", 3, 2, 5, pads=[2, 2, 2, 2])])
    p = g.node("MaxPool", ["input"], kernel_shape=[3, 3], strides=[1, 1], pads=[1, 1, 1, 1])
    b4 = g.node("Relu", [g.conv(p, 3, 2, 1)])
    y = g.node("Concat", [b1, b2, b3, b4], axis=1)
    y = g.node("Concat", [y, g.node("Sum", [b1, b1, b1])], axis=-3)
    return g.model([y])


def depthwise() -> onnx.ModelProto:
    """A MobileNet-v2 block: expand, depthwise (groups = channels), ReLU6 clip, squeeze-excite."""
    g = GraphBuilder((1, 3, 14, 14), seed=4)
    lo, hi = g.const(np.float32(0.0)), g.const(np.float32(6.0))
    y = g.node("Clip", [g.bn(g.conv("input", 3, 12, 1, bias=False), 12), lo, hi])
    y = g.conv(y, 12, 12, 3, groups=12, bias=False, strides=[2, 2], pads=[1, 1, 1, 1])
    y = g.node("Clip", [g.bn(y, 12), lo, hi])
    # squeeze-excite: per-channel gates from the pooled map, multiplied back in
    s = g.node("GlobalAveragePool", [y])
    s = g.node("Relu", [g.conv(s, 12, 4, 1)])
    s = g.node("Sigmoid", [g.conv(s, 4, 12, 1)])
    y = g.node("Mul", [y, s])
    y = g.bn(g.conv(y, 12, 6, 1, bias=False), 6)
    y = g.node("Clip", [y, "", hi])  # only an upper bound
    y = g.conv(y, 6, 6, 3, groups=3, pads=[1, 1, 1, 1])  # grouped, not depthwise
    return g.model([y])


def clip_attributes() -> onnx.ModelProto:
    """Opset 10, where Clip's bounds are attributes; also LeakyRelu and Tanh."""
    g = GraphBuilder((1, 1, 6, 6), seed=5, opset=10)
    y = g.conv("input", 1, 4, 3, pads=[1, 1, 1, 1])
    y = g.node("Clip", [y], min=0.0, max=6.0)
    y = g.node("LeakyRelu", [g.conv(y, 4, 4, 3)], alpha=0.2)
    y = g.node("Tanh", [y])
    y = g.node("Clip", [y], min=-0.5)
    return g.model([y])


def gemm_softmax() -> onnx.ModelProto:
    """A Gemm head with transB=0, alpha and beta, then Softmax (opset 11, axis 1)."""
    g = GraphBuilder((1, 3, 6, 6), seed=6, opset=11)
    y = g.node("Flatten", ["input"], axis=1)
    y = g.gemm(y, 108, 20, trans_b=0, alpha=0.5, beta=2.0)
    y = g.node("Relu", [y])
    y = g.node("Dropout", [y], ratio=0.3)
    y = g.gemm(y, 20, 7)
    y = g.node("Softmax", [y], axis=1)
    return g.model([y])


def pooling() -> onnx.ModelProto:
    """Pools with padding and ceil mode, asymmetric and automatic padding."""
    g = GraphBuilder((1, 3, 15, 15), seed=7)
    a = g.node("MaxPool", ["input"], kernel_shape=[2, 2], strides=[2, 2], pads=[1, 1, 1, 1],
               ceil_mode=1)
    b = g.node("AveragePool", ["input"], kernel_shape=[4, 4], strides=[2, 2],
               pads=[1, 1, 1, 1], ceil_mode=1, count_include_pad=0)
    b2 = g.node("AveragePool", ["input"], kernel_shape=[4, 4], strides=[2, 2],
                pads=[1, 1, 1, 1], ceil_mode=1, count_include_pad=1)
    b3 = g.node("MaxPool", ["input"], kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1)
    c = g.node("AveragePool", ["input"], kernel_shape=[3, 3], strides=[2, 2],
               pads=[1, 1, 1, 1], count_include_pad=1)
    d = g.node("AveragePool", ["input"], kernel_shape=[2, 2], strides=[2, 2])
    e = g.node("MaxPool", ["input"], kernel_shape=[2, 2], strides=[2, 2], pads=[0, 0, 1, 1])
    f = g.node("MaxPool", ["input"], kernel_shape=[2, 2], strides=[2, 2], auto_pad="SAME_UPPER")
    h = g.conv("input", 3, 4, 4, strides=[2, 2], auto_pad="SAME_LOWER")
    h2 = g.conv("input", 3, 4, 3, strides=[2, 2], auto_pad="SAME_UPPER")  # symmetric
    h3 = g.node("AveragePool", ["input"], kernel_shape=[3, 3], auto_pad="VALID")
    i = g.conv("input", 3, 4, 2, pads=[0, 1, 1, 0])
    j = g.node("AveragePool", ["input"], kernel_shape=[2, 2], strides=[2, 2], pads=[1, 1, 0, 0],
               count_include_pad=1)
    k = g.node("MaxPool", ["input"], kernel_shape=[3, 3], strides=[1, 1], dilations=[2, 2])
    m = g.conv("input", 3, 2, 3, dilations=[2, 2], pads=[2, 2, 2, 2], auto_pad="NOTSET")
    n = g.node("GlobalAveragePool", [g.node("MaxPool", ["input"], kernel_shape=[4, 4])])
    # pads over half the window: ONNX allows them, PyTorch's pools do not
    o = g.node("MaxPool", ["input"], kernel_shape=[3, 3], pads=[2, 2, 2, 2])
    q = g.node("AveragePool", ["input"], kernel_shape=[3, 3], strides=[2, 2], pads=[2, 1, 2, 1],
               count_include_pad=1)
    r = g.node("GlobalMaxPool", [q])
    return g.model([a, b, b2, b3, c, d, e, f, h, h2, h3, i, j, k, m, n, o, r])


def lrn() -> onnx.ModelProto:
    """AlexNet's local response normalization."""
    g = GraphBuilder((1, 3, 9, 9), seed=8)
    y = g.node("Relu", [g.conv("input", 3, 7, 3, pads=[1, 1, 1, 1])])
    y = g.node("LRN", [y], size=5, alpha=1e-2, beta=0.75, bias=2.0)
    y = g.node("LRN", [y], size=3)  # onnxruntime runs odd sizes only
    y = g.node("MaxPool", [y], kernel_shape=[3, 3], strides=[2, 2])
    return g.model([y])


def reshape_matmul() -> onnx.ModelProto:
    """Reshape (0, -1 and folded constant shapes), MatMul + bias, arithmetic with constants."""
    g = GraphBuilder((1, 3, 6, 6), seed=9)
    y = g.node("Sub", ["input", g.const(np.array([0.5, 0.25, 0.0], np.float32).reshape(3, 1, 1))])
    y = g.node("Div", [y, g.const(np.float32(0.5))])
    y = g.conv(y, 3, 4, 3)  # (1, 4, 4, 4)
    y = g.node("Reshape", [y, g.const(np.array([0, 4, -1], np.int64))])  # (1, 4, 16)
    y = g.node("MatMul", [y, g.randn(16, 8, scale=0.25)])  # (1, 4, 8)
    y = g.node("Add", [y, g.randn(8)])
    # the shape of a flatten, computed the way older PyTorch exports did
    shape = g.node("Shape", [y])
    batch = g.node("Gather", [shape, g.const(np.int64(0))], axis=0)
    batch = g.node("Unsqueeze", [batch, g.const(np.array([0], np.int64))])
    flat = g.node("Constant", [], value=numpy_helper.from_array(np.array([-1], np.int64)))
    target = g.node("Concat", [batch, flat], axis=0)
    y = g.node("Reshape", [y, target])  # (1, 32)
    y = g.node("LeakyRelu", [y])
    y = g.node("Mul", [y, g.randn(32)])
    y = g.node("Mul", [g.const(np.float32(2.0)), y])
    y = g.node("Sub", [g.const(np.float32(1.0)), y])
    y = g.node("Identity", [y])
    y = g.node("Reshape", [y, g.const(np.array([1, 8, -1], np.int64))])  # (1, 8, 4)
    y = g.node("MatMul", [y, g.randn(4, 3)])
    y = g.node("Sigmoid", [y])
    y = g.node("Add", [g.node("Add", [y, y]), g.const(np.float32(1.0))])
    y = g.node("Div", [g.const(np.float32(1.0)), y])  # 1 / (2 sigmoid + 1), well conditioned
    y = g.node("Reshape", [y, g.const(np.array([-1, 24], np.int64))])
    y = g.node("Softmax", [y])
    return g.model([y])


def pad() -> onnx.ModelProto:
    """Pad with a constant value, reflection and edge replication; pads as inputs (opset 13)."""
    g = GraphBuilder((1, 3, 5, 7), seed=10)
    pads = g.const(np.array([0, 0, 1, 2, 0, 0, 3, 0], np.int64))
    a = g.node("Pad", ["input", pads, g.const(np.float32(0.5))], mode="constant")
    b = g.node("Pad", ["input", pads], mode="reflect")
    c = g.node("Pad", ["input", pads], mode="edge")
    d = g.node("Pad", ["input", g.const(np.array([0, 0, 2, 2, 0, 0, 2, 2], np.int64))])
    y = g.conv(d, 3, 3, 3)
    return g.model([a, b, c, y])


def pad_opset2() -> onnx.ModelProto:
    """The old Pad with pads and value as attributes (opset 2-10)."""
    g = GraphBuilder((1, 1, 4, 4), seed=11, opset=10)
    y = g.node("Pad", ["input"], pads=[0, 0, 1, 1, 0, 0, 1, 1], value=-1.0)
    return g.model([g.node("Relu", [y])])


def legacy_flatten() -> onnx.ModelProto:
    """An open batch size flattened via Shape -> Gather -> Concat -> Reshape (old exports)."""
    g = GraphBuilder(("batch", 3, 6, 6), seed=13)
    y = g.node("Relu", [g.conv("input", 3, 4, 3, strides=[2, 2])])  # (N, 4, 2, 2)
    batch = g.node("Gather", [g.node("Shape", [y]), g.const(np.int64(0))], axis=0)
    batch = g.node("Unsqueeze", [batch, g.const(np.array([0], np.int64))])
    target = g.node("Concat", [batch, g.const(np.array([-1], np.int64))], axis=0)
    y = g.node("Reshape", [y, target])
    y = g.gemm(y, 16, 5)
    return g.model([g.node("Softmax", [y], axis=-1)])


def reduce_mean() -> onnx.ModelProto:
    """Means as converters write them: a global pool with and without kept axes, opset 18."""
    g = GraphBuilder((1, 3, 7, 9), seed=14, opset=18)
    y = g.node("Relu", [g.conv("input", 3, 6, 3, pads=[1, 1, 1, 1])])
    pooled = g.node("ReduceMean", [y, g.const(np.array([2, 3], np.int64))])  # GlobalAvgPool2d
    rows = g.node("ReduceMean", [y, g.const(np.array([-1], np.int64))], keepdims=0)
    channels = g.node("ReduceMean", [y, g.const(np.array([1], np.int64))])
    y = g.node("ReduceMean", [y, g.const(np.array([3, 2], np.int64))], keepdims=0)
    y = g.gemm(y, 6, 4)
    return g.model([pooled, rows, channels, y])


def constant_folding() -> onnx.ModelProto:
    """Weights and shapes computed from constants, folded while loading; Pad with axes."""
    g = GraphBuilder(("N", 3, 5, 5), seed=16, opset=18)
    pads = g.node("Constant", [], value_ints=[1, 2, 0, 1])
    y = g.node("Pad", ["input", pads, g.const(np.float32(-1.0)), g.const(np.array([2, 3]))])
    w = g.node("Transpose", [g.randn(8, 3, 3, 3)], perm=[1, 0, 2, 3])  # (3, 8, 3, 3)
    w = g.node("Mul", [g.node("Transpose", [w], perm=[1, 0, 2, 3]),
                       g.node("Constant", [], value_float=0.5)])
    y = g.node("Conv", [y, w], kernel_shape=[3, 3])  # (N, 8, 4, 6)
    size = g.node("Cast", [g.node("Constant", [], value_floats=[4.0, 5.0])], to=TensorProto.INT64)
    size = g.node("Mul", [g.node("Sub", [size, g.const(np.int64(1))]),
                          g.node("Div", [g.const(np.int64(7)), g.const(np.int64(3))])])
    size = g.node("Squeeze", [g.node("Unsqueeze", [size, g.const(np.array([0]))]),
                              g.const(np.array([0]))])  # [6, 8]
    target = g.node("Concat", [g.const(np.array([0, 4], np.int64)), size], axis=0)
    y = g.node("Reshape", [y, target])  # (N, 4, 6, 8)
    y = g.node("Add", [y, g.node("Identity", [g.randn(1, 4, 1, 1)])])
    return g.model([y])


def keras_style() -> onnx.ModelProto:
    """As tf2onnx writes Keras models: (N, H, W, C) input, Transposes, MatMul + Add dense layer."""
    g = GraphBuilder(("unk__0", 10, 12, 3), seed=17)
    y = g.node("Transpose", ["input"], perm=[0, 3, 1, 2])
    y = g.node("Relu", [g.conv(y, 3, 4, 3, strides=[2, 2], auto_pad="SAME_UPPER")])  # (N, 4, 5, 6)
    y = g.node("Transpose", [y], perm=[0, 2, 3, 1])  # back to (N, H, W, C) before flattening
    y = g.node("Reshape", [y, g.const(np.array([-1, 120], np.int64))])
    y = g.node("Add", [g.node("MatMul", [y, g.randn(120, 6, scale=0.1)]), g.randn(6)])
    return g.model([g.node("Softmax", [y])])


MODELS = {
    "plain_chain": plain_chain,
    "residual": residual,
    "inception": inception,
    "depthwise": depthwise,
    "clip_attributes": clip_attributes,
    "gemm_softmax": gemm_softmax,
    "pooling": pooling,
    "lrn": lrn,
    "reshape_matmul": reshape_matmul,
    "pad": pad,
    "pad_opset2": pad_opset2,
    "legacy_flatten": legacy_flatten,
    "reduce_mean": reduce_mean,
    "constant_folding": constant_folding,
    "keras_style": keras_style,
}


def old_opset() -> onnx.ModelProto:
    """Opset 6, which onnxruntime no longer runs: Add with broadcast and axis, Sum, Dropout."""
    g = GraphBuilder((1, 3, 4, 5), seed=15, opset=6)
    y = g.node("Add", ["input", g.const(np.array([1.0, 2.0, 3.0], np.float32))], broadcast=1,
               axis=1)
    y = g.node("Mul", [y, g.const(np.array([0.5], np.float32))], broadcast=1)
    y = g.node("Sum", [y, y, "input"])
    return g.model([g.node("Dropout", [y], is_test=1)])


def unsupported(op: str = "Resize") -> onnx.ModelProto:
    """A conv followed by an operator the engine does not run (Resize, LSTM, ...)."""
    g = GraphBuilder((1, 3, 8, 8), seed=12)
    y = g.conv("input", 3, 4, 3)
    if op == "Resize":
        scales = g.const(np.array([1, 1, 2, 2], np.float32))
        y = g.node("Resize", [y, "", scales], mode="nearest")
    else:
        y = g.node(op, [y])
    return g.model([y])
