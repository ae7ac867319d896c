"""Layer classes: hyperparameters and parameters around one pure op each.

A layer is immutable: ``replace(**changes)`` builds a new one. Shapes given to and returned by
``out_shape`` are unbatched: ``(C, H, W)`` for maps, ``(F,)`` for vectors. ``__call__`` takes
unbatched or batched arrays; an array is batched when it has an even number of dimensions
(``(N, F)`` or ``(N, C, H, W)``).

Every type describes its editable hyperparameters with :class:`Field` objects (``fields()``),
from which the pipeline-file reader validates and the GUI builds its parameter forms.

The package was one module; every name stays importable from ``engine.layers``:

- ``base``: :class:`Layer`, :class:`Field`, ``REQUIRED``, :class:`LayerError`
- ``windowed``: output-size arithmetic shared by Conv2d and the pools
- ``conv``: Conv2d
- ``pooling``: MaxPool2d, AvgPool2d, GlobalAvgPool2d
- ``activations``: ReLU, LeakyReLU, Sigmoid, Tanh, Hardtanh, Softmax
- ``normalization``: BatchNorm2d
- ``linear``: Flatten, Linear
- ``merge``: Add, Concat
- ``dropout``: Dropout

:data:`LAYER_TYPES` maps each type name to its class; it lives here so that one dict is shared
(engine.layers.imported adds its types to it).
"""

from __future__ import annotations

from engine.layers.activations import Hardtanh, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from engine.layers.base import (
    REQUIRED,
    Field,
    Layer,
    LayerError,
    NotDifferentiable,
)

# Private helpers, kept reachable under their old module path for code that used them.
from engine.layers.base import _batched as _batched
from engine.layers.base import _num as _num
from engine.layers.base import _Required as _Required
from engine.layers.base import _size_field as _size_field
from engine.layers.base import _vector_arg as _vector_arg
from engine.layers.conv import Conv2d
from engine.layers.dropout import Dropout
from engine.layers.linear import Flatten, Linear
from engine.layers.merge import Add, Concat
from engine.layers.normalization import BatchNorm2d
from engine.layers.pooling import AvgPool2d, GlobalAvgPool2d, MaxPool2d
from engine.layers.pooling import _Pool as _Pool
from engine.layers.windowed import _Windowed as _Windowed
from engine.ops.shapes import ShapeError as ShapeError

__all__ = [
    "LAYER_TYPES",
    "REQUIRED",
    "Add",
    "AvgPool2d",
    "BatchNorm2d",
    "Concat",
    "Conv2d",
    "Dropout",
    "Field",
    "Flatten",
    "GlobalAvgPool2d",
    "Hardtanh",
    "Layer",
    "LayerError",
    "LeakyReLU",
    "Linear",
    "MaxPool2d",
    "NotDifferentiable",
    "ReLU",
    "Sigmoid",
    "Softmax",
    "Tanh",
]

LAYER_TYPES: dict[str, type[Layer]] = {
    cls.type_name: cls
    for cls in (Conv2d, ReLU, LeakyReLU, Sigmoid, Tanh, Hardtanh, MaxPool2d, AvgPool2d,
                GlobalAvgPool2d, BatchNorm2d, Flatten, Linear, Softmax, Dropout, Add, Concat)
}
