"""Procedural data set of hand-drawn-looking shapes for the bundled classifier.

The drawing code lives in the engine (:mod:`engine.train.draw_shapes`) so that the engine's own
training can use the same pictures without importing ``training/``. This module keeps the names
the training scripts and tests use; the pictures are byte for byte the ones the bundled
classifier was trained on.
"""

from engine.train.draw_shapes import CLASSES, SIZE, draw_shape, make_dataset

__all__ = ["CLASSES", "SIZE", "draw_shape", "make_dataset"]
