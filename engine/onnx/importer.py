"""Open ONNX models as pipelines that our own engine runs (the onnx package only reads the file).

Each ONNX node becomes one pipeline node named after the node's (first) output, so
``forward(x)`` returns every node's output keyed by its ONNX output name. Constants
(initializers, Constant nodes and shape arithmetic on them) are folded while loading. Asymmetric
padding of a Conv or pool becomes an extra Pad node named ``<output>:pad``.

Batch axis: ONNX graphs are batched, ``(N, C, H, W)``, while a pipeline's layers count
dimensions without the batch axis. The importer drops the batch axis from every shape and axis
number (ONNX ``Concat(axis=1)`` becomes ``Concat(dim=0)``) and refuses a node that would mix the
samples of a batch (a Reshape or Flatten across the batch axis, a Softmax over it). So
``forward`` takes one image ``(C, H, W)`` or a batch ``(N, C, H, W)`` of any size, whatever batch
size the file declares, and its outputs keep the input's batchedness. A Keras-style file that
takes ``(N, H, W, C)`` images and transposes them at once also takes ``(C, H, W)`` images here;
its first Transpose becomes an Identity.

This module reads and checks the file and walks the graph; the per-operator converters are in
:mod:`engine.onnx.converters` (conv and pooling in :mod:`engine.onnx.windows`), constant folding in
:mod:`engine.onnx.constants`, the node context both use in :mod:`engine.onnx.node`, and the extra
layer types in :mod:`engine.layers.imported` (:mod:`engine.layers.reshaping`,
:mod:`engine.layers.arithmetic`).

Examples
--------
>>> import numpy as np
>>> from assets import asset_path
>>> pipeline = load_onnx(asset_path("models", "shapes.onnx"))   # the bundled classifier
>>> outputs = pipeline.forward(np.zeros((3, 64, 64), np.float32))
>>> list(outputs)[-1], outputs["logits"].shape
('logits', (8,))
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np
import onnx
from onnx import helper, numpy_helper

from engine.graph.pipeline import InputSpec, Node, Pipeline
from engine.i18n import _, ngettext
from engine.io.preprocess import Preprocess
from engine.onnx.constants import fold, shape_part
from engine.onnx.converters import CONVERTERS, SUPPORTED_OPERATORS
from engine.onnx.fusion import fuse_silu
from engine.onnx.node import BATCH, PREPROCESS_KEY, GraphTables, NodeContext, Unsupported
from engine.onnx.reading import read_model
from engine.ops.shapes import ShapeError

__all__ = ["DEFAULT_SIZE", "SUPPORTED_OPERATORS", "OnnxImportError", "load_onnx",
           "load_onnx_model"]

# Height and width assumed when the file leaves them open (the ImageNet convention).
DEFAULT_SIZE = 224


class OnnxImportError(ValueError):
    """An ONNX file the engine cannot open or run; the message names the node and the reason."""


class _NodeRefused(Exception):
    """A node's reason to refuse it, with what names the node in the message."""

    def __init__(self, proto: onnx.NodeProto, number: int, count: int, reason: str):
        super().__init__(reason)
        self.proto, self.number, self.count, self.reason = proto, number, count, reason

    def message(self, source: str) -> str:
        """One line: the file, the operator, the node's name and place, the reason."""
        return _("{source}: the {op} node {name!r} (node {number} of {count}): {reason}").format(
            source=source, op=self.proto.op_type, name=short_name(self.proto.name
                                                                  or self.proto.output[0]),
            number=self.number, count=self.count, reason=self.reason)


NAME_LENGTH = 40
"""Node names longer than this are shown shortened in the middle (exporters write paths such as
``/features/features.3/block/block.0/block.0.0/Conv``)."""


def short_name(name: str, most: int = NAME_LENGTH) -> str:
    """``name``, or its start and end around an ellipsis when it is longer than ``most``.

    >>> short_name("/features/features.3/block/block.0/block.0.0/Conv", 30)
    '/features/feat…/block.0.0/Conv'
    """
    if len(name) <= most:
        return name
    head = (most - 1) // 2
    return f"{name[:head]}…{name[len(name) - (most - 1 - head):]}"


def load_onnx(path, input_size: tuple[int, int] | None = None) -> Pipeline:
    """Read an ONNX file and return it as a :class:`~engine.graph.pipeline.Pipeline`.

    Parameters
    ----------
    path : str or Path
        The ``.onnx`` file (weights stored beside it as external data are read too).
    input_size : (height, width), optional
        Used when the file leaves the input's height or width open; default 224 x 224.

    Returns
    -------
    Pipeline
        One node per ONNX node, named by its output; ``forward`` takes (C, H, W) or
        (N, C, H, W) float32 arrays, already preprocessed as the model expects.

    Raises
    ------
    OnnxImportError
        The file is missing or damaged, or uses an operator or attribute the engine cannot run.
    """
    path = Path(path)
    if path.is_dir() or not os.path.lexists(path):
        what = _("is a folder, not a file") if path.is_dir() else _("does not exist")
        raise OnnxImportError(_("{path}: the model file {what}").format(path=path, what=what))
    try:
        model = read_model(path)
    except Exception as error:  # ModelFileError, or one of protobuf's types for damaged bytes
        raise OnnxImportError(_("{path}: cannot be read as an ONNX model ({reason})").format(
            path=path, reason=_first_line(error))) from None
    return load_onnx_model(model, source=str(path), input_size=input_size, name=path.stem)


def load_onnx_model(model: onnx.ModelProto, source: str = "<model>",
                    input_size: tuple[int, int] | None = None, name: str = "") -> Pipeline:
    """Convert an in-memory ``onnx.ModelProto``; ``source`` names it in messages.

    See :func:`load_onnx` for the parameters and errors.
    """
    if not isinstance(model, onnx.ModelProto):
        raise OnnxImportError(_("{source}: expected an onnx.ModelProto, got {kind}").format(
            source=source, kind=type(model).__name__))
    if input_size is not None and not (
            isinstance(input_size, tuple | list) and len(input_size) == 2
            and all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in input_size)):
        raise OnnxImportError(_("{source}: input_size must be (height, width), two positive"
                                " whole numbers, not {size!r}").format(source=source,
                                                                       size=input_size))
    try:
        onnx.checker.check_model(model)
    except Exception as error:  # ValidationError, or a protobuf error for a damaged proto
        raise OnnxImportError(_invalid(source, error)) from None
    try:
        pipeline = _Importer(model, source, input_size, name).run()
    except _NodeRefused as refused:
        raise OnnxImportError(refused.message(source)) from None
    except Unsupported as error:
        raise OnnxImportError(_("{source}: {reason}").format(source=source,
                                                            reason=error)) from None
    recipe = {p.key: p.value for p in model.metadata_props}.get(PREPROCESS_KEY)
    if recipe is not None:  # written by engine.onnx.export
        try:
            pipeline = pipeline.with_preprocess(Preprocess.from_dict(json.loads(recipe)))
        except (ValueError, TypeError) as error:
            raise OnnxImportError(_("{source}: its preprocessing cannot be read ({error})")
                                  .format(source=source, error=error)) from None
    return pipeline


def _first_line(error: Exception) -> str:
    lines = [line for line in str(error).strip().splitlines() if line.strip()]
    return lines[0].strip() if lines else type(error).__name__


def _invalid(source: str, error: Exception) -> str:
    """onnx.checker's refusal in one line, naming the node when the checker does."""
    node = re.search(r"Name: (\S*) OpType: (\S+)", str(error))
    if node is None:
        return _("{source}: not a valid ONNX model ({reason})").format(
            source=source, reason=_first_line(error))
    return _("{source}: the {op} node {name!r} is not valid ONNX ({reason})").format(
        source=source, op=node.group(2), name=short_name(node.group(1)),
        reason=_first_line(error))


# ---------------------------------------------------------------- the graph walk


class _Importer(GraphTables):
    """Walks the graph once, folding constants and converting every other node."""

    def __init__(self, model: onnx.ModelProto, source: str, input_size, name: str):
        self.graph = model.graph
        self.source, self.input_size = source, input_size
        self.name = name or model.graph.name
        self.opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")),
                          1)
        self.consts = {t.name: numpy_helper.to_array(t) for t in self.graph.initializer}
        self.shapes: dict[str, tuple[int, ...]] = {}  # activations, without the batch axis
        self.nodes: list[Node] = []
        self.notes: list[str] = []
        self.used = {i for n in self.graph.node for i in n.input} | {
            o.name for o in self.graph.output}
        self.taken = {o for n in self.graph.node for o in n.output} | {
            i.name for i in self.graph.input}

    def run(self) -> Pipeline:
        spec = self._input()
        count = len(self.graph.node)
        for number, proto in enumerate(self.graph.node, start=1):
            try:
                self._node(proto)
            except (Unsupported, ShapeError, ValueError) as error:
                raise _NodeRefused(proto, number, count, _first_line(error)) from None
        for out in self.graph.output:
            if out.name not in self.shapes and out.name not in self.consts:
                raise Unsupported(_("graph output {name!r} is not computed by any node")
                                  .format(name=out.name))
        if not self.nodes:
            raise Unsupported(_("the graph does no operation on its input"))
        self.nodes, fused = fuse_silu(self.nodes, {o.name for o in self.graph.output})
        if fused:
            self.notes.append(ngettext("{n} Sigmoid and Mul pair read as one SiLU layer",
                                       "{n} Sigmoid and Mul pairs read as SiLU layers",
                                       fused).format(n=fused))
        imported = _("imported from {source} (ONNX opset {opset})").format(source=self.source,
                                                                         opset=self.opset)
        description = "; ".join([imported, *self.notes])
        return Pipeline(self.nodes, spec, name=self.name, description=description,
                        input_name=self.input_name)

    def _input(self) -> InputSpec:
        inputs = [i for i in self.graph.input if i.name not in self.consts]
        if len(inputs) != 1:
            names = ", ".join(i.name for i in inputs) or _("none")
            raise Unsupported(_("the engine runs models with one image input; this one has"
                                " {n} ({names})").format(n=len(inputs), names=names))
        info = inputs[0]
        self.input_name = info.name
        tensor = info.type.tensor_type
        if tensor.elem_type != onnx.TensorProto.FLOAT:
            kind = onnx.TensorProto.DataType.Name(tensor.elem_type)
            raise Unsupported(_("input {name!r} holds {kind} values; the engine needs FLOAT")
                              .format(name=info.name, kind=kind))
        dims = [d.dim_value if d.HasField("dim_value") else None for d in tensor.shape.dim]
        if len(dims) != 4:
            raise Unsupported(_("input {name!r} has {n} dimensions; the engine needs 4 (N, C,"
                                " H, W)").format(name=info.name, n=len(dims)))
        batch, channels, height, width = dims
        self.nhwc = self._channels_last(info.name, dims)
        if self.nhwc:
            height, width, channels = dims[1:]
            self.notes.append(_("the file takes (N, H, W, C) images and transposes them to"
                                " (N, C, H, W); here images enter as (C, H, W) and that"
                                " Transpose passes them through"))
        if not channels:
            raise Unsupported(_("input {name!r} leaves its number of channels open")
                              .format(name=info.name))
        if height is None or width is None:
            height, width = self.input_size or (DEFAULT_SIZE, DEFAULT_SIZE)
            self.notes.append(_("input height and width are open in the file, {height}x{width}"
                                " assumed").format(height=height, width=width))
        self.batch = batch or None  # None: left open in the file
        self.shapes[info.name] = (channels, int(height), int(width))
        return InputSpec(channels=channels, height=int(height), width=int(width))

    def _channels_last(self, name: str, dims: list) -> bool:
        """Keras exports: an (N, H, W, C) input whose only use is a Transpose to NCHW."""
        users = [n for n in self.graph.node if name in n.input]
        if dims[1] in (1, 3) or dims[3] not in (1, 3) or not users:
            return False
        return all(n.op_type == "Transpose" and list(helper.get_attribute_value(a) for a in
                   n.attribute if a.name == "perm") == [[0, 3, 1, 2]] for n in users)

    def _node(self, proto: onnx.NodeProto) -> None:
        if proto.domain not in ("", "ai.onnx"):
            raise Unsupported(_("its domain {domain!r} is not standard ONNX; the engine runs"
                                " standard operators only").format(domain=proto.domain))
        used = [i for i in proto.input if i]
        for i in used:
            if i not in self.consts and i not in self.shapes:
                raise Unsupported(_("its input {name!r} is neither a constant nor an earlier"
                                    " output").format(name=i))
        if proto.op_type == "Shape" and used[0] in self.shapes:
            # shapes are known while loading, so shape arithmetic folds to constants
            batch = BATCH if self.batch is None else self.batch
            ctx = NodeContext(proto, self)
            self.consts[proto.output[0]] = shape_part(ctx, [batch, *self.shapes[used[0]]])
            ctx.check_attributes()
        elif all(i in self.consts for i in used):
            self._fold(proto, [self.consts[i] for i in used])
        else:
            convert = CONVERTERS.get(proto.op_type)
            if convert is None:
                raise Unsupported(_("the engine does not support this operator"))
            ctx = NodeContext(proto, self)
            for name, layer, inputs in convert(ctx):
                shape = layer.out_shape(*(self.shapes[i] for i in inputs))
                self.nodes.append(Node(name, layer, tuple(inputs)))
                self.shapes[name] = shape
            ctx.check_attributes()
        for extra in proto.output[1:]:
            if extra and extra in self.used and extra not in self.shapes:
                raise Unsupported(_("its extra output {name!r} is used; the engine computes"
                                    " only the main output").format(name=extra))

    def _fold(self, proto: onnx.NodeProto, values: list[np.ndarray]) -> None:
        ctx = NodeContext(proto, self)
        self.consts[proto.output[0]] = fold(ctx, values)
        ctx.check_attributes()

