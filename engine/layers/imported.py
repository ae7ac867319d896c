"""Layers imported models need beyond the hand-built ones: reshapes, slices, arithmetic,
reductions, more activations, norms, resizing and transposed convolution.

They subclass :class:`engine.layers.Layer`, so the pipeline, the ledger and the GUI treat them like
any other layer: shapes given to and returned by ``out_shape`` are unbatched. Unlike the hand-built
layers, whose ``__call__`` tells a batched array by an even number of dimensions, these layers may
see tensors of any rank (``(4, 16)`` after a Reshape is unbatched), so each one that cares is told
the rank of its unbatched input when the importer builds it (``in_rank``), and an array with one
dimension more is batched.

Call :func:`register_onnx_layers` to add the types to :data:`engine.layers.LAYER_TYPES`.
The classes live in modules by kind, all importable from here:
:mod:`engine.layers.reshaping` and :mod:`engine.layers.slicing` (layers that move or copy
values), :mod:`engine.layers.arithmetic` (Clip, MatMul, LRN), :mod:`engine.layers.binary`
(element-wise arithmetic with broadcasting), :mod:`engine.layers.reductions`,
:mod:`engine.layers.unary` (activations and maths), :mod:`engine.layers.norms`,
:mod:`engine.layers.resize`, :mod:`engine.layers.transpose_conv` and
:mod:`engine.layers.lp_pool`.
"""

from __future__ import annotations

from engine.layers import LAYER_TYPES, Layer
from engine.layers.arithmetic import Clip, LocalResponseNorm, MatMul
from engine.layers.binary import AddConstant, Div, Max, Min, Mul, Pow, Sub, Sum
from engine.layers.lp_pool import LpPool2d
from engine.layers.norms import InstanceNorm2d, LayerNorm
from engine.layers.reductions import ReduceMax, ReduceMean, ReduceMin, ReduceSum
from engine.layers.reshaping import Identity, Pad, Reshape, Transpose
from engine.layers.resize import Resize
from engine.layers.slicing import Gather, Slice
from engine.layers.transpose_conv import ConvTranspose2d
from engine.layers.unary import (
    ELU,
    GELU,
    SELU,
    Abs,
    Erf,
    Exp,
    HardSigmoid,
    HardSwish,
    Log,
    LogSoftmax,
    Neg,
    PReLU,
    Reciprocal,
    SiLU,
    Softplus,
    Sqrt,
)

__all__ = [
    "ELU", "GELU", "ONNX_LAYER_TYPES", "SELU", "Abs", "AddConstant", "Clip", "ConvTranspose2d",
    "Div", "Erf", "Exp", "Gather", "HardSigmoid", "HardSwish", "Identity", "InstanceNorm2d",
    "LayerNorm", "LocalResponseNorm", "Log", "LogSoftmax", "LpPool2d", "MatMul", "Max", "Min",
    "Mul", "Neg", "PReLU", "Pad", "Pow", "Reciprocal", "ReduceMax", "ReduceMean", "ReduceMin",
    "ReduceSum", "Reshape", "Resize", "SiLU", "Slice", "Softplus", "Sqrt", "Sub", "Sum",
    "Transpose", "register_onnx_layers",
]


ONNX_LAYER_TYPES: dict[str, type[Layer]] = {
    cls.type_name: cls
    for cls in (Identity, Clip, Reshape, MatMul, AddConstant, Mul, Sub, Div, Pad,
                LocalResponseNorm, ReduceMean, Transpose, Sum, Max, Min, Pow, ReduceMax,
                ReduceMin, ReduceSum, Slice, Gather, HardSigmoid, HardSwish, PReLU, LogSoftmax,
                ELU, SELU, GELU, Erf, Sqrt, Reciprocal, Exp, Log, Abs, Neg, Softplus, LayerNorm,
                InstanceNorm2d, Resize, ConvTranspose2d, LpPool2d, SiLU)
}


def register_onnx_layers() -> None:
    """Add the ONNX-only layer types to :data:`engine.layers.LAYER_TYPES` (idempotent)."""
    for name, cls in ONNX_LAYER_TYPES.items():
        LAYER_TYPES.setdefault(name, cls)
