"""ONNX import: every node's output against onnxruntime, batch semantics, and the error messages."""

from __future__ import annotations

import math

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper

from engine.layers import LAYER_TYPES
from engine.layers.imported import (
    ONNX_LAYER_TYPES,
    LocalResponseNorm,
    Pad,
    Reshape,
    register_onnx_layers,
)
from engine.onnx.importer import OnnxImportError, load_onnx, load_onnx_model
from engine.ops.shapes import ShapeError
from tests.engine import onnx_models
from tests.engine.onnx_models import MODELS, GraphBuilder

RTOL = 1e-4


def _run_onnxruntime(model: onnx.ModelProto, names: list[str], x: np.ndarray) -> dict:
    """onnxruntime's value of every name in ``names``, each made an extra graph output."""
    model = onnx.ModelProto.FromString(model.SerializeToString())
    declared = {o.name for o in model.graph.output}
    for name in names:
        if name not in declared:
            model.graph.output.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, None))
    for out in model.graph.output:  # ONNX's and onnxruntime's ceil-mode sizes can differ
        out.type.tensor_type.ClearField("shape")
    options = ort.SessionOptions()
    options.log_severity_level = 3
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(model.SerializeToString(), options,
                                   providers=["CPUExecutionProvider"])
    outputs = [o.name for o in session.get_outputs()]
    return dict(zip(outputs, session.run(None, {"input": x}), strict=True))


def _batch_size(model: onnx.ModelProto) -> int:
    dim = model.graph.input[0].type.tensor_type.shape.dim[0]
    return dim.dim_value if dim.HasField("dim_value") else 2


def _input(pipeline, batch: int, seed: int = 0) -> np.ndarray:
    """A random (N, C, H, W) batch of the pipeline's input size."""
    spec = pipeline.input_spec
    shape = (batch, spec.channels, spec.height, spec.width)
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def _as_file_takes(model: onnx.ModelProto, x: np.ndarray) -> np.ndarray:
    """(N, C, H, W) -> (N, H, W, C) for a model whose file takes channels last."""
    channels = model.graph.input[0].type.tensor_type.shape.dim[1].dim_value
    return x if channels == x.shape[1] else np.ascontiguousarray(x.transpose(0, 2, 3, 1))


def _image_nodes(model: onnx.ModelProto) -> list[str]:
    """Outputs of the nodes that compute on the image; shape arithmetic is folded instead."""
    live, names = {"input"}, []
    for node in model.graph.node:
        if node.op_type != "Shape" and any(i in live for i in node.input):
            live.add(node.output[0])
            names.append(node.output[0])
    return names


def _assert_close(ours: np.ndarray, ref: np.ndarray, what: str) -> None:
    assert ours.shape == ref.shape, f"{what}: shape {ours.shape}, onnxruntime {ref.shape}"
    scale = max(float(np.abs(ref).max()), 1e-6)
    err = float(np.abs(ours.astype(np.float64) - ref).max())
    assert err <= RTOL * scale, f"{what}: max error {err:.3g} is more than {RTOL} x {scale:.3g}"


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_node_matches_onnxruntime(name):
    model = MODELS[name]()
    pipeline = load_onnx_model(model)
    imported = [n.name for n in pipeline if ":" not in n.name]  # ":pad" nodes are ours only
    x = _input(pipeline, _batch_size(model))
    ref = _run_onnxruntime(model, imported, _as_file_takes(model, x))
    ours = pipeline.forward(x)
    for node in imported:
        _assert_close(ours[node], ref[node], f"{name}: node {node} ({pipeline[node].layer!r})")
    # every ONNX node that computes on the image is a pipeline node of the same name
    assert imported == _image_nodes(model)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_one_image_and_a_batch_agree(name):
    """(C, H, W) in -> unbatched outputs; a batch of 3 equals its images run one by one."""
    model = MODELS[name]()
    pipeline = load_onnx_model(model)
    x = _input(pipeline, 3, seed=1)
    batched = pipeline.forward(x)
    for i in range(3):
        single = pipeline.forward(x[i])
        for node, value in single.items():
            assert value.shape == batched[node].shape[1:], node
            np.testing.assert_allclose(value, batched[node][i], rtol=1e-5, atol=1e-5,
                                       err_msg=node)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_summary_shapes_equal_forward_shapes(name):
    model = MODELS[name]()
    pipeline = load_onnx_model(model)
    x = _input(pipeline, 1)[0]
    outputs = pipeline.forward(x)
    ledger = pipeline.summary(x.shape)
    assert [row.name for row in ledger.rows] == list(outputs)
    for row in ledger.rows:
        assert row.out_shape == outputs[row.name].shape, row.name
    assert ledger.total_params == sum(n.layer.num_params for n in pipeline)


def test_layers_and_names_of_a_chain():
    model = onnx_models.plain_chain()
    pipeline = load_onnx_model(model, name="chain")
    assert [n.name for n in pipeline] == [n.output[0] for n in model.graph.node]
    assert [n.layer.type_name for n in pipeline] == [
        "Conv2d", "ReLU", "MaxPool2d", "Conv2d", "ReLU", "Flatten", "Linear"]
    assert pipeline.is_chain and pipeline.input_name == "input" and pipeline.name == "chain"
    conv = pipeline[0].layer
    weight = onnx.numpy_helper.to_array(model.graph.initializer[0])
    np.testing.assert_array_equal(conv.weight, weight)
    assert (conv.kernel_size, conv.padding, conv.stride) == (3, 1, 1)
    assert pipeline[2].layer.stride == 2  # ONNX's stride is explicit, PyTorch's default differs
    spec = pipeline.input_spec
    assert (spec.channels, spec.color, spec.height, spec.width) == (3, "rgb", 16, 16)
    # 8 x (3 x 3 x 3 + 1) + 6 x (3 x 3 x 8 + 1) + (54 + 1) x 10
    assert pipeline.summary((3, 16, 16)).total_params == 224 + 438 + 550


def test_branches_stay_branches():
    pipeline = load_onnx_model(onnx_models.inception())
    assert not pipeline.is_chain
    concat = next(n for n in pipeline if n.layer.type_name == "Concat")
    assert len(concat.inputs) == 4 and concat.layer.dim == 0
    residual = load_onnx_model(onnx_models.residual())
    adds = [n for n in residual if n.layer.type_name == "Add"]
    assert len(adds) == 2 and all(len(n.inputs) == 2 for n in adds)


def test_depthwise_and_clip_layers():
    pipeline = load_onnx_model(onnx_models.depthwise())
    convs = [n.layer for n in pipeline if n.layer.type_name == "Conv2d"]
    assert [c.groups for c in convs] == [1, 12, 1, 1, 1, 3]
    clips = [repr(n.layer) for n in pipeline if n.layer.type_name in ("Hardtanh", "Clip")]
    assert clips == ["Hardtanh(min_val=0.0, max_val=6.0)"] * 2 + ["Clip(max_val=6.0)"]


def test_asymmetric_padding_becomes_a_pad_node():
    pipeline = load_onnx_model(onnx_models.pooling())
    pads = {n.name: n.layer for n in pipeline if n.layer.type_name == "Pad"}
    # max pool with pads (0, 0, 1, 1), SAME max pool and conv, conv (0, 1, 1, 0), avg pool,
    # and a max and an avg pool whose pads are over half the window
    assert len(pads) == 7
    for name in pads:
        node = pipeline[name.split(":")[0]]
        assert node.inputs == (name,)
        assert node.layer.padding == 0
    assert {layer.mode for layer in pads.values()} == {"edge", "constant"}


def test_reduce_mean_becomes_a_global_pool_where_it_can():
    pipeline = load_onnx_model(onnx_models.reduce_mean())
    assert [repr(n.layer) for n in pipeline][2:] == [
        "GlobalAvgPool2d()", "ReduceMean(axes=(2,), keepdims=False)", "ReduceMean(axes=(0,))",
        "ReduceMean(axes=(1, 2), keepdims=False)", "Linear(6, 4)"]


def test_channels_last_input_enters_as_channels_first():
    pipeline = load_onnx_model(onnx_models.keras_style())
    spec = pipeline.input_spec
    assert (spec.channels, spec.height, spec.width) == (3, 10, 12)
    assert "(N, H, W, C)" in pipeline.description
    assert [n.layer.type_name for n in pipeline] == [
        "Identity", "Pad", "Conv2d", "ReLU", "Transpose", "Reshape", "MatMul", "AddConstant",
        "Softmax"]
    assert pipeline.forward(np.zeros((3, 10, 12), np.float32))[pipeline[4].name].shape == (
        5, 6, 4)


def test_old_opset_broadcast_and_sum():
    """onnxruntime no longer runs opset 6, so the reference is written out here."""
    pipeline = load_onnx_model(onnx_models.old_opset())
    x = np.random.default_rng(7).standard_normal((3, 4, 5)).astype(np.float32)
    shifted = x + np.array([1.0, 2.0, 3.0], np.float32)[:, None, None]
    expected = 2 * (0.5 * shifted) + x
    np.testing.assert_allclose(list(pipeline.forward(x).values())[-1], expected, rtol=1e-6)
    assert [n.layer.type_name for n in pipeline] == ["AddConstant", "Mul", "Add", "Dropout"]


def test_gemm_folds_alpha_beta_and_transpose():
    model = onnx_models.gemm_softmax()
    pipeline = load_onnx_model(model)
    inits = {t.name: onnx.numpy_helper.to_array(t) for t in model.graph.initializer}
    gemm = model.graph.node[1]
    linear = pipeline[gemm.output[0]].layer
    np.testing.assert_allclose(linear.weight, 0.5 * inits[gemm.input[1]].T)
    np.testing.assert_allclose(linear.bias, 2.0 * inits[gemm.input[2]])
    assert pipeline[model.graph.node[-1].output[0]].layer.dim == -1


def test_open_height_and_width_use_the_given_size():
    g = GraphBuilder(("N", 1, "H", "W"), seed=3)
    model = g.model([g.node("Relu", [g.conv("input", 1, 2, 3)])])
    pipeline = load_onnx_model(model)
    assert (pipeline.input_spec.height, pipeline.input_spec.width) == (224, 224)
    assert "224x224 assumed" in pipeline.description
    small = load_onnx_model(model, input_size=(20, 30))
    assert (small.input_spec.color, small.input_spec.height, small.input_spec.width) == (
        "gray", 20, 30)
    with pytest.raises(OnnxImportError, match=r"input_size must be \(height, width\)"):
        load_onnx_model(model, input_size=(20, 0))
    x = np.ones((1, 20, 30), np.float32)
    assert small.forward(x)[model.graph.node[-1].output[0]].shape == (2, 18, 28)


def test_load_from_a_file(tmp_path):
    model = onnx_models.residual()
    path = tmp_path / "tiny_resnet.onnx"
    onnx.save(model, str(path))
    pipeline = load_onnx(path)
    assert pipeline.name == "tiny_resnet"
    assert str(path) in pipeline.description
    x = _input(pipeline, 2)
    last = model.graph.output[0].name
    np.testing.assert_allclose(pipeline.forward(x)[last],
                               load_onnx_model(model).forward(x)[last], rtol=0, atol=0)


def test_weights_stored_beside_the_file(tmp_path):
    model = onnx_models.plain_chain()
    path = tmp_path / "chain.onnx"
    onnx.save(onnx_models.plain_chain(), str(path), save_as_external_data=True,
              location="chain.weights", size_threshold=0)
    assert (tmp_path / "chain.weights").stat().st_size > 1000
    x = np.random.default_rng(3).standard_normal((3, 16, 16)).astype(np.float32)
    last = model.graph.output[0].name
    np.testing.assert_array_equal(load_onnx(path).forward(x)[last],
                                  load_onnx_model(model).forward(x)[last])
    (tmp_path / "chain.weights").unlink()
    with pytest.raises(OnnxImportError, match=r"chain\.onnx: cannot be read as an ONNX model"
                       r" \(.*chain\.weights"):
        load_onnx(path)


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize("op", ["Resize", "Floor"])
def test_unsupported_operator_names_operator_and_node(op):
    model = onnx_models.unsupported(op)
    node = model.graph.node[-1]
    with pytest.raises(OnnxImportError) as info:
        load_onnx_model(model, source="net.onnx")
    text = str(info.value)
    assert text.startswith("net.onnx: node 1")
    assert f"({op} {node.name!r} -> {node.output[0]!r})" in text
    assert f"operator {op} is not supported: the engine would need a {op} layer" in text
    assert "Conv" in text  # says what the engine does run


def _single(op: str, shape=(1, 3, 8, 8), inputs=(), opset=13, **attrs) -> onnx.ModelProto:
    g = GraphBuilder(shape, seed=4, opset=opset)
    names = ["input", *[g.const(np.asarray(v)) for v in inputs]]
    return g.model([g.node(op, names, **attrs)])


def _flat_then(op: str, *inputs, **attrs) -> onnx.ModelProto:
    g = GraphBuilder((1, 3, 2, 2), seed=4)
    y = g.node("Flatten", ["input"])
    return g.model([g.node(op, [y, *[g.const(v) for v in inputs]], **attrs)])


def _two_branches(op: str) -> onnx.ModelProto:
    g = GraphBuilder((1, 3, 8, 8), seed=4)
    return g.model([g.node(op, ["input", g.node("GlobalAveragePool", ["input"])])])


def _indices_used() -> onnx.ModelProto:
    g = GraphBuilder((1, 3, 8, 8), seed=4)
    g.node("MaxPool", ["input"], outputs=["pooled", "indices"], kernel_shape=[2, 2])
    return g.model(["pooled", "indices"])


def _on_constants(op: str) -> onnx.ModelProto:
    g = GraphBuilder((1, 3, 8, 8), seed=4)
    return g.model([g.node("Add", ["input", g.node(op, [g.randn(3, 8, 8)])])])


@pytest.mark.parametrize(("model", "expected"), [
    (lambda: _single("AveragePool", kernel_shape=[2, 2], pads=[0, 0, 1, 1]),
     "count_include_pad=1 and ceil_mode=0"),
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
    (lambda: _single("Relu", shape=(1, 4, 8, 8)), "4 channels"),
    (lambda: _single("Relu", shape=(1, 3, 8)),
     r"has 3 dimensions, the engine needs 4 \(N, C, H, W\)"),
    (lambda: _single("Conv", inputs=[np.ones((2, 3, 3, 3, 3), np.float32)],
                     shape=(1, 3, 8, 8, 8)), "needs 4"),
    (lambda: _single("LRN", shape=(1, 3, 4, 4), size=2, alpha=1e7), "alpha must be at most"),
    (lambda: _single("Softmax", opset=11, axis=1), r"over axes 1\.\. together"),
    (lambda: _single("ReduceMean", keepdims=1), "every axis"),
    (lambda: _single("Mul", inputs=[np.ones((2, 3, 1, 1), np.float32)]),
     "2 entries along the batch axis"),
    (lambda: _two_branches("Add"),
     r"Add of shapes \(3, 8, 8\) and \(3, 1, 1\)"),
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


# ---------------------------------------------------------------- the ONNX-only layers


def _lrn_reference(x, size, alpha, beta, k):
    """ONNX's formula, one channel at a time."""
    c = x.shape[0]
    out = np.empty_like(x, dtype=np.float64)
    for i in range(c):
        lo = max(0, i - (size - 1) // 2)
        hi = min(c - 1, i + math.ceil((size - 1) / 2))
        square_sum = (x[lo:hi + 1].astype(np.float64) ** 2).sum(axis=0)
        out[i] = x[i] / (k + alpha / size * square_sum) ** beta
    return out


@pytest.mark.parametrize("size", [1, 2, 3, 4, 5, 8])
def test_local_response_norm_matches_onnx_formula(size):
    x = np.random.default_rng(size).standard_normal((6, 3, 4)).astype(np.float32)
    layer = LocalResponseNorm(size, alpha=0.3, beta=0.75, k=1.5, in_rank=3)
    np.testing.assert_allclose(layer(x), _lrn_reference(x, size, 0.3, 0.75, 1.5), rtol=1e-5)
    np.testing.assert_allclose(layer(x[None])[0], layer(x), rtol=1e-6)


def test_reshape_layer_shapes_and_errors():
    layer = Reshape((0, -1), in_rank=3)
    assert layer.out_shape((4, 4, 4)) == (4, 16)
    assert layer(np.zeros((2, 4, 4, 4), np.float32)).shape == (2, 4, 16)
    with pytest.raises(ShapeError, match="do not split"):
        Reshape((3, -1), in_rank=3).out_shape((4, 4, 4))
    with pytest.raises(ShapeError, match="built for 3"):
        layer.out_shape((4, 16))
    assert repr(layer) == "Reshape((0, -1))"


def test_pad_layer_modes_and_replace():
    x = np.arange(6, dtype=np.float32).reshape(1, 2, 3)
    layer = Pad((1, 0, 0, 1), mode="edge")
    assert layer(x).tolist() == [[[0, 0, 1, 2], [3, 3, 4, 5], [3, 3, 4, 5]]]
    assert layer.out_shape((1, 2, 3)) == (1, 3, 4)
    assert layer.replace(mode="constant", value=7.0)(x)[0, 2].tolist() == [7, 7, 7, 7]
    with pytest.raises(ShapeError, match="smaller than the side"):
        Pad((3, 0, 0, 0), mode="reflect").out_shape((1, 2, 3))


def test_register_onnx_layers():
    saved = dict(LAYER_TYPES)
    try:
        register_onnx_layers()
        for name, cls in ONNX_LAYER_TYPES.items():
            assert LAYER_TYPES[name] is cls
        assert LAYER_TYPES["Conv2d"] is saved["Conv2d"]
    finally:
        LAYER_TYPES.clear()
        LAYER_TYPES.update(saved)
