"""Export to ONNX: the file passes onnx.checker, onnxruntime runs it as the engine does, and
importing it again gives the same pipeline."""

from __future__ import annotations

import numpy as np
import onnx
import pytest

from engine.graph.node import InputSpec
from engine.graph.pipeline import Pipeline
from engine.layers import imported as O
from engine.onnx.export import ExportError, export_onnx, pipeline_to_onnx
from engine.onnx.importer import load_onnx, load_onnx_model
from engine.resolve import resolve_pipeline
from tests.engine.onnx.networks import NETWORKS
from tests.engine.onnx.reference import assert_close, input_for, run_onnxruntime
from tests.engine.onnx_models import MODELS

# how weights were first drawn: not part of what a layer computes, and not in an ONNX file
_DRAWN = {"init", "seed"}


def _config(layer) -> dict:
    config = {k: v for k, v in layer.config().items() if k not in _DRAWN}
    if config.get("stride", 0) is None:  # PyTorch's default: the window's size
        config["stride"] = config["kernel_size"]
    return config


def assert_same_pipeline(p: Pipeline, q: Pipeline) -> None:
    assert [(n.name, n.inputs, n.layer.type_name) for n in p] == [
        (n.name, n.inputs, n.layer.type_name) for n in q]
    for a, b in zip(p, q, strict=True):
        assert _config(a.layer) == _config(b.layer), a.name
        pa, pb = a.layer.parameters(), b.layer.parameters()
        assert pa.keys() == pb.keys(), a.name
        for k in pa:
            np.testing.assert_array_equal(pa[k], pb[k], err_msg=f"{a.name}.{k}")
    assert p.input_name == q.input_name
    assert (p.input_spec.channels, p.input_spec.preprocess) == (
        q.input_spec.channels, q.input_spec.preprocess)


def _round_trip(pipeline: Pipeline, shape=None):
    model = pipeline_to_onnx(pipeline, shape)
    onnx.checker.check_model(model, full_check=True)
    again = load_onnx_model(model, name=pipeline.name)
    assert_same_pipeline(pipeline, again)
    x = input_for(again, batch=2, seed=5)
    ours = pipeline.forward(x)
    outputs = [o.name for o in model.graph.output]
    ref = run_onnxruntime(_renamed_input(model, pipeline.input_name), outputs, x)
    for name in outputs:
        assert_close(ours[name], ref[name], name)
    return model


def _renamed_input(model, name):
    """reference.run_onnxruntime feeds "input"."""
    if name == "input":
        return model
    model = onnx.ModelProto.FromString(model.SerializeToString())
    model.graph.input[0].name = "input"
    for node in model.graph.node:
        node.input[:] = ["input" if i == name else i for i in node.input]
    return model


@pytest.mark.parametrize("name", ["default", "lecture", "shapes", "edges"])
def test_bundled_pipelines_round_trip(name):
    pipeline = resolve_pipeline(name)
    _round_trip(pipeline, None if pipeline.input_spec.shape else (1, 24, 32))


@pytest.mark.parametrize("name", sorted(set(MODELS) - {"keras_style"}))
def test_imported_models_round_trip(name):
    _round_trip(load_onnx_model(MODELS[name]()))


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_torchvision_style_networks_round_trip(name):
    _round_trip(load_onnx_model(NETWORKS[name]()))


def test_every_new_layer_type_round_trips():
    rng = np.random.default_rng(0)
    layers = [O.HardSwish(), O.SiLU(), O.HardSigmoid(0.3, 0.4), O.ELU(0.5), O.SELU(), O.Erf(),
              O.Softplus(), O.Abs(), O.Neg(), O.Exp(), O.PReLU(rng.uniform(0, 1, (4, 1, 1))),
              O.Clip(2.0, -1.0), O.Clip(max_val=3.0), O.Sqrt(), O.Log(), O.Reciprocal(),
              O.Mul(rng.standard_normal((4, 1, 1))), O.Sub(1.5, constant_first=True),
              O.Pow(2.0), O.Max(0.1), O.Min(5.0), O.AddConstant(rng.standard_normal(3)),
              O.Resize(scale_factor=(2, 2), mode="linear"),
              O.Resize(size=(5, 7), coordinate_mode="asymmetric", nearest_mode="floor"),
              O.ConvTranspose2d(4, 3, 3, stride=2, padding=1, output_padding=1, seed=1),
              O.InstanceNorm2d(3, rng.standard_normal(3), rng.standard_normal(3)),
              O.LpPool2d(2.0, 2, stride=1, padding=1),
              O.LayerNorm(1, rng.standard_normal((11, 15)), rng.standard_normal((11, 15)), 1e-3, 3),
              O.Slice([(0, 0, 2, 1), (2, -1, -100, -1)], 3), O.Gather([1, 0], 0, 3),
              O.ReduceMax((1,), True, 3), O.ReduceSum((2,), True, 3), O.Transpose((0, 2, 1)),
              O.Reshape((2, -1), 3), O.LogSoftmax(-1, in_rank=2)]
    pipeline = Pipeline.chain(layers, input_spec=InputSpec(channels=4, height=3, width=3))
    _round_trip(pipeline)


def test_gelu_is_written_out_and_computes_the_same():
    pipeline = Pipeline.chain([O.GELU(), O.GELU("tanh")], input_spec=InputSpec(
        channels=2, height=3, width=3))
    model = pipeline_to_onnx(pipeline)
    assert "Erf" in {n.op_type for n in model.graph.node}
    x = input_for(pipeline, batch=2)
    ref = run_onnxruntime(model, [], x)
    last = pipeline.nodes[-1].name
    assert_close(pipeline.forward(x)[last], ref[last], "GELU")


def test_files_and_refusals(tmp_path):
    pipeline = resolve_pipeline("lecture")
    path = export_onnx(pipeline, tmp_path / "lecture.onnx")
    assert path.is_file() and not (tmp_path / "lecture.onnx.tmp").exists()
    assert [n.name for n in load_onnx(path)] == [n.name for n in pipeline]
    with pytest.raises(ExportError, match="declares no input size"):
        pipeline_to_onnx(resolve_pipeline("edges"))
    odd = Pipeline.chain([O.LpPool2d(1.5, 2)], input_spec=InputSpec(3, height=4, width=4))
    with pytest.raises(ExportError, match="whole number"):
        pipeline_to_onnx(odd)
