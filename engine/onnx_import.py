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

Examples
--------
>>> pipeline = load_onnx("resnet18.onnx")      # doctest: +SKIP
>>> outputs = pipeline.forward(image)          # doctest: +SKIP
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
from onnx import helper, numpy_helper

from engine import layers as L
from engine import onnx_layers as O
from engine.pipeline import InputSpec, Node, Pipeline
from engine.shapes import ShapeError

__all__ = ["DEFAULT_SIZE", "SUPPORTED_OPERATORS", "OnnxImportError", "load_onnx",
           "load_onnx_model"]

# Height and width assumed when the file leaves them open (the ImageNet convention).
DEFAULT_SIZE = 224
# Stands for the batch size in folded shape arithmetic when the file leaves it open.
BATCH = -(2**40)


class OnnxImportError(ValueError):
    """An ONNX file the engine cannot open or run; the message names the node and the reason."""


class _Unsupported(Exception):
    """Raised inside the importer; wrapped into OnnxImportError with the file's name."""


def load_onnx(path, input_size: tuple[int, int] | None = None) -> Pipeline:
    """Read an ONNX file and return it as a :class:`~engine.pipeline.Pipeline`.

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
    if not path.is_file():
        what = "is a folder, not a file" if path.is_dir() else "does not exist"
        raise OnnxImportError(f"{path}: the model file {what}")
    try:
        model = onnx.load(str(path))
    except Exception as error:  # protobuf raises several types for damaged bytes
        raise OnnxImportError(f"{path}: cannot be read as an ONNX model"
                              f" ({_first_line(error)})") from None
    return load_onnx_model(model, source=str(path), input_size=input_size, name=path.stem)


def load_onnx_model(model: onnx.ModelProto, source: str = "<model>",
                    input_size: tuple[int, int] | None = None, name: str = "") -> Pipeline:
    """Convert an in-memory ``onnx.ModelProto``; ``source`` names it in messages.

    See :func:`load_onnx` for the parameters and errors.
    """
    if not isinstance(model, onnx.ModelProto):
        raise OnnxImportError(f"{source}: expected an onnx.ModelProto, got {type(model).__name__}")
    if input_size is not None and not (
            isinstance(input_size, tuple | list) and len(input_size) == 2
            and all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in input_size)):
        raise OnnxImportError(f"{source}: input_size must be (height, width), two positive whole"
                              f" numbers, not {input_size!r}")
    try:
        onnx.checker.check_model(model)
    except Exception as error:  # ValidationError, or a protobuf error for a damaged proto
        raise OnnxImportError(f"{source}: not a valid ONNX model ({_first_line(error)})") from None
    try:
        return _Importer(model, source, input_size, name).run()
    except _Unsupported as error:
        raise OnnxImportError(f"{source}: {error}") from None


def _first_line(error: Exception) -> str:
    lines = [line for line in str(error).strip().splitlines() if line.strip()]
    return lines[0].strip() if lines else type(error).__name__


# ---------------------------------------------------------------- the graph walk


class _Importer:
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
        for index, proto in enumerate(self.graph.node):
            named = f" {proto.name!r}" if proto.name else ""
            where = f"node {index} ({proto.op_type}{named} -> {proto.output[0]!r})"
            try:
                self._node(proto)
            except (_Unsupported, ShapeError, ValueError) as error:
                raise _Unsupported(f"{where}: {error}") from None
        for out in self.graph.output:
            if out.name not in self.shapes and out.name not in self.consts:
                raise _Unsupported(f"graph output {out.name!r} is not computed by any node")
        if not self.nodes:
            raise _Unsupported("the graph does no operation on its input")
        description = "; ".join([f"imported from {self.source} (ONNX opset {self.opset})",
                                 *self.notes])
        return Pipeline(self.nodes, spec, name=self.name, description=description,
                        input_name=self.input_name)

    def _input(self) -> InputSpec:
        inputs = [i for i in self.graph.input if i.name not in self.consts]
        if len(inputs) != 1:
            names = ", ".join(i.name for i in inputs) or "none"
            raise _Unsupported(f"the engine runs models with one image input, this one has"
                               f" {len(inputs)} ({names})")
        info = inputs[0]
        self.input_name = info.name
        tensor = info.type.tensor_type
        if tensor.elem_type != onnx.TensorProto.FLOAT:
            kind = onnx.TensorProto.DataType.Name(tensor.elem_type)
            raise _Unsupported(f"input {info.name!r} holds {kind} values, the engine needs FLOAT")
        dims = [d.dim_value if d.HasField("dim_value") else None for d in tensor.shape.dim]
        if len(dims) != 4:
            raise _Unsupported(f"input {info.name!r} has {len(dims)} dimensions, the engine"
                               " needs 4 (N, C, H, W)")
        batch, channels, height, width = dims
        self.nhwc = self._channels_last(info.name, dims)
        if self.nhwc:
            height, width, channels = dims[1:]
            self.notes.append("the file takes (N, H, W, C) images and transposes them to"
                              " (N, C, H, W); here images enter as (C, H, W) and that"
                              " Transpose passes them through")
        if channels not in (1, 3):
            raise _Unsupported(f"input {info.name!r} has {channels} channels; the engine's"
                               " inputs are images with 3 (RGB) or 1 (gray)")
        if height is None or width is None:
            height, width = self.input_size or (DEFAULT_SIZE, DEFAULT_SIZE)
            self.notes.append(f"input height and width are open in the file, {height}x{width}"
                              " assumed")
        self.batch = batch or None  # None: left open in the file
        self.shapes[info.name] = (channels, int(height), int(width))
        return InputSpec(channels=channels, color="rgb" if channels == 3 else "gray",
                         height=int(height), width=int(width))

    def _channels_last(self, name: str, dims: list) -> bool:
        """Keras exports: an (N, H, W, C) input whose only use is a Transpose to NCHW."""
        users = [n for n in self.graph.node if name in n.input]
        if dims[1] in (1, 3) or dims[3] not in (1, 3) or not users:
            return False
        return all(n.op_type == "Transpose" and list(helper.get_attribute_value(a) for a in
                   n.attribute if a.name == "perm") == [[0, 3, 1, 2]] for n in users)

    def _node(self, proto: onnx.NodeProto) -> None:
        if proto.domain not in ("", "ai.onnx"):
            raise _Unsupported(f"operator {proto.op_type} of domain {proto.domain!r} is not"
                               " standard ONNX; the engine runs standard operators only")
        used = [i for i in proto.input if i]
        for i in used:
            if i not in self.consts and i not in self.shapes:
                raise _Unsupported(f"input {i!r} is neither a constant nor an earlier output")
        if proto.op_type == "Shape" and used[0] in self.shapes:
            # shapes are known while loading, so shape arithmetic folds to constants
            batch = BATCH if self.batch is None else self.batch
            ctx = _Ctx(proto, self)
            self.consts[proto.output[0]] = _shape_part(ctx, [batch, *self.shapes[used[0]]])
            ctx.check_attributes()
        elif all(i in self.consts for i in used):
            self._fold(proto, [self.consts[i] for i in used])
        else:
            convert = _CONVERTERS.get(proto.op_type)
            if convert is None:
                raise _Unsupported(f"operator {proto.op_type} is not supported: the engine would"
                                   f" need a {proto.op_type} layer (it runs"
                                   f" {', '.join(SUPPORTED_OPERATORS)})")
            ctx = _Ctx(proto, self)
            for name, layer, inputs in convert(ctx):
                shape = layer.out_shape(*(self.shapes[i] for i in inputs))
                self.nodes.append(Node(name, layer, tuple(inputs)))
                self.shapes[name] = shape
            ctx.check_attributes()
        for extra in proto.output[1:]:
            if extra and extra in self.used:
                raise _Unsupported(f"its extra output {extra!r} is used, the engine computes"
                                   f" only the main output of {proto.op_type}")

    def _fold(self, proto: onnx.NodeProto, values: list[np.ndarray]) -> None:
        ctx = _Ctx(proto, self)
        fold = _FOLDERS.get(proto.op_type)
        if fold is None:
            raise _Unsupported(f"operator {proto.op_type} on constants is not supported; the"
                               f" engine folds {', '.join(sorted(_FOLDERS))} while loading")
        try:
            self.consts[proto.output[0]] = np.asarray(fold(ctx, values))
        except (ValueError, IndexError, TypeError) as error:
            raise _Unsupported(f"computing {proto.op_type} on constants failed ({error})") from None
        ctx.check_attributes()

    def fresh_name(self, base: str) -> str:
        name, n = base, 1
        while name in self.taken:
            n += 1
            name = f"{base}{n}"
        self.taken.add(name)
        return name


class _Ctx:
    """One node being converted: its attributes (with defaults) and typed access to inputs."""

    def __init__(self, proto: onnx.NodeProto, imp: _Importer):
        self.proto, self.imp, self.opset = proto, imp, imp.opset
        self.op, self.out = proto.op_type, proto.output[0]
        self.attrs = {}
        for a in proto.attribute:
            value = helper.get_attribute_value(a)
            self.attrs[a.name] = value.decode() if isinstance(value, bytes) else value
        self.read: set[str] = set()

    def attr(self, name: str, default=None):
        self.read.add(name)
        return self.attrs.get(name, default)

    def check_attributes(self) -> None:
        """Refuse attributes the converter never read: their meaning would be lost."""
        # no effect on inference outputs (consumed_inputs: an opset < 6 bookkeeping attribute)
        ignored = {"storage_order", "momentum", "seed", "consumed_inputs", "saturate"}
        unknown = sorted(set(self.attrs) - self.read - ignored)
        if unknown:
            raise _Unsupported(f"attribute {', '.join(unknown)} of {self.op} is not supported")

    def input(self, i: int) -> str | None:
        names = self.proto.input
        return names[i] if i < len(names) and names[i] else None

    def const(self, i: int, what: str, required: bool = True) -> np.ndarray | None:
        name = self.input(i)
        if name is None:
            if required:
                raise _Unsupported(f"{self.op} needs its {what} input")
            return None
        if name not in self.imp.consts:
            raise _Unsupported(f"{self.op}'s {what} must be a constant (stored in the file); the"
                               f" engine cannot use the computed value {name!r}")
        return self.imp.consts[name]

    def act(self, i: int) -> str:
        name = self.input(i)
        if name is None or name not in self.imp.shapes:
            raise _Unsupported(f"{self.op}'s input {i} must come from the image, not a constant")
        return name

    def shape(self, i: int) -> tuple[int, ...]:
        return self.imp.shapes[self.act(i)]

    def axis(self, value: int, rank: int, what: str) -> int:
        """An ONNX axis of a batched tensor -> the unbatched axis; the batch axis is refused."""
        full = rank + 1
        if not -full <= value < full:
            raise _Unsupported(f"{self.op}: {what} {value} does not exist in a {full}-D tensor")
        value %= full
        if value == 0:
            raise _Unsupported(f"{self.op} along the batch axis would mix images of a batch;"
                               f" the engine needs an {what} of 1 or more")
        return value - 1

    def extra(self, suffix: str) -> str:
        return self.imp.fresh_name(f"{self.out}:{suffix}")


# ---------------------------------------------------------------- windows: conv and pools


def _window(ctx: _Ctx, in_shape, kernel) -> tuple[tuple, tuple, tuple[int, int, int, int]]:
    """(strides, dilations, pads (top, left, bottom, right)) with auto_pad resolved."""
    if len(in_shape) != 3:
        raise _Unsupported(f"{ctx.op} on a {len(in_shape) + 1}-D tensor: the engine runs 2-D"
                           " windows on (N, C, H, W) maps only")
    strides = tuple(ctx.attr("strides", [1, 1]))
    dilations = tuple(ctx.attr("dilations", [1, 1]))
    pads = tuple(ctx.attr("pads", [0, 0, 0, 0]))
    auto = ctx.attr("auto_pad", "NOTSET")
    if len(kernel) != 2 or len(strides) != 2 or len(dilations) != 2 or len(pads) != 4:
        raise _Unsupported(f"{ctx.op} with a {len(kernel)}-D kernel: the engine runs 2-D only")
    if auto == "VALID":
        pads = (0, 0, 0, 0)
    elif auto in ("SAME_UPPER", "SAME_LOWER"):
        before, after = [], []
        for n, k, s, d in zip(in_shape[1:], kernel, strides, dilations, strict=True):
            total = max((math.ceil(n / s) - 1) * s + (k - 1) * d + 1 - n, 0)
            small = total // 2
            before.append(small if auto == "SAME_UPPER" else total - small)
            after.append(total - before[-1])
        pads = (*before, *after)
    elif auto != "NOTSET":
        raise _Unsupported(f"{ctx.op}: auto_pad {auto!r} is not an ONNX value")
    return strides, dilations, tuple(int(p) for p in pads)


def _short(pair) -> int | tuple[int, int]:
    """(3, 3) -> 3 so the layer's repr reads like PyTorch's."""
    return int(pair[0]) if pair[0] == pair[1] else (int(pair[0]), int(pair[1]))


def _padded_input(ctx: _Ctx, pads, mode: str = "constant",
                  explicit: bool = False) -> tuple[list, str, tuple]:
    """An explicit Pad node when asked or when pads are asymmetric; returns (nodes, the layer's
    input, the layer's own padding)."""
    top, left, bottom, right = pads
    if (top, left) == (bottom, right) and not explicit:
        return [], ctx.act(0), (top, left)
    name = ctx.extra("pad")
    return [(name, O.Pad((left, right, top, bottom), mode), [ctx.act(0)])], name, (0, 0)


def _conv(ctx: _Ctx):
    weight = ctx.const(1, "weight")
    bias = ctx.const(2, "bias", required=False)
    if weight.ndim != 4:
        raise _Unsupported(f"Conv with a {weight.ndim - 2}-D kernel: the engine runs 2-D only")
    kernel = tuple(ctx.attr("kernel_shape", weight.shape[2:]))
    if kernel != weight.shape[2:]:
        raise _Unsupported(f"Conv: kernel_shape {kernel} differs from the weight's"
                           f" {weight.shape[2:]}")
    strides, dilations, pads = _window(ctx, ctx.shape(0), kernel)
    groups = ctx.attr("group", 1)
    nodes, source, padding = _padded_input(ctx, pads)
    layer = L.Conv2d(weight.shape[1] * groups, weight.shape[0], _short(kernel), _short(strides),
                     _short(padding), _short(dilations), groups, bias=bias is not None,
                     weight=weight, bias_values=bias)
    layer.kernel_source = f"from the ONNX file ({ctx.input(1)})"  # shown in the ledger's notes
    return [*nodes, (ctx.out, layer, [source])]


def _explicit_pads(pads, kernel) -> bool:
    """Pads a pool layer cannot take itself: asymmetric, or over half the window (PyTorch's
    limit, which ONNX does not have)."""
    return pads[:2] != pads[2:] or any(2 * p > k for p, k in zip(pads, kernel * 2, strict=True))


def _max_pool(ctx: _Ctx):
    kernel = tuple(ctx.attr("kernel_shape"))
    strides, dilations, pads = _window(ctx, ctx.shape(0), kernel)
    ceil = bool(ctx.attr("ceil_mode", 0))
    if _explicit_pads(pads, kernel):
        if ceil or max(dilations) > 1:
            raise _Unsupported("MaxPool with asymmetric pads or pads over half the window,"
                               " together with ceil_mode or dilation, is not supported; the"
                               " engine needs equal pads of at most half the window")
        # Repeating the edge pixel never changes a maximum: each window that reaches into the
        # border also covers the edge pixel it repeats.
        nodes, source, padding = _padded_input(ctx, pads, mode="edge", explicit=True)
    else:
        nodes, source, padding = [], ctx.act(0), pads[:2]
    layer = L.MaxPool2d(_short(kernel), _short(strides), _short(padding), _short(dilations), ceil)
    return [*nodes, (ctx.out, layer, [source])]


def _avg_pool(ctx: _Ctx):
    kernel = tuple(ctx.attr("kernel_shape"))
    strides, dilations, pads = _window(ctx, ctx.shape(0), kernel)
    if max(dilations) > 1:
        raise _Unsupported("AveragePool with dilations is not supported; the engine's"
                           " average pool has dense windows")
    ceil = bool(ctx.attr("ceil_mode", 0))
    include = bool(ctx.attr("count_include_pad", 0))
    if _explicit_pads(pads, kernel):
        if ceil or not include:
            raise _Unsupported("AveragePool with asymmetric pads or pads over half the window"
                               " is supported only with count_include_pad=1 and ceil_mode=0"
                               " (then the zeros count)")
        nodes, source, padding = _padded_input(ctx, pads, explicit=True)
    else:
        nodes, source, padding = [], ctx.act(0), pads[:2]
    layer = L.AvgPool2d(_short(kernel), _short(strides), _short(padding), ceil, include)
    return [*nodes, (ctx.out, layer, [source])]


def _global_avg_pool(ctx: _Ctx):
    if len(ctx.shape(0)) != 3:
        raise _Unsupported("GlobalAveragePool needs an (N, C, H, W) map")
    return [(ctx.out, L.GlobalAvgPool2d(), [ctx.act(0)])]


def _global_max_pool(ctx: _Ctx):
    shape = ctx.shape(0)
    if len(shape) != 3:
        raise _Unsupported("GlobalMaxPool needs an (N, C, H, W) map")
    # one window as large as the map: exactly a global maximum, and it reads like PyTorch
    return [(ctx.out, L.MaxPool2d(_short(shape[1:])), [ctx.act(0)])]


# ---------------------------------------------------------------- per-value and normalization


def _batch_norm(ctx: _Ctx):
    if ctx.attr("training_mode", 0) or not ctx.attr("spatial", 1):
        raise _Unsupported("BatchNormalization in training mode or with spatial=0 is not"
                           " supported; the engine runs inference with running statistics")
    if len(ctx.shape(0)) != 3:
        raise _Unsupported("BatchNormalization of vectors is not supported; the engine's"
                           " BatchNorm2d needs (N, C, H, W) maps")
    scale, bias, mean, var = (ctx.const(i, what) for i, what in
                              enumerate(("scale", "bias", "mean", "variance"), start=1))
    layer = L.BatchNorm2d(len(scale), mean, var, scale, bias, eps=ctx.attr("epsilon", 1e-5))
    return [(ctx.out, layer, [ctx.act(0)])]


def _simple(layer_type: type[L.Layer]) -> Callable:
    return lambda ctx: [(ctx.out, layer_type(), [ctx.act(0)])]


def _leaky_relu(ctx: _Ctx):
    return [(ctx.out, L.LeakyReLU(ctx.attr("alpha", 0.01)), [ctx.act(0)])]


def _clip(ctx: _Ctx):
    if ctx.opset < 11:
        lo, hi = ctx.attr("min"), ctx.attr("max")
    else:
        lo, hi = (ctx.const(i, what, required=False) for i, what in ((1, "min"), (2, "max")))
    # ONNX's default bounds are the float32 limits: treat them as absent.
    lo, hi = (None if v is None or abs(float(v)) >= 3e38 else float(v) for v in (lo, hi))
    if lo == 0.0 and hi is None:
        layer = L.ReLU()
    elif lo is not None and hi is not None and max(abs(lo), abs(hi)) <= 1e6 and lo < hi:
        layer = L.Hardtanh(lo, hi)  # ReLU6 reads as Hardtanh(0, 6), like PyTorch
    else:
        layer = O.Clip(lo, hi)
    return [(ctx.out, layer, [ctx.act(0)])]


def _lrn(ctx: _Ctx):
    layer = O.LocalResponseNorm(ctx.attr("size"), ctx.attr("alpha", 1e-4),
                                ctx.attr("beta", 0.75), ctx.attr("bias", 1.0),
                                in_rank=len(ctx.shape(0)))
    return [(ctx.out, layer, [ctx.act(0)])]


def _softmax(ctx: _Ctx):
    rank = len(ctx.shape(0))
    axis = ctx.axis(ctx.attr("axis", -1 if ctx.opset >= 13 else 1), rank, "axis")
    if ctx.opset < 13 and math.prod(ctx.shape(0)[axis + 1:]) != 1:
        raise _Unsupported(f"Softmax (opset {ctx.opset}) over axes {axis + 1}.. together is not"
                           " supported; the engine needs a softmax over one axis")
    return [(ctx.out, L.Softmax(axis - rank), [ctx.act(0)])]


def _reduce_mean(ctx: _Ctx):
    rank = len(ctx.shape(0))
    axes = ctx.const(1, "axes", required=False) if ctx.opset >= 18 else ctx.attr("axes")
    if ctx.attr("noop_with_empty_axes", 0) and axes is None:
        return [(ctx.out, O.Identity(), [ctx.act(0)])]
    if axes is None:
        raise _Unsupported("ReduceMean over every axis would mix images of a batch; the"
                           " engine needs axes without the batch axis")
    dims = sorted({ctx.axis(int(a), rank, "axis") for a in np.asarray(axes).reshape(-1)})
    keep = bool(ctx.attr("keepdims", 1))
    if rank == 3 and dims == [1, 2] and keep:
        return [(ctx.out, L.GlobalAvgPool2d(), [ctx.act(0)])]
    return [(ctx.out, O.ReduceMean(dims, keep, rank), [ctx.act(0)])]


def _dropout(ctx: _Ctx):
    ctx.attr("ratio")
    ctx.attr("is_test")  # opset < 7: inference either way
    if ctx.opset >= 12:
        training = ctx.const(2, "training_mode", required=False)
        if training is not None and bool(training):
            raise _Unsupported("Dropout in training mode is not supported")
    return [(ctx.out, O.Dropout(), [ctx.act(0)])]


# ---------------------------------------------------------------- dense, arithmetic, shapes


def _gemm(ctx: _Ctx):
    if ctx.attr("transA", 0):
        raise _Unsupported("Gemm with transA=1 would mix images of a batch; the engine needs"
                           " transA=0")
    ctx.attr("broadcast")
    if len(ctx.shape(0)) != 1:
        raise _Unsupported(f"Gemm needs (N, features) vectors, got {len(ctx.shape(0)) + 1}-D")
    b = ctx.const(1, "B").astype(np.float32)
    weight = ctx.attr("alpha", 1.0) * (b if ctx.attr("transB", 0) else b.T)  # (out, in)
    c = ctx.const(2, "C", required=False)
    bias = None
    if c is not None:
        if c.size not in (1, weight.shape[0]) or (c.ndim == 2 and c.shape[0] != 1):
            raise _Unsupported(f"Gemm's C of shape {c.shape} is not one value per output")
        bias = np.broadcast_to(ctx.attr("beta", 1.0) * c.reshape(-1), (weight.shape[0],))
    else:
        ctx.attr("beta")
    layer = L.Linear(weight.shape[1], weight.shape[0], bias=bias is not None, weight=weight,
                     bias_values=bias)
    return [(ctx.out, layer, [ctx.act(0)])]


def _matmul(ctx: _Ctx):
    b = ctx.const(1, "second factor (B)")
    if b.ndim != 2:
        raise _Unsupported(f"MatMul by a {b.ndim}-D constant is not supported; the engine needs"
                           " a 2-D matrix")
    return [(ctx.out, O.MatMul(b), [ctx.act(0)])]


def _binary(ctx: _Ctx):
    names = [ctx.input(0), ctx.input(1)]
    const_at = [i for i, n in enumerate(names) if n in ctx.imp.consts]
    if not const_at:
        ranks = {len(ctx.shape(0)), len(ctx.shape(1))}
        if len(ranks) != 1:
            raise _Unsupported(f"{ctx.op} of tensors of different ranks is not supported")
        if ctx.op == "Add":
            if ctx.shape(0) != ctx.shape(1):
                raise _Unsupported(f"Add of shapes {ctx.shape(0)} and {ctx.shape(1)} (with"
                                   " broadcasting) is not supported; the engine adds equal shapes")
            return [(ctx.out, L.Add(), names)]
        return [(ctx.out, _ARITHMETIC[ctx.op](), names)]
    i = const_at[0]
    value = ctx.const(i, "constant operand").astype(np.float32)
    full = len(ctx.shape(1 - i)) + 1
    if ctx.attr("broadcast", 0) and ctx.attr("axis") is not None:
        # opset < 7: the constant lines up with the tensor from `axis` on, not from the right
        start = ctx.attr("axis") % full
        value = value.reshape(value.shape + (1,) * (full - start - value.ndim))
    if value.ndim == full:
        if value.shape[0] != 1:
            raise _Unsupported(f"{ctx.op} by a constant with {value.shape[0]} entries along the"
                               " batch axis is not supported")
        value = value[0]  # (1, C, 1, 1) -> (C, 1, 1): broadcasts the same with or without N
    elif value.ndim > full:
        raise _Unsupported(f"{ctx.op} by a {value.ndim}-D constant on a {full}-D tensor")
    source = [names[1 - i]]
    if ctx.op == "Add":
        return [(ctx.out, O.AddConstant(value), source)]
    return [(ctx.out, _ARITHMETIC[ctx.op](value, constant_first=i == 0), source)]


_ARITHMETIC = {"Mul": O.Mul, "Sub": O.Sub, "Div": O.Div}


def _sum(ctx: _Ctx):
    sources = [ctx.act(i) for i in range(len(ctx.proto.input))]
    if len(sources) == 1:
        return [(ctx.out, O.Identity(), sources)]
    if any(ctx.imp.shapes[s] != ctx.shape(0) for s in sources):
        raise _Unsupported("Sum of inputs of different shapes (with broadcasting) is not"
                           " supported; the engine adds equal shapes")
    return [(ctx.out, L.Add(), sources)]


def _transpose(ctx: _Ctx):
    if ctx.imp.nhwc and ctx.input(0) == ctx.imp.input_name:
        ctx.attr("perm")
        return [(ctx.out, O.Identity(), [ctx.act(0)])]  # the image already enters as (C, H, W)
    rank = len(ctx.shape(0))
    perm = ctx.attr("perm", list(range(rank, -1, -1)))
    if perm[0] != 0:
        raise _Unsupported(f"Transpose with perm {list(perm)} would move the batch axis; the"
                           " engine needs perm to start with 0")
    return [(ctx.out, O.Transpose([p - 1 for p in perm[1:]]), [ctx.act(0)])]


def _concat(ctx: _Ctx):
    sources = [ctx.act(i) for i in range(len(ctx.proto.input))]
    rank = len(ctx.shape(0))
    dim = ctx.axis(ctx.attr("axis"), rank, "axis")
    if rank not in (1, 3):
        raise _Unsupported(f"Concat of {rank + 1}-D tensors is not supported; the engine joins"
                           " (N, C, H, W) maps or (N, F) vectors")
    return [(ctx.out, L.Concat(dim), sources)]


def _flatten(ctx: _Ctx):
    rank = len(ctx.shape(0))
    axis = ctx.attr("axis", 1)
    if (axis + rank + 1 if axis < 0 else axis) != 1:
        raise _Unsupported(f"Flatten with axis {axis} would merge the batch axis with others;"
                           " the engine needs axis=1")
    layer = L.Flatten() if rank in (1, 3) else O.Reshape((-1,), rank)
    return [(ctx.out, layer, [ctx.act(0)])]


def _reshape(ctx: _Ctx):
    in_shape = ctx.shape(0)
    if ctx.opset < 5:  # the shape was an attribute then
        target = [int(s) for s in ctx.attr("shape")]
    else:
        target = [int(s) for s in ctx.const(1, "shape").reshape(-1)]
    if ctx.attr("allowzero", 0) and 0 in target:
        raise _Unsupported("Reshape with allowzero=1 and a 0 in the shape is not supported")
    if not target:
        raise _Unsupported("Reshape to a scalar would drop the batch axis")
    first, rest = target[0], target[1:]
    batch = ctx.imp.batch
    keeps_batch = first in (0, BATCH) or (batch is not None and first == batch)
    if first == -1 and -1 not in rest:
        per_sample = math.prod(in_shape[i] if s == 0 else s for i, s in enumerate(rest))
        keeps_batch = per_sample == math.prod(in_shape)
    if not keeps_batch or any(s < -1 for s in rest):
        shown = ["N" if s == BATCH else s for s in target]
        raise _Unsupported(f"Reshape to {shown} would change the batch axis; the engine needs"
                           " a shape whose first entry is 0, -1 or the batch size")
    return [(ctx.out, O.Reshape(rest, len(in_shape)), [ctx.act(0)])]


def _pad(ctx: _Ctx):
    mode = ctx.attr("mode", "constant")
    if ctx.opset < 11:
        pads, value = ctx.attr("pads"), ctx.attr("value", 0.0)
    else:
        pads = ctx.const(1, "pads")
        fill = ctx.const(2, "constant_value", required=False)
        value = 0.0 if fill is None else float(fill.reshape(-1)[0]) if fill.size else 0.0
        axes = ctx.const(3, "axes", required=False)
    rank = len(ctx.shape(0)) + 1
    pads = [int(p) for p in np.asarray(pads).reshape(-1)]
    if ctx.opset >= 11 and axes is not None:  # pads given for some axes only
        full = [0] * (2 * rank)
        for j, a in enumerate(int(a) % rank for a in axes.reshape(-1)):
            full[a], full[rank + a] = pads[j], pads[len(pads) // 2 + j]
        pads = full
    if len(pads) != 2 * rank or rank < 3:
        raise _Unsupported(f"Pad needs 2 amounts per axis of a 3-D or larger tensor, got"
                           f" {len(pads)} for {rank}-D")
    if any(pads[: rank - 2]) or any(pads[rank : 2 * rank - 2]):
        raise _Unsupported("Pad on axes other than the last two (height and width) is not"
                           " supported")
    if min(pads) < 0:
        raise _Unsupported("Pad with negative amounts (cropping) is not supported")
    if mode not in ("constant", "reflect", "edge"):
        raise _Unsupported(f"Pad mode {mode!r} is not supported; the engine pads with constant,"
                           " reflect or edge")
    top, left, bottom, right = pads[rank - 2], pads[rank - 1], pads[-2], pads[-1]
    return [(ctx.out, O.Pad((left, right, top, bottom), mode, value), [ctx.act(0)])]


_CONVERTERS: dict[str, Callable[[_Ctx], list]] = {
    "Add": _binary, "AveragePool": _avg_pool, "BatchNormalization": _batch_norm, "Clip": _clip,
    "Concat": _concat, "Conv": _conv, "Div": _binary, "Dropout": _dropout, "Flatten": _flatten,
    "Gemm": _gemm, "GlobalAveragePool": _global_avg_pool, "GlobalMaxPool": _global_max_pool,
    "Identity": _simple(O.Identity), "LeakyRelu": _leaky_relu, "LRN": _lrn, "MatMul": _matmul,
    "MaxPool": _max_pool, "Mul": _binary, "Pad": _pad, "ReduceMean": _reduce_mean,
    "Relu": _simple(L.ReLU), "Reshape": _reshape, "Sigmoid": _simple(L.Sigmoid),
    "Softmax": _softmax, "Sub": _binary, "Sum": _sum, "Tanh": _simple(L.Tanh),
    "Transpose": _transpose,
}
SUPPORTED_OPERATORS: tuple[str, ...] = tuple(sorted(_CONVERTERS))


# ---------------------------------------------------------------- folding constants


def _constant(ctx: _Ctx, values):
    for key in ("value", "value_float", "value_floats", "value_int", "value_ints"):
        if key in ctx.attrs:
            value = ctx.attr(key)
            return numpy_helper.to_array(value) if key == "value" else np.array(value)
    raise _Unsupported("Constant without a numeric value (sparse or text) is not supported")


def _axes(ctx: _Ctx, values) -> list[int] | None:
    if ctx.opset >= 13:
        return None if len(values) < 2 else [int(a) for a in values[1].reshape(-1)]
    axes = ctx.attr("axes")
    return None if axes is None else list(axes)


def _unsqueeze(ctx: _Ctx, values):
    out, axes = values[0], _axes(ctx, values)
    rank = out.ndim + len(axes)
    for a in sorted(a % rank for a in axes):
        out = np.expand_dims(out, a)
    return out


def _squeeze(ctx: _Ctx, values):
    axes = _axes(ctx, values)
    return np.squeeze(values[0], None if axes is None else tuple(axes))


def _divide(a, b):
    if np.issubdtype(np.result_type(a, b), np.integer):
        return np.trunc(a / b).astype(np.result_type(a, b))  # ONNX truncates like C
    return a / b


def _fold_reshape(ctx: _Ctx, values):
    data, shape = values
    if ctx.attr("allowzero", 0):
        return data.reshape([int(s) for s in shape.reshape(-1)])
    shape = [data.shape[i] if s == 0 else int(s) for i, s in enumerate(shape.reshape(-1))]
    return data.reshape(shape)


def _shape_part(ctx: _Ctx, dims) -> np.ndarray:
    """Shape's output: the dimensions from ``start`` to ``end`` (opset 15), all by default."""
    return np.array(dims, np.int64)[ctx.attr("start", 0) : ctx.attr("end")]


def _cast(ctx: _Ctx, values):
    return values[0].astype(helper.tensor_dtype_to_np_dtype(ctx.attr("to")))


_FOLDERS: dict[str, Callable] = {
    "Constant": _constant,
    "Identity": lambda ctx, v: v[0],
    "Cast": _cast,
    "Shape": lambda ctx, v: _shape_part(ctx, v[0].shape),
    "Gather": lambda ctx, v: np.take(v[0], v[1], axis=ctx.attr("axis", 0)),
    "Unsqueeze": _unsqueeze,
    "Squeeze": _squeeze,
    "Concat": lambda ctx, v: np.concatenate([np.atleast_1d(a) for a in v], axis=ctx.attr("axis")),
    "Reshape": _fold_reshape,
    "Transpose": lambda ctx, v: np.transpose(v[0], ctx.attr("perm")),
    "Add": lambda ctx, v: v[0] + v[1],
    "Sub": lambda ctx, v: v[0] - v[1],
    "Mul": lambda ctx, v: v[0] * v[1],
    "Div": lambda ctx, v: _divide(v[0], v[1]),
}
