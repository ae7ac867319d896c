"""Export a pipeline as a standalone Python script that needs only numpy, and its weights.

The script defines ``run(x, weights)``: every node one line, the few functions they call
(:mod:`engine.export.numpy_prelude`) written out above it. ``python script.py in.npy`` prints
the output's shape; ``run`` is there to import.
"""

from __future__ import annotations

import numpy as np

from engine.export.code import ExportError, Program, identifiers, input_shape_of, outputs_of
from engine.export.numpy_prelude import HELPERS, NEEDS
from engine.graph.pipeline import Pipeline
from engine.i18n import _
from engine.layers.slicing import _python_slice
from engine.ops.resize import axis_matrix
from engine.ops.shapes import pair

__all__ = ["numpy_source"]

_HEADER = '''"""{name}: exported from CNN Explorer as a numpy-only script.

Input: (N, {c}, {h}, {w}) float32{prep}. Usage:

    weights = np.load("{weights}")
    y = run(x, weights)
"""

import sys

import numpy as np
'''

_MAIN = '''

if __name__ == "__main__":
    x = np.load(sys.argv[1]).astype(np.float32)
    with np.load("{weights}") as weights:
        y = run(x, weights)
    print(y.shape if isinstance(y, np.ndarray) else [a.shape for a in y])
'''

_SIMPLE = {"ReLU": "np.maximum({x}, 0)", "Sigmoid": "1 / (1 + np.exp(-{x}))",
           "Tanh": "np.tanh({x})", "Identity": "{x}", "Dropout": "{x}",
           "SiLU": "{x} / (1 + np.exp(-{x}))",
           "HardSwish": "{x} * np.clip({x} / 6 + 0.5, 0, 1)", "Sqrt": "np.sqrt({x})",
           "Reciprocal": "1 / {x}", "Exp": "np.exp({x})", "Log": "np.log({x})",
           "Abs": "np.abs({x})", "Neg": "-{x}", "Softplus": "np.logaddexp(0, {x})",
           "GlobalAvgPool2d": "{x}.mean(axis=(2, 3), keepdims=True)",
           "SELU": "1.0507009873554805 * np.where({x} > 0, {x}, 1.6732632423543772 *"
                   " np.expm1(np.minimum({x}, 0)))"}


def _layer(p: Program, layer, ident: str, xs: list[str], shapes, used: set) -> str:
    t, x = layer.type_name, xs[0]
    rank = len(shapes[0])

    def w(name, value) -> str:
        return f"w[{p.array(f'{ident}.{name}', value)!r}]"

    def use(*names) -> None:
        for name in names:
            used.add(name)
            used.update(NEEDS.get(name, ()))

    if t in _SIMPLE:
        return _SIMPLE[t].format(x=x)
    if t == "Conv2d":
        use("conv2d")
        bias = "None" if layer.bias is None else w("bias", layer.bias)
        return (f"conv2d({x}, {w('weight', layer._kernel)}, {bias}, {pair(layer.stride)},"
                f" {pair(layer.padding)}, {pair(layer.dilation)}, {layer.groups})")
    if t == "ConvTranspose2d":
        use("conv_transpose2d")
        bias = "None" if layer.bias is None else w("bias", layer.bias)
        return (f"conv_transpose2d({x}, {w('weight', layer.weight)}, {bias}, {pair(layer.stride)},"
                f" {pair(layer.padding)}, {pair(layer.output_padding)}, {pair(layer.dilation)},"
                f" {layer.groups})")
    if t == "Linear":
        bias = "" if layer.bias is None else f" + {w('bias', layer.bias)}"
        return f"{x} @ {w('weight', layer.weight)}.T{bias}"
    if t == "BatchNorm2d":
        scale = layer.weight / np.sqrt(layer.running_var.astype(np.float64) + layer.eps)
        shift = layer.bias - layer.running_mean * scale
        return (f"{x} * {w('scale', scale.reshape(-1, 1, 1))} +"
                f" {w('shift', shift.reshape(-1, 1, 1))}")
    if t == "LeakyReLU":
        return f"np.where({x} > 0, {x}, {x} * {layer.negative_slope!r})"
    if t in ("Hardtanh", "Clip"):
        return f"np.clip({x}, {layer.min_val!r}, {layer.max_val!r})"
    if t == "Softmax":
        use("softmax")
        return f"softmax({x}, {layer.dim % rank + 1})"
    if t == "LogSoftmax":
        use("softmax")
        return f"np.log(softmax({x}, {layer.dim % rank + 1}))"
    if t == "MaxPool2d":
        use("max_pool2d")
        return (f"max_pool2d({x}, {pair(layer.kernel_size)}, "
                f"{pair(layer.stride or layer.kernel_size)}, {pair(layer.padding)},"
                f" {pair(layer.dilation)}, {layer.ceil_mode})")
    if t in ("AvgPool2d", "LpPool2d"):
        use("avg_pool2d")
        src = x if t == "AvgPool2d" else f"np.abs({x}) ** {layer.norm_type!r}"
        call = (f"avg_pool2d({src}, {pair(layer.kernel_size)},"
                f" {pair(layer.stride or layer.kernel_size)}, {pair(layer.padding)},"
                f" {layer.ceil_mode}, {getattr(layer, 'count_include_pad', True)})")
        if t == "AvgPool2d":
            return call
        kh, kw = pair(layer.kernel_size)
        return f"({call} * {kh * kw}) ** {1 / layer.norm_type!r}"
    if t in ("Flatten", "Reshape"):
        return f"{x}.reshape({x}.shape[0], *{layer.out_shape(shapes[0])!r})"
    if t == "Add":
        return " + ".join(xs)
    if t == "Concat":
        return f"np.concatenate([{', '.join(xs)}], axis={layer.dim % rank + 1})"
    if t == "Transpose":
        return f"{x}.transpose(0, {', '.join(str(q + 1) for q in layer.perm)})"
    if t == "Pad":
        left, right, top, bottom = layer.padding
        widths = ((0, 0),) * (rank - 1) + ((top, bottom), (left, right))
        value = f", constant_values={layer.value!r}" if layer.mode == "constant" else ""
        return f"np.pad({x}, {widths!r}, mode={layer.mode!r}{value})"
    if t == "MatMul":
        return f"{x} @ {w('weight', layer.weight)}"
    if t in ("AddConstant", "Sum", "Mul", "Sub", "Div", "Pow", "Max", "Min"):
        operands = xs if layer.constant is None else [x, w("constant", layer.constant)]
        if getattr(layer, "constant_first", False):
            operands = operands[::-1]
        symbol = {"AddConstant": " + ", "Sum": " + ", "Mul": " * ", "Sub": " - ",
                  "Div": " / ", "Pow": " ** "}.get(t)
        if symbol:
            return symbol.join(operands)
        return f"np.{'maximum' if t == 'Max' else 'minimum'}.reduce([{', '.join(operands)}])"
    if t.startswith("Reduce"):
        fn = {"ReduceMean": "mean", "ReduceSum": "sum", "ReduceMax": "max",
              "ReduceMin": "min"}[t]
        axes = tuple(a + 1 for a in layer.axes)
        return f"{x}.{fn}(axis={axes!r}, keepdims={layer.keepdims})"
    if t == "Slice":
        index = [":"] * (rank + 1)
        for a, start, end, step in layer.slices:
            s = _python_slice(shapes[0][a], start, end, step)
            index[a + 1] = ":".join("" if v is None else str(v) for v in (s.start, s.stop,
                                                                            s.step))
        return f"{x}[{', '.join(index)}]"
    if t == "Gather":
        return f"np.take({x}, {w('indices', layer.indices)}, axis={layer.axis + 1})"
    if t == "HardSigmoid":
        return f"np.clip({x} * {layer.alpha!r} + {layer.beta!r}, 0, 1)"
    if t == "ELU":
        return f"np.where({x} > 0, {x}, {layer.alpha!r} * np.expm1(np.minimum({x}, 0)))"
    if t == "GELU":
        if layer.approximate == "tanh":
            return (f"0.5 * {x} * (1 + np.tanh(0.7978845608028654 * ({x} + 0.044715 *"
                    f" {x} ** 3)))")
        use("erf")
        return f"0.5 * {x} * (1 + erf({x} / np.sqrt(2)))"
    if t == "Erf":
        use("erf")
        return f"erf({x})"
    if t == "PReLU":
        return f"np.where({x} > 0, {x}, {x} * {w('weight', layer.weight)})"
    if t in ("LayerNorm", "InstanceNorm2d"):
        use("normalize")
        if t == "LayerNorm":
            axes, shape = tuple(range(layer.axis + 1, rank + 1)), layer.weight.shape
        else:
            axes, shape = (2, 3), (-1, 1, 1)
        return (f"normalize({x}, {axes!r}, {layer.eps!r}) * "
                f"{w('weight', layer.weight.reshape(shape))} +"
                f" {w('bias', layer.bias.reshape(shape))}")
    if t == "Resize":
        out, scales = layer._plan(shapes[0][-2:])
        rows, cols = (axis_matrix(n, o, s, *layer._modes()).astype(np.float32)
                      for n, o, s in zip(shapes[0][-2:], out, scales, strict=True))
        return f"{w('rows', rows)} @ {x} @ {w('cols', cols)}.T"
    if t == "LocalResponseNorm":
        use("lrn")
        return (f"local_response_norm({x}, {layer.size}, {layer.alpha!r}, {layer.beta!r},"
                f" {layer.k!r})")
    raise ExportError(_("layer type {type} cannot be written as a numpy script").format(type=t))


def numpy_source(pipeline: Pipeline, input_shape=None,
                 weights: str = "model.npz") -> tuple[str, dict]:
    """(script text, arrays by key) for ``pipeline``."""
    shape = input_shape_of(pipeline, input_shape)
    shapes = {pipeline.input_name: shape, **pipeline.shapes(shape)}
    names = identifiers([pipeline.input_name, *(n.name for n in pipeline)])
    program, used, body = Program(), set(), []
    for node in pipeline:
        ident = names[node.name]
        expr = _layer(program, node.layer, ident, [names[s] for s in node.inputs],
                      [shapes[s] for s in node.inputs], used)
        body.append(f"    {ident} = {expr}  # {node.layer!r} -> {shapes[node.name]}")
    prep = pipeline.input_spec.preprocess
    header = _HEADER.format(name=pipeline.name or "network", c=shape[0], h=shape[1], w=shape[2],
                            prep=f", preprocessed as {prep.to_dict()}" if prep else "",
                            weights=weights)
    helpers = "".join("\n" + HELPERS[name] for name in HELPERS if name in used)
    results = ", ".join(names[o] for o in outputs_of(pipeline))
    run = (f"\n\ndef run({names[pipeline.input_name]}, w):\n"
           f'    """The network on a batch (N, {shape[0]}, {shape[1]}, {shape[2]});'
           f' w: the weights."""\n' + "\n".join(body) + f"\n    return {results}\n")
    return header + helpers + run + _MAIN.format(weights=weights), program.arrays
