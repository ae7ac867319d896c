"""Layers only imported ONNX models need: reshapes, MatMul, Pad, LRN, means, arithmetic.

They subclass :class:`engine.layers.Layer`, so the pipeline, the ledger and the GUI treat them like
any other layer: shapes given to and returned by ``out_shape`` are unbatched. Unlike the hand-built
layers, whose ``__call__`` tells a batched array by an even number of dimensions, these layers may
see tensors of any rank (``(4, 16)`` after a Reshape is unbatched), so each one that cares is told
the rank of its unbatched input when the importer builds it (``in_rank``), and an array with one
dimension more is batched.

Call :func:`register_onnx_layers` to add the types to :data:`engine.layers.LAYER_TYPES`.
The classes live in two modules by kind: :mod:`engine.layers.reshaping` (layers that move or
copy values) and :mod:`engine.layers.arithmetic` (layers that compute); all are importable from
here.
"""

from __future__ import annotations

from engine.layers import LAYER_TYPES, Layer
from engine.layers.arithmetic import (
    AddConstant,
    Clip,
    Div,
    LocalResponseNorm,
    MatMul,
    Mul,
    ReduceMean,
    Sub,
)
from engine.layers.reshaping import Identity, Pad, Reshape, Transpose

__all__ = [
    "ONNX_LAYER_TYPES",
    "AddConstant",
    "Clip",
    "Div",
    "Identity",
    "LocalResponseNorm",
    "MatMul",
    "Mul",
    "Pad",
    "ReduceMean",
    "Reshape",
    "Sub",
    "Transpose",
    "register_onnx_layers",
]


ONNX_LAYER_TYPES: dict[str, type[Layer]] = {
    cls.type_name: cls
    for cls in (Identity, Clip, Reshape, MatMul, AddConstant, Mul, Sub, Div, Pad,
                LocalResponseNorm, ReduceMean, Transpose)
}


def register_onnx_layers() -> None:
    """Add the ONNX-only layer types to :data:`engine.layers.LAYER_TYPES` (idempotent)."""
    for name, cls in ONNX_LAYER_TYPES.items():
        LAYER_TYPES.setdefault(name, cls)
