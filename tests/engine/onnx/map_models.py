"""Networks whose output is a map, built with ``onnx.helper``: a 2-class segmenter (encoder,
ConvTranspose and Resize decoder, a 1x1 head) and a 3-channel autoencoder (a Sigmoid image)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx

from engine.graph.pipeline import Pipeline
from engine.onnx.importer import load_onnx_model
from tests.engine.onnx_models import GraphBuilder

SIZE = 16


def segmenter(classes: int = 2) -> onnx.ModelProto:
    """16 x 16 RGB -> two poolings -> ConvTranspose (x2) -> nearest Resize (x2) -> (classes, 16,
    16) logits."""
    g = GraphBuilder((1, 3, SIZE, SIZE), seed=31)
    y = g.node("Relu", [g.conv("input", 3, 8, 3, pads=[1] * 4)])
    y = g.node("MaxPool", [y], kernel_shape=[2, 2], strides=[2, 2])
    y = g.node("Relu", [g.conv(y, 8, 12, 3, pads=[1] * 4)])
    y = g.node("MaxPool", [y], kernel_shape=[2, 2], strides=[2, 2])  # (12, 4, 4)
    y = g.node("ConvTranspose", [y, g.randn(12, 8, 2, 2, scale=0.3), g.randn(8)],
               kernel_shape=[2, 2], strides=[2, 2])  # (8, 8, 8)
    y = g.node("Relu", [y])
    y = g.node("Resize", [y, "", g.const(np.array([1, 1, 2, 2], np.float32))], mode="nearest")
    return g.model([g.conv(y, 8, classes, 1)])


def autoencoder() -> onnx.ModelProto:
    """16 x 16 RGB -> a strided conv (8 x 8 code) -> ConvTranspose back -> Sigmoid: an image."""
    g = GraphBuilder((1, 3, SIZE, SIZE), seed=32)
    y = g.node("Relu", [g.conv("input", 3, 6, 3, strides=[2, 2], pads=[1] * 4)])
    y = g.node("ConvTranspose", [y, g.randn(6, 3, 2, 2, scale=0.5), g.randn(3)],
               kernel_shape=[2, 2], strides=[2, 2])
    return g.model([g.node("Sigmoid", [y])])


def load(model: onnx.ModelProto) -> Pipeline:
    return load_onnx_model(model)


def save(model: onnx.ModelProto, folder: Path, name: str) -> Path:
    path = Path(folder) / f"{name}.onnx"
    onnx.save(model, str(path))
    return path
