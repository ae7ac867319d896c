"""ONNX files the importer refuses, each with one message naming the operator and the node."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from engine.onnx.importer import OnnxImportError, load_onnx, load_onnx_model
from tests.engine import onnx_models
from tests.engine.onnx_models import GraphBuilder


@pytest.mark.parametrize("op", ["Round", "Floor"])
def test_unsupported_operator_names_operator_and_node_in_one_short_line(op):
    model = onnx_models.unsupported(op)
    node = model.graph.node[-1]
    with pytest.raises(OnnxImportError) as info:
        load_onnx_model(model, source="net.onnx")
    text = str(info.value)
    assert text == f"net.onnx: node 1 ({op} {node.name!r}): operator {op} is not supported"
    assert len(text) < 100


def _single(op: str, shape=(1, 3, 8, 8), inputs=(), opset=13, **attrs) -> onnx.ModelProto:
    g = GraphBuilder(shape, seed=4, opset=opset)
    names = ["input", *[g.const(np.asarray(v)) for v in inputs]]
    return g.model([g.node(op, names, **attrs)])


def _flat_then(op: str, *inputs, **attrs) -> onnx.ModelProto:
    g = GraphBuilder((1, 3, 2, 2), seed=4)
    y = g.node("Flatten", ["input"])
    return g.model([g.node(op, [y, *[g.const(v) for v in inputs]], **attrs)])


def _two_branches(op: str) -> onnx.ModelProto:
    g = GraphBuilder((1, 3, 4, 3), seed=4)
    flat = g.node("Flatten", [g.node("GlobalAveragePool", ["input"])])  # (1, 3)
    return g.model([g.node(op, ["input", flat])])


def _indices_used() -> onnx.ModelProto:
    g = GraphBuilder((1, 3, 8, 8), seed=4)
    g.node("MaxPool", ["input"], outputs=["pooled", "indices"], kernel_shape=[2, 2])
    return g.model(["pooled", "indices"])


def _on_constants(op: str) -> onnx.ModelProto:
    g = GraphBuilder((1, 3, 8, 8), seed=4)
    return g.model([g.node("Add", ["input", g.node(op, [g.randn(3, 8, 8)])])])


@pytest.mark.parametrize(("model", "expected"), [
    (lambda: _single("AveragePool", kernel_shape=[2, 2], pads=[0, 0, 1, 1], ceil_mode=1),
     "uneven pads and ceil_mode"),
    (lambda: _single("MaxPool", kernel_shape=[3, 3], pads=[0, 0, 1, 1], ceil_mode=1),
     "needs equal pads"),
    (lambda: _flat_then("Gemm", np.ones((1, 3), np.float32), transA=1), "transA"),
    (lambda: _flat_then("BatchNormalization", *np.ones((4, 12), np.float32)),
     "BatchNormalization of vectors"),
    (lambda: _single("Reshape", inputs=[np.array([3, -1], np.int64)]),
     "would change the batch axis"),
    (lambda: _single("Softmax", axis=0), "along the batch axis"),
    (lambda: _single("Flatten", axis=2), "axis=1"),
    (lambda: _single("Concat", axis=0), "along the batch axis"),
    (lambda: _single("Pad", inputs=[np.array([0, 1, 0, 0, 0, 1, 0, 0], np.int64)]),
     "last two"),
    (lambda: _single("Pad", inputs=[np.array([0, 0, 0, 0, 0, 0, -1, 0], np.int64)]),
     "negative"),
    (lambda: _single("Pad", inputs=[np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64)],
                     mode="wrap", opset=19), "mode 'wrap'"),
    # pads over the layers' limit of 256, even where they become a Pad node of their own
    (lambda: _single("Pad", inputs=[np.array([0, 0, 0, 257, 0, 0, 0, 0], np.int64)]),
     r"Pad: pads \[0, 0, 0, 257, 0, 0, 0, 0\] may be at most 256"),
    (lambda: _single("MaxPool", kernel_shape=[3, 3], pads=[0, 0, 0, 10**9]),
     r"MaxPool: pads \[0, 0, 0, 1000000000\] may be at most 256"),
    (lambda: _single("AveragePool", kernel_shape=[3, 3], pads=[300, 300, 300, 300]),
     r"AveragePool: pads \[300, 300, 300, 300\] may be at most 256"),
    (lambda: _single("Conv", inputs=[np.ones((2, 3, 3, 3), np.float32)], pads=[9, 9, 9, 10**9]),
     r"Conv: pads \[9, 9, 9, 1000000000\] may be at most 256"),
    (lambda: _single("MatMul", inputs=[np.ones((3, 8, 4), np.float32)]), "3-D constant"),
    (lambda: _single("Relu", shape=(1, 3, 8)),
     r"has 3 dimensions, the engine needs 4 \(N, C, H, W\)"),
    (lambda: _single("Conv", inputs=[np.ones((2, 3, 3, 3, 3), np.float32)],
                     shape=(1, 3, 8, 8, 8)), "needs 4"),
    (lambda: _single("LRN", shape=(1, 3, 4, 4), size=2, alpha=1e7), "alpha must be at most"),
    (lambda: _single("Softmax", opset=11, axis=1), r"over axes 1\.\. together"),
    (lambda: _single("ReduceMean", keepdims=1), "every axis"),
    (lambda: _single("Mul", inputs=[np.ones((2, 3, 1, 1), np.float32)]),
     "2 entries along the batch axis"),
    (lambda: _two_branches("Add"), "different ranks"),
    (lambda: _indices_used(), "extra output"),
    (lambda: _single("Transpose", perm=[1, 0, 2, 3]), "perm to start with 0"),
    (lambda: _on_constants("Relu"), "Relu on constants is not supported"),
])
def test_unsupported_attributes_say_what_is_needed(model, expected):
    with pytest.raises(OnnxImportError, match=expected):
        load_onnx_model(model())


def test_a_batch_reshape_on_an_open_batch_is_refused():
    g = GraphBuilder(("N", 3, 4, 4), seed=5)
    y = g.node("Reshape", ["input", g.const(np.array([1, -1], np.int64))])
    with pytest.raises(OnnxImportError, match=r"Reshape to \[1, -1\] would change the batch"):
        load_onnx_model(g.model([y]))


def test_a_computed_weight_is_refused():
    g = GraphBuilder((1, 3, 4, 4), seed=6)
    y = g.node("MatMul", ["input", g.node("Relu", ["input"])])
    with pytest.raises(OnnxImportError, match="must be a constant"):
        load_onnx_model(g.model([y]))


def test_two_inputs_are_refused():
    inputs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, (1, 3, 4, 4))
              for n in ("input", "other")]
    graph = helper.make_graph([helper.make_node("Add", ["input", "other"], ["y"])], "two",
                              inputs, [helper.make_tensor_value_info("y", TensorProto.FLOAT,
                                                                     (1, 3, 4, 4))])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = onnx_models.IR_VERSION
    with pytest.raises(OnnxImportError, match=r"one image input, this one has 2 \(input, other\)"):
        load_onnx_model(model)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(OnnxImportError, match="does not exist"):
        load_onnx(tmp_path / "nothing.onnx")
    with pytest.raises(OnnxImportError, match="is a folder"):
        load_onnx(tmp_path)


@pytest.mark.parametrize("content", [
    b"this is not a model at all \x00\xff\xfe",
    b"",
    "truncated",
])
def test_damaged_files(tmp_path, content):
    path = tmp_path / "bad.onnx"
    if content == "truncated":
        whole = onnx_models.plain_chain().SerializeToString()
        content = whole[: len(whole) // 2]
    path.write_bytes(content)
    with pytest.raises(OnnxImportError) as info:
        load_onnx(path)
    text = str(info.value)
    reason = "not a valid ONNX model" if not content else "cannot be read as an ONNX model"
    assert text.startswith(f"{path}: {reason} (")
    assert "\n" not in text
    assert isinstance(info.value, ValueError)


def test_not_a_model_proto():
    with pytest.raises(OnnxImportError, match=r"expected an onnx\.ModelProto, got bytes"):
        load_onnx_model(b"123")
