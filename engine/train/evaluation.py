"""How well a classifier does on a data set: accuracy, per class, and the confusion matrix."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.graph.autograd import logits_node
from engine.graph.pipeline import Pipeline
from engine.ops import cross_entropy
from engine.train.batching import to_batch
from engine.train.dataset import ArrayDataset

__all__ = ["Evaluation", "evaluate"]


@dataclass(frozen=True)
class Evaluation:
    """The scores of one pass over a data set (``confusion[true, predicted]`` counts)."""

    loss: float
    accuracy: float
    confusion: np.ndarray  # (classes, classes) int64
    class_names: tuple[str, ...]
    predictions: np.ndarray  # (N,) the predicted class of every example
    confidence: np.ndarray  # (N,) the softmax probability of that prediction

    @property
    def per_class(self) -> np.ndarray:
        """Accuracy of each true class (NaN for a class with no example)."""
        totals = self.confusion.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(totals > 0, np.diag(self.confusion) / np.maximum(totals, 1), np.nan)

    def to_dict(self) -> dict:
        """JSON-able: accuracy, loss, per-class accuracy by name, confusion matrix."""
        return {"accuracy": self.accuracy, "loss": self.loss, "examples": len(self.predictions),
                "per_class": {name: (None if np.isnan(a) else float(a))
                              for name, a in zip(self.class_names, self.per_class, strict=True)},
                "classes": list(self.class_names), "confusion": self.confusion.tolist()}


def evaluate(pipeline: Pipeline, data: ArrayDataset, batch_size: int = 256) -> Evaluation:
    """Run ``pipeline`` (inference mode) over ``data`` and score its class predictions.

    Examples
    --------
    >>> from engine.graph.node import InputSpec
    >>> from engine.layers import Flatten, Linear
    >>> net = Pipeline.chain([Flatten(), Linear(4, 2, weight=[[1, 0, 0, 0], [0, 0, 0, 1]])],
    ...                      input_spec=InputSpec(channels=1))
    >>> data = ArrayDataset(np.array([[[[9], [0]], [[0], [0]]], [[[0], [0]], [[0], [9]]]],
    ...                              np.uint8), np.array([0, 1]), ("left", "right"))
    >>> evaluate(net, data).accuracy
    1.0
    """
    output = logits_node(pipeline)
    classes = len(data.class_names)
    confusion = np.zeros((classes, classes), np.int64)
    predictions, confidence, total = [], [], 0.0
    for start in range(0, len(data), batch_size):
        images = data.images[start:start + batch_size]
        labels = data.labels[start:start + batch_size]
        logits = pipeline.forward(to_batch(images, pipeline.input_spec))[output]  # (B, K)
        loss, _grad = cross_entropy(logits, labels)
        total += loss * len(labels)
        shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
        probs = shifted / shifted.sum(axis=1, keepdims=True)
        predicted = probs.argmax(axis=1)
        np.add.at(confusion, (labels, predicted), 1)
        predictions.append(predicted)
        confidence.append(probs[np.arange(len(labels)), predicted])
    n = max(len(data), 1)
    return Evaluation(total / n, float(np.trace(confusion)) / n, confusion, data.class_names,
                      np.concatenate(predictions) if predictions else np.zeros(0, np.intp),
                      np.concatenate(confidence) if confidence else np.zeros(0, np.float32))
