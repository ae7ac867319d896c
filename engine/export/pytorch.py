"""Export a pipeline as PyTorch source: a readable ``nn.Module`` and its weights (``.npz``).

The generated file needs only torch and numpy. Weighted layers become ``nn.Conv2d``,
``nn.ConvTranspose2d``, ``nn.Linear`` and ``nn.BatchNorm2d`` modules; everything else a line of
``torch`` / ``torch.nn.functional`` in ``forward``, its constants registered as buffers. Axes
move by one (PyTorch counts the batch axis). ``load(path)`` builds the module and loads the
weights; the module returns the pipeline's output (a tuple when it has several).
"""

from __future__ import annotations

import numpy as np

from engine.export.code import ExportError, Program, identifiers, input_shape_of, outputs_of
from engine.graph.pipeline import Pipeline
from engine.i18n import _
from engine.layers.slicing import _python_slice
from engine.ops.resize import axis_matrix
from engine.ops.shapes import pair

__all__ = ["pytorch_source"]

_HEADER = '''"""{name}: exported from CNN Explorer as a PyTorch module.

Input: (N, {c}, {h}, {w}) float32{prep}. Usage:

    model = load("{weights}")
    y = model(torch.from_numpy(x))
"""

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
'''

_FOOTER = '''

def load(weights="{weights}") -> Net:
    """The network with its weights, in eval mode."""
    model = Net()
    with np.load(weights) as arrays:
        state = {{k: torch.from_numpy(arrays[k]) for k in arrays.files}}
    model.load_state_dict(state)
    return model.eval()
'''


def _t(v) -> str:
    return repr(tuple(pair(v)))


def _layer(p: Program, layer, ident: str, xs: list[str], shapes, init: list[str]) -> str:
    """The expression of one layer; adds its modules and buffers to ``init``."""
    t, x = layer.type_name, xs[0]
    rank = len(shapes[0])

    def buf(name, value) -> str:
        value = np.asarray(value)
        value = value.astype(np.int64 if value.dtype.kind in "iu" else np.float32)
        key = p.array(f"{ident}_{name}", value)
        dtype = ", dtype=torch.int64" if value.dtype == np.int64 else ""
        init.append(f"self.register_buffer({key!r}, torch.zeros({tuple(value.shape)!r}{dtype}))")
        return f"self.{key}"

    def module(code: str, arrays: dict) -> str:
        init.append(f"self.{ident} = {code}")
        for k, v in arrays.items():
            p.array(f"{ident}.{k}", v)
        return f"self.{ident}({x})"

    if t == "Conv2d":
        code = (f"nn.Conv2d({layer.in_channels}, {layer.out_channels}, {_t(layer.kernel_size)},"
                f" stride={_t(layer.stride)}, padding={_t(layer.padding)},"
                f" dilation={_t(layer.dilation)}, groups={layer.groups},"
                f" bias={layer.bias is not None})")
        arrays = {"weight": layer._kernel, **({"bias": layer.bias} if layer.bias is not None
                                              else {})}
        return module(code, arrays)
    if t == "ConvTranspose2d":
        code = (f"nn.ConvTranspose2d({layer.in_channels}, {layer.out_channels},"
                f" {_t(layer.kernel_size)}, stride={_t(layer.stride)},"
                f" padding={_t(layer.padding)}, output_padding={_t(layer.output_padding)},"
                f" groups={layer.groups}, bias={layer.bias is not None},"
                f" dilation={_t(layer.dilation)})")
        return module(code, layer.parameters())
    if t == "Linear":
        return module(f"nn.Linear({layer.in_features}, {layer.out_features},"
                      f" bias={layer.bias is not None})", layer.parameters())
    if t == "BatchNorm2d":
        arrays = {**layer.parameters(), "num_batches_tracked": np.array(0, np.int64)}
        return module(f"nn.BatchNorm2d({layer.num_features}, eps={layer.eps!r})", arrays)
    simple = {"ReLU": f"F.relu({x})", "Sigmoid": f"torch.sigmoid({x})",
              "Tanh": f"torch.tanh({x})", "Identity": x, "Dropout": x, "Erf": f"torch.erf({x})",
              "HardSwish": f"F.hardswish({x})", "SELU": f"F.selu({x})", "SiLU": f"F.silu({x})",
              "Sqrt": f"torch.sqrt({x})", "Reciprocal": f"torch.reciprocal({x})",
              "Exp": f"torch.exp({x})", "Log": f"torch.log({x})", "Abs": f"torch.abs({x})",
              "Neg": f"-{x}", "Softplus": f"F.softplus({x})",
              "GlobalAvgPool2d": f"{x}.mean((2, 3), keepdim=True)"}
    if t in simple:
        return simple[t]
    if t == "LeakyReLU":
        return f"F.leaky_relu({x}, {layer.negative_slope!r})"
    if t in ("Hardtanh", "Clip"):
        return f"torch.clamp({x}, {layer.min_val!r}, {layer.max_val!r})"
    if t in ("Softmax", "LogSoftmax"):
        fn = "softmax" if t == "Softmax" else "log_softmax"
        return f"F.{fn}({x}, dim={layer.dim % rank + 1})"
    if t == "MaxPool2d":
        stride = layer.stride or layer.kernel_size
        return (f"F.max_pool2d({x}, {_t(layer.kernel_size)}, {_t(stride)}, {_t(layer.padding)},"
                f" {_t(layer.dilation)}, ceil_mode={layer.ceil_mode})")
    if t in ("AvgPool2d", "LpPool2d"):
        stride = layer.stride or layer.kernel_size
        kh, kw = pair(layer.kernel_size)
        src = x if t == "AvgPool2d" else f"{x}.abs() ** {layer.norm_type!r}"
        include = getattr(layer, "count_include_pad", True)
        pool = (f"F.avg_pool2d({src}, {_t(layer.kernel_size)}, {_t(stride)},"
                f" {_t(layer.padding)}, ceil_mode={layer.ceil_mode},"
                f" count_include_pad={include})")
        return pool if t == "AvgPool2d" else f"({pool} * {kh * kw}) ** {1 / layer.norm_type!r}"
    if t == "Flatten":
        start, end = (d % rank + 1 for d in (layer.start_dim, layer.end_dim))
        return f"torch.flatten({x}, {start}, {end})"
    if t == "Add":
        return " + ".join(xs)
    if t == "Concat":
        return f"torch.cat([{', '.join(xs)}], dim={layer.dim % rank + 1})"
    if t == "Reshape":
        return f"{x}.reshape({x}.shape[0], *{layer.out_shape(shapes[0])!r})"
    if t == "Transpose":
        return f"{x}.permute(0, {', '.join(str(q + 1) for q in layer.perm)})"
    if t == "Pad":
        mode = {"edge": "replicate"}.get(layer.mode, layer.mode)
        value = f", value={layer.value!r}" if layer.mode == "constant" else ""
        return f"F.pad({x}, {tuple(layer.padding)!r}, mode={mode!r}{value})"
    if t == "MatMul":
        return f"{x} @ {buf('weight', layer.weight)}"
    if t in ("AddConstant", "Sum", "Mul", "Sub", "Div", "Pow", "Max", "Min"):
        operands = xs if layer.constant is None else [x, buf("constant", layer.constant)]
        if getattr(layer, "constant_first", False):
            operands = operands[::-1]
        symbol = {"AddConstant": " + ", "Sum": " + ", "Mul": " * ", "Sub": " - ",
                  "Div": " / ", "Pow": " ** "}.get(t)
        if symbol:
            return symbol.join(operands)
        fn = "torch.maximum" if t == "Max" else "torch.minimum"
        out = operands[0]
        for other in operands[1:]:
            out = f"{fn}({out}, {other})"
        return out
    if t.startswith("Reduce"):
        fn = {"ReduceMean": "mean", "ReduceSum": "sum", "ReduceMax": "amax",
              "ReduceMin": "amin"}[t]
        dims = tuple(a + 1 for a in layer.axes)
        return f"{x}.{fn}({dims!r}, keepdim={layer.keepdims})"
    if t == "Slice":
        index = [":"] * (rank + 1)
        for a, start, end, step in layer.slices:
            n = shapes[0][a]
            kept = range(n)[slice(*_python(start, end, step, n))]
            index[a + 1] = buf(f"index{a}", np.array(kept))
        out = x
        for a, _s, _e, _t2 in layer.slices:
            out = f"{out}.index_select({a + 1}, {index[a + 1]})"
        return out
    if t == "Gather":
        indices = layer.indices % shapes[0][layer.axis]
        return f"{x}.index_select({layer.axis + 1}, {buf('indices', indices.reshape(-1))})" + (
            f".squeeze({layer.axis + 1})" if layer.indices.ndim == 0 else "")
    if t == "HardSigmoid":
        return f"torch.clamp({x} * {layer.alpha!r} + {layer.beta!r}, 0, 1)"
    if t == "ELU":
        return f"F.elu({x}, {layer.alpha!r})"
    if t == "GELU":
        return f"F.gelu({x}, approximate={layer.approximate!r})"
    if t == "PReLU":
        return f"torch.where({x} > 0, {x}, {x} * {buf('weight', layer.weight)})"
    if t == "LayerNorm":
        normalized = shapes[0][layer.axis:]
        weight = np.broadcast_to(layer.weight, normalized)
        bias = np.broadcast_to(layer.bias, normalized)
        return (f"F.layer_norm({x}, {tuple(normalized)!r}, {buf('weight', weight)},"
                f" {buf('bias', bias)}, {layer.eps!r})")
    if t == "InstanceNorm2d":
        return (f"F.instance_norm({x}, weight={buf('weight', layer.weight)},"
                f" bias={buf('bias', layer.bias)}, eps={layer.eps!r})")
    if t == "Resize":
        out, scales = layer._plan(shapes[0][-2:])
        rows, cols = (axis_matrix(n, o, s, *layer._modes()).astype("float32")
                      for n, o, s in zip(shapes[0][-2:], out, scales, strict=True))
        return f"{buf('rows', rows)} @ {x} @ {buf('cols', cols)}.T"
    if t == "LocalResponseNorm":
        return (f"F.local_response_norm({x}, {layer.size}, {layer.alpha!r}, {layer.beta!r},"
                f" {layer.k!r})")
    raise ExportError(_("layer type {type} cannot be written as PyTorch").format(type=t))


def _python(start, end, step, n):
    s = _python_slice(n, start, end, step)
    return s.start, s.stop, s.step


def pytorch_source(pipeline: Pipeline, input_shape=None,
                   weights: str = "model.npz") -> tuple[str, dict]:
    """(source text, arrays by state_dict key) for ``pipeline``."""
    shape = input_shape_of(pipeline, input_shape)
    shapes = {pipeline.input_name: shape, **pipeline.shapes(shape)}
    names = identifiers([pipeline.input_name, *(n.name for n in pipeline)])
    program, init, body = Program(), [], []
    for node in pipeline:
        ident = names[node.name]
        expr = _layer(program, node.layer, ident, [names[s] for s in node.inputs],
                      [shapes[s] for s in node.inputs], init)
        body.append(f"{ident} = {expr}  # {node.layer!r} -> {shapes[node.name]}")
    results = [names[o] for o in outputs_of(pipeline)]
    prep = pipeline.input_spec.preprocess
    header = _HEADER.format(name=pipeline.name or "network", c=shape[0], h=shape[1], w=shape[2],
                            prep=f", preprocessed as {prep.to_dict()}" if prep else "",
                            weights=weights)
    lines = [header + "".join(f"        {line}\n" for line in init or ["pass"]),
             f"    def forward(self, {names[pipeline.input_name]}):",
             *(f"        {line}" for line in body),
             f"        return {', '.join(results)}"]
    return "\n".join(lines) + "\n" + _FOOTER.format(weights=weights), program.arrays
