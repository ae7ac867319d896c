"""ONNX files the importer refuses, each with one short line naming the operator and the node."""

from __future__ import annotations

import re

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from engine.onnx.importer import OnnxImportError, load_onnx, load_onnx_model, short_name
from tests.engine import onnx_models
from tests.engine.onnx_models import GraphBuilder

# "net.onnx: the Erf node 'erf_1' (node 2 of 5): reason"
NODE = re.compile(r"^net\.onnx: the (\w+) node '([^']+)' \(node (\d+) of (\d+)\): (.+)$")


def refusal(model: onnx.ModelProto) -> str:
    """The one-line message for ``model``, checked: short, grammatical, and when a node is to
    blame, naming its operator, its name and its place as they are in the file."""
    with pytest.raises(OnnxImportError) as info:
        load_onnx_model(model, source="net.onnx")
    text = str(info.value)
    assert "\n" not in text and len(text) < 160, text
    assert not re.search(r"\b[Aa] [AEIOUaeiou]|\b[Aa]n [B-DF-HJ-NP-TV-Zb-df-hj-np-tv-z]", text)
    assert " layer" not in text  # the file has nodes; layers are the engine's
    found = NODE.match(text)
    if found:
        op, name, number, count = found.group(1, 2, 3, 4)
        node = model.graph.node[int(number) - 1]
        assert (op, name, int(count)) == (node.op_type, short_name(node.name),
                                          len(model.graph.node))
        assert not found.group(5).startswith(op)  # said once, in front
    return text


@pytest.mark.parametrize("op", ["Round", "Floor", "Acos", "Asin"])
def test_an_unknown_operator_names_operator_and_node_in_one_short_line(op):
    model = onnx_models.unsupported(op)
    node = model.graph.node[-1]
    assert refusal(model) == (f"net.onnx: the {op} node {node.name!r} (node 2 of 2): the engine"
                              " does not support this operator")


def test_long_node_names_are_shortened_in_the_middle():
    model = onnx_models.unsupported("Round")
    name = "/features/features.3/block/block.0/block.0.0/Round"
    model.graph.node[-1].name = name
    text = refusal(model)
    assert f"the Round node {short_name(name)!r} (node 2 of 2)" in text and len(text) < 130
    assert short_name(name).startswith("/features/") and short_name(name).endswith("0.0/Round")


def test_an_invalid_attribute_names_the_node():
    g = GraphBuilder((1, 3, 8, 8))
    model = g.model([g.node("Relu", ["input"])])
    model.graph.node[0].attribute.append(helper.make_attribute("alpha", 0.5))
    assert refusal(model) == ("net.onnx: the Relu node 'node_relu_1' is not valid ONNX"
                              " (Unrecognized attribute: alpha for operator Relu)")


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


def _int_input() -> onnx.ModelProto:
    g = GraphBuilder((1, 3, 4, 4))
    model = g.model([g.node("Relu", ["input"])])
    model.graph.input[0].type.tensor_type.elem_type = TensorProto.INT32
    return model


@pytest.mark.parametrize(("model", "expected"), [
    (lambda: _single("AveragePool", kernel_shape=[2, 2], pads=[0, 0, 1, 1], ceil_mode=1),
     "uneven pads with ceil_mode"),
    (lambda: _single("MaxPool", kernel_shape=[3, 3], pads=[0, 0, 1, 1], ceil_mode=1),
     "needs equal pads"),
    (lambda: _single("Resize", inputs=[np.zeros(0, np.float32), np.array([1, 1, 2, 2],
                                                                          np.float32)],
                     antialias=1, opset=18), "antialias and axes are not supported"),
    (lambda: _single("Resize", inputs=[np.zeros(0, np.float32), np.array([1, 2, 2, 2],
                                                                          np.float32)]),
     r"scales \[1\.0, 2\.0, 2\.0, 2\.0\] would resize more than height and width"),
    (_int_input, "holds INT32 values; the engine needs FLOAT"),
    (lambda: _flat_then("Gemm", np.ones((1, 3), np.float32), transA=1), "transA"),
    (lambda: _flat_then("BatchNormalization", *np.ones((4, 12), np.float32)),
     "normalizing vectors"),
    (lambda: _single("Reshape", inputs=[np.array([3, -1], np.int64)]),
     r"the shape \[3, -1\] would change the batch axis"),
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
     r"Pad node .*: pads \[0, 0, 0, 257, 0, 0, 0, 0\] may be at most 256"),
    (lambda: _single("MaxPool", kernel_shape=[3, 3], pads=[0, 0, 0, 10**9]),
     r"MaxPool node .*: pads \[0, 0, 0, 1000000000\] may be at most 256"),
    (lambda: _single("AveragePool", kernel_shape=[3, 3], pads=[300, 300, 300, 300]),
     r"AveragePool node .*: pads \[300, 300, 300, 300\] may be at most 256"),
    (lambda: _single("Conv", inputs=[np.ones((2, 3, 3, 3), np.float32)], pads=[9, 9, 9, 10**9]),
     r"Conv node .*: pads \[9, 9, 9, 1000000000\] may be at most 256"),
    (lambda: _single("MatMul", inputs=[np.ones((3, 8, 4), np.float32)]),
     "a constant factor with 3 axes"),
    (lambda: _single("Relu", shape=(1, 3, 8)),
     r"has 3 dimensions; the engine needs 4 \(N, C, H, W\)"),
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
    (lambda: _on_constants("Relu"), "Relu node .*: the engine cannot compute this operator on"
                                    " constants"),
])
def test_refusals_say_what_is_needed_in_one_short_line(model, expected):
    assert re.search(expected, refusal(model()))


def test_a_batch_reshape_on_an_open_batch_is_refused():
    g = GraphBuilder(("N", 3, 4, 4), seed=5)
    y = g.node("Reshape", ["input", g.const(np.array([1, -1], np.int64))])
    with pytest.raises(OnnxImportError, match=r"the shape \[1, -1\] would change the batch"):
        load_onnx_model(g.model([y]))


def test_a_computed_weight_is_refused():
    g = GraphBuilder((1, 3, 4, 4), seed=6)
    y = g.node("MatMul", ["input", g.node("Relu", ["input"])])
    assert re.search(r"the MatMul node .*: its second factor \(B\) must be a constant stored"
                     r" in the file, not the computed 'relu_\d+'$", refusal(g.model([y])))


def test_two_inputs_are_refused():
    inputs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, (1, 3, 4, 4))
              for n in ("input", "other")]
    graph = helper.make_graph([helper.make_node("Add", ["input", "other"], ["y"])], "two",
                              inputs, [helper.make_tensor_value_info("y", TensorProto.FLOAT,
                                                                     (1, 3, 4, 4))])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = onnx_models.IR_VERSION
    assert refusal(model) == ("net.onnx: the engine runs models with one image input; this one"
                              " has 2 (input, other)")


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
