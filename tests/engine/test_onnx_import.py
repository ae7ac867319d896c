"""ONNX import: every node's output against onnxruntime and batch semantics (refusals:
test_onnx_errors.py; ONNX-only layers: test_onnx_layers.py)."""

from __future__ import annotations

import numpy as np
import onnx
import pytest

from engine.onnx.importer import OnnxImportError, load_onnx, load_onnx_model
from tests.engine import onnx_models
from tests.engine.onnx.reference import assert_close, run_onnxruntime
from tests.engine.onnx_models import MODELS, GraphBuilder


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


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_node_matches_onnxruntime(name):
    model = MODELS[name]()
    pipeline = load_onnx_model(model)
    imported = [n.name for n in pipeline if ":" not in n.name]  # ":pad" nodes are ours only
    x = _input(pipeline, _batch_size(model))
    ref = run_onnxruntime(model, imported, _as_file_takes(model, x))
    ours = pipeline.forward(x)
    for node in imported:
        assert_close(ours[node], ref[node], f"{name}: node {node} ({pipeline[node].layer!r})")
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
