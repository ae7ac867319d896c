"""CNN Explorer's numerical core: numpy only, no Qt; usable from a notebook.

>>> import numpy as np
>>> import engine
>>> p = engine.resolve_pipeline("lecture")
>>> p.summary((3, 32, 32)).rows[0].out_shape
(10, 32, 32)
>>> engine.conv_output_size(7, 3, stride=2)
3
"""

from engine import ops as functional
from engine.config import Configuration, configuration, configure
from engine.graph.autograd import GradResult, forward_backward, value_and_grad
from engine.graph.pipeline import InputSpec, Ledger, LedgerRow, Node, Pipeline
from engine.graph.spec import BUNDLED, SpecError, load_pipeline, save_pipeline
from engine.io.preprocess import PRESETS as PREPROCESS_PRESETS
from engine.io.preprocess import Preprocess, frame_to_input
from engine.layers import *  # noqa: F403  (the layer classes, listed in engine.layers.__all__)
from engine.layers import __all__ as _layer_names
from engine.layers.kernels import PRESETS, expand_kernel, glorot_init, he_init
from engine.ops import (
    avg_pool2d,
    batch_norm,
    conv2d,
    flatten,
    global_avg_pool2d,
    hardtanh,
    leaky_relu,
    linear,
    local_response_norm,
    max_pool2d,
    pad,
    relu,
    sigmoid,
    softmax,
    tanh,
)
from engine.ops.shapes import *  # noqa: F403  (output sizes and counts, engine.ops.shapes.__all__)
from engine.ops.shapes import __all__ as _shape_names
from engine.resolve import resolve_pipeline


def load_onnx(path, **options):
    """Load an ONNX model as a :class:`Pipeline` run by this engine.

    ``options`` go to :func:`engine.onnx.importer.load_onnx` (e.g. ``input_size=(224, 224)``).
    Imported on first use, so that ``import engine`` does not load the onnx package.
    """
    from engine.onnx.importer import load_onnx as _load

    return _load(path, **options)


__all__ = [
    "BUNDLED",
    "Configuration",
    "GradResult",
    "PREPROCESS_PRESETS",
    "PRESETS",
    "Preprocess",
    "InputSpec",
    "Ledger",
    "LedgerRow",
    "Node",
    "Pipeline",
    "SpecError",
    "avg_pool2d",
    "batch_norm",
    "configuration",
    "configure",
    "conv2d",
    "expand_kernel",
    "flatten",
    "forward_backward",
    "frame_to_input",
    "functional",
    "global_avg_pool2d",
    "glorot_init",
    "hardtanh",
    "he_init",
    "leaky_relu",
    "linear",
    "load_onnx",
    "load_pipeline",
    "local_response_norm",
    "max_pool2d",
    "pad",
    "relu",
    "resolve_pipeline",
    "save_pipeline",
    "sigmoid",
    "softmax",
    "tanh",
    "value_and_grad",
    *_layer_names,
    *_shape_names,
]
