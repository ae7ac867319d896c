"""Small networks and inputs shared by the explanation tests (seeded, no PyTorch)."""

from __future__ import annotations

import numpy as np

import engine
from engine.graph.node import InputSpec, Node
from engine.graph.pipeline import Pipeline
from engine.layers import (
    AvgPool2d,
    Conv2d,
    Flatten,
    Linear,
    MaxPool2d,
    ReLU,
    Softmax,
    Tanh,
)


def small_net(channels: int = 2, side: int = 6, classes: int = 4) -> Pipeline:
    """conv -> ReLU -> conv -> tanh -> avg pool -> flatten -> linear -> softmax."""
    half = side // 2
    return Pipeline.chain([
        Conv2d(channels, 4, 3, padding=1, seed=1, bias_values=np.linspace(-0.2, 0.3, 4)),
        ReLU(),
        Conv2d(4, 3, 3, padding=1, seed=2),
        Tanh(),
        AvgPool2d(2),
        Flatten(),
        Linear(3 * half * half, classes, seed=3),
        Softmax(),
    ], input_spec=InputSpec(channels=channels))


def relu_net(channels: int = 2, side: int = 6, classes: int = 3) -> Pipeline:
    """conv -> ReLU -> max pool -> conv -> ReLU -> flatten -> linear: a ReLU network."""
    half = side // 2
    return Pipeline.chain([
        Conv2d(channels, 5, 3, padding=1, seed=4), ReLU(), MaxPool2d(2),
        Conv2d(5, 4, 3, padding=1, seed=5), ReLU(), Flatten(),
        Linear(4 * half * half, classes, seed=6),
    ], input_spec=InputSpec(channels=channels))


def dense_relu_net() -> Pipeline:
    """flatten -> linear -> ReLU -> linear -> ReLU -> linear on (2, 2, 3) inputs."""
    return Pipeline([
        Node("flat", Flatten(), ("input",)),
        Node("fc1", Linear(12, 8, seed=7, bias_values=np.linspace(-0.3, 0.3, 8)), ("flat",)),
        Node("relu1", ReLU(), ("fc1",)),
        Node("fc2", Linear(8, 6, seed=8, bias_values=np.linspace(0.2, -0.2, 6)), ("relu1",)),
        Node("relu2", ReLU(), ("fc2",)),
        Node("fc3", Linear(6, 3, seed=9), ("relu2",)),
    ], InputSpec(channels=2))


def random_input(*shape, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0, 1, shape).astype(np.float32)


def drawn_shapes(n: int, seed: int) -> tuple[Pipeline, np.ndarray, np.ndarray]:
    """The bundled shapes classifier, ``n`` drawn pictures as its inputs, and their labels."""
    from engine.train import make_dataset

    pipeline = engine.resolve_pipeline("shapes")
    images, labels = make_dataset(n, seed=seed)
    x = np.stack([engine.frame_to_input(image, pipeline) for image in images])
    return pipeline, x, labels
