"""Write any pipeline the engine runs as an ONNX model (opset 17) that onnxruntime runs alike.

Node outputs keep the pipeline's node names and the input its name, so importing the file with
:func:`engine.onnx.importer.load_onnx` gives the same pipeline back (same names, layers and
weights). The batch axis is left open (``N``); height and width are fixed, since layers such as
Reshape and Resize are sized for one input size. A trained network's preprocessing travels in
the model's metadata (``cnn_explorer.preprocess``), which the importer reads back.

Examples
--------
>>> from engine.layers import Conv2d, ReLU
>>> from engine.graph.pipeline import Pipeline
>>> model = pipeline_to_onnx(Pipeline.chain([Conv2d(3, 4, 3), ReLU()]), (3, 8, 8))
>>> [n.op_type for n in model.graph.node]
['Conv', 'Relu']
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from engine.graph.pipeline import Pipeline
from engine.i18n import _
from engine.onnx.export_layers import EMITTERS, ExportError
from engine.onnx.node import PREPROCESS_KEY

__all__ = ["OPSET", "PREPROCESS_KEY", "ExportError", "export_onnx", "pipeline_to_onnx"]

OPSET = 17
IR_VERSION = 8  # read by every onnxruntime since 1.10


class Writer:
    """Collects nodes and initializers under unique names."""

    def __init__(self, reserved: set[str]):
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self.reserved = set(reserved)  # the pipeline's own names: kept as they are
        self.taken = set(reserved)

    def _fresh(self, name: str) -> str:
        base, n = name, 1
        while name in self.taken:
            n += 1
            name = f"{base}_{n}"
        self.taken.add(name)
        return name

    def init(self, name: str, value) -> str:
        """An initializer holding ``value`` (float arrays as float32); returns its name."""
        array = np.asarray(value)
        if array.dtype.kind == "f":
            array = array.astype(np.float32)
        name = self._fresh(name)
        self.inits.append(numpy_helper.from_array(array, name))
        return name

    def node(self, op: str, inputs, output: str, **attrs) -> str:
        """A node computing ``output`` (a name made unique unless it is a pipeline node's)."""
        if output not in self.reserved:
            output = self._fresh(output)
        self.nodes.append(helper.make_node(op, list(inputs), [output], name=output, **attrs))
        return output


def pipeline_to_onnx(pipeline: Pipeline, input_shape=None) -> onnx.ModelProto:
    """The pipeline as a checked ``onnx.ModelProto``.

    Parameters
    ----------
    pipeline : Pipeline
    input_shape : (C, H, W), optional
        Default: the pipeline's declared input size; required when it declares none.

    Raises
    ------
    ExportError
        A layer type or setting ONNX cannot hold, or no input size.
    """
    shape = _input_shape(pipeline, input_shape)
    shapes = {pipeline.input_name: shape, **pipeline.shapes(shape)}
    names = {pipeline.input_name, *(n.name for n in pipeline)}
    writer = Writer(names)
    for node in pipeline:
        emit = EMITTERS.get(node.layer.type_name)
        if emit is None:
            raise ExportError(_("layer {name!r} ({type}) cannot be written as ONNX")
                              .format(name=node.name, type=node.layer.type_name))
        emit(writer, node.layer, list(node.inputs), node.name,
             [shapes[s] for s in node.inputs])
    consumed = {s for node in pipeline for s in node.inputs}
    outputs = [n.name for n in pipeline if n.name not in consumed]
    graph = helper.make_graph(
        writer.nodes, pipeline.name or "pipeline",
        [helper.make_tensor_value_info(pipeline.input_name, TensorProto.FLOAT, ("N", *shape))],
        [_output_info(o, len(shapes[o])) for o in outputs],
        initializer=writer.inits, doc_string=pipeline.description)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="cnn-explorer")
    model.ir_version = IR_VERSION
    recipe = pipeline.input_spec.preprocess
    if recipe is not None:
        helper.set_model_props(model, {PREPROCESS_KEY: json.dumps(recipe.to_dict())})
    onnx.checker.check_model(model, full_check=True)
    return model


def _output_info(name: str, rank: int) -> onnx.ValueInfoProto:
    """An output of known rank and open sizes: a ceil-mode pool's size is the engine's (and
    PyTorch's), which ONNX's shape inference may compute differently."""
    dims = ["N", *(f"{name}_{i}" for i in range(1, rank + 1))]
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, dims)


def _input_shape(pipeline: Pipeline, input_shape) -> tuple[int, int, int]:
    if input_shape is not None:
        return tuple(int(n) for n in input_shape)
    declared = pipeline.input_spec.shape
    if declared is None:
        raise ExportError(_("the pipeline declares no input size; give one (C,H,W) to export"
                            " it"))
    return declared


def export_onnx(pipeline: Pipeline, path, input_shape=None) -> Path:
    """Write :func:`pipeline_to_onnx` to ``path`` (through a temporary file); returns it."""
    path = Path(path)
    model = pipeline_to_onnx(pipeline, input_shape)
    temporary = path.with_name(path.name + ".tmp")
    onnx.save(model, str(temporary))
    temporary.replace(path)
    return path
