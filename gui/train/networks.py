"""The networks the Train workspace offers with fresh weights, and the input each data source
is read at. Qt-free.

Every architecture is built for the data's channels, size and number of classes: the last
Linear layer gives one score per class (the classifier head is sized automatically).

Examples
--------
>>> net = build_network("tiny", channels=1, size=(28, 28), classes=10)
>>> [node.name for node in net], net.nodes[-1].layer.out_features
(['conv1', 'relu1', 'pool1', 'flatten1', 'fc1'], 10)
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.i18n import N_, _

__all__ = ["ARCHITECTURES", "CURRENT", "Architecture", "build_network", "natural_input"]

CURRENT = "current"  # the network choice "the window's current pipeline, with its weights"


@dataclass(frozen=True)
class Architecture:
    """One choice of the Network panel: its key, name and what it is (translated when shown)."""

    key: str
    title: str
    description: str


ARCHITECTURES: tuple[Architecture, ...] = (
    Architecture(
        "small", N_("Small ConvNet, fresh weights"),
        N_("The bundled shapes classifier's layers with random weights: three blocks of "
           "convolution, ReLU and 2x2 max pooling (8, 16 and 32 filters), then two linear "
           "layers. Learns the drawn shapes in a minute or two.")),
    Architecture(
        "tiny", N_("Tiny ConvNet, fresh weights"),
        N_("One convolution of eight 5x5 filters, ReLU, 4x4 max pooling and one linear layer. "
           "Fast: its eight filters change visibly within seconds.")),
    Architecture(
        CURRENT, N_("The current pipeline, with its weights"),
        N_("Go on training the network the window shows now (File > Open pipeline or a "
           "bundled one). Its output layer is resized to the number of classes when needed.")),
)


def natural_input(data: str) -> tuple[tuple[int, int], int]:
    """The (height, width) and channels a fresh network reads the data ``data`` names at.

    MNIST and Fashion-MNIST keep their 28 x 28 gray pictures; everything else is 64 x 64 RGB
    (the bundled shapes classifier's input).

    >>> natural_input("mnist:~/data"), natural_input("shapes")
    (((28, 28), 1), ((64, 64), 3))
    """
    kind, colon, _rest = data.strip().partition(":")
    if colon and kind.lower() in ("mnist", "fashion-mnist", "fashion_mnist"):
        return (28, 28), 1
    return (64, 64), 3


def build_network(key: str, channels: int, size: tuple[int, int], classes: int,
                  seed: int = 0, name: str = ""):
    """A fresh network of architecture ``key`` for ``channels`` x ``size`` pictures.

    Its input spec carries the preprocessing the training used (crop to ``size``, scale to
    [0, 1]), so the trained network runs on camera frames as it ran on its training pictures.
    """
    from engine.graph.pipeline import InputSpec, Pipeline
    from engine.io.preprocess import Preprocess
    from engine.layers import Conv2d, Flatten, Linear, MaxPool2d, ReLU

    h, w = size
    if key == "tiny":
        layers = [Conv2d(channels, 8, 5, padding=2, seed=seed + 1), ReLU(), MaxPool2d(4)]
        blocks = ((8, 4),)
    elif key == "small":
        layers, c_in, blocks = [], channels, ((8, 2), (16, 2), (32, 2))
        for i, (c_out, _pool) in enumerate(blocks):
            kernel = 5 if i == 0 else 3
            layers += [Conv2d(c_in, c_out, kernel, padding=kernel // 2, seed=seed + 1 + i),
                       ReLU(), MaxPool2d(2)]
            c_in = c_out
    else:
        raise ValueError(_("no architecture called {key!r}").format(key=key))
    for _c, pool in blocks:
        h, w = h // pool, w // pool
    features = blocks[-1][0] * h * w
    if key == "small":
        layers += [Flatten(), Linear(features, 64, seed=seed + 10), ReLU(),
                   Linear(64, classes, seed=seed + 11)]
    else:
        layers += [Flatten(), Linear(features, classes, seed=seed + 10)]
    recipe = Preprocess(size=tuple(size), resize="crop", scale=1 / 255)
    spec = InputSpec(channels=channels, height=size[0], width=size[1], preprocess=recipe)
    return Pipeline.chain(layers, input_spec=spec, name=name or key)
