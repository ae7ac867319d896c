"""Whole torchvision-style networks (tests/engine/onnx/networks.py) against onnxruntime, node
by node; their ledgers; and gradients through every new layer type they use."""

from __future__ import annotations

import pytest

from engine.layers import AvgPool2d, Tanh
from engine.onnx.importer import load_onnx_model
from tests.engine.gradcheck import check_gradients
from tests.engine.onnx.networks import NETWORKS
from tests.engine.onnx.reference import check_model, input_for


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_every_node_matches_onnxruntime(name):
    model = NETWORKS[name]()
    batch = model.graph.input[0].type.tensor_type.shape.dim[0].dim_value or 2
    check_model(model, batch=batch)


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_ledger_and_one_image(name):
    pipeline = load_onnx_model(NETWORKS[name]())
    x = input_for(pipeline, batch=1)[0]
    outputs = pipeline.forward(x)
    ledger = pipeline.summary(x.shape)
    assert [row.name for row in ledger.rows] == list(outputs)
    for row in ledger.rows:
        assert row.out_shape == outputs[row.name].shape, row.name
    assert ledger.total_params == sum(n.layer.num_params for n in pipeline)


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_gradients_flow_through_the_whole_network(name):
    """Every layer differentiable; the kinked activations (ReLU, PReLU, max pooling) swapped
    for smooth ones first, since a finite difference across a kink measures nothing."""
    pipeline = load_onnx_model(NETWORKS[name]())
    smooth = {"ReLU": Tanh(), "PReLU": Tanh(), "MaxPool2d": None}
    for i, node in enumerate(pipeline.nodes):
        if node.layer.type_name in smooth:
            layer = smooth[node.layer.type_name] or AvgPool2d(node.layer.kernel_size,
                                                              node.layer.stride)
            pipeline = pipeline.replace_layer(i, layer)
    x = input_for(pipeline, batch=2, seed=3)
    check_gradients(pipeline, x, directions=2)


def test_unet_output_is_a_map_of_classes():
    pipeline = load_onnx_model(NETWORKS["unet"]())
    layers = {n.layer.type_name for n in pipeline}
    assert {"ConvTranspose2d", "Resize", "Concat"} <= layers
    assert pipeline.shapes((3, 12, 12))[pipeline.nodes[-1].name] == (3, 12, 12)
